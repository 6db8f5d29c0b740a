"""The dashboard in a real headless Chromium (Debian's, driven by playwright).

Sign in with a key, see all six charts render with data, a withheld cell marked on a chart
and in its table, run the SQL console, and save a screenshot to tests/artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.conftest import LiveServer, Project

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = pytest.mark.browser


def test_dashboard_end_to_end(browser: object, live: LiveServer, project: Project) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("pageerror", lambda e: problems.append(str(e)))

    first = page.goto(live.url + "/")  # the sign-in form answers 401 (no session yet)
    assert first is not None and first.status == 401
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.fill("#key", project.keys["analyst"])
    page.click("#signin")
    page.wait_for_selector("article.card[data-metric]")
    # (No wait_for_function: the page's CSP forbids the eval it needs — as it should.)
    page.locator("article.card[data-state=ready]").nth(5).wait_for(timeout=30_000)
    cards = page.query_selector_all("article.card[data-metric]")
    assert len(cards) == 6
    for card in cards:
        name = card.get_attribute("data-metric")
        assert int(card.get_attribute("data-marks") or 0) > 0, f"{name}: nothing drawn"
        assert card.query_selector("svg") is not None

    # A breakdown with rare models: some cells are withheld and visibly marked.
    card = page.query_selector("article.card[data-metric=device_activations]")
    assert card is not None
    card.query_selector("select.dim").select_option("model")  # type: ignore[union-attr]
    page.wait_for_selector(
        "article.card[data-metric=device_activations][data-state=ready] select.dim >> nth=0"
    )
    page.wait_for_selector("article.card[data-metric=device_activations] .legend span")
    withheld = card.query_selector_all("svg .sm-suppressed")
    assert withheld, "no withheld cell marked on the chart"
    assert "withheld" in (withheld[0].query_selector("title").text_content() or "")  # type: ignore[union-attr]
    assert card.query_selector_all("td.sm-suppressed-cell"), "no withheld cell in the table"
    assert "withheld" in card.query_selector(".note").inner_text()  # type: ignore[union-attr]
    card.query_selector("details summary").click()  # type: ignore[union-attr]

    # The SQL console, for analysts.
    page.click("#sql-run")
    page.wait_for_selector("#sql-result table tbody tr")
    assert "row(s)" in page.inner_text("#sql-status")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000

    assert all(url.startswith(live.url) for url in requested), [
        u for u in requested if not u.startswith(live.url)
    ]
    assert not problems, problems
    context.close()


def test_viewer_has_no_sql_console(browser: object, live: LiveServer, project: Project) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context()
    page = context.new_page()
    page.goto(live.url + "/")
    page.fill("#key", project.keys["viewer"])
    page.click("#signin")
    page.wait_for_selector("article.card[data-metric]")
    assert page.query_selector("#sql") is None
    page.click("#signout")
    page.wait_for_selector("#key")
    context.close()
