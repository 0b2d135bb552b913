"""The outage map on the residents' page, in a real browser at phone size (390×844, headless Debian Chromium
through Playwright, the app served by uvicorn on 127.0.0.1), with one open incident: its district is the one
highlighted, every district is labelled in 12 px or more, nothing reaches past the screen's edge, and the map
carries no count and nothing personal. Screenshots: ``tests/artifacts/outage-map-phone{,-en}.png``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from api.app import create_app
from ftthnoc.geo import DISTRICT_CENTRES
from ftthnoc.incidents.models import Incident, IncidentHousehold
from ftthnoc.inventory import db
from ftthnoc.inventory.models import District, Household
from tests.api.conftest import Seeded, engine_copy, settings_for
from tests.api.served import served
from tests.api.web.chromium import ARTIFACTS, NEEDS_CHROMIUM
from tests.api.web.test_outages import personal_strings
from tests.api.web.test_outages_browser import (
    PHONE,
    _overflow,
    phone,  # noqa: F401 - the fixture, shared
)

pytestmark = NEEDS_CHROMIUM

DARK = "oasa"


@pytest.fixture(scope="module")
def one_outage(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str], list[str]]]:
    """The API test town with one open feeder cut (in 大朝, 14 homes, member rows with household codes)."""

    directory = tmp_path_factory.mktemp("outage-map")
    engine = engine_copy(seeded, directory)
    now = datetime.now(UTC)
    with db.session_scope(engine) as s:
        for seeded_open in s.scalars(select(Incident).where(Incident.status == "open")):  # only ours is open
            seeded_open.status, seeded_open.ended_at = "closed", seeded_open.started_at + timedelta(hours=1)
            seeded_open.duration_seconds = 3600
        codes = list(s.scalars(select(Household.code).order_by(Household.code)))
        cut = Incident(kind="feeder_cut", status="open", district=DARK, olt="olt-oasa-1", pon_port="0/1/2",
                       started_at=now - timedelta(minutes=50), affected_count=14, onu_count=14, reportable=False,
                       cause="los")  # fmt: skip
        for n, code in enumerate(codes[:4]):
            cut.households.append(IncidentHousehold(olt="olt-oasa-1", pon_port="0/1/2", onu_id=str(n),
                                                    household=code, joined_at=cut.started_at))  # fmt: skip
        s.add(cut)
        towns = [c for c in s.scalars(select(District.code)) if c in DISTRICT_CENTRES]
    secrets = personal_strings(engine)
    app = create_app(engine, settings=settings_for(directory))
    try:
        with served(app, "uvicorn-outage-map") as base:
            yield base, secrets, towns
    finally:
        engine.dispose()


def _map_state(page: Any) -> dict[str, str]:
    groups = page.locator("#outages-map svg g.district")
    return {groups.nth(i).get_attribute("data-district"): groups.nth(i).get_attribute("class")
            for i in range(groups.count())}


@pytest.mark.parametrize(("lang", "dark_label"), [("ja", "大朝"), ("en", "Oasa")])
def test_the_map_highlights_the_one_district_with_an_outage(phone: Any, one_outage: tuple[str, list[str], list[str]],  # noqa: F811
                                                            lang: str, dark_label: str) -> None:
    url, secrets, towns = one_outage
    response = phone.goto(f"{url}/outages" + ("?lang=en" if lang == "en" else ""))
    assert response is not None and response.status == 200
    assert len(towns) >= 2, "the test town needs districts with a map point"
    state = _map_state(phone)
    assert phone.locator("#outages-now li.outage").count() == 1  # one outage now
    assert set(state) == set(towns)
    assert {d for d, cls in state.items() if "dark" in cls.split()} == {DARK}
    dark = phone.locator(f"#map-{DARK}")
    assert dark.locator("text").text_content() == dark_label
    assert dark_label in phone.locator("#outages-map figcaption").inner_text()
    # readable on the phone: every label at least 12 px high as drawn, the dark marker larger than the others
    for i in range(phone.locator("#outages-map svg text").count()):
        box = phone.locator("#outages-map svg text").nth(i).bounding_box()
        assert box is not None and box["height"] >= 12, box
    radii = {d: float(phone.locator(f"#map-{d} circle").get_attribute("r")) for d in state}
    assert all(radii[DARK] > r for d, r in radii.items() if d != DARK)
    assert _overflow(phone) == []
    scroll = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll[0] <= scroll[1] == PHONE["width"], scroll
    # nothing personal, and no count at all on the map (the list's ranges are the only figures)
    map_html = phone.locator("#outages-map").inner_html()
    assert not any(ch.isdigit() for ch in phone.locator("#outages-map").inner_text())
    html = phone.content()
    for secret in secrets:
        assert secret not in html, secret
    assert "HH-" not in html and "olt-oasa" not in map_html
    path = ARTIFACTS / f"outage-map-phone{'-en' if lang == 'en' else ''}.png"
    phone.locator("#outages-map").screenshot(path=str(path))
    assert path.stat().st_size > 0
