"""Schools' uplink peaks: the rate between two polls of the router's IF-MIB counters, the day's maximum
per school, and the last days' peaks the API serves. Hand-computed numbers first, then a real snmpsim
town's school routers polled through the poller."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from ftthnoc.inventory import db
from ftthnoc.inventory.models import School
from ftthnoc.kpi import figures
from ftthnoc.kpi.models import SchoolUplinkPeak
from ftthnoc.kpi.recorder import KpiRecorder
from ftthnoc.kpi.uplinks import Reading, uplink_mbps
from ftthnoc.samples import MetricFamily
from simulator.agents import TownAgents
from simulator.town import ROUTER_UPLINK, Town, generate_town, router_name
from tests.ftthnoc.kpi.conftest import inventory, poll_routers, town_inventory
from tests.waiting import scaled

#: 23:58 JST on 26 November: two minutes later it is the 27th
NOW = datetime(2026, 11, 26, 14, 58, tzinfo=UTC)
INTERVAL = 60.0


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return inventory(tmp_path, {
            "districts": [{"code": "chiyoda", "name": "千代田", "households": 8}],
            "schools": [
                {"code": "es-1", "name": "一小", "district": "chiyoda", "pupils": 250,
                 "uplink_target": "es-1-rtx", "uplink_interface": "LAN2"},
                {"code": "es-2", "name": "二小", "district": "chiyoda", "pupils": 40},
            ],
        })  # fmt: skip


def if_mib(in_octets: dict[str, float], out_octets: dict[str, float], device: str = "es-1-rtx") -> list[MetricFamily]:
    """if_mib's two octet families as the poller publishes them (ifName -> wrap-extended counter)."""
    fams = []
    for name, values in (("ifHCInOctets", in_octets), ("ifHCOutOctets", out_octets)):
        fam = MetricFamily(name, "octets", "counter")
        for k, (if_name, value) in enumerate(values.items(), start=1):
            fam.add({"device": device, "ifIndex": str(k), "ifName": if_name, "ifDescr": if_name, "ifAlias": ""},
                    value)
        fams.append(fam)
    return fams


def peaks(engine: Engine) -> dict[tuple[str, date], tuple[float, datetime]]:
    with db.session_scope(engine) as s:
        return {(r.school, r.day): (round(r.peak_mbps, 6), r.at.replace(tzinfo=UTC) if r.at.tzinfo is None else r.at)
                for r in s.scalars(select(SchoolUplinkPeak))}


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def test_rate_is_the_larger_direction_in_mbps() -> None:
    before = Reading(NOW, 1_000_000_000, 100_000_000)
    # 750 MB in 60 s: 750e6 × 8 / 60 = 100 Mbit/s; 75 MB out: 10 Mbit/s
    assert uplink_mbps(before, Reading(at(60), 1_750_000_000, 175_000_000), INTERVAL) == pytest.approx(100.0)
    # out the busier way: 1.5 GB in 60 s = 200 Mbit/s
    assert uplink_mbps(before, Reading(at(60), 1_000_000_000, 1_600_000_000), INTERVAL) == pytest.approx(200.0)
    # one direction missing in either poll: the other decides
    assert uplink_mbps(before, Reading(at(60), None, 175_000_000), INTERVAL) == pytest.approx(10.0)


def test_no_rate_across_a_reset_a_long_gap_or_no_time() -> None:
    before = Reading(NOW, 1_000_000_000, 100_000_000)
    assert uplink_mbps(before, Reading(at(60), 5_000, 175_000_000), INTERVAL) is None  # in went backwards
    assert uplink_mbps(before, Reading(at(60), 1_750_000_000, 99_999_999), INTERVAL) is None  # out did
    assert uplink_mbps(before, Reading(at(181), 1_750_000_000, 175_000_000), INTERVAL) is None  # > 3 intervals
    assert uplink_mbps(before, Reading(at(180), 1_750_000_000, 175_000_000), INTERVAL) == pytest.approx(
        750e6 * 8 / 180 / 1e6)  # exactly 3 intervals still counts
    assert uplink_mbps(before, Reading(NOW, 1_750_000_000, 175_000_000), INTERVAL) is None
    assert uplink_mbps(before, Reading(at(60), None, None), INTERVAL) is None


def test_recorder_keeps_the_days_peak_per_jst_day(engine: Engine) -> None:
    rec = KpiRecorder(engine, INTERVAL)
    day1, day2 = date(2026, 11, 26), date(2026, 11, 27)
    polls = [  # (seconds after NOW, LAN2 in, LAN2 out)
        (0, 1_000_000_000, 100_000_000),  # 23:58 JST: first poll, no rate
        (60, 1_750_000_000, 175_000_000),  # 23:59: 100 Mbit/s
        (90, 1_937_500_000, 200_000_000),  # 23:59:30: 187.5e6 B in 30 s = 50 Mbit/s (a lower rate)
        (150, 2_837_500_000, 210_000_000),  # 00:00:30 JST on the 27th: 900e6 × 8 / 60 = 120 Mbit/s
        (210, 2_987_500_000, 220_000_000),  # 00:01:30: 20 Mbit/s
    ]
    for seconds, rx, tx in polls:
        rec.record_poll("es-1-rtx", if_mib({"LAN1": 7e12 + seconds * 1e9, ROUTER_UPLINK: rx},
                                            {"LAN1": 1e9, ROUTER_UPLINK: tx}), now=at(seconds))
    assert peaks(engine) == {("es-1", day1): (100.0, at(60)), ("es-1", day2): (120.0, at(150))}

    with db.session_scope(engine) as s:
        assert figures.recent_peaks(s, at(210)) == {"es-1": 120.0}
        assert figures.recent_peaks(s, at(0)) == {"es-1": 100.0}  # the 26th: the 27th is not yet
        assert figures.recent_peaks(s, at(0) + timedelta(days=7)) == {"es-1": 120.0}  # 3 Dec: 27 Nov in
        assert figures.recent_peaks(s, at(210) + timedelta(days=7)) == {}  # 4 Dec: the 27th left the week
        assert figures.recent_peaks(s, at(210) + timedelta(days=7), days=8) == {"es-1": 120.0}
        rows = figures.school_bandwidth(s, figures.recent_peaks(s, at(210)))
        assert [(r["school"], r["peak_mbps"], r["meets"]) for r in rows] == [("es-1", 120.0, None),
                                                                           ("es-2", None, None)]


def test_a_reset_or_a_gap_gives_no_rate_and_the_next_poll_measures_again(engine: Engine) -> None:
    rec = KpiRecorder(engine, INTERVAL)
    polls = [
        (-600, 9_000_000_000, 0),  # 23:48 JST: first poll
        (-540, 9_075_000_000, 0),  # 10 Mbit/s
        (-480, 1_000, 0),  # the router restarted: counter reset, no rate (not a negative one)
        (-420, 7_500_001_000, 0),  # 7.5e9 B in 60 s = 1000 Mbit/s: measured from the reset value
        (-100, 7_500_001_000 + 32e9, 0),  # 320 s gap (> 180 s): no rate, however large
        (-40, 7_500_001_000 + 32e9 + 30e6, 0),  # 4 Mbit/s
    ]
    for seconds, rx, tx in polls:
        rec.record_poll("es-1-rtx", if_mib({ROUTER_UPLINK: rx}, {ROUTER_UPLINK: tx}), now=at(seconds))
    assert peaks(engine) == {("es-1", date(2026, 11, 26)): (1000.0, at(-420))}


def test_other_interfaces_targets_and_unmapped_schools_are_ignored(engine: Engine) -> None:
    rec = KpiRecorder(engine, INTERVAL)
    for seconds in (0, 60):
        big = 1e9 + seconds * 1e9
        rec.record_poll("es-1-rtx", if_mib({"LAN1": big}, {"LAN1": big}), now=at(seconds))  # not the uplink
        rec.record_poll("es-2-rtx", if_mib({"LAN2": big}, {"LAN2": big}, "es-2-rtx"), now=at(seconds))  # es-2: none
        rec.record_poll("vpn-1", if_mib({"LAN2": big}, {"LAN2": big}, "vpn-1"), now=at(seconds))
        rec.record_poll("es-1-rtx", [MetricFamily("ifOperStatus", "status")], now=at(seconds))  # other families
    assert peaks(engine) == {}


def test_the_mapping_is_read_again_every_few_minutes(engine: Engine) -> None:
    rec = KpiRecorder(engine, INTERVAL)
    with db.session_scope(engine) as s:  # es-2's uplink entered while the recorder runs
        s.execute(update(School).where(School.code == "es-2").values(uplink_target="es-2-rtx",
                                                                      uplink_interface="GE0/1"))
    rec.uplinks.refresh(at(0))
    rec.uplinks.uplinks.pop("es-2-rtx")  # as if loaded before the change
    for seconds in (0, 60):
        rec.record_poll("es-2-rtx", if_mib({"GE0/1": 1e9 + seconds * 1e6}, {}, "es-2-rtx"), now=at(seconds))
    assert peaks(engine) == {}
    for seconds in (300, 360):  # five minutes on: read again, measured from the next two polls
        rec.record_poll("es-2-rtx", if_mib({"GE0/1": 1e9 + seconds * 1e6}, {}, "es-2-rtx"), now=at(seconds))
    assert peaks(engine) == {("es-2", date(2026, 11, 27)): (8.0, at(360))}


def test_a_database_away_costs_the_polls_figure_not_the_poll(engine: Engine) -> None:
    rec = KpiRecorder(engine, INTERVAL)
    rec.record_poll("es-1-rtx", if_mib({ROUTER_UPLINK: 0}, {ROUTER_UPLINK: 0}), now=at(0))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE school_uplink_peaks")
    rec.record_poll("es-1-rtx", if_mib({ROUTER_UPLINK: 75e6}, {ROUTER_UPLINK: 0}), now=at(60))  # logged only


# --------------------------------------------------------------------------- a real simulated town
def test_the_town_gives_its_schools_routers_near_their_mext_target(router_town: Town) -> None:
    assert [r.name for r in router_town.school_routers] == [router_name(s.code) for s in router_town.schools]
    assert [s.code for s in router_town.schools] == ["SCH-01", "SCH-02"]
    assert router_name("SCH-01") == "sch-01-rtx"
    pupils = {s.code: s.pupils for s in router_town.schools}
    for r in router_town.school_routers:
        assert [i.name for i in r.interfaces()] == ["LAN1", "LAN2"]
        assert "RTX1220" in r.sys_descr and r.modules == ["if_mib", "school_router_arp"]
        assert 0.4 <= r.uplink_mbps / figures.mext_mbps(pupils[r.school]) <= 1.2
    doc = router_town.inventory_document()
    assert {s["code"]: (s["uplink_target"], s["uplink_interface"]) for s in doc["schools"]} == {
        "SCH-01": ("sch-01-rtx", "LAN2"), "SCH-02": ("sch-02-rtx", "LAN2")}
    targets = {t["name"]: t for t in router_town.poller_config()["targets"]}
    assert targets["sch-01-rtx"]["modules"] == ["if_mib", "school_router_arp"]
    assert list(targets)[-2:] == ["sch-01-rtx", "sch-02-rtx"]
    addresses = [d.address for d in router_town.devices()]
    assert len(set(addresses)) == len(addresses)
    # off by default: other towns start no more agents
    assert generate_town(seed=3, onus=100, schools=2).school_routers == ()
    assert generate_town(seed=3, onus=100, schools=2).inventory_document()["schools"][0]["uplink_target"] is None


async def test_polled_school_routers_give_their_simulated_peak(router_town: Town, router_agents: TownAgents,
                                                               tmp_path: Path) -> None:
    engine = town_inventory(router_town, tmp_path)
    # about time itself: the rate is over the gap between two polls, and a poll stamped late on a loaded machine
    # (0.5 s at a load of 15) is that much of it: 3 s stretched by the load keeps the stamp's share under 10 %.
    # The poll interval stretches with it (a gap of over three intervals gives no rate, as after an outage).
    gap = scaled(3.0)
    interval = gap + 2.0
    recorder = KpiRecorder(engine, interval)
    for _ in range(2):
        await poll_routers(router_agents, recorder, interval)
        await asyncio.sleep(gap)

    expected = {r.school: r.uplink_mbps for r in router_town.school_routers}
    with db.session_scope(engine) as s:
        recent = figures.recent_peaks(s, datetime.now(UTC))
        rows = {r.school: r.peak_mbps for r in s.scalars(select(SchoolUplinkPeak))}
    assert set(rows) == set(recent) == {"SCH-01", "SCH-02"}
    for school, mbps in expected.items():
        assert rows[school] == pytest.approx(mbps, rel=0.10), school
        assert recent[school] == pytest.approx(mbps, rel=0.10), school


def test_the_api_reads_the_last_weeks_peaks_on_every_call(engine: Engine) -> None:
    from api.service import RecentPeaks

    peaks_now = RecentPeaks(engine)
    assert peaks_now() == {}
    rec = KpiRecorder(engine, INTERVAL)
    now = datetime.now(UTC)
    rec.record_poll("es-1-rtx", if_mib({ROUTER_UPLINK: 0}, {ROUTER_UPLINK: 0}), now=now - timedelta(seconds=60))
    rec.record_poll("es-1-rtx", if_mib({ROUTER_UPLINK: 412_500_000}, {ROUTER_UPLINK: 0}), now=now)  # 55 Mbit/s
    assert peaks_now() == {"es-1": 55.0}
