"""The KPI over the synthetic November 2026 (see conftest): working hours only, outages as gaps, figures
that match a hand count, persistence across restarts. SQLite always; PostgreSQL with
FTTHNOC_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ftthnoc.inventory import db
from ftthnoc.samples import MetricFamily
from ftthnoc.telework.calendar import WorkingCalendar, month_days
from ftthnoc.telework.families import FAMILY_NAMES
from ftthnoc.telework.kpi import SessionSample, TeleworkKpi, integrate
from ftthnoc.telework.models import TeleworkDay, TeleworkSample

from .conftest import (
    GATEWAYS,
    HALF_DAY,
    JP_HOLIDAYS,
    MOSTLY_OUTAGE_DAY,
    PARTIAL_OUTAGE_DAY,
    STAFF,
    Clock,
    MakeKpi,
    config,
    feed_days,
    jst,
    synthetic_samples,
)

# ---- the hand count (seconds of working time; sessions summed over vpn-a and vpn-b) -------------------
MORNING = 12_600  # 08:30–12:00
AFTERNOON = 18_900  # 12:00–17:15
# An ordinary day: (18+12)·12600 + (12+12)·18900 = 378000 + 453600 = 831600 over 31500 s = 26.4 sessions.
ORDINARY = (30 * MORNING + 24 * AFTERNOON) / (MORNING + AFTERNOON) / STAFF
# 30 Nov, a half-day to 12:00: 30 sessions all morning; the afternoon's 70 are after hours.
HALF = 30 / STAFF
# 11 Nov: vpn-b's last sample before its outage is at 09:55 and holds 900 s, to 10:10; it is back at
# 12:00. Covered: 08:30–10:10 (6000 s at 30) and 12:00–17:15 (18900 s at 24); 10:10–12:00 is left out.
PARTIAL_COVERED = 6_000 + AFTERNOON
PARTIAL = (30 * 6_000 + 24 * AFTERNOON) / PARTIAL_COVERED / STAFF  # 633600 / 24900 = 25.446 sessions
# Counting the outage as zero sessions on vpn-b would have given this instead:
PARTIAL_IF_ZERO = (30 * 6_000 + 18 * 6_600 + 24 * AFTERNOON) / 31_500 / STAFF
# 18 Nov: both silent 08:00–14:00 (the 07:55 sample expires at 08:10, before the hours); covered
# 14:00–17:15 = 11700 s of 31500 (37 %): below half, no figure.
MOSTLY_COVERED = 11_700
# The month: 19 working days, 18 with a figure (16 ordinary, the half-day, 11 Nov).
MONTH = (16 * ORDINARY + HALF + PARTIAL) / 18


def stored_days(engine: Engine) -> dict[date, TeleworkDay]:
    with db.session(engine) as session:
        return {r.day: r for r in session.scalars(select(TeleworkDay))}


def value(families: list[MetricFamily], name: str, **labels: str) -> float | None:
    fam = next(f for f in families if f.name == name)
    found = [s.value for s in fam.samples if all(s.labels.get(k) == v for k, v in labels.items())]
    return found[0] if found else None


def test_hand_count_is_what_the_integral_says() -> None:
    assert math.isclose(ORDINARY, 0.264)
    assert math.isclose(PARTIAL * STAFF, 633_600 / 24_900)
    assert not math.isclose(PARTIAL, PARTIAL_IF_ZERO, abs_tol=0.01)
    # 11 Nov through the integral itself, on the covered intervals only, both gateways as polled:
    covered = integrate(0, 6_000, {"a": [(0, 18)], "b": [(0, 12)]}, gap=10**6).session_seconds
    covered += integrate(0, AFTERNOON, {"a": [(0, 12)], "b": [(0, 12)]}, gap=10**6).session_seconds
    assert covered / PARTIAL_COVERED / STAFF == pytest.approx(PARTIAL)


def test_month_figures_match_the_hand_count(fed_month: TeleworkKpi, engine: Engine) -> None:
    days = stored_days(engine)
    cal = WorkingCalendar(config())
    working = [d for d in month_days(2026, 11) if d.weekday() < 5 and d not in JP_HOLIDAYS]
    assert [d for d in sorted(days) if d.month == 11] == working == cal.working_days(2026, 11)
    # Weekends and the library's holidays (with their 80 sessions at office hours) have no figure at all.
    assert date(2026, 11, 3) not in days and date(2026, 11, 23) not in days and date(2026, 11, 7) not in days
    for day in working:
        row = days[day]
        assert row.final and row.staff == STAFF and row.target_reduction == 0.30
        if day in (HALF_DAY, PARTIAL_OUTAGE_DAY, MOSTLY_OUTAGE_DAY):
            continue
        assert (row.working_seconds, row.covered_seconds) == (31_500, 31_500), day
        assert row.remote_share == pytest.approx(ORDINARY), day  # the nights' 45–50 sessions did not count
        assert row.office_reduction == pytest.approx(ORDINARY)
    half = days[HALF_DAY]
    assert (half.working_seconds, half.covered_seconds) == (MORNING, MORNING)
    assert half.remote_share == pytest.approx(HALF)  # the afternoon's 70 sessions did not count


def test_an_outage_leaves_a_gap_not_a_zero(fed_month: TeleworkKpi, engine: Engine) -> None:
    days = stored_days(engine)
    partial = days[PARTIAL_OUTAGE_DAY]
    assert (partial.working_seconds, partial.covered_seconds) == (31_500, PARTIAL_COVERED)
    assert partial.remote_share == pytest.approx(PARTIAL)
    assert partial.remote_share != pytest.approx(PARTIAL_IF_ZERO)
    mostly = days[MOSTLY_OUTAGE_DAY]
    assert (mostly.working_seconds, mostly.covered_seconds) == (31_500, MOSTLY_COVERED)
    assert mostly.mean_sessions == pytest.approx(24.0)  # what the covered afternoon saw, kept for the record
    assert mostly.remote_share is None and mostly.office_reduction is None


def test_month_mean_days_and_attainment(fed_month: TeleworkKpi) -> None:
    month = fed_month.month(2026, 11)
    assert len(month.days) == 19 and month.days_with_figure == 18
    assert month.remote_share == pytest.approx(MONTH)
    assert month.office_reduction == pytest.approx(MONTH)
    assert month.target_reduction == 0.30
    assert month.target_attainment == pytest.approx(MONTH / 0.30)
    day = fed_month.day(PARTIAL_OUTAGE_DAY)
    assert day is not None and day.coverage == pytest.approx(PARTIAL_COVERED / 31_500)


def test_gauges_today_so_far_and_this_month(make_kpi: MakeKpi, clock: Clock, engine: Engine) -> None:
    kpi = make_kpi()
    feed_days(kpi, clock, date(2026, 10, 31), date(2026, 11, 25))
    thursday = date(2026, 11, 26)
    clock.now = jst(thursday, 12)
    kpi.observe_many(synthetic_samples(jst(thursday, 0), jst(thursday, 12)))
    fams = kpi.families()
    assert [f.name for f in fams] == list(FAMILY_NAMES)
    assert all(f.type == "gauge" for f in fams)
    # The period and the source of the figure (only VPN sessions in this month): never a user or a gateway.
    assert {k for f in fams for s in f.samples for k in s.labels} <= {"period", "source"}
    assert {s.labels.get("source") for f in fams for s in f.samples if "source" in s.labels} == {"vpn_sessions"}
    # Today so far: 08:30–12:00 at 30 sessions.
    assert value(fams, "ftthnoc_telework_remote_share_ratio", period="day") == pytest.approx(0.30)
    assert value(fams, "ftthnoc_telework_coverage_ratio", period="day") == 1.0
    # This month: the finished days 2–25 November, 15 with a figure (18 Nov has none).
    expected = (14 * ORDINARY + PARTIAL) / 15
    assert value(fams, "ftthnoc_telework_remote_share_ratio", period="month") == pytest.approx(expected)
    assert value(fams, "ftthnoc_telework_office_reduction_ratio", period="month") == pytest.approx(expected)
    assert value(fams, "ftthnoc_telework_target_attainment_ratio", period="month") == pytest.approx(expected / 0.3)
    assert value(fams, "ftthnoc_telework_target_attainment_ratio", period="day") == pytest.approx(1.0)
    assert value(fams, "ftthnoc_telework_figures_counted", period="month") == 15
    assert value(fams, "ftthnoc_telework_target_ratio") == 0.30
    assert value(fams, "ftthnoc_telework_staff") == STAFF
    # Today's row is stored as provisional, the month's mean leaves it out.
    row = stored_days(engine)[thursday]
    assert not row.final and row.working_seconds == MORNING and row.remote_share == pytest.approx(0.30)
    # A holiday has no day figure: absent, not 0.
    clock.now = jst(date(2026, 11, 23), 11)
    kpi.refresh()
    fams = kpi.families()
    assert value(fams, "ftthnoc_telework_remote_share_ratio", period="day") is None
    assert value(fams, "ftthnoc_telework_coverage_ratio", period="day") is None


def test_today_during_an_outage_reports_coverage_and_keeps_the_covered_figure(make_kpi: MakeKpi, clock: Clock) -> None:
    kpi = make_kpi()
    day = PARTIAL_OUTAGE_DAY
    kpi.observe_many(synthetic_samples(jst(day, 0), jst(day, 11)))
    clock.now = jst(day, 11)
    fams = kpi.families()
    # 08:30–11:00 is 9000 s; vpn-b is silent from 10:10: covered 6000 s, all at 30 sessions.
    assert value(fams, "ftthnoc_telework_coverage_ratio", period="day") == pytest.approx(6_000 / 9_000)
    assert value(fams, "ftthnoc_telework_remote_share_ratio", period="day") == pytest.approx(0.30)
    clock.now = jst(day, 15)  # still silent: 6000 of 23400 s, below half
    fams = kpi.families()
    assert value(fams, "ftthnoc_telework_remote_share_ratio", period="day") is None
    assert value(fams, "ftthnoc_telework_coverage_ratio", period="day") == pytest.approx(6_000 / 23_400)


def test_restart_keeps_samples_and_days(engine: Engine, database_url: str, clock: Clock) -> None:
    first_engine = db.make_engine(database_url)
    kpi = TeleworkKpi(db.session_factory(first_engine), config(), clock=clock)
    feed_days(kpi, clock, date(2026, 10, 31), date(2026, 11, 15))
    before = {d: (r.remote_share, r.covered_seconds) for d, r in stored_days(engine).items()}
    first_engine.dispose()
    del kpi

    second_engine = db.make_engine(database_url)  # a new engine object on the same database
    try:
        clock.now = jst(date(2026, 11, 16), 0, 30)
        kpi = TeleworkKpi(db.session_factory(second_engine), config(), clock=clock)
        after = {d: (r.remote_share, r.covered_seconds) for d, r in stored_days(second_engine).items()}
        assert after.keys() == before.keys()
        for d, (share, covered) in before.items():
            assert after[d][1] == covered and after[d][0] == pytest.approx(share)
        assert kpi.month(2026, 11).days_with_figure == 9
        with db.session(second_engine) as session:
            n = session.scalar(select(func.count()).select_from(TeleworkSample))
        assert n == len(synthetic_samples(jst(date(2026, 10, 31), 0), jst(date(2026, 11, 16), 0)))
        feed_days(kpi, clock, date(2026, 11, 16), date(2026, 11, 30))
        clock.now = jst(date(2026, 12, 1), 9)
        kpi.refresh()
        month = kpi.month(2026, 11)
        assert month.days_with_figure == 18 and month.remote_share == pytest.approx(MONTH)
    finally:
        second_engine.dispose()


def test_a_day_is_recomputed_when_its_samples_change(fed_month: TeleworkKpi, engine: Engine, clock: Clock) -> None:
    old = stored_days(engine)[MOSTLY_OUTAGE_DAY]
    assert old.remote_share is None
    clock.now = jst(date(2026, 12, 1), 10)
    # The gateways' own logs turn up the missing 08:00–14:00 counts: 18+12 before noon, 12+12 after.
    late: list[SessionSample] = []
    at = jst(MOSTLY_OUTAGE_DAY, 8)
    while at < jst(MOSTLY_OUTAGE_DAY, 14):
        morning = at < jst(MOSTLY_OUTAGE_DAY, 12)
        late += [SessionSample(at, "vpn-a", 18 if morning else 12), SessionSample(at, "vpn-b", 12)]
        at += timedelta(minutes=5)
    changed = fed_month.observe_many(late)
    assert [f.day for f in changed] == [MOSTLY_OUTAGE_DAY]
    new = stored_days(engine)[MOSTLY_OUTAGE_DAY]
    assert new.covered_seconds == 31_500 and new.remote_share == pytest.approx(ORDINARY)
    assert new.computed_at > old.computed_at
    month = fed_month.month(2026, 11)
    assert month.days_with_figure == 19
    assert month.remote_share == pytest.approx((17 * ORDINARY + HALF + PARTIAL) / 19)


def test_observe_poll_reads_the_gateway_module(make_kpi: MakeKpi, clock: Clock, engine: Engine) -> None:
    kpi = make_kpi(gateways=["vpn-a", "vpn-b"])
    day = date(2026, 11, 26)
    at = jst(day, 0)
    while at < jst(day, 18):
        clock.now = at
        for gateway in GATEWAYS:
            n = 20 if gateway == "vpn-a" else 10
            fam = MetricFamily("ftth_vpn_sessions", "Active remote-access sessions.")
            fam.add({"gateway": gateway}, n)
            scrape = MetricFamily("ftthnoc_scrape_success", "up")
            scrape.add({"target": gateway, "module": "vpn"}, 1)
            kpi.observe_sessions(gateway, [scrape, fam], at)
        # a third, uncounted gateway's sessions are stored but not summed
        other = MetricFamily("ftth_vpn_sessions", "sessions")
        other.add({"gateway": "vpn-lab"}, 99)
        kpi.observe_sessions("vpn-lab", [other], at)
        # a failed poll (no sessions family) adds nothing
        kpi.observe_sessions("vpn-a", [], at)
        at += timedelta(minutes=5)
    clock.now = jst(day, 18)
    kpi.refresh()
    row = stored_days(engine)[day]
    assert row.final and row.covered_seconds == 31_500 and row.remote_share == pytest.approx(0.30)


def test_no_personal_data_is_stored(make_kpi: MakeKpi, clock: Clock, engine: Engine) -> None:
    kpi = make_kpi()
    fam = MetricFamily("ftth_vpn_sessions", "sessions")
    fam.add({"gateway": "vpn-a", "user": "yamada.taro", "address": "198.51.100.7"}, 1)
    clock.now = jst(date(2026, 11, 26), 9)
    kpi.observe_sessions("vpn-a", [fam])
    with engine.connect() as conn:
        dump = [
            tuple(r) for t in ("telework_samples", "telework_days") for r in conn.execute(text(f"SELECT * FROM {t}"))
        ]
    assert dump and "yamada" not in repr(dump) and "198.51.100.7" not in repr(dump)
    assert "yamada" not in repr([s.labels for f in kpi.families() for s in f.samples])


def test_a_changed_configuration_applies_to_this_month_at_start(
    fed_month: TeleworkKpi, make_kpi: MakeKpi, clock: Clock, engine: Engine
) -> None:
    clock.now = jst(date(2026, 11, 30), 20)  # still November: the month is recomputed at start
    make_kpi(staff=120, half_days={})
    days = stored_days(engine)
    assert days[date(2026, 11, 2)].staff == 120
    assert days[date(2026, 11, 2)].remote_share == pytest.approx(ORDINARY * STAFF / 120)
    # 30 Nov is no longer a half-day: its afternoon (70 sessions on each gateway) is working time now.
    assert days[HALF_DAY].working_seconds == 31_500


def test_database_failures_are_retried(make_kpi: MakeKpi, clock: Clock, engine: Engine) -> None:
    kpi = make_kpi()
    real: Callable[[], Session] = kpi._sessions
    broken = {"on": True}

    def flaky() -> Session:
        if broken["on"]:
            raise OperationalError("connect", {}, Exception("database is down"))
        return real()

    kpi._sessions = flaky
    day = date(2026, 11, 26)
    clock.now = jst(day, 10)
    assert kpi.observe_many(synthetic_samples(jst(day, 0), jst(day, 10))) == []
    assert kpi.today() is not None and kpi.today().remote_share == pytest.approx(0.30)  # type: ignore[union-attr]
    broken["on"] = False
    clock.now = jst(day, 10, 5)
    kpi.observe_many(synthetic_samples(jst(day, 10), jst(day, 10, 5)))
    with db.session(engine) as session:
        n = session.scalar(select(func.count()).select_from(TeleworkSample))
    assert n == len(synthetic_samples(jst(day, 0), jst(day, 10, 5)))
    assert stored_days(engine)[day].covered_seconds == 95 * 60


def test_old_samples_are_pruned(make_kpi: MakeKpi, clock: Clock, engine: Engine) -> None:
    kpi = make_kpi(sample_retention_days=62)
    kpi.observe_many(synthetic_samples(jst(date(2026, 11, 2), 9), jst(date(2026, 11, 2), 10)))
    clock.now = jst(date(2027, 1, 10), 9)
    kpi.refresh()
    with db.session(engine) as session:
        assert session.scalar(select(func.count()).select_from(TeleworkSample)) == 0
        assert session.scalar(select(func.count()).select_from(TeleworkDay)) >= 1  # figures stay
