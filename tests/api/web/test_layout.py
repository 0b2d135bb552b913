"""The pages' layout in a real browser (Debian Chromium, Playwright), over the simulated town of
``test_browser.py``: every page at a desktop's 1024×768 and a phone's 390×844, in Japanese and English,
must not scroll sideways (``scrollWidth <= innerWidth``; wide tables scroll inside their card), must draw
every chart text at 12 px or more on screen (the computed font size times the SVG's scale, from
``getScreenCTM``), and must keep each status badge on one line; in Japanese, no English word may be left
in its visible text (``visible_text``, as ``test_japanese.py`` checks the test town's pages). A screenshot
of each goes to ``tests/artifacts/<page>-<width>x<height>-<lang>.png``.

And the school page's filter as a teacher uses it on a phone: the tablets of class 3-2 not seen this week.

Run alone: ``python -m pytest tests/api/web/test_layout.py`` (about a minute; skipped with the reason
without /usr/bin/chromium or snmpsim).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from ftthnoc.inventory import db
from ftthnoc.inventory.models import District, School, Tablet
from tests.api.web.test_browser import ARTIFACTS, PASSWORD, Site, _dying_gasp_household, pytestmark
from tests.api.web.test_browser import browser_context as browser_context
from tests.api.web.test_browser import env as env
from tests.api.web.test_browser import site as site
from tests.api.web.visible_text import english_words, visible_text

__all__ = ["pytestmark"]

SIZES = {"desktop": (1024, 768), "phone": (390, 844)}
#: The smallest chart text on screen, in CSS px.
MIN_CHART_PX = 12.0

#: What the check reads of a page, in the page (no eval: the CSP allows none; Playwright's evaluate is CDP).
MEASURE = """() => {
  const root = document.documentElement;
  const texts = [...document.querySelectorAll("svg.chart text")].map((el) => {
    const ctm = el.getScreenCTM();
    const scale = ctm ? Math.hypot(ctm.a, ctm.b) : 1;
    const px = parseFloat(getComputedStyle(el).fontSize) * scale;
    return {text: el.textContent, px: Math.round(px * 100) / 100};
  });
  const badges = [...document.querySelectorAll(".status, .pill")].filter((el) => el.offsetParent !== null)
    .map((el) => ({text: el.textContent, lines: el.getClientRects().length,
                   tall: el.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(el).fontSize) * 1.3}));
  const wide = [...document.body.querySelectorAll("*")].filter((el) => el.getBoundingClientRect().right > innerWidth + 1
      && !el.closest(".scroll")).slice(0, 5).map((el) => el.tagName + "." + el.className + ": " +
      (el.textContent || "").trim().slice(0, 40));
  return {scrollWidth: root.scrollWidth, innerWidth: innerWidth, texts, badges, wide};
}"""


@pytest.fixture(scope="module")
def town_pages(site: Site, browser_context: Any) -> dict[str, str]:
    """The pages to look at, by name: URL paths (a failed enrolment's job page made once, through the form)."""
    now = datetime.now(UTC)
    with db.session_scope(site.env.engine) as s:  # class 3-2 of the school has tablets in every state
        school = s.scalars(select(School).where(School.code == site.school)).one()
        tablets = list(s.scalars(select(Tablet).where(Tablet.school_id == school.id).order_by(Tablet.id)))
        for i, tablet in enumerate(tablets[:8]):
            tablet.grade, tablet.class_name = 3, "3-2"
            tablet.last_seen_at = [now - timedelta(hours=1), now - timedelta(days=3), now - timedelta(days=10),
                                   None][i % 4]  # fmt: skip
        district = s.scalar(select(District.code).where(District.id == school.district_id))
    code, serial, _port = site.env.install(site.env.olt("huawei"), rx=-21.0)
    tab = browser_context.new_page()
    tab.set_default_timeout(20_000)
    try:
        _login(tab, site, "web-admin", f"/support/households/{code}")
        assert serial != "HWTC-0BADBEEF"
        tab.fill("#enrol-form input[name=serial]", "HWTC-0BADBEEF")  # plugged nowhere: the job fails
        tab.click("#enrol-form button[type=submit]")
        tab.wait_for_selector("#job-outcome", timeout=90_000)  # the page reloads itself when the job ends
        job_url = tab.url.removeprefix(site.url)
    finally:
        tab.close()
    down = _dying_gasp_household(site)
    return {
        "support": f"/support?district={district}",
        "household": f"/support/households/{down}",
        "job": job_url,
        "schools": "/schools",
        "school": f"/schools/{site.school}",
        "school-filtered": f"/schools/{site.school}?state=not_seen_week&grade=3&class=3-2",
        "kpis": "/kpis",
        "error": "/schools/no-such-school",
    }


def _login(page: Any, site: Site, name: str, then: str) -> None:
    page.goto(f"{site.url}{then}")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{site.url}{then}")


@pytest.fixture
def tab(browser_context: Any) -> Iterator[Any]:
    browser_context.clear_cookies()
    page = browser_context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        page.close()


def _check(page: Any, name: str, problems: list[str]) -> None:
    found = page.evaluate(MEASURE)
    if found["scrollWidth"] > found["innerWidth"]:
        problems.append(f"{name}: scrolls sideways ({found['scrollWidth']} > {found['innerWidth']} px): "
                        f"{found['wide']}")  # fmt: skip
    small = [(t["text"], t["px"]) for t in found["texts"] if t["px"] < MIN_CHART_PX]
    if small:
        problems.append(f"{name}: chart text under {MIN_CHART_PX} px: {small[:5]}")
    wrapped = [b["text"] for b in found["badges"] if b["lines"] > 1 or b["tall"]]
    if wrapped:
        problems.append(f"{name}: badges on more than one line: {wrapped[:5]}")


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_fits_the_screen_with_readable_charts(tab: Any, site: Site, town_pages: dict[str, str],
                                                         size: str, lang: str) -> None:  # fmt: skip
    width, height = SIZES[size]
    tab.set_viewport_size({"width": width, "height": height})
    problems: list[str] = []
    suffix = f"{width}x{height}-{lang}"

    def look(name: str) -> None:
        _check(tab, name, problems)
        if lang == "ja":  # the simulated town's data (real Provisioner messages, plans, names) in Japanese too
            english = sorted(set(english_words(visible_text(tab.content(), "ja"))))
            if english:
                problems.append(f"{name}: English words on the Japanese page: {english}")
        tab.screenshot(path=str(ARTIFACTS / f"{name}-{suffix}.png"), full_page=True)

    tab.goto(f"{site.url}/login?lang={lang}")
    assert tab.get_attribute("html", "lang") == lang
    look("login")
    tab.fill("input[name=name]", "web-admin")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("form.stack button[type=submit]")
    tab.wait_for_load_state()
    for name, path in town_pages.items():
        tab.goto(f"{site.url}{path}")
        assert tab.get_attribute("html", "lang") == lang, (name, "the language is kept")
        look(name)
        if name == "household":  # the confirmation a cancel asks for
            tab.click("form[action$='/cancel'] button[type=submit]")
            tab.wait_for_selector("#confirm-form")
            look("confirm")
    tab.goto(f"{site.url}/logout")
    look("logout")
    assert problems == []


def test_a_teacher_lists_class_3_2_not_seen_this_week_on_a_phone(tab: Any, site: Site,
                                                                town_pages: dict[str, str]) -> None:  # fmt: skip
    tab.set_viewport_size({"width": 390, "height": 844})
    _login(tab, site, "web-school", f"/schools/{site.school}")
    tab.select_option("#tablet-filter select[name=state]", "not_seen_week")
    tab.select_option("#tablet-filter select[name=grade]", "3")
    tab.select_option("#tablet-filter select[name=class]", "3-2")
    tab.click("#tablet-filter button[type=submit]")
    tab.wait_for_url(f"{site.url}/schools/{site.school}?state=not_seen_week&grade=3&class=3-2")
    rows = tab.locator("table.tablets tbody tr")
    assert rows.count() == 4  # of the eight tablets of 3-2: the two seen 10 days ago and the two never seen
    assert {rows.nth(i).get_attribute("class") for i in range(rows.count())} == {"offline", "never_seen"}
    assert tab.inner_text("#tablets-shown") == "4 台を表示"
    problems: list[str] = []
    _check(tab, "school-filter-phone", problems)
    assert problems == []
    tab.screenshot(path=str(ARTIFACTS / "school-class-3-2-not-seen-this-week-390x844-ja.png"), full_page=True)
