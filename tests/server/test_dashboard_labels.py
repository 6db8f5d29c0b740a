"""The dashboard, in a real headless Chromium, over category values equal to its reserved
labels: each is a series and a table row of its own, labelled so it cannot be read as the
total, a missing value or the empty string."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from safemirror.server.app import create_app
from tests.metrics.hostile import make_hostile
from tests.server.conftest import LiveServer, Project, make_project
from tests.server.test_dashboard_hostile import _break_down, _signed_in

pytestmark = pytest.mark.browser
LABELS: dict[str | None, str] = {  # value -> its label in the legend and the table
    "(total)": '"(total)"',
    "(unknown)": '"(unknown)"',
    "(empty)": '"(empty)"',
    "": "(empty)",
    None: "(unknown)",
}


@pytest.fixture(scope="module")
def reserved(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("reserved"), min_cell=2)
    make_hostile(project.config.mirror, list(LABELS))  # type: ignore[arg-type]
    return project


@pytest.fixture(scope="module")
def reserved_live(reserved: Project) -> Iterator[LiveServer]:
    with LiveServer(create_app(reserved.config)) as server:
        yield server


def test_reserved_labels_are_never_shared(
    browser: Any, reserved_live: LiveServer, reserved: Project
) -> None:
    page = _signed_in(browser, reserved_live, reserved)
    card = _break_down(page, "user_growth", "country")
    legend = card.locator(".legend span").all_inner_texts()
    assert sorted(legend) == sorted(LABELS.values()), legend
    cells = card.locator("td.dim").all_text_contents()
    assert set(cells) == {"(total)", *LABELS.values()}, set(cells)
    assert cells.count("(total)") * len(LABELS) == len(cells) - cells.count("(total)")
    page.context.close()
