"""The school page tells which source saw each tablet and when (ARP sweep, the router's ARP table, an MDM)
and what the ARP sources found that is no tablet's, counted: unknown devices apart from private MACs
not identified. Japanese by default, English with ``?lang=en``; over the API test town (SQLite, as the
other page tests; the sightings themselves are tested on PostgreSQL in tests/ftthnoc/inventory/test_mdm.py)."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from ftthnoc.inventory import db
from ftthnoc.inventory.models import School, SchoolArpCount, Tablet, TabletSighting
from ftthnoc.timezone import JST
from tests.api.web.test_pages import login_as


def test_the_school_page_names_each_tablets_sources_and_the_unidentified_counts(client: TestClient,
                                                                              engine: Engine) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    mdm, arp = now - timedelta(hours=2), now - timedelta(minutes=5)
    with db.session_scope(engine) as s:
        school = s.scalars(select(School).where(School.code == "chiyoda-es")).one()
        tablets = list(s.scalars(select(Tablet).where(Tablet.school_id == school.id, Tablet.status == "active")
                                 .order_by(Tablet.id)))  # fmt: skip
        first = tablets[0]
        first.last_seen_at = arp
        s.add_all([TabletSighting(tablet_id=first.id, source="mdm:google", seen_at=mdm),
                   TabletSighting(tablet_id=first.id, source="router_arp", seen_at=arp),
                   SchoolArpCount(school="chiyoda-es", source="router_arp", at=arp, unknown=1, private=7)])
        others = len(tablets) - 1

    def jst(when: datetime) -> str:
        return when.astimezone(JST).strftime("%Y-%m-%d %H:%M")

    login_as(client, engine, "school")
    page = client.get("/schools/chiyoda-es?lang=en").text
    assert "<th>Seen by (JST)</th>" in page
    assert (f'<span class="source" data-source="router_arp">Router ARP table {jst(arp)}</span><br>'
            f'<span class="source" data-source="mdm:google">MDM (Google Admin) {jst(mdm)}</span>') in page
    assert page.count('class="source" data-source=') == 2  # the other tablets: no source yet
    assert "Online 1" in page and f"Never seen {others}" in page
    assert "Devices not identified as tablets" in page
    assert f"Router ARP table ({jst(arp)})" in page
    assert "Unknown devices: 1, Private MAC, not identified: 7" in page

    ja = client.get("/schools/chiyoda-es?lang=ja").text  # (the English choice stays in a cookie)
    assert f"ルータの ARP 表 {jst(arp)}" in ja and f"MDM (Google 管理コンソール) {jst(mdm)}" in ja
    assert "未登録の機器 1 台" in ja and "プライベート MAC・未特定 7 台" in ja
