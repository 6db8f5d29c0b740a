"""The dashboard, in a real headless Chromium, over a mirror whose category values were
chosen by an attacker (device models and firmware, users' countries): no value runs as
script or markup, every breakdown still draws, and no value breaks the layout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from safemirror.server.app import create_app
from tests.metrics.hostile import (
    LONG,
    PROTOTYPE_NAMES,
    RTL,
    SCRIPT_VALUES,
    make_hostile,
)
from tests.server.conftest import LiveServer, Project, make_project

pytestmark = pytest.mark.browser
WIDTH = 1280
BREAKDOWNS = [  # (metric, dimension) for every breakdown by an attacker-chosen value
    ("device_activations", "model"),
    ("failed_connection_rate", "model"),
    ("failed_connection_rate", "firmware"),
    ("camera_connectivity_rate", "model"),
    ("active_devices", "firmware"),
    ("user_growth", "country"),
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("hostile"), min_cell=2)
    make_hostile(project.config.mirror, [*SCRIPT_VALUES, *PROTOTYPE_NAMES, LONG, RTL, ""])
    return project


@pytest.fixture(scope="module")
def hostile_live(hostile: Project) -> Iterator[LiveServer]:
    with LiveServer(create_app(hostile.config)) as server:
        yield server


def _signed_in(browser: Any, server: LiveServer, project: Project, **context: Any) -> Any:
    page = browser.new_context(viewport={"width": WIDTH, "height": 900}, **context).new_page()
    page.goto(server.url + "/")
    page.fill("#key", project.keys["viewer"])
    page.click("#signin")
    page.locator("article.card[data-state=ready]").nth(5).wait_for(timeout=30_000)
    return page


def _break_down(page: Any, metric: str, dim: str) -> Any:
    card = page.locator(f"article.card[data-metric={metric}]")
    card.locator("select.dim").select_option(dim)
    page.locator(f"article.card[data-metric={metric}][data-state=ready] .legend span >> nth=1").or_(
        page.locator(f"article.card[data-metric={metric}][data-state=error]")
    ).wait_for()
    return card


def test_values_named_like_object_properties_still_draw(
    browser: Any, hostile_live: LiveServer, hostile: Project
) -> None:
    """A model called ``__proto__`` or ``constructor`` is a series like any other."""
    page = _signed_in(browser, hostile_live, hostile)
    for metric, dim in BREAKDOWNS:
        card = _break_down(page, metric, dim)
        assert card.get_attribute("data-state") == "ready", (
            metric,
            dim,
            card.locator(".note").inner_text(),
        )
        legend = card.locator(".legend span").all_inner_texts()
        assert set(PROTOTYPE_NAMES) <= set(legend), (metric, dim, legend)
    page.context.close()


def test_an_empty_value_is_not_called_the_total(
    browser: Any, hostile_live: LiveServer, hostile: Project
) -> None:
    """A model of '' is a series of its own: labelled (empty), never 'total'."""
    page = _signed_in(browser, hostile_live, hostile)
    for metric, dim in BREAKDOWNS:
        card = _break_down(page, metric, dim)
        legend = card.locator(".legend span").all_inner_texts()
        assert "(empty)" in legend and "total" not in legend, (metric, dim, legend)
        assert card.locator('g.series[data-series="total"]').count() == 0
    page.context.close()


def test_long_values_do_not_widen_the_page(
    browser: Any, hostile_live: LiveServer, hostile: Project
) -> None:
    """A 3,000-character model is clipped in the legend and the data table (whole in their
    tooltips); the page stays as wide as the window."""
    page = _signed_in(browser, hostile_live, hostile)
    for metric, dim in BREAKDOWNS:
        card = _break_down(page, metric, dim)
        card.locator("details summary").click()
        assert card.locator(f'.legend span[title="{LONG}"]').count() == 1
        assert card.locator(f'td.dim[title="{LONG}"]').count() > 0
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"the page is {width} px wide in a {WIDTH} px window"
    page.context.close()


def test_a_series_name_cannot_reorder_its_tooltip(
    browser: Any, hostile_live: LiveServer, hostile: Project
) -> None:
    """An unclosed right-to-left override in a model is isolated in the tooltips, so it
    cannot make the period and value after it read backwards (28 as 82)."""
    page = _signed_in(browser, hostile_live, hostile)
    card = _break_down(page, "device_activations", "model")
    tips = card.locator(f'g.series[data-series="{RTL}"] title').all_text_contents()
    assert tips
    for tip in tips:
        assert tip.startswith(f"\u2068{RTL}\u2069, "), tip
    page.context.close()


@pytest.mark.parametrize("csp", ["enforced", "bypassed"])
def test_no_value_runs_as_script_or_markup(
    browser: Any, hostile_live: LiveServer, hostile: Project, csp: str
) -> None:
    """Script and markup in values stay text, with the page's CSP and without it (so the
    escaping itself is what is tested, not only the policy behind it)."""
    page = _signed_in(browser, hostile_live, hostile, bypass_csp=csp == "bypassed")
    seen: list[str] = []
    page.on("dialog", lambda d: (seen.append(d.message), d.dismiss()))
    page.on("console", lambda m: seen.append(m.text) if m.type == "error" else None)
    legends = []
    for metric, dim in BREAKDOWNS:
        card = _break_down(page, metric, dim)
        card.locator("details summary").click()
        legends.append(card.locator(".legend span").all_inner_texts())
    assert page.evaluate("typeof window.__pwned") == "undefined"
    found = page.evaluate(
        "document.querySelectorAll('img, iframe, [onerror], [onload], main script').length"
    )
    assert found == 0
    assert page.evaluate("document.scripts.length") == 2  # chart.js and app.js only
    assert not seen, seen
    for legend in legends:
        assert set(SCRIPT_VALUES) <= set(legend), legend
    page.context.close()


def test_the_page_refuses_html_from_strings(
    browser: Any, hostile_live: LiveServer, hostile: Project
) -> None:
    """Trusted Types: were a value ever written as HTML (innerHTML and the like), the
    browser would throw rather than parse it, so escaping is not the only line of defence."""
    page = _signed_in(browser, hostile_live, hostile)
    outcome = page.evaluate(
        "() => { try { document.createElement('div').innerHTML = '<b>x</b>'; return 'parsed'; }"
        " catch (e) { return e.name; } }"
    )
    assert outcome == "TypeError"
    page.context.close()
