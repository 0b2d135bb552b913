"""KPI figures over a hand-made inventory: every number checked against a count done by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.inventory.models import Household, Tablet, TabletAddress
from ftthnoc.kpi import figures
from ftthnoc.kpi.models import HouseholdStatusChange
from ftthnoc.kpi.recorder import KpiRecorder
from ftthnoc.samples import MetricFamily

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 12:00 JST


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'kpi.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    households = [{"code": f"HH-{i:06d}", "district": "chiyoda" if i <= 6 else "oasa", "plan": "home-1g",
                   "status": "installed"} for i in range(1, 11)]
    with db.session_scope(engine) as s:
        import_document(s, {
            "districts": [{"code": "chiyoda", "name": "千代田", "households": 8},
                          {"code": "oasa", "name": "大朝", "households": 5}],
            "households": households,
            "schools": [{"code": "es-1", "name": "一小", "district": "chiyoda", "pupils": 250},
                        {"code": "es-2", "name": "二小", "district": "oasa", "pupils": 40}],
            "tablets": [{"school": "es-1" if i < 8 else "es-2", "asset_no": f"T-{i:03d}", "serial": f"S{i}",
                         "mac": f"02:00:00:00:00:{i:02x}", "os": "iPadOS",
                         "status": "retired" if i == 7 else "active"} for i in range(10)],
        })
    return engine


def _activate(engine: Engine, code: str, when: datetime) -> None:
    with db.session_scope(engine) as s:
        h = s.scalar(select(Household).where(Household.code == code))
        assert h is not None
        h.change_status("active")
    with db.session_scope(engine) as s:  # date the change as if it happened then
        last = s.scalar(select(HouseholdStatusChange).order_by(HouseholdStatusChange.id.desc()).limit(1))
        assert last is not None and last.status == "active"
        last.at = when


@pytest.mark.parametrize(("pupils", "mbps"), [(10, 108), (60, 108), (90, 162), (250, 382.5), (280, 408),
                                               (1400, 834), (1750, 834 + 123 * 350 / 350)])
def test_mext_recommended_bandwidth_is_interpolated_between_the_rows(pupils: int, mbps: float) -> None:
    assert figures.mext_mbps(pupils) == pytest.approx(mbps)


def test_subscriptions_by_district_and_month(engine: Engine) -> None:
    with db.session_scope(engine) as s:  # the import's own rows: the households existed since August
        s.execute(update(HouseholdStatusChange).values(at=datetime(2026, 8, 10, tzinfo=UTC)))
    _activate(engine, "HH-000001", datetime(2026, 9, 5, tzinfo=UTC))
    _activate(engine, "HH-000002", datetime(2026, 9, 30, 16, tzinfo=UTC))  # 1 Oct 01:00 JST: October
    _activate(engine, "HH-000007", datetime(2026, 11, 1, tzinfo=UTC))
    with db.session_scope(engine) as s:
        got = figures.subscriptions(s, NOW, target=7000)
    assert got["active"] == 3 and got["target"] == 7000 and got["progress"] == round(3 / 7000, 4)
    assert [(d["district"], d["active"], d["households"], d["take_up"]) for d in got["by_district"]] == [
        ("chiyoda", 2, 8, 0.25), ("oasa", 1, 5, 0.2)]
    assert [(m["month"], m["active"]) for m in got["monthly"]] == [
        ("2026-08", 0), ("2026-09", 1), ("2026-10", 2), ("2026-11", 3)]


def test_tablets_seen_in_24_hours_and_7_days(engine: Engine) -> None:
    seen = {"T-000": NOW - timedelta(hours=1), "T-001": NOW - timedelta(hours=23), "T-002": NOW - timedelta(days=2),
            "T-003": NOW - timedelta(days=8), "T-007": NOW, "T-008": NOW - timedelta(days=6)}
    with db.session_scope(engine) as s:
        for t in s.scalars(select(Tablet)):
            t.last_seen_at = seen.get(t.asset_no)
        got = figures.tablets_seen(s, NOW)
    es1, es2 = got["schools"]
    # es-1: T-000..T-006 active (T-007 retired: not counted even though seen)
    assert (es1["tablets"], es1["seen_24h"], es1["seen_7d"]) == (7, 2, 3)
    assert (es2["tablets"], es2["seen_24h"], es2["seen_7d"]) == (2, 0, 1)
    assert got["town"] == {"tablets": 9, "seen_24h": 2, "seen_7d": 4, "share_24h": round(2 / 9, 4),
                           "share_7d": round(4 / 9, 4)}


def test_availability_from_polls_and_tablets_from_sweeps(engine: Engine) -> None:
    rec = KpiRecorder(engine, interval_seconds=60)
    up = MetricFamily("ftth_onu_up", "")
    for i, v in enumerate([1, 1, 1, 0]):
        up.add({"olt": "o", "pon_port": "0/1/0", "onu_id": str(i), "district": "chiyoda"}, v)
    up.add({"olt": "o", "pon_port": "0/1/1", "onu_id": "0", "district": "oasa"}, 1)
    rec.record_poll("o", [up], now=NOW)
    rec.record_poll("o", [up], now=NOW)
    rec.record_poll("o", [up], now=datetime(2026, 10, 31, 16, tzinfo=UTC))  # 1 Nov JST
    seen = MetricFamily("ftthnoc_probe_arp_tablet_last_seen_timestamp_seconds", "")
    seen.add({"school": "es-2", "tablet": "T-008"}, NOW.timestamp())
    rec.record_poll("prober", [seen])
    with db.session_scope(engine) as s:
        (month,) = figures.availability(s)
        tablet = s.scalar(select(Tablet).where(Tablet.asset_no == "T-008"))
        assert tablet is not None and tablet.last_seen_at is not None
    assert month["month"] == "2026-11"
    assert month["up_seconds"] == 3 * 4 * 60 and month["expected_seconds"] == 3 * 5 * 60
    assert month["ratio"] == round(12 / 15, 6)
    assert {d["district"]: d["ratio"] for d in month["by_district"]} == {"chiyoda": 0.75, "oasa": 1.0}


def test_all_kpis_has_every_section(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        got = figures.all_kpis(s, NOW, peaks_mbps={"es-1": 400.0})
    assert set(got) == {"generated_at", "subscriptions", "tablets", "tablets_at_home", "school_bandwidth",
                        "telework", "telework_monthly", "tablets_daily", "availability", "incidents"}
    # nothing recorded: no trend (the page says what is missing), never an invented point
    assert got["tablets_daily"] == [] and got["telework_monthly"] == []
    bw = {b["school"]: b for b in got["school_bandwidth"]}
    # utilisation is shown, never the verdict: without a throughput test there is none
    assert bw["es-1"]["target_mbps"] == 382.5 and bw["es-1"]["peak_mbps"] == 400.0 and bw["es-1"]["meets"] is None
    assert bw["es-2"]["target_mbps"] == 108 and bw["es-2"]["peak_mbps"] is None and bw["es-2"]["meets"] is None
    assert got["incidents"]["open"] == 0 and got["telework"]["reduction"] is None


def test_tablets_daily_counts_each_tablet_once_a_day(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        tablets = list(s.scalars(select(Tablet).where(Tablet.status == "active").order_by(Tablet.id)))
        assert len(tablets) >= 2
        first = tablets[0]
        for at in (NOW - timedelta(days=2), NOW - timedelta(days=2, hours=1), NOW - timedelta(hours=1)):
            s.add(TabletAddress(tablet_id=first.id, source="mdm:test", ip="10.0.0.2", seen_at=at))
        for at in (NOW - timedelta(hours=2), NOW + timedelta(hours=1)):  # the future one is not counted
            s.add(TabletAddress(tablet_id=tablets[1].id, source="mdm:test", ip="10.0.0.3", seen_at=at))
    with db.session_scope(engine) as s:
        days = figures.tablets_daily(s, NOW)
    n = len(tablets)
    assert [(d["day"], d["seen"]) for d in days] == [("2026-11-24", 1), ("2026-11-25", 0), ("2026-11-26", 2)]
    assert days[-1]["share"] == round(2 / n, 4) and all(d["tablets"] == n for d in days)


def _one_olt(onus: int, households: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Huawei OLT "o" with ``onus`` ONUs on 0/1/0, the n-th for household HH-00000n."""
    doc: dict[str, Any] = {
        "olts": [{"name": "o", "district": "chiyoda", "vendor": "huawei", "model": "MA5800-X7",
                  "address": "127.0.0.1:1161", "pon_class": "B+", "auth": "public_v2",
                  "modules": ["huawei_gpon"]}],
        "pon_ports": [{"olt": "o", "port": "0/1/0"}],
        "onus": [{"serial": f"HWTC-0000000{i + 1}", "olt": "o", "pon_port": "0/1/0", "onu_id": i,
                  "household": f"HH-00000{i + 1}"} for i in range(onus)],
    }
    if households is not None:
        doc["households"] = households
    return doc


def test_a_suspended_line_is_not_an_outage(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        import_document(s, _one_olt(2, households=[
            {"code": "HH-000001", "district": "chiyoda", "plan": "home-1g", "status": "active"},
            {"code": "HH-000002", "district": "chiyoda", "plan": "home-1g", "status": "active"}]))
    with db.session_scope(engine) as s:
        h = s.scalar(select(Household).where(Household.code == "HH-000002"))
        assert h is not None
        h.change_status("suspended")
    up = MetricFamily("ftth_onu_up", "")
    up.add({"olt": "o", "pon_port": "0/1/0", "onu_id": "0", "district": "chiyoda"}, 1)
    up.add({"olt": "o", "pon_port": "0/1/0", "onu_id": "1", "district": "chiyoda"}, 0)  # deactivated on purpose
    KpiRecorder(engine, interval_seconds=60).record_poll("o", [up], now=NOW)
    with db.session_scope(engine) as s:
        (month,) = figures.availability(s)
    assert (month["up_seconds"], month["expected_seconds"], month["ratio"]) == (60, 60, 1.0)


def _olt_poll(answered: bool, ups: dict[int, float] | None = None) -> list[MetricFamily]:
    """One poll of OLT "o" as the poller reports it: its ONUs when it answered, else its silence."""
    success = MetricFamily("ftthnoc_scrape_success", "")
    success.add({"target": "o", "module": "huawei_gpon"}, 1.0 if answered else 0.0)
    unanswered = MetricFamily("ftthnoc_scrape_unanswered", "")
    unanswered.add({"target": "o", "module": "huawei_gpon"}, 0.0 if answered else 1.0)
    if not answered:
        return [success, unanswered]
    up = MetricFamily("ftth_onu_up", "")
    for onu, v in (ups or {}).items():
        up.add({"olt": "o", "pon_port": "0/1/0", "onu_id": str(onu), "district": "chiyoda"}, v)
    return [up, success, unanswered]


def test_an_unreachable_olt_counts_its_homes_as_down(engine: Engine) -> None:
    """Dark time is data: hand-counted ONU-minutes over a silence of three polls and a lone timeout."""
    with db.session_scope(engine) as s:
        import_document(s, _one_olt(4))
        h = s.scalar(select(Household).where(Household.code == "HH-000004"))
        assert h is not None
        h.change_status("cancelled")  # off on purpose: never expected, even while the OLT is dark
    rec = KpiRecorder(engine, interval_seconds=60)
    every = {0: 1.0, 1: 1.0, 2: 1.0, 3: 0.0}
    polls = [True, False, False, False, True, False, True]  # answered, 3 silent, answered, 1 timeout, answered
    for i, answered in enumerate(polls):
        rec.record_poll("o", _olt_poll(answered, every), now=NOW + timedelta(minutes=i))
    with db.session_scope(engine) as s:
        (month,) = figures.availability(s)
    # 3 homes in service. Answered polls: 3 × 60 s up of 3 × 60 s, three times (540 s up, 540 s expected).
    # The silence of 3 polls reaches the 2-poll threshold: 3 polls × 3 homes × 60 s expected, none up (540 s).
    # The lone timeout opens no outage: skipped, as an incident would not open either.
    assert (month["up_seconds"], month["expected_seconds"]) == (540, 1080)
    assert month["ratio"] == 0.5
    assert month["by_district"] == [{"district": "chiyoda", "ratio": 0.5}]
