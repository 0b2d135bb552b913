"""Tablets seen passively: the school router's ARP table (``school_router_arp``) read by real snmpsim agents
and fed to the ``KpiRecorder``, which marks the active tablets of that router's school whose MAC is there.
A hand-written table with hand-checked outcomes first, then the simulated town's routers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ftthnoc.inventory import db
from ftthnoc.inventory.models import School, Tablet
from ftthnoc.kpi import figures
from ftthnoc.kpi.recorder import KpiRecorder
from ftthnoc.samples import MetricFamily
from simulator.agents import TownAgents, serve_walk
from simulator.snmprec import render, router_records
from simulator.town import Town, generate_town
from tests.ftthnoc.kpi.conftest import inventory, poll_routers, town_inventory
from tests.towns import require_snmpsim

NOW = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)  # 10:30 JST, a school day
LATER = NOW + timedelta(hours=1)


@pytest.fixture(scope="module", autouse=True)
def have_snmpsim() -> None:
    require_snmpsim()


def mac(n: int) -> str:
    return f"02:00:00:00:00:{n:02x}"


def tablet(school: str, n: int, status: str = "active") -> dict[str, object]:
    return {"school": school, "asset_no": f"T-{n:03d}", "serial": f"S{n}", "mac": mac(n), "os": "ChromeOS",
            "grade": 1, "class_name": "1-1", "status": status}


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = inventory(tmp_path, {
            "districts": [{"code": "chiyoda", "name": "千代田", "households": 8}],
            "schools": [
                {"code": "es-1", "name": "一小", "district": "chiyoda", "pupils": 5,
                 "uplink_target": "es-1-rtx", "uplink_interface": "LAN2"},
                {"code": "es-2", "name": "二小", "district": "chiyoda", "pupils": 1,
                 "uplink_target": "es-2-rtx", "uplink_interface": "LAN2"},
            ],
            "tablets": [tablet("es-1", 1), tablet("es-1", 2), tablet("es-1", 3), tablet("es-1", 4, "retired"),
                        tablet("es-1", 5), tablet("es-2", 6)],
        })  # fmt: skip
    with db.session_scope(engine) as s:  # T-005 was seen after this poll already: it must not go back
        s.scalars(select(Tablet).where(Tablet.asset_no == "T-005")).one().last_seen_at = LATER
    return engine


#: es-1's router: T-001, T-002 (active), T-004 (retired), T-005 (seen later already), es-2's T-006 (a
#: tablet of another school on this LAN), an unregistered device; T-003 is not there
ES1_ARP = "".join(
    f"1.3.6.1.2.1.4.22.1.2.1.10.128.0.{16 + n}|4x|{mac(n).replace(':', '')}\n" for n in (1, 2, 4, 5, 6)
) + "1.3.6.1.2.1.4.22.1.2.1.10.128.0.99|4x|02AAAAAAAAAA\n"


async def poll_arp(address: str, name: str) -> list[MetricFamily]:
    from collectors.snmp.client import Device, SnmpClient
    from collectors.snmp.module import get_module
    from collectors.snmp.poll import poll_module
    from ftthnoc.config import Auth

    host, port = address.rsplit(":", 1)
    client = SnmpClient()
    try:
        result = await poll_module(client, Device(name, host, int(port), Auth(community="public"), timeout=5.0),
                                   get_module("school_router_arp"))
    finally:
        client.close()
    assert result.success, result.error
    return result.families


def seen(engine: Engine) -> dict[str, datetime | None]:
    with db.session_scope(engine) as s:
        return {t.asset_no: None if t.last_seen_at is None else t.last_seen_at.replace(tzinfo=UTC)
                for t in s.scalars(select(Tablet))}


async def test_the_routers_arp_table_marks_exactly_its_schools_active_tablets(engine: Engine,
                                                                              tmp_path: Path) -> None:
    walk = tmp_path / "es-1-rtx.snmprec"
    walk.write_text(ES1_ARP)
    with serve_walk(walk, "public") as agent:
        families = await poll_arp(agent.address, "es-1-rtx")
    assert sum(len(f.samples) for f in families) == 6
    rec = KpiRecorder(engine, 60.0)

    rec.record_poll("not-a-school-rtx", families, now=NOW)  # not a school's router: nothing
    assert seen(engine) == {"T-001": None, "T-002": None, "T-003": None, "T-004": None, "T-005": LATER,
                            "T-006": None}
    rec.record_poll("es-1-rtx", families, now=NOW)
    assert seen(engine) == {"T-001": NOW, "T-002": NOW, "T-003": None, "T-004": None, "T-005": LATER,
                            "T-006": None}
    with db.session_scope(engine) as s:  # the unregistered MAC is stored nowhere
        assert s.scalar(select(func.count()).select_from(Tablet)) == 6
        got = figures.tablets_seen(s, NOW + timedelta(minutes=1))
    es1 = next(r for r in got["schools"] if r["school"] == "es-1")
    assert (es1["tablets"], es1["seen_24h"]) == (4, 3)  # T-001, T-002 and T-005 of the 4 active ones

    rec.record_poll("es-1-rtx", families, now=LATER + timedelta(minutes=5))  # later: every one moves on
    assert seen(engine)["T-005"] == LATER + timedelta(minutes=5)
    rec.record_poll("es-1-rtx", families, now=NOW)  # an older poll arriving late: nothing goes back
    assert seen(engine)["T-001"] == LATER + timedelta(minutes=5)


def test_families_without_arp_entries_change_nothing(engine: Engine) -> None:
    rec = KpiRecorder(engine, 60.0)
    junk = MetricFamily("ftth_router_arp_entry_info", "arp", "info")
    junk.add({"device": "es-1-rtx", "if_index": "1", "ip": "10.128.0.17", "mac": "not-a-mac"}, 1.0)
    rec.record_poll("es-1-rtx", [junk, MetricFamily("ifHCInOctets", "octets", "counter")], now=NOW)
    assert set(seen(engine).values()) == {None, LATER}


# --------------------------------------------------------------------------- the simulated town
def test_the_town_puts_70_to_90_percent_of_each_schools_tablets_in_its_routers_arp_table(router_town: Town) -> None:
    town = router_town
    macs = {t.mac: t for t in town.tablets}
    for r in town.school_routers:
        mine = [t for t in town.tablets if t.school == r.school]
        assert 0.7 * len(mine) - 1 <= len(r.arp) <= 0.9 * len(mine) + 1
        assert all(macs[a.mac].school == r.school and a.if_index == 1 for a in r.arp)
        assert len({a.ip for a in r.arp}) == len({a.mac for a in r.arp}) == len(r.arp)
        assert r.modules == ["if_mib", "school_router_arp"]
        text = render(router_records(r))
        assert all(f"1.3.6.1.2.1.4.22.1.2.1.{a.ip}|4x|{a.mac.replace(':', '')}\n" in text for a in r.arp)
    # hand-checked for seed 3: SCH-01 has 332 tablets, 259 online; SCH-02 75, 60 online
    assert [(r.school, len(r.arp)) for r in town.school_routers] == [("SCH-01", 259), ("SCH-02", 60)]
    assert town.school_routers[0].arp[0].ip == "10.128.0.16" and town.school_routers[1].arp[0].ip == "10.128.8.16"
    assert generate_town(seed=3, onus=100, schools=2, school_routers=True).school_routers == town.school_routers


async def test_polled_town_routers_mark_the_tablets_the_simulator_put_online(router_town: Town,
                                                                             router_agents: TownAgents,
                                                                             tmp_path: Path) -> None:
    town = router_town
    engine = town_inventory(town, tmp_path)
    polled = datetime.now(UTC)
    await poll_routers(router_agents, KpiRecorder(engine, 60), 60, now=polled)

    online = {(r.school, a.mac) for r in town.school_routers for a in r.arp}
    with db.session_scope(engine) as s:
        rows = s.execute(select(School.code, Tablet.mac, Tablet.last_seen_at).join(School)).all()
        got = figures.tablets_seen(s, polled + timedelta(minutes=1))
    marked = {(code, m) for code, m, at in rows if at is not None}
    assert marked == online and len(marked) == 259 + 60
    assert {at.replace(tzinfo=UTC) for _c, _m, at in rows if at is not None} == {polled}
    per = {r["school"]: (r["tablets"], r["seen_24h"], r["seen_7d"]) for r in got["schools"]}
    assert per == {"SCH-01": (332, 259, 259), "SCH-02": (75, 60, 60)}
    assert (got["town"]["tablets"], got["town"]["seen_24h"]) == (407, 319)
