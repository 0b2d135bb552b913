"""Fixtures: a migrated database (SQLite always, PostgreSQL with FTTHNOC_TEST_POSTGRES_URL), a clock the
tests move, and a synthetic November 2026 of VPN session counts with holidays, a half-day and outages.

The month, in JST, polled every 5 minutes day and night on two gateways (``vpn-a``, ``vpn-b``):

- working hours (08:30–17:15): vpn-a has 18 sessions before 12:00 and 12 after; vpn-b has 12 all day;
- outside them (nights, weekends, holidays), deliberately large counts (45–80) that must not count;
- 30 November is a half-day ending 12:00; its afternoon has 70 sessions that must not count either;
- 11 November: vpn-b is silent 10:00–12:00 (a partial outage of one gateway);
- 18 November: both gateways are silent 08:00–14:00 (the day is mostly outage: no figure).

The expected figures are worked out by hand in ``test_kpi.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import holidays
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ftthnoc.inventory import db
from ftthnoc.telework.calendar import TeleworkConfig
from ftthnoc.telework.kpi import SessionSample, TeleworkKpi
from ftthnoc.timezone import JST
from tests.ftthnoc.inventory.conftest import database_url, engine, make_database  # noqa: F401

STAFF = 100
GATEWAYS = ("vpn-a", "vpn-b")
HALF_DAY = date(2026, 11, 30)
PARTIAL_OUTAGE_DAY = date(2026, 11, 11)
MOSTLY_OUTAGE_DAY = date(2026, 11, 18)
POLL_SECONDS = 300
JP_HOLIDAYS = holidays.country_holidays("JP")


def jst(day: date, hh: int, mm: int = 0) -> datetime:
    """An instant given in Japan time, as aware UTC."""
    return datetime.combine(day, time(hh, mm), JST).astimezone(UTC)


def config(**overrides: Any) -> TeleworkConfig:
    base: dict[str, Any] = {"staff": STAFF, "half_days": {HALF_DAY: time(12, 0)}}
    base.update(overrides)
    return TeleworkConfig(**base)


def synthetic_sessions(gateway: str, at: datetime) -> int | None:
    """Sessions on ``gateway`` at ``at`` in the synthetic month; None when the gateway is silent."""
    t = at.astimezone(JST)
    day, hm = t.date(), t.time()
    if day == PARTIAL_OUTAGE_DAY and gateway == "vpn-b" and time(10, 0) <= hm < time(12, 0):
        return None
    if day == MOSTLY_OUTAGE_DAY and time(8, 0) <= hm < time(14, 0):
        return None
    office_hours = time(8, 30) <= hm < time(17, 15)
    if day.weekday() >= 5 or day in JP_HOLIDAYS:
        return 80 if office_hours else 45
    if not office_hours:
        return 50 if gateway == "vpn-a" else 45
    if day == HALF_DAY and hm >= time(12, 0):
        return 70
    morning = hm < time(12, 0)
    if gateway == "vpn-a":
        return 18 if morning else 12
    return 12


def synthetic_samples(start: datetime, end: datetime) -> list[SessionSample]:
    """Every 5-minute poll of both gateways in [start, end), outages left out."""
    out: list[SessionSample] = []
    at = start
    while at < end:
        for gateway in GATEWAYS:
            n = synthetic_sessions(gateway, at)
            if n is not None:
                out.append(SessionSample(at, gateway, n))
        at += timedelta(seconds=POLL_SECONDS)
    return out


@dataclass
class Clock:
    """A clock the test sets; the KPI reads it for "now"."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(jst(date(2026, 10, 31), 0))


MakeKpi = Callable[..., TeleworkKpi]


@pytest.fixture
def make_kpi(engine: Engine, clock: Clock) -> MakeKpi:  # noqa: F811 - the imported fixture
    """``make_kpi(**config)``: a new TeleworkKpi on the test database (a "restart" each call)."""
    factory: Callable[[], Session] = db.session_factory(engine)

    def make(**overrides: Any) -> TeleworkKpi:
        return TeleworkKpi(factory, config(**overrides), clock=clock)

    return make


def feed_days(kpi: TeleworkKpi, clock: Clock, first: date, last: date) -> None:
    """Feed the synthetic samples day by day (JST midnight to midnight) with the clock following along."""
    day = first
    while day <= last:
        start, end = jst(day, 0), jst(day + timedelta(days=1), 0)
        clock.now = end - timedelta(seconds=1)
        kpi.observe_many(synthetic_samples(start, end))
        day += timedelta(days=1)


@pytest.fixture
def fed_month(make_kpi: MakeKpi, clock: Clock) -> Iterator[TeleworkKpi]:
    """The whole synthetic November fed, the clock at 1 December 09:00 JST."""
    kpi = make_kpi()
    feed_days(kpi, clock, date(2026, 10, 31), date(2026, 11, 30))
    clock.now = jst(date(2026, 12, 1), 9)
    kpi.refresh()
    yield kpi
