"""The simulated town's past, so that a fresh demo's KPIs have trends (issue #14).

A real town's database fills these tables as it runs: household status changes as households subscribe,
MDM syncs of the pupils' tablets, the telework attendance imports, availability per month and incidents.
A demo starts today, so :func:`seed_history` writes what those years would have left, in the *same* tables,
and the ordinary KPI code (``ftthnoc.kpi.figures``) computes the trends from them. Only the demo wiring
(``app.cli.demo``) calls it; nothing in the core does, so a real town's database is never seeded.

- **Service start**: the FTTH network opened on ``SERVICE_START`` (1 April 2024, the start of a fiscal
  year, about two and a half years before the demo's present), or 30 months back when that is too recent.
- **Take-up**: every household active today got its ``active`` status change on a date drawn along an
  S-shaped (logistic) curve from the service start to today, so the monthly series ends at today's count.
- **Tablets**: ``TABLET_DAYS`` days of MDM syncs (``TabletAddress``, source ``mdm:demo-history``, from the
  school network, never a household line) with a share online growing toward 100 %; each tablet's
  ``last_seen_at`` is its latest sync.
- **Telework**: ``attendance`` source days (the attendance-records import's table) for every working day
  since the service start, the remote share growing toward the −30 % target.
- **Incidents and availability**: a few closed incidents (feeder cut, power outage, line fault, OLT
  unreachable) with plausible durations, and ONU-seconds up / expected per month and district since the
  service start, the incidents' ONU-seconds down subtracted.

Deterministic (``random.Random(seed)`` for a given ``now``), idempotent (each part checks what is already
there: a second run adds nothing) and quick (bulk inserts; about a second for 7,000 households).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ftthnoc.incidents.models import CAUSE_OF_KIND, SCOPE_OF_KIND, Incident, IncidentKind
from ftthnoc.incidents.reporting import verdict
from ftthnoc.inventory.models import (
    District,
    Household,
    HouseholdStatus,
    Olt,
    Onu,
    PonPort,
    School,
    Tablet,
    TabletAddress,
)
from ftthnoc.kpi.models import AvailabilityMonth, HouseholdStatusChange
from ftthnoc.targets import TELEWORK_OFFICE_REDUCTION
from ftthnoc.telework.calendar import TeleworkConfig, WorkingCalendar
from ftthnoc.telework.models import TeleworkSourceDay
from ftthnoc.timezone import JST

SERVICE_START = date(2024, 4, 1)
#: days of past tablet syncs
TABLET_DAYS = 28
TABLET_SOURCE = "mdm:demo-history"
#: the staff in the seeded attendance records (the town hall's 240 and the Board of Education's 60)
STAFF = 300
#: the past incidents: (months after the service start, kind, hours, share of the district's ONUs)
INCIDENTS: tuple[tuple[int, IncidentKind, float, float], ...] = (
    (3, "line_fault", 2.5, 0.01), (7, "feeder_cut", 5.0, 0.12), (11, "power_outage", 3.0, 0.6),
    (16, "olt_unreachable", 0.75, 0.5), (21, "feeder_cut", 7.5, 0.1), (26, "line_fault", 2.2, 0.01),
)  # fmt: skip


@dataclass(frozen=True)
class Seeded:
    """What one run added (all zero on a second run)."""

    status_changes: int
    tablet_syncs: int
    telework_days: int
    incidents: int
    availability_months: int


def service_start(now: datetime) -> date:
    """The FTTH network's opening day: ``SERVICE_START``, or 30 months back when that is under 2 years ago."""
    today = now.astimezone(JST).date()
    if (today - SERVICE_START).days >= 730:
        return SERVICE_START
    y, m = divmod(today.year * 12 + today.month - 1 - 30, 12)
    return date(y, m + 1, 1)


def _at(day: date, hour: float = 12.0) -> datetime:
    return datetime.combine(day, time(0), JST).astimezone(UTC) + timedelta(hours=hour)


def seed_history(session: Session, now: datetime, seed: int = 14) -> Seeded:
    """Write the simulated town's history up to ``now`` (see the module); the caller commits."""
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    rng = random.Random(seed)
    start = service_start(now)
    return Seeded(
        status_changes=_take_up(session, now, start, rng),
        tablet_syncs=_tablets(session, now, rng),
        telework_days=_telework(session, now, start, rng),
        incidents=_incidents(session, now, start, rng),
        availability_months=_availability(session, now, start, rng),
    )


def _take_up(session: Session, now: datetime, start: date, rng: random.Random) -> int:
    begin = _at(start, 9)
    if session.scalar(select(func.count()).where(HouseholdStatusChange.at < now - timedelta(days=60))):
        return 0  # already there
    ids = list(session.scalars(select(Household.id).where(Household.status == HouseholdStatus.ACTIVE)
                               .order_by(Household.id)))  # fmt: skip
    rng.shuffle(ids)
    span = (now - begin).total_seconds() - 86400
    steep = 9.0  # the logistic's steepness over [0, 1]
    lo, hi = 1 / (1 + math.exp(steep / 2)), 1 / (1 + math.exp(-steep / 2))
    rows = []
    for i, household in enumerate(ids):
        u = lo + (hi - lo) * (i + rng.random()) / len(ids)
        x = 0.5 - math.log(1 / u - 1) / steep  # the logistic's inverse, normalised to [0, 1]
        rows.append({"household_id": household, "status": HouseholdStatus.ACTIVE.value,
                     "at": begin + timedelta(seconds=span * min(max(x, 0.0), 1.0))})
    if rows:
        session.execute(insert(HouseholdStatusChange), rows)
    return len(rows)


def _tablets(session: Session, now: datetime, rng: random.Random) -> int:
    if session.scalar(select(func.count()).where(TabletAddress.source == TABLET_SOURCE)):
        return 0
    tablets = list(session.execute(select(Tablet.id, School.id).join(School, School.id == Tablet.school_id)
                                   .where(Tablet.status == "active").order_by(Tablet.id)))  # fmt: skip
    today = now.astimezone(JST).date()
    rows: list[dict[str, object]] = []
    latest: dict[int, datetime] = {}
    for back in range(TABLET_DAYS - 1, -1, -1):
        day = today - timedelta(days=back)
        share = 0.9 + 0.09 * (TABLET_DAYS - 1 - back) / (TABLET_DAYS - 1)  # 90 % growing to 99 %
        if day.weekday() >= 5:
            share -= 0.25  # fewer syncs at the weekend
        for tablet, school in tablets:
            if rng.random() >= share:
                continue
            at = _at(day, 8.0 + 7.0 * rng.random())
            if at > now:
                at = now - timedelta(seconds=rng.uniform(60, 3600))
            rows.append({"tablet_id": tablet, "source": TABLET_SOURCE, "seen_at": at,
                         "ip": f"10.{100 + school % 100}.{tablet // 250 % 250}.{tablet % 250 + 2}"})
            latest[tablet] = max(at, latest.get(tablet, at))
    if rows:
        session.execute(insert(TabletAddress), rows)
    for tablet, at in latest.items():
        row = session.get(Tablet, tablet)
        if row is not None and (row.last_seen_at is None or _aware(row.last_seen_at) < at):
            row.last_seen_at = at
    return len(rows)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _telework(session: Session, now: datetime, start: date, rng: random.Random) -> int:
    if session.scalar(select(func.count()).where(TeleworkSourceDay.source == "attendance")):
        return 0
    calendar = WorkingCalendar(TeleworkConfig(staff=STAFF))
    today = now.astimezone(JST).date()
    total = max(1, (today - start).days)
    rows = []
    day = start
    while day < today:  # today's working hours are not over: no figure yet
        if calendar.is_working_day(day):
            progress = (day - start).days / total
            reduction = 0.05 + 0.24 * progress + rng.uniform(-0.04, 0.04)
            leave = rng.randint(4, 14)
            staff = STAFF - leave
            teleworkers = max(0, min(staff, round(staff * reduction)))
            rows.append({"source": "attendance", "day": day, "teleworkers": teleworkers, "staff": staff,
                         "in_office": staff - teleworkers, "on_leave": leave, "attendance_baseline": 1.0,
                         "target_reduction": TELEWORK_OFFICE_REDUCTION, "final": True, "computed_at": now})
        day += timedelta(days=1)
    if rows:
        session.execute(insert(TeleworkSourceDay), rows)
    return len(rows)


def _month_start(start: date, months: int) -> date:
    y, m = divmod(start.year * 12 + start.month - 1 + months, 12)
    return date(y, m + 1, 1)


def _incidents(session: Session, now: datetime, start: date, rng: random.Random) -> int:
    if session.scalar(select(func.count()).where(Incident.started_at < _at(_month_start(start, 28)))):
        return 0
    ports = [(d, o, p, int(n)) for d, o, p, n in session.execute(
        select(District.code, Olt.name, PonPort.port, func.count(Onu.id)).join(PonPort, PonPort.id == Onu.pon_port_id)
        .join(Olt, Olt.id == PonPort.olt_id).join(District, District.id == Olt.district_id)
        .group_by(District.code, Olt.name, PonPort.port).order_by(District.code, Olt.name, PonPort.port))]  # fmt: skip
    if not ports:
        return 0
    rows = []
    for months, kind, hours, share in INCIDENTS:
        first = _month_start(start, months)
        if _at(first) >= now - timedelta(days=2):
            break
        district, olt_name, port, on_port = ports[rng.randrange(len(ports))]
        olt: str | None = olt_name
        pon_port: str | None = port
        if kind == "line_fault":  # a few homes of one port
            onus = min(on_port, rng.randint(2, 4))
        elif kind == "feeder_cut":  # most of a port's homes
            onus = max(1, round(on_port * (0.5 + share * 4)))
            onus = min(on_port, onus)
        elif kind == "olt_unreachable":  # a whole OLT
            pon_port = None
            onus = sum(n for _d, o, _p, n in ports if o == olt_name)
        else:  # a power cut: a share of the district's homes
            olt = pon_port = None
            onus = max(1, round(share * sum(n for d, _o, _p, n in ports if d == district)))
        began = _at(first + timedelta(days=rng.randrange(27)), rng.uniform(1, 20)).replace(microsecond=0)
        seconds = round(hours * 3600)
        rows.append({"kind": kind, "status": "closed", "district": district, "olt": olt, "pon_port": pon_port,
                     "started_at": began, "ended_at": began + timedelta(seconds=seconds),
                     "duration_seconds": seconds, "affected_count": onus, "onu_count": onus,
                     "cause": CAUSE_OF_KIND[kind],
                     "reportable": verdict(cause=CAUSE_OF_KIND[kind], scope=SCOPE_OF_KIND[kind],
                                           duration_seconds=seconds, users_affected=onus).reportable})
    if rows:
        session.execute(insert(Incident), rows)
    return len(rows)


def _availability(session: Session, now: datetime, start: date, rng: random.Random) -> int:
    have = {(m, d) for m, d in session.execute(select(AvailabilityMonth.month, AvailabilityMonth.district))}
    active = session.execute(select(HouseholdStatusChange.household_id, HouseholdStatusChange.at)
                             .where(HouseholdStatusChange.status == HouseholdStatus.ACTIVE.value)).all()
    district_of = dict(session.execute(select(Household.id, District.code)
                                       .join(District, District.id == Household.district_id)).all())  # fmt: skip
    first_active: dict[int, datetime] = {}
    for household, at in active:
        at = _aware(at)
        if household not in first_active or at < first_active[household]:
            first_active[household] = at
    down: dict[tuple[str, str], float] = {}
    for district, began, lasted, onus in session.execute(
            select(Incident.district, Incident.started_at, Incident.duration_seconds, Incident.onu_count)
            .where(Incident.status == "closed")):  # fmt: skip
        key = (_aware(began).astimezone(JST).strftime("%Y-%m"), district)
        down[key] = down.get(key, 0.0) + float(lasted or 0) * onus
    rows = []
    month = _month_start(start, 0)
    this_month = now.astimezone(JST).date().replace(day=1)
    while month < this_month:  # this month is the recorder's, as it polls
        after = _month_start(month, 1)
        lo, hi = _at(month, 0), _at(after, 0)
        label = month.strftime("%Y-%m")
        expected: dict[str, float] = {}
        for household, at in first_active.items():
            if at < hi:
                code = district_of.get(household)
                if code is not None:
                    expected[code] = expected.get(code, 0.0) + (hi - max(at, lo)).total_seconds()
        for code, seconds in sorted(expected.items()):
            if (label, code) in have or seconds <= 0:
                continue
            # besides the incidents: a home's ONU off now and then (power strip, a move), ~0.01 %
            lost = down.get((label, code), 0.0) + seconds * rng.uniform(0.00005, 0.00015)
            rows.append({"month": label, "district": code, "expected_seconds": seconds,
                         "up_seconds": max(0.0, seconds - lost)})
        month = after
    if rows:
        session.execute(insert(AvailabilityMonth), rows)
    return len(rows)
