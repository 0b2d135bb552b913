"""The telework KPI: the share of staff working remotely, from VPN session counts, per working day.

Definition (all times JST; ``TeleworkConfig`` holds every number named here):

1. **Samples.** Each poll of a VPN gateway gives one sample: the active remote-access sessions
   (``ftth_vpn_sessions``, summed over the gateway's series) at the poll's time, to the second. A sample
   stands for the count from its time until the next sample of the same gateway, but for at most
   ``sample_gap_seconds`` (900 s): past that, the gateway is in an *outage* and its time is not covered.
2. **Counted gateways.** The gateways listed in ``gateways``; if none are listed, every gateway with a
   sample that reaches into the day's working hours. Sessions are summed over them.
3. **Covered time.** The working hours of the day (``calendar``: 08:30–17:15, a half-day's own end;
   weekends, public holidays and closed days have none) during which *every* counted gateway is
   covered, up to now. Time not covered is **left out, never counted as zero**: an outage of any gateway
   leaves a gap, because a sum that missed a gateway would understate telework.
4. **Day figure.** ``mean_sessions`` = ∫ sessions dt over the covered time / covered seconds (the
   time-weighted mean). ``remote_share`` = min(1, mean_sessions / staff). A day whose covered time is
   below ``min_coverage`` (50 %) of its working time (so far, for today) has **no figure**.
5. **Office attendance reduction.** Without telework, ``attendance_baseline`` (1.0 = all staff) of the
   staff would be in the office on a working day; each remote worker is one person fewer there, so the
   reduction is min(1, remote_share / attendance_baseline). With the default baseline it equals the
   remote share.
6. **Month.** The mean of the day figures over the month's *final* working days (working hours over)
   that have one, with the number of days counted. Today's partial figure is left out: sessions build
   up through the morning, and a half-measured day would pull the month down.
7. **Target attainment.** reduction / ``target_reduction`` (0.30): 1.0 means the plan's 30 % is met.

Assumptions, stated because the counts cannot show them: one session is one member of staff (a second
device of the same person counts twice, so the share is capped at 1); every session is staff working
from outside the office. No user name is ever read: only the session count and the gateway's name.

Samples and day figures live in the inventory database (``models``). A day is recomputed whenever a
sample reaching into its working hours arrives (late ones too), when its working hours end (then it is
``final``), and at start-up for the current month (so a changed calendar or headcount applies). A new
object on the same database carries on where the last one stopped.

Beside the sessions, the engine keeps the ``vpn_users`` source (``ftthnoc.telework.sources``): the distinct
VPN users of each working day, from the private families of the polls (``observe_private_poll``), stored as
keyed hashes only, and it exports this month's figure from the source ``sources.month_figure`` chooses (an
imported attendance or LGWAN file wins over the VPN), labelled with that source.

Threading, as ``ftthnoc.incidents.engine``: call ``observe*`` from the poller's loop thread; a lock
makes ``families()`` safe from an exporter's thread. A failed database write is logged and retried
with the next poll; today's gauges are computed from memory and do not wait for the database.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import NamedTuple

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ftthnoc.consumers import Poll
from ftthnoc.samples import MetricFamily
from ftthnoc.telework.calendar import TeleworkConfig, WorkingCalendar, WorkWindow, jst_date
from ftthnoc.telework.families import telework_families
from ftthnoc.telework.models import TeleworkDay, TeleworkSample, TeleworkSourceDay, TeleworkUserDay
from ftthnoc.telework.sources import SourceDay, SourceMonth, people_day, user_key
from ftthnoc.telework.sources import month_figure as chosen_month
from ftthnoc.timezone import JST

log = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]
#: The family the VPN gateway modules report: active remote-access sessions, label ``gateway``.
SESSIONS_FAMILY = "ftth_vpn_sessions"
#: The private family of distinct users the VPN modules' ``vpn_users`` quirk leaves (``collectors.snmp.quirks``).
USERS_FAMILY = "_private_vpn_users"
#: Seconds before this month's figure from the chosen source is read again (imports come from another process).
CHOSEN_REFRESH_SECONDS = 300
#: Per gateway, (epoch second, sessions) in time order.
GatewaySamples = Mapping[str, Sequence[tuple[int, int]]]


class SessionSample(NamedTuple):
    """One gateway's session count at one instant (aware; UTC or JST alike)."""

    at: datetime
    gateway: str
    sessions: int


@dataclass(frozen=True, slots=True)
class Coverage:
    """What the integration over one day's working hours found."""

    working_seconds: int
    covered_seconds: int
    session_seconds: int  # ∫ summed sessions dt over the covered time

    @property
    def mean_sessions(self) -> float | None:
        return self.session_seconds / self.covered_seconds if self.covered_seconds else None


@dataclass(frozen=True, slots=True)
class DayFigure:
    """One working day's KPI as computed at ``computed_at`` (see the module docstring)."""

    day: date
    working_seconds: int
    covered_seconds: int
    mean_sessions: float | None
    remote_share: float | None
    office_reduction: float | None
    staff: int
    attendance_baseline: float
    target_reduction: float
    final: bool
    computed_at: datetime

    @property
    def coverage(self) -> float:
        return self.covered_seconds / self.working_seconds if self.working_seconds else 0.0

    @property
    def target_attainment(self) -> float | None:
        return None if self.office_reduction is None else self.office_reduction / self.target_reduction


@dataclass(frozen=True, slots=True)
class MonthFigure:
    """A month's KPI: the mean over its final working days that have a figure."""

    year: int
    month: int
    days: tuple[DayFigure, ...]  # every working day computed so far, final or not, in date order
    target_reduction: float

    @property
    def counted(self) -> tuple[DayFigure, ...]:
        return tuple(d for d in self.days if d.final and d.remote_share is not None)

    @property
    def days_with_figure(self) -> int:
        return len(self.counted)

    @property
    def remote_share(self) -> float | None:
        return _mean([d.remote_share for d in self.counted if d.remote_share is not None])

    @property
    def office_reduction(self) -> float | None:
        return _mean([d.office_reduction for d in self.counted if d.office_reduction is not None])

    @property
    def target_attainment(self) -> float | None:
        reduction = self.office_reduction
        return None if reduction is None else reduction / self.target_reduction


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def month_figure(year: int, month: int, days: Iterable[DayFigure], default_target: float) -> MonthFigure:
    """The month of ``days`` (others are ignored); the target is the one the latest day was computed with."""
    mine = tuple(sorted((d for d in days if (d.day.year, d.day.month) == (year, month)), key=lambda d: d.day))
    target = mine[-1].target_reduction if mine else default_target
    return MonthFigure(year, month, mine, target)


# ---------------------------------------------------------------------------------------------- the integral
def integrate(
    start: int, end: int, samples: GatewaySamples, *, gap: int, gateways: Collection[str] | None = None
) -> Coverage:
    """Time-weighted session sum over [start, end) (epoch seconds), covered time only (definition 1–3).

    ``samples`` may hold samples outside the interval; those before ``start`` hold into it (for at
    most ``gap``), those at or after ``end`` are ignored.
    """
    working = max(0, end - start)
    if working == 0:
        return Coverage(0, 0, 0)
    names = sorted(gateways) if gateways is not None else sorted(samples)
    held: dict[str, list[tuple[int, int, int]]] = {}
    for name in names:
        series = [(t, v) for t, v in samples.get(name, ()) if t < end]
        if gateways is None and not any(t + gap > start for t, _ in series):
            continue  # not reporting into these hours: not counted (definition 2)
        held[name] = _holds(series, start, end, gap)
    if not held or not all(held.values()):
        return Coverage(working, 0, 0)
    bounds = sorted({b for spans in held.values() for a, z, _ in spans for b in (a, z)})
    cursors = dict.fromkeys(held, 0)
    covered = total = 0
    for lo, hi in pairwise(bounds):
        value = 0
        for name, spans in held.items():
            i = cursors[name]
            while i < len(spans) and spans[i][1] <= lo:
                i += 1
            cursors[name] = i
            if i == len(spans) or spans[i][0] > lo:
                break  # this gateway is in an outage here: the segment is not covered
            value += spans[i][2]
        else:
            covered += hi - lo
            total += value * (hi - lo)
    return Coverage(working, covered, total)


def _holds(series: Sequence[tuple[int, int]], start: int, end: int, gap: int) -> list[tuple[int, int, int]]:
    """Each sample's span [t, min(next, t + gap)) clipped to [start, end), as (from, to, sessions)."""
    ordered = sorted(series)
    spans: list[tuple[int, int, int]] = []
    for i, (t, v) in enumerate(ordered):
        until = min(t + gap, end, ordered[i + 1][0] if i + 1 < len(ordered) else end)
        lo = max(t, start)
        if until > lo:
            spans.append((lo, until, v))
    return spans


def day_figure(config: TeleworkConfig, window: WorkWindow, samples: GatewaySamples, now: datetime) -> DayFigure:
    """The KPI of one working day from its samples, as far as ``now`` (definition 3–5)."""
    now_s = _epoch(now)
    start, end = _epoch(window.start), _epoch(window.end)
    cov = integrate(start, min(end, now_s), samples, gap=config.sample_gap_seconds, gateways=config.gateways)
    mean = cov.mean_sessions
    share = reduction = None
    if mean is not None and cov.covered_seconds >= config.min_coverage * cov.working_seconds:
        share = min(1.0, mean / config.staff)
        reduction = min(1.0, share / config.attendance_baseline)
    return DayFigure(
        day=window.day,
        working_seconds=cov.working_seconds,
        covered_seconds=cov.covered_seconds,
        mean_sessions=mean,
        remote_share=share,
        office_reduction=reduction,
        staff=config.staff,
        attendance_baseline=config.attendance_baseline,
        target_reduction=config.target_reduction,
        final=now_s >= end,
        computed_at=_utc(now),
    )


def read_sessions(target: str, families: Iterable[MetricFamily]) -> dict[str, int] | None:
    """Sessions per gateway from a poll's families; None when the poll did not report them (an outage).

    The ``gateway`` label names the gateway (the poll's target without one); several series of one
    gateway (per protocol, per cluster member) are summed. Every other label is ignored: no user name.
    """
    found: dict[str, float] | None = None
    for fam in families:
        if fam.name != SESSIONS_FAMILY:
            continue
        found = {} if found is None else found
        for s in fam.samples:
            if not math.isfinite(s.value) or s.value < 0:
                continue
            name = s.labels.get("gateway") or target
            found[name] = found.get(name, 0.0) + s.value
    return None if found is None else {name: round(v) for name, v in found.items()}


def read_users(target: str, families: Iterable[MetricFamily]) -> tuple[set[str], set[tuple[str, str]]]:
    """From a poll's private families: the gateways that reported their user list, and (gateway, name) pairs.

    Reads only ``collectors``' private ``_private_vpn_users`` family: a sample without a ``user`` label says
    that its gateway's list is complete (possibly empty), one with it names one connected user.
    """
    reported: set[str] = set()
    names: set[tuple[str, str]] = set()
    for fam in families:
        if fam.name != USERS_FAMILY:
            continue
        for s in fam.samples:
            gateway = s.labels.get("gateway") or target
            user = s.labels.get("user")
            if user is None:
                reported.add(gateway)
            elif user:
                names.add((gateway, user))
    return reported, {(g, n) for g, n in names if g in reported}


def _write_source_day(session: Session, fig: SourceDay, now: datetime) -> None:
    from ftthnoc.telework.sources import write_days

    write_days(session, [fig], now)


# ---------------------------------------------------------------------------------------------- the engine
class TeleworkKpi:
    """Keeps session samples and day figures; see the module docstring for the definition and threading."""

    def __init__(
        self,
        session_factory: SessionFactory,
        config: TeleworkConfig,
        *,
        clock: Callable[[], datetime] | None = None,
        user_key: bytes | None = None,
    ) -> None:
        self._sessions = session_factory
        self.config = config
        self.calendar = WorkingCalendar(config)
        self._clock: Callable[[], datetime] = clock or _utcnow
        self._lock = threading.RLock()
        self._samples: dict[str, dict[int, int]] = {}  # every sample at or after _horizon, in memory
        self._horizon = 0
        self._today: date | None = None
        self._unsaved: dict[tuple[str, int], int] = {}
        self._dirty: set[date] = set()
        self._days: dict[date, DayFigure] = {}  # this and last month's figures, as written
        self._provisional: set[date] = set()  # working days without a final figure yet
        self._cursor = date.min
        self._pruned_on: date | None = None
        # Keys the VPN users' hashes (``sources.user_key``); kept outside the database. A random key (none
        # configured) lasts as long as the process: a user seen before and after a restart on the same day
        # then counts twice that day.
        self._user_key = user_key or os.urandom(32)
        self._chosen: SourceMonth | None = None
        self._today_users: SourceDay | None = None
        self._load(self._now())

    # ------------------------------------------------------------------ public API
    def observe(self, gateway: str, sessions: int, at: datetime | None = None) -> list[DayFigure]:
        """One sample; returns the day figures it (or the passing of time) recomputed."""
        return self.observe_many([SessionSample(at or self._now(), gateway, sessions)])

    def observe_many(self, samples: Iterable[SessionSample]) -> list[DayFigure]:
        """Several samples in one transaction (a backfill, a replay); returns the recomputed days."""
        rows = [(s.gateway, _epoch(s.at), int(s.sessions)) for s in samples if s.sessions >= 0]
        latest = max((t for _, t, _ in rows), default=None)
        with self._lock:
            now = self._now(latest)
            return self._ingest(rows, now)

    def observe_poll(self, poll: Poll) -> None:
        """A ``PollConsumer`` (it writes to the database: wired behind ``OffLoop``)."""
        self.observe_sessions(poll.target, poll.families, poll.at)

    def observe_private_poll(self, poll: Poll) -> None:
        """A ``PrivatePollConsumer``: the distinct VPN users of one poll (``vpn_users`` source)."""
        self.observe_users(poll.target, poll.families, poll.at)

    def observe_users(
        self, gateway: str, families: Iterable[MetricFamily], at: datetime | None = None
    ) -> SourceDay | None:
        """The users a gateway listed in a poll (the private ``USER_NAMES`` family of ``vpn_users``).

        Only a poll within a working day's working hours counts; the day's distinct users are the union of
        its polls' users, kept as keyed hashes (``sources.user_key``), never as names. A gateway that did not
        report its user list (no sample without a ``user`` label) adds nothing: an outage is not zero users.
        Returns today's figure so far, or None when the poll did not count.
        """
        when = _utc(at) if at is not None else self._now()
        reported, pairs = read_users(gateway, families)
        if self.config.gateways is not None:
            reported &= set(self.config.gateways)
        names = {n for g, n in pairs if g in reported}
        day = jst_date(when)
        window = self.calendar.window(day)
        if not reported or window is None or not window.start <= when < window.end:
            return None
        keys = {user_key(self._user_key, day, n) for n in names}
        with self._lock:
            try:
                with self._sessions() as session:
                    have = set(
                        session.scalars(
                            select(TeleworkUserDay.user_key).where(
                                TeleworkUserDay.source == "vpn_users", TeleworkUserDay.day == day
                            )
                        )
                    )
                    new = sorted(keys - have)
                    if new:
                        session.execute(
                            insert(TeleworkUserDay), [{"source": "vpn_users", "day": day, "user_key": k} for k in new]
                        )
                    fig = people_day(
                        "vpn_users",
                        day,
                        len(have) + len(new),
                        self.config.staff,
                        attendance_baseline=self.config.attendance_baseline,
                        target_reduction=self.config.target_reduction,
                        final=False,
                    )
                    _write_source_day(session, fig, when)
                    self._finalise_users(session, when)
                    self._refresh_chosen(session, when)
                    session.commit()
            except SQLAlchemyError:
                log.exception("telework store: writing the VPN users failed; this poll's users are not counted")
                return None
            self._today_users = fig
            return fig

    def observe_sessions(
        self, gateway: str, families: Iterable[MetricFamily], at: datetime | None = None
    ) -> list[DayFigure]:
        """Take one poll of a VPN gateway (fits the poller's ``publish(target, module, families)``).

        A poll without ``ftth_vpn_sessions`` (another module, a failed poll) adds no sample, which is
        how an outage leaves its gap; it still lets days whose working hours ended be finalised.
        """
        when = _utc(at) if at is not None else self._now()
        counts = read_sessions(gateway, families) or {}
        return self.observe_many([SessionSample(when, name, n) for name, n in sorted(counts.items())])

    def refresh(self, at: datetime | None = None) -> list[DayFigure]:
        """Finalise days whose working hours are over and retry failed writes (observe* do this too)."""
        with self._lock:
            return self._ingest([], self._now(_epoch(at) if at is not None else None))

    def families(self) -> list[MetricFamily]:
        """Today so far and this month as gauges (``ftthnoc.telework.families``)."""
        with self._lock:
            now = self._now()
            today = self.today(now)
            month = month_figure(now.astimezone(JST).year, now.astimezone(JST).month, self._days.values(),
                                 self.config.target_reduction)  # fmt: skip
            users = self._today_users
            if users is not None and users.day != jst_date(now):
                users = None
            return telework_families(self.config, today, month, chosen=self._chosen_now(now), today_users=users)

    def _chosen_now(self, now: datetime) -> SourceMonth | None:
        chosen = self._chosen
        local = now.astimezone(JST)
        if chosen is None or (chosen.year, chosen.month) != (local.year, local.month):
            return None
        return chosen

    def _finalise_users(self, session: Session, now: datetime) -> None:
        """``vpn_users`` days whose working hours are over become final."""
        today = jst_date(now)
        window = self.calendar.window(today)
        last = today if window is not None and now >= window.end else today - timedelta(days=1)
        session.execute(
            update(TeleworkSourceDay)
            .where(
                TeleworkSourceDay.source == "vpn_users",
                TeleworkSourceDay.final.is_(False),
                TeleworkSourceDay.day <= last,
            )
            .values(final=True)
        )

    def _refresh_chosen(self, session: Session, now: datetime) -> None:
        local = now.astimezone(JST)
        fig = chosen_month(session, local.year, local.month, self.config.target_reduction)
        self._chosen = dataclasses.replace(fig, read_at=now)

    def today(self, now: datetime | None = None) -> DayFigure | None:
        """Today's figure so far, from memory; None before its working hours or on a day off."""
        with self._lock:
            now = now or self._now()
            window = self.calendar.window(jst_date(now))
            if window is None or now < window.start:
                return None
            return day_figure(self.config, window, self._memory_samples(window), now)

    def day(self, day: date) -> DayFigure | None:
        """The stored figure of ``day`` (None: not a working day, or not computed yet)."""
        with self._lock:
            if day in self._days:
                return self._days[day]
        with self._sessions() as session:
            row = session.scalars(select(TeleworkDay).where(TeleworkDay.day == day)).one_or_none()
            return None if row is None else _from_row(row)

    def month(self, year: int, month: int) -> MonthFigure:
        """A month's stored day figures and their mean."""
        with self._sessions() as session:
            return load_month(session, year, month, self.config.target_reduction)

    # ------------------------------------------------------------------ bookkeeping
    def _now(self, at_least: int | None = None) -> datetime:
        now = _utc(self._clock()).replace(microsecond=0)
        if at_least is not None and at_least > _epoch(now):
            return datetime.fromtimestamp(at_least, UTC)
        return now

    def _load(self, now: datetime) -> None:
        """Recent samples and stored figures; then recompute this month with the current configuration."""
        today = jst_date(now)
        first = today.replace(day=1)
        previous = (first - timedelta(days=1)).replace(day=1)
        self._set_horizon(today)
        with self._sessions() as session:
            rows = session.execute(
                select(TeleworkSample.gateway, TeleworkSample.at, TeleworkSample.sessions).where(
                    TeleworkSample.at >= datetime.fromtimestamp(self._horizon, UTC)
                )
            )
            for gateway, at, sessions in rows:
                self._samples.setdefault(gateway, {})[_epoch(at)] = sessions
            for row in session.scalars(select(TeleworkDay).where(TeleworkDay.day >= previous)):
                self._days[row.day] = _from_row(row)
            self._provisional.update(session.scalars(select(TeleworkDay.day).where(TeleworkDay.final.is_(False))))
        self._cursor = first
        day = first
        while day <= today:
            self._dirty.add(day)  # working or not: a day no longer working loses its row
            day += timedelta(days=1)
        self._ingest([], now)

    def _set_horizon(self, today: date) -> None:
        """Keep yesterday and today in memory (a sample holds up to ``gap`` into the next day)."""
        self._today = today
        midnight = datetime.combine(today - timedelta(days=1), datetime.min.time(), JST)
        # Only ever forward: memory must hold *every* sample from the horizon on.
        self._horizon = max(self._horizon, _epoch(midnight) - self.config.sample_gap_seconds)
        for series in self._samples.values():
            for t in [t for t in series if t < self._horizon]:
                del series[t]

    def _ingest(self, rows: Sequence[tuple[str, int, int]], now: datetime) -> list[DayFigure]:
        gap = self.config.sample_gap_seconds
        for gateway, t, sessions in rows:
            if t >= self._horizon:
                self._samples.setdefault(gateway, {})[t] = sessions
            self._unsaved[(gateway, t)] = sessions
            for day in {jst_date(datetime.fromtimestamp(t, UTC)), jst_date(datetime.fromtimestamp(t + gap, UTC))}:
                window = self.calendar.window(day)
                if window is not None and _epoch(window.start) - gap <= t < _epoch(window.end):
                    self._dirty.add(day)
        self._advance(now)
        return self._settle(now)

    def _advance(self, now: datetime) -> None:
        """Let time pass: new working days become provisional, ended ones are due for their final figure."""
        today = jst_date(now)
        if today != self._today:
            self._set_horizon(today)
        while self._cursor <= today:
            if self.calendar.is_working_day(self._cursor):
                self._provisional.add(self._cursor)
            self._cursor += timedelta(days=1)
        for day in list(self._provisional):
            window = self.calendar.window(day)
            if window is None:
                self._provisional.discard(day)
                self._dirty.add(day)
                continue
            if now < window.start:
                continue
            known = self._days.get(day)
            if known is None or (now >= window.end and not known.final):
                self._dirty.add(day)

    def _settle(self, now: datetime) -> list[DayFigure]:
        """Write new samples, recompute the dirty days and write them, in one transaction."""
        prune = self._pruned_on != jst_date(now)
        chosen = self._chosen
        # an import by ``ftthnoc telework import`` (another process) reaches the gauges within this time
        stale = chosen is None or (now - chosen.read_at).total_seconds() >= CHOSEN_REFRESH_SECONDS
        if not (self._unsaved or self._dirty or prune or stale):
            return []
        computed: list[DayFigure] = []
        gone: list[date] = []
        try:
            with self._sessions() as session:
                self._write_samples(session)
                session.flush()
                for day in sorted(self._dirty):
                    window = self.calendar.window(day)
                    if window is None:
                        session.execute(delete(TeleworkDay).where(TeleworkDay.day == day))
                        gone.append(day)
                    elif now >= window.start:
                        fig = day_figure(self.config, window, self._samples_for(session, window), now)
                        _write_day(session, fig)
                        computed.append(fig)
                if prune:
                    cutoff = now - timedelta(days=self.config.sample_retention_days)
                    session.execute(delete(TeleworkSample).where(TeleworkSample.at < cutoff))
                self._finalise_users(session, now)
                session.flush()
                self._refresh_chosen(session, now)
                session.commit()
        except SQLAlchemyError:
            log.exception("telework store: write failed; samples kept in memory, retried with the next poll")
            return []
        self._unsaved.clear()
        self._dirty.clear()
        self._pruned_on = jst_date(now)
        for day in gone:
            self._days.pop(day, None)
        for fig in computed:
            self._days[fig.day] = fig
            if fig.final:
                self._provisional.discard(fig.day)
        first = jst_date(now).replace(day=1)
        keep_from = (first - timedelta(days=1)).replace(day=1)
        for day in [d for d in self._days if d < keep_from]:
            del self._days[day]
        return computed

    def _write_samples(self, session: Session) -> None:
        if not self._unsaved:
            return
        times = [t for _, t in self._unsaved]
        gateways = sorted({g for g, _ in self._unsaved})
        existing: dict[tuple[str, int], tuple[int, int]] = {}
        stmt = select(TeleworkSample.id, TeleworkSample.gateway, TeleworkSample.at, TeleworkSample.sessions).where(
            TeleworkSample.gateway.in_(gateways),
            TeleworkSample.at >= datetime.fromtimestamp(min(times), UTC),
            TeleworkSample.at <= datetime.fromtimestamp(max(times), UTC),
        )
        for row_id, gateway, at, sessions in session.execute(stmt):
            existing[(gateway, _epoch(at))] = (row_id, sessions)
        new: list[dict[str, object]] = []
        for (gateway, t), sessions in sorted(self._unsaved.items()):
            have = existing.get((gateway, t))
            if have is None:
                new.append({"gateway": gateway, "at": datetime.fromtimestamp(t, UTC), "sessions": sessions})
            elif have[1] != sessions:
                session.execute(update(TeleworkSample).where(TeleworkSample.id == have[0]).values(sessions=sessions))
        if new:
            session.execute(insert(TeleworkSample), new)

    def _samples_for(self, session: Session, window: WorkWindow) -> dict[str, list[tuple[int, int]]]:
        """The samples that can reach into ``window``: from memory when recent, else from the database."""
        lo = _epoch(window.start) - self.config.sample_gap_seconds
        if lo >= self._horizon:
            return self._memory_samples(window)
        out: dict[str, list[tuple[int, int]]] = {}
        stmt = (
            select(TeleworkSample.gateway, TeleworkSample.at, TeleworkSample.sessions)
            .where(
                TeleworkSample.at >= datetime.fromtimestamp(lo, UTC),
                TeleworkSample.at < window.end,
            )
            .order_by(TeleworkSample.at)
        )
        for gateway, at, sessions in session.execute(stmt):
            out.setdefault(gateway, []).append((_epoch(at), sessions))
        return out

    def _memory_samples(self, window: WorkWindow) -> dict[str, list[tuple[int, int]]]:
        lo = _epoch(window.start) - self.config.sample_gap_seconds
        hi = _epoch(window.end)
        out: dict[str, list[tuple[int, int]]] = {}
        for gateway, series in self._samples.items():
            picked = sorted((t, v) for t, v in series.items() if lo <= t < hi)
            if picked:
                out[gateway] = picked
        return out


def load_month(session: Session, year: int, month: int, default_target: float) -> MonthFigure:
    """A month's stored day figures (the CLI's and the API's view; no configuration needed)."""
    first = date(year, month, 1)
    after = (first + timedelta(days=32)).replace(day=1)
    rows = session.scalars(
        select(TeleworkDay).where(TeleworkDay.day >= first, TeleworkDay.day < after).order_by(TeleworkDay.day)
    )
    return month_figure(year, month, [_from_row(r) for r in rows], default_target)


def _write_day(session: Session, fig: DayFigure) -> None:
    row = session.scalars(select(TeleworkDay).where(TeleworkDay.day == fig.day)).one_or_none()
    if row is None:
        row = TeleworkDay(day=fig.day)
        session.add(row)
    row.working_seconds = fig.working_seconds
    row.covered_seconds = fig.covered_seconds
    row.mean_sessions = fig.mean_sessions
    row.remote_share = fig.remote_share
    row.office_reduction = fig.office_reduction
    row.staff = fig.staff
    row.attendance_baseline = fig.attendance_baseline
    row.target_reduction = fig.target_reduction
    row.final = fig.final
    row.computed_at = fig.computed_at


def _from_row(row: TeleworkDay) -> DayFigure:
    return DayFigure(
        day=row.day,
        working_seconds=row.working_seconds,
        covered_seconds=row.covered_seconds,
        mean_sessions=row.mean_sessions,
        remote_share=row.remote_share,
        office_reduction=row.office_reduction,
        staff=row.staff,
        attendance_baseline=row.attendance_baseline,
        target_reduction=row.target_reduction,
        final=row.final,
        computed_at=_utc(row.computed_at),
    )


def _utc(value: datetime) -> datetime:
    """Aware UTC; naive values (SQLite gives those back) are taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _epoch(value: datetime) -> int:
    """Whole seconds since the epoch (samples are kept to the second)."""
    return math.floor(_utc(value).timestamp())


def _utcnow() -> datetime:
    return datetime.now(UTC)
