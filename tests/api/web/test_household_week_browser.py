"""The household page's week in a real browser, at phone size (390×844) and on a small laptop (1024×768):
headless Debian Chromium driven by Playwright, against the app served by uvicorn on 127.0.0.1 over the API
test town, a support clerk logged in through the login form. HH-000001's ONU has a week of polls in the
in-process history (five drops, light fading toward the B+ warning level).

Checks the flaps count and the sparkline are there with both limit lines, every chart text is 12 px or
more on screen, nothing scrolls sideways; and, with the store unreachable, the sentence instead. The
screenshots go to ``tests/artifacts/household-week-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from api.app import create_app
from api.service import SnapshotOnuState
from ftthnoc.linehistory import PollHistory, PrometheusHistory
from tests.api.conftest import PASSWORD, Seeded, engine_copy, settings_for
from tests.api.served import served
from tests.api.web.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, NEEDS_CHROMIUM, sync_playwright
from tests.api.web.test_household import snapshot
from tests.api.web.test_household_week import feed_week
from tests.ports import free_port

SIZES = {"phone": (390, 844), "laptop": (1024, 768)}
MIN_CHART_PX = 12.0
PAGE = "/support/households/HH-000001"

pytestmark = NEEDS_CHROMIUM

#: What the check reads of the page (chart texts' on-screen size: computed font size times the SVG's scale).
MEASURE = """() => {
  const texts = [...document.querySelectorAll("#week-1 svg.chart text")].map((el) => {
    const ctm = el.getScreenCTM();
    const scale = ctm ? Math.hypot(ctm.a, ctm.b) : 1;
    return {text: el.textContent, px: parseFloat(getComputedStyle(el).fontSize) * scale};
  });
  const wide = [...document.body.querySelectorAll("*")].filter((el) => el.getBoundingClientRect().right > innerWidth + 1
      && !el.closest(".scroll")).slice(0, 5).map((el) => el.tagName + "." + el.className);
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: innerWidth, texts, wide};
}"""


@dataclass
class Tab:
    page: Any
    size_name: str


@dataclass
class Site:
    url: str
    app: Any


@pytest.fixture(scope="module")
def site(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:

    directory = tmp_path_factory.mktemp("household-week-browser")
    engine = engine_copy(seeded, directory)
    families = snapshot(up=1.0, rx=-22.0)
    app = create_app(engine, settings=settings_for(directory), onu_state=SnapshotOnuState(lambda: families))
    history = PollHistory()
    feed_week(history, datetime.now(UTC), drops=5, rx=-22.0)
    app.state.line_history = history
    try:
        with served(app, "uvicorn-household-week") as base:
            yield Site(base, app)
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=sorted(SIZES))
def tab(request: pytest.FixtureRequest, site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tab]:
    """A logged-in support clerk's tab at one of the sizes (``tab.size_name``)."""
    name = request.param
    width, height = SIZES[name]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp(f"chromium-{name}")), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": width, "height": height}, locale="ja-JP",
            is_mobile=name == "phone", has_touch=name == "phone",
            device_scale_factor=2 if name == "phone" else 1)  # fmt: skip
        try:
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.goto(f"{site.url}{PAGE}")
            assert "/login" in page.url
            page.fill("input[name=name]", "sue")
            page.fill("input[name=password]", PASSWORD)
            page.click("form.stack button[type=submit]")
            page.wait_for_url(f"{site.url}{PAGE}")
            yield Tab(page, name)
        finally:
            context.close()


def _measure(page: Any) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(MEASURE)
    return found


def test_the_clerk_sees_flaps_and_the_light_level_week(tab: Tab, site: Site) -> None:
    page = tab.page
    for lang, flaps_text in (("ja", "過去7日間の切断：5 回"), ("en", "Went down 5 times in the last 7 days")):
        page.goto(f"{site.url}{PAGE}?lang={lang}")
        week = page.locator("#week-1")
        assert week.get_attribute("data-state") == "shown"
        assert week.locator("p.flaps").inner_text() == flaps_text
        chart = week.locator("svg.chart.rx-week")
        assert chart.count() == 1 and chart.is_visible()
        assert chart.locator("rect.band").count() == 7 * 24
        assert chart.locator("line.limit-warning").count() == 1 and chart.locator("line.limit-critical").count() == 1
        box = chart.bounding_box()
        assert box is not None and box["width"] >= 300  # drawn at a readable size, not shrunk
        measured = _measure(page)
        assert measured["texts"], "the chart has no text"
        small = [t for t in measured["texts"] if t["px"] < MIN_CHART_PX]
        assert not small, small
        assert measured["scrollWidth"] <= measured["innerWidth"], measured["wide"]
        path = ARTIFACTS / f"household-week-{tab.size_name}-{lang}.png"
        week.screenshot(path=str(path))
        assert path.stat().st_size > 0
    page.screenshot(path=str(ARTIFACTS / f"household-week-{tab.size_name}.png"), full_page=True)


def test_an_unreachable_store_reads_as_a_sentence(tab: Tab, site: Site) -> None:
    page = tab.page
    kept = site.app.state.line_history
    site.app.state.line_history = PrometheusHistory(f"http://127.0.0.1:{free_port()}", timeout=2)
    try:
        response = page.goto(f"{site.url}{PAGE}?lang=ja")
        assert response is not None and response.status == 200
        week = page.locator("#week-1")
        assert week.get_attribute("data-state") == "unavailable"
        assert "過去7日間の履歴を読めません" in week.inner_text()
        assert "did not answer" in week.locator('samp.detail[lang="en"]').inner_text()  # the store's words, apart
        assert page.locator("#line-headline").inner_text() == "回線は正常です"
        measured = _measure(page)
        assert measured["scrollWidth"] <= measured["innerWidth"], measured["wide"]
        page.screenshot(path=str(ARTIFACTS / f"household-week-unavailable-{tab.size_name}.png"), full_page=True)
    finally:
        site.app.state.line_history = kept
