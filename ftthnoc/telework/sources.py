"""Telework from pluggable sources: one interface, four sources, each saying what it is.

A *source* turns what the town has into working-day figures of the same shape (``SourceDay``) and a month
(``SourceMonth``), and names itself in every figure (the API's ``source``, the KPI page, the gauges'
``source`` label):

==============  ==========================================================================================
``attendance``  the attendance records (CSV import): per working day, each member of staff in the office,
                teleworking or on leave. The direct measure.
``lgwan_csv``   the LGWAN telework system's usage (CSV import, one row per login): distinct users per
                working day. No gateway MIB shows this system.
``vpn_users``   distinct remote-access VPN users per working day, from the polls (ASA crasSessionTable,
                FortiGate SSL-VPN tunnels: ``ftthnoc/vendors``); kept by ``TeleworkKpi``.
``vpn_sessions`` the time-weighted mean of concurrent VPN sessions / headcount (``ftthnoc.telework.kpi``):
                the fallback where no source names people; a session mean is not staff out of the office.
==============  ==========================================================================================

The figure, for the sources with people (``attendance``, ``lgwan_csv``, ``vpn_users``), exactly:

1. **Working days.** Monday to Friday, not a Japanese national holiday (the ``holidays`` library's JP
   calendar: substitute holidays and 国民の休日 included), not a closed day (年末年始 29 Dec–3 Jan by default)
   — ``WorkingCalendar`` with the telework configuration. Rows on other days are read and ignored.
2. **Teleworkers of a day** T(d): the distinct staff who worked remotely on working day d. ``attendance``:
   staff whose status is ``telework``. ``lgwan_csv``: distinct user ids with a login that overlaps the day's
   working hours (08:30–17:15 JST, a half-day's own end); a login that only touches the night or the
   weekend is not telework in working time. ``vpn_users``: distinct user names seen in a poll taken during
   the day's working hours (a name that is an IP address, a LAN-to-LAN peer, is not a user).
3. **Staff-days of a day** S(d): the staff who could have come to the office. ``attendance``: staff with
   status ``in_office`` or ``telework`` (leave is not a day that could have been in the office).
   ``lgwan_csv`` and ``vpn_users``: the headcount (``staff``).
4. **Remote share** of a day = min(1, T(d) / S(d)); of a month = Σ T(d) / Σ S(d) over its working days with
   a figure (the share of staff-days teleworking, so a day with more staff weighs more), capped at 1.
5. **Office attendance reduction** against the baseline: without telework ``attendance_baseline`` (1.0:
   everyone available) of the staff-days would be spent in the office; each telework day is one office day
   fewer, so reduction = min(1, remote share / attendance_baseline). **Attainment** = reduction /
   ``target_reduction`` (0.30): 1.0 means the plan's −30 % is met.
6. **Days with a figure.** ``attendance``: working days with at least one record. ``lgwan_csv``: every
   working day from the file's first to its last date (a day without logins is 0 teleworkers: the system was
   there and nobody used it). ``vpn_users``: working days with at least one poll of the users in working
   hours; the month counts only days whose working hours are over (``final``), as ``vpn_sessions`` does.

**Which source a month uses** (``month_figure``): the first of ``PREFERENCE`` with a figure for that month —
attendance, then the LGWAN log, then VPN users, then VPN sessions — unless one is asked for by name.

Imports are all-or-nothing (``ImportRejected`` names every bad row by its line number) and replace the
figures of the days they cover, for their source only. Personal data: user and staff ids are read only to be
counted; no id reaches the database, a log or a label. VPN users are stored as keyed hashes (``user_key``).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ftthnoc.telework.calendar import TeleworkConfig, WorkingCalendar
from ftthnoc.telework.models import TeleworkSourceDay
from ftthnoc.timezone import JST

SourceName = Literal["attendance", "lgwan_csv", "vpn_users", "vpn_sessions"]
#: The order in which a month's source is chosen: the most direct measure of staff out of the office first.
PREFERENCE: tuple[SourceName, ...] = ("attendance", "lgwan_csv", "vpn_users", "vpn_sessions")
#: The sources stored as ``TeleworkSourceDay`` rows (they count people).
PEOPLE_SOURCES: tuple[SourceName, ...] = ("attendance", "lgwan_csv", "vpn_users")
#: What each source is, in one line (the report, the API, the KPI page).
TITLES: Mapping[SourceName, str] = {
    "attendance": "attendance records: staff-days teleworking / staff-days not on leave",
    "lgwan_csv": "LGWAN telework system logins: distinct users per working day / headcount",
    "vpn_users": "VPN remote-access users: distinct users per working day / headcount",
    "vpn_sessions": "VPN sessions: time-weighted mean of concurrent sessions / headcount (not people)",
}
ATTENDANCE_STATUSES: tuple[str, ...] = ("in_office", "telework", "leave")
NEVER = datetime.min.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------- figures
@dataclass(frozen=True, slots=True)
class SourceDay:
    """One working day from one source (definition 2–5). ``teleworkers`` is None for ``vpn_sessions``
    (a mean of sessions, ``mean_sessions``, stands in for people there)."""

    source: SourceName
    day: date
    teleworkers: int | None
    staff: int
    remote_share: float | None
    office_reduction: float | None
    attendance_baseline: float
    target_reduction: float
    final: bool
    in_office: int | None = None
    on_leave: int | None = None
    mean_sessions: float | None = None

    @property
    def target_attainment(self) -> float | None:
        return None if self.office_reduction is None else self.office_reduction / self.target_reduction


@dataclass(frozen=True, slots=True)
class SourceMonth:
    """A month of one source: its final working days with a figure, staff-day weighted (definition 4)."""

    source: SourceName
    year: int
    month: int
    days: tuple[SourceDay, ...]
    target_reduction: float
    attendance_baseline: float = 1.0
    #: vpn_sessions only: the month as ``ftthnoc.telework.kpi`` defines it (mean of day shares)
    session_share: float | None = None
    #: when it was read from the database (``TeleworkKpi`` reads it again after a while)
    read_at: datetime = NEVER

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def counted(self) -> tuple[SourceDay, ...]:
        return tuple(d for d in self.days if d.final and d.remote_share is not None)

    @property
    def days_with_figure(self) -> int:
        return len(self.counted)

    @property
    def teleworkers(self) -> int | None:
        if self.source == "vpn_sessions":
            return None
        return sum(d.teleworkers or 0 for d in self.counted)

    @property
    def staff_days(self) -> int:
        return sum(d.staff for d in self.counted)

    @property
    def remote_share(self) -> float | None:
        if self.source == "vpn_sessions":
            return self.session_share
        counted = self.counted
        staff = sum(d.staff for d in counted)
        if not counted or staff == 0:
            return None
        return min(1.0, sum(d.teleworkers or 0 for d in counted) / staff)

    @property
    def office_reduction(self) -> float | None:
        share = self.remote_share
        return None if share is None else min(1.0, share / self.attendance_baseline)

    @property
    def target_attainment(self) -> float | None:
        reduction = self.office_reduction
        return None if reduction is None else reduction / self.target_reduction


def people_day(
    source: SourceName,
    day: date,
    teleworkers: int,
    staff: int,
    *,
    attendance_baseline: float,
    target_reduction: float,
    final: bool,
    in_office: int | None = None,
    on_leave: int | None = None,
) -> SourceDay:
    """A day's figure from its counts (definition 4–5); no figure when nobody could have been in the office."""
    share = min(1.0, teleworkers / staff) if staff > 0 else None
    reduction = None if share is None else min(1.0, share / attendance_baseline)
    return SourceDay(
        source,
        day,
        teleworkers,
        staff,
        share,
        reduction,
        attendance_baseline,
        target_reduction,
        final,
        in_office,
        on_leave,
    )


# ---------------------------------------------------------------------------------------------- the interface
class TeleworkSource(Protocol):
    """A source of telework figures: it says what it is and reads a month from the database."""

    @property
    def name(self) -> SourceName: ...

    @property
    def title(self) -> str: ...

    def month(self, session: Session, year: int, month: int, default_target: float) -> SourceMonth: ...


@dataclass(frozen=True, slots=True)
class StoredPeopleSource:
    """``attendance``, ``lgwan_csv`` or ``vpn_users``: the day rows the imports and the poller keep."""

    name: SourceName

    @property
    def title(self) -> str:
        return TITLES[self.name]

    def month(self, session: Session, year: int, month: int, default_target: float) -> SourceMonth:
        first, after = _month_bounds(year, month)
        rows = session.scalars(
            select(TeleworkSourceDay)
            .where(TeleworkSourceDay.source == self.name, TeleworkSourceDay.day >= first, TeleworkSourceDay.day < after)
            .order_by(TeleworkSourceDay.day)
        ).all()
        days = tuple(_from_row(r) for r in rows)
        target = days[-1].target_reduction if days else default_target
        baseline = days[-1].attendance_baseline if days else 1.0
        return SourceMonth(self.name, year, month, days, target, baseline)


@dataclass(frozen=True, slots=True)
class VpnSessionsSource:
    """``vpn_sessions``: the session-mean KPI of ``ftthnoc.telework.kpi``, as a source."""

    name: SourceName = "vpn_sessions"

    @property
    def title(self) -> str:
        return TITLES[self.name]

    def month(self, session: Session, year: int, month: int, default_target: float) -> SourceMonth:
        from ftthnoc.telework.kpi import load_month  # kpi imports this module

        fig = load_month(session, year, month, default_target)
        days = tuple(
            SourceDay(
                "vpn_sessions",
                d.day,
                None,
                d.staff,
                d.remote_share,
                d.office_reduction,
                d.attendance_baseline,
                d.target_reduction,
                d.final,
                mean_sessions=d.mean_sessions,
            )
            for d in fig.days
        )
        baseline = days[-1].attendance_baseline if days else 1.0
        return SourceMonth("vpn_sessions", year, month, days, fig.target_reduction, baseline, fig.remote_share)


SOURCES: Mapping[SourceName, TeleworkSource] = {
    "attendance": StoredPeopleSource("attendance"),
    "lgwan_csv": StoredPeopleSource("lgwan_csv"),
    "vpn_users": StoredPeopleSource("vpn_users"),
    "vpn_sessions": VpnSessionsSource(),
}


def month_figure(
    session: Session, year: int, month: int, default_target: float, source: SourceName | None = None
) -> SourceMonth:
    """The month from ``source``, or from the first source of ``PREFERENCE`` with a figure that month
    (``vpn_sessions``, possibly empty, when none has one)."""
    if source is not None:
        return SOURCES[source].month(session, year, month, default_target)
    for name in PREFERENCE:
        fig = SOURCES[name].month(session, year, month, default_target)
        if fig.days_with_figure:
            return fig
    return fig  # vpn_sessions, the last: what there is of it


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    return first, (first + timedelta(days=32)).replace(day=1)


def _from_row(row: TeleworkSourceDay) -> SourceDay:
    source: SourceName = row.source  # type: ignore[assignment]  # one of PEOPLE_SOURCES by construction
    return people_day(
        source,
        row.day,
        row.teleworkers,
        row.staff,
        attendance_baseline=row.attendance_baseline,
        target_reduction=row.target_reduction,
        final=row.final,
        in_office=row.in_office,
        on_leave=row.on_leave,
    )


def write_days(session: Session, days: Iterable[SourceDay], now: datetime) -> None:
    """Insert or replace day rows (by source and day); the caller commits."""
    for fig in days:
        row = session.scalars(
            select(TeleworkSourceDay).where(TeleworkSourceDay.source == fig.source, TeleworkSourceDay.day == fig.day)
        ).one_or_none()
        if row is None:
            row = TeleworkSourceDay(source=fig.source, day=fig.day)
            session.add(row)
        row.teleworkers = fig.teleworkers or 0
        row.staff = fig.staff
        row.in_office = fig.in_office
        row.on_leave = fig.on_leave
        row.attendance_baseline = fig.attendance_baseline
        row.target_reduction = fig.target_reduction
        row.final = fig.final
        row.computed_at = now


# ---------------------------------------------------------------------------------------------- user keys
def user_key(key: bytes, day: date, user: str) -> str:
    """The stored stand-in for a user on a day: HMAC-SHA-256(key, "YYYY-MM-DD|name"), hex. The name is
    case-folded and stripped first; the day in the message makes one person's keys differ between days."""
    message = f"{day.isoformat()}|{user.strip().casefold()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------------------------- imports
class ImportRejected(ValueError):
    """A file that cannot be imported; ``problems`` holds one line per bad row (``line N: ...``)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(f"{len(problems)} bad row(s); nothing imported")
        self.problems = list(problems)


#: The LGWAN telework usage CSV (UTF-8, BOM allowed, a header row, columns in any order, extra columns ignored):
LGWAN_COLUMNS: tuple[str, ...] = ("date", "user_id", "start", "end")
#: The attendance CSV (UTF-8, BOM allowed, a header row; one row per member of staff and day):
ATTENDANCE_COLUMNS: tuple[str, ...] = ("date", "staff_id", "status")


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import wrote: the days (working days only) and the rows it read, used and ignored."""

    source: SourceName
    days: tuple[SourceDay, ...]
    rows: int
    ignored_rows: int  # rows on days off, or logins outside working hours

    @property
    def first(self) -> date | None:
        return self.days[0].day if self.days else None

    @property
    def last(self) -> date | None:
        return self.days[-1].day if self.days else None


def _reader(text: str, columns: Sequence[str]) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Rows with their line numbers (the header is line 1), or the header's problem."""
    stream = io.StringIO(text.removeprefix("\ufeff"), newline="")
    reader = csv.DictReader(stream)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in columns if c not in header]
    if missing:
        return [], [f"line 1: the header lacks column(s) {', '.join(missing)} (expected {', '.join(columns)})"]
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    for record in reader:
        line = reader.line_num
        if not any((v or "").strip() for k, v in record.items() if k is not None):
            continue  # a blank line
        rows.append((line, {k: (v or "").strip() for k, v in record.items() if k is not None}))
    return rows, []


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"date {value!r} is not YYYY-MM-DD") from None


def _time(value: str, name: str) -> time:
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not HH:MM (JST)") from None
    if parsed.tzinfo is not None:
        raise ValueError(f"{name} {value!r}: give JST wall time without an offset")
    return parsed


def _login_span(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """A login's [start, end) as aware instants; an end at or before the start is past midnight."""
    begin = datetime.combine(day, start, JST)
    finish = datetime.combine(day, end, JST)
    if finish <= begin:
        finish += timedelta(days=1)
    return begin.astimezone(UTC), finish.astimezone(UTC)


def parse_lgwan(text: str, config: TeleworkConfig, *, final_before: date | None = None) -> ImportSummary:
    """The LGWAN usage CSV as day figures (definition 2–6); ``ImportRejected`` when any row is bad.

    Format: ``date,user_id,start,end`` — ``date`` the login's date (YYYY-MM-DD, JST), ``user_id`` the system's
    pseudonymous user id (any non-empty text; read only to be counted), ``start`` and ``end`` the login's JST
    wall times (HH:MM or HH:MM:SS; an ``end`` at or before ``start`` ends the next day). Only its working day's
    working hours are looked at: a login counts for its own date when [start, end) overlaps them.
    ``final_before``: days from this one on are not final (today's file); None: every day is final.
    """
    rows, problems = _reader(text, LGWAN_COLUMNS)
    calendar = WorkingCalendar(config)
    users: dict[date, set[str]] = {}
    dates: list[date] = []
    ignored = 0
    for line, row in rows:
        try:
            day = _date(row["date"])
            if not row["user_id"]:
                raise ValueError("user_id is empty")
            start, end = _time(row["start"], "start"), _time(row["end"], "end")
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        dates.append(day)
        window = calendar.window(day)
        begin, finish = _login_span(day, start, end)
        if window is None or finish <= window.start or begin >= window.end:
            ignored += 1
            continue
        users.setdefault(day, set()).add(row["user_id"].casefold())
    if problems:
        raise ImportRejected(problems)
    days: list[SourceDay] = []
    if dates:
        day = min(dates)
        while day <= max(dates):
            if calendar.is_working_day(day):
                final = final_before is None or day < final_before
                days.append(
                    people_day(
                        "lgwan_csv",
                        day,
                        len(users.get(day, ())),
                        config.staff,
                        attendance_baseline=config.attendance_baseline,
                        target_reduction=config.target_reduction,
                        final=final,
                    )
                )
            day += timedelta(days=1)
    return ImportSummary("lgwan_csv", tuple(days), len(rows), ignored)


def parse_attendance(text: str, config: TeleworkConfig, *, final_before: date | None = None) -> ImportSummary:
    """The attendance CSV as day figures (definition 2–6); ``ImportRejected`` when any row is bad.

    Format: ``date,staff_id,status`` — ``date`` YYYY-MM-DD (JST), ``staff_id`` a pseudonymous staff number
    (read only to be counted), ``status`` one of ``in_office``, ``telework``, ``leave``. One row per member of
    staff and day: the same staff id twice on one day is a bad row (which of the two would be true?).
    Rows on days that are not working days are ignored (counted in ``ignored_rows``).
    """
    rows, problems = _reader(text, ATTENDANCE_COLUMNS)
    calendar = WorkingCalendar(config)
    seen: dict[tuple[date, str], int] = {}
    counts: dict[date, dict[str, int]] = {}
    ignored = 0
    for line, row in rows:
        try:
            day = _date(row["date"])
            staff_id = row["staff_id"]
            if not staff_id:
                raise ValueError("staff_id is empty")
            status = row["status"].casefold()
            if status not in ATTENDANCE_STATUSES:
                raise ValueError(f"status {row['status']!r} is not one of {', '.join(ATTENDANCE_STATUSES)}")
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        first = seen.setdefault((day, staff_id.casefold()), line)
        if first != line:
            problems.append(f"line {line}: the same staff_id on {day} as line {first}")
            continue
        if not calendar.is_working_day(day):
            ignored += 1
            continue
        per_day = counts.setdefault(day, dict.fromkeys(ATTENDANCE_STATUSES, 0))
        per_day[status] += 1
    if problems:
        raise ImportRejected(problems)
    days = tuple(
        people_day(
            "attendance",
            day,
            c["telework"],
            c["in_office"] + c["telework"],
            attendance_baseline=config.attendance_baseline,
            target_reduction=config.target_reduction,
            final=final_before is None or day < final_before,
            in_office=c["in_office"],
            on_leave=c["leave"],
        )
        for day, c in sorted(counts.items())
    )
    return ImportSummary("attendance", days, len(rows), ignored)


def store_import(session: Session, summary: ImportSummary, now: datetime) -> None:
    """Replace the source's figures of the days the import covers, in the caller's transaction."""
    if summary.days:
        session.execute(
            delete(TeleworkSourceDay).where(
                TeleworkSourceDay.source == summary.source,
                TeleworkSourceDay.day >= summary.days[0].day,
                TeleworkSourceDay.day <= summary.days[-1].day,
            )
        )
        session.flush()
    write_days(session, summary.days, now)


def ratio(value: float | None) -> float | None:
    """A ratio rounded for the API (4 places), None kept."""
    return None if value is None or not math.isfinite(value) else round(value, 4)
