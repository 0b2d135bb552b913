"""The residents' outage page in a real browser at phone size (390×844, the size LINE's browser opens it
at on a common phone): headless Debian Chromium driven by Playwright, against the app served by uvicorn on
127.0.0.1 over the API test town with open and restored outages (``test_outages.add_outages``).

Checks what a resident sees (the districts with an outage now, since when, the restored one), that nothing
scrolls sideways, and that no household code, name, kana, address or phone of the test data is on the
page. The screenshot goes to ``tests/artifacts/outages-phone.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from api.app import create_app
from tests.api.conftest import Seeded, engine_copy, settings_for
from tests.api.served import served
from tests.api.web.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, NEEDS_CHROMIUM, sync_playwright
from tests.api.web.test_outages import add_outages, personal_strings

PHONE = {"width": 390, "height": 844}

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def site(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:

    directory = tmp_path_factory.mktemp("outages-browser")
    engine = engine_copy(seeded, directory)
    add_outages(engine, datetime.now(UTC))
    secrets = personal_strings(engine)
    app = create_app(engine, settings=settings_for(directory))
    try:
        with served(app, "uvicorn-outages-browser") as base:
            yield base, secrets
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-phone")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="ja-JP",
        )
        try:
            tab = context.new_page()
            tab.set_default_timeout(20_000)
            yield tab
        finally:
            context.close()


def _overflow(page: Any) -> list[str]:
    """Elements whose box reaches past the viewport's right edge (what would scroll sideways)."""
    width = PHONE["width"]
    wide = []
    for el in page.locator("body *").all():
        box = el.bounding_box()
        if box is not None and box["width"] > 0 and box["x"] + box["width"] > width + 0.5:
            wide.append(el.evaluate("e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40)"))
    return wide


def test_a_resident_sees_the_districts_with_an_outage_on_a_phone(phone: Any, site: tuple[str, list[str]]) -> None:
    url, secrets = site
    response = phone.goto(f"{url}/outages")
    assert response is not None and response.status == 200
    assert "/login" not in phone.url  # no login
    now = phone.locator("#outages-now li.outage")
    assert now.count() == 2
    districts = [now.nth(i).locator("h2.district").inner_text() for i in range(now.count())]
    assert districts == ["千代田地区", "大朝地区"]
    assert now.nth(0).locator("dd.since").inner_text() == "2026年11月20日 12:00 から"
    assert now.nth(1).locator("dd.households").inner_text() == "10〜49 世帯"
    assert phone.locator("#outages-restored li.outage h3").all_inner_texts() == ["千代田地区"]
    assert _overflow(phone) == []
    scroll = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll[0] <= scroll[1] == PHONE["width"], scroll
    text, html = phone.inner_text("body"), phone.content()
    for secret in secrets:
        assert secret not in text and secret not in html, secret
    assert "HH-" not in html
    path = ARTIFACTS / "outages-phone.png"
    phone.screenshot(path=str(path), full_page=True)
    assert path.exists() and path.stat().st_size > 0


def test_the_english_page_fits_the_phone_too(phone: Any, site: tuple[str, list[str]]) -> None:
    url, _ = site
    phone.goto(f"{url}/outages?lang=en")
    assert phone.locator("#outages-now h1").inner_text() == "Outages now"
    assert phone.locator("#outages-now h2.district").all_inner_texts() == ["Chiyoda", "Oasa"]
    assert _overflow(phone) == []
    phone.screenshot(path=str(ARTIFACTS / "outages-phone-en.png"), full_page=True)
