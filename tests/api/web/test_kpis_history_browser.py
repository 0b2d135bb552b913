"""The KPI page of a freshly seeded demo town in a real browser (headless Debian Chromium via Playwright):
each of the town's four targets shows a trend chart with more than one point, its target and its
definition, at 1024×768 and 390×844, in Japanese and English, and nothing scrolls sideways. The database is
built as ``ftthnoc demo`` builds it (``app.cli.demo.load_demo_inventory``), without the SNMP agents.
Screenshots: ``tests/artifacts/kpis-history-*.png``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from api.app import create_app
from api.service import DEMO_USERS, add_demo_users
from app.cli.demo import load_demo_inventory
from simulator.town import generate_town
from tests.api.conftest import settings_for
from tests.api.served import served
from tests.api.web.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, NEEDS_CHROMIUM, sync_playwright

SIZES = {"desktop": {"width": 1024, "height": 768}, "phone": {"width": 390, "height": 844}}
KPIS = ("subscriptions", "tablets", "availability", "telework")

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:

    directory = tmp_path_factory.mktemp("kpis-history")
    town = generate_town(onus=300, school_routers=True)
    engine = load_demo_inventory(f"sqlite:///{directory / 'demo.db'}", town.inventory_document(), datetime.now(UTC))
    add_demo_users(engine, town.schools[0].code if town.schools else None)
    app = create_app(engine, settings=settings_for(directory))
    try:
        with served(app, "uvicorn-kpis-history") as base:
            yield base
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-kpis")), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport=SIZES["desktop"], locale="ja-JP")  # fmt: skip
        try:
            yield context
        finally:
            context.close()


def _overflow(page: Any, width: int) -> list[str]:
    """Elements whose box reaches past the viewport's right edge (what would scroll sideways)."""
    return list(page.evaluate(
        """w => [...document.querySelectorAll('body *')].filter(e => {
             const b = e.getBoundingClientRect(); return b.width > 0 && b.right > w + 0.5;
           }).map(e => e.tagName + '.' + e.className)""", width))  # fmt: skip


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_four_targets_show_a_trend_with_its_target(browser: Any, site: str, size: str, lang: str) -> None:
    page = browser.new_page()
    page.set_default_timeout(20_000)
    try:
        page.set_viewport_size(SIZES[size])
        page.goto(f"{site}/kpis?lang={lang}")
        if "/login" in page.url:
            name = "admin"
            page.fill("input[name=name]", name)
            page.fill("input[name=password]", DEMO_USERS[name][1])
            page.click("form.stack button[type=submit]")
            page.wait_for_url(f"{site}/kpis*")
        assert page.locator("html").get_attribute("lang") == lang
        for kpi in KPIS:
            block = page.locator(f".kpi-trend[data-kpi={kpi}]")
            assert block.count() == 1, kpi
            assert block.locator(".kpi-missing").count() == 0, (kpi, block.inner_text())
            dots = block.locator("svg circle.dot")
            assert dots.count() > 1, kpi
            assert block.locator("svg line.target").count() == 1, kpi
            target = block.locator(".kpi-target").inner_text()
            assert ("目標" if lang == "ja" else "Target") in target, target
            assert any(ch.isdigit() for ch in target), target
            details = block.locator("details")
            assert not details.locator("p").is_visible()
            details.locator("summary").click()
            assert details.locator("p").is_visible() and len(details.locator("p").inner_text()) > 20
        if lang == "ja":
            assert "Definition" not in page.inner_text("main")
        assert _overflow(page, SIZES[size]["width"]) == []
        scroll = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll[0] <= scroll[1], scroll
        path = ARTIFACTS / f"kpis-history-{size}-{lang}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
    finally:
        page.close()
