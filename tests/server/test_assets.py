"""The dashboard ships every asset in the package and references nothing outside it."""

from __future__ import annotations

import re
from importlib import resources

PACKAGE = resources.files("safemirror.server")


def test_assets_are_package_data() -> None:
    static = {p.name for p in (PACKAGE / "static").iterdir()}
    assert {"app.js", "chart.js", "style.css"} <= static
    templates = {p.name for p in (PACKAGE / "templates").iterdir()}
    assert {"dashboard.html", "signin.html"} <= templates


def test_no_external_references() -> None:
    for folder in ("static", "templates"):
        for path in (PACKAGE / folder).iterdir():
            text = path.read_text(encoding="utf-8")
            urls = re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, flags=re.I)
            urls = [u for u in urls if u != "http://www.w3.org"]  # the SVG namespace name
            assert not urls, (path.name, urls)
            assert "@import" not in text and "cdn" not in text.lower(), path.name
