"""Each school's uplink peak, measured from its router's IF-MIB counters (the MEXT bandwidth KPI's input).

The inventory names, per school, the SNMP target that carries its uplink (``School.uplink_target``, a
router polled with ``if_mib``) and the uplink's ``ifName`` (``School.uplink_interface``). After every poll
of such a target, the rate since the previous poll is

    max(Δ ifHCInOctets, Δ ifHCOutOctets) × 8 / Δt / 1e6   Mbps

(the counters are already wrap-extended by the poller). No rate comes from the first poll, from a
counter that went backwards (the router restarted or the counter was reset), or across a gap longer than
three poll intervals (the rate would be an average over an outage, not a peak). The day's maximum per
school and JST day is kept in ``school_uplink_peaks``; ``ftthnoc.kpi.figures.recent_peaks`` reads it.

The school → (target, interface) mapping is loaded from the inventory at start and again every few
minutes, so a school's uplink entered while the poller runs is measured without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ftthnoc.inventory.db import session_scope
from ftthnoc.inventory.models import School
from ftthnoc.kpi.models import SchoolUplinkPeak
from ftthnoc.samples import MetricFamily
from ftthnoc.timezone import JST

log = logging.getLogger(__name__)
IN_OCTETS = "ifHCInOctets"
OUT_OCTETS = "ifHCOutOctets"
#: a gap longer than this many poll intervals gives no rate
MAX_GAP_INTERVALS = 3.0
#: how often the school → uplink mapping is read again from the inventory
REFRESH_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Reading:
    """One poll's counters of one uplink: when, octets in and out (None when the poll lacked one)."""

    at: datetime
    in_octets: float | None
    out_octets: float | None


def uplink_mbps(before: Reading, after: Reading, interval_seconds: float) -> float | None:
    """The uplink's rate between two readings (the larger direction, Mbps), or None when there is none:
    time not moving forward, a gap over ``MAX_GAP_INTERVALS`` intervals, a counter that went backwards,
    or no direction read in both polls."""
    seconds = (after.at - before.at).total_seconds()
    if seconds <= 0 or seconds > MAX_GAP_INTERVALS * interval_seconds:
        return None
    deltas: list[float] = []
    for old, new in ((before.in_octets, after.in_octets), (before.out_octets, after.out_octets)):
        if old is None or new is None:
            continue
        if new < old:
            return None  # a reset: whatever the other direction says, this interval is not measured
        deltas.append(new - old)
    if not deltas:
        return None
    return max(deltas) * 8 / seconds / 1e6


def jst_day(when: datetime) -> date:
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(JST).date()


class UplinkMeter:
    """Turns if_mib polls of the schools' routers into daily uplink peaks (see the module's docstring)."""

    def __init__(self, engine: Engine, interval_seconds: float, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.engine = engine
        self.interval = interval_seconds
        self.refresh_seconds = refresh_seconds
        #: target -> [(school code, ifName)]
        self.uplinks: dict[str, list[tuple[str, str]]] = {}
        self._loaded_at: datetime | None = None
        self._last: dict[str, Reading] = {}  # school -> previous reading
        self._peaks: dict[tuple[str, date], float] = {}  # (school, day) -> recorded peak (cache)

    def refresh(self, now: datetime | None = None) -> None:
        """Read the school → (target, interface) mapping from the inventory."""
        with session_scope(self.engine, actor="kpi") as s:
            rows = s.execute(
                select(School.code, School.uplink_target, School.uplink_interface)
                .where(School.uplink_target.is_not(None), School.uplink_interface.is_not(None))
                .order_by(School.code)
            ).all()
        uplinks: dict[str, list[tuple[str, str]]] = {}
        for code, target, interface in rows:
            if target is not None and interface is not None:  # the query's filter, for the type checker
                uplinks.setdefault(target, []).append((code, interface))
        known = {code for pairs in uplinks.values() for code, _ in pairs}
        self._last = {k: v for k, v in self._last.items() if k in known}
        self.uplinks = uplinks
        self._loaded_at = now or datetime.now(UTC)

    def _due(self, now: datetime) -> bool:
        if self._loaded_at is None:
            return True
        age = (now - self._loaded_at).total_seconds()
        return age < 0 or age >= self.refresh_seconds

    def observe(self, target: str, families: Iterable[MetricFamily], now: datetime) -> dict[str, float]:
        """Record what one poll of ``target`` says; returns the rates measured (school -> Mbps)."""
        if self._due(now):
            self.refresh(now)
        schools = self.uplinks.get(target)
        if not schools:
            return {}
        counters: dict[str, dict[str, float]] = {IN_OCTETS: {}, OUT_OCTETS: {}}
        for fam in families:
            values = counters.get(fam.name)
            if values is None:
                continue
            for sample in fam.samples:
                name = sample.labels.get("ifName")
                if name is not None:
                    values[name] = sample.value
        if not counters[IN_OCTETS] and not counters[OUT_OCTETS]:
            return {}  # another module's families (or a failed poll): nothing about interfaces
        rates: dict[str, float] = {}
        for school, interface in schools:
            reading = Reading(now, counters[IN_OCTETS].get(interface), counters[OUT_OCTETS].get(interface))
            if reading.in_octets is None and reading.out_octets is None:
                continue  # the interface is not (or no longer) there: keep the last good reading
            before = self._last.get(school)
            self._last[school] = reading
            if before is not None:
                rate = uplink_mbps(before, reading, self.interval)
                if rate is not None:
                    rates[school] = rate
        if rates:
            self._record(rates, now)
        return rates

    def _record(self, rates: dict[str, float], now: datetime) -> None:
        day = jst_day(now)
        higher = {school: mbps for school, mbps in rates.items() if mbps > self._peaks.get((school, day), -1.0)}
        if not higher:
            return
        recorded: dict[str, float] = {}
        with session_scope(self.engine, actor="kpi") as s:
            rows = {r.school: r for r in s.scalars(
                select(SchoolUplinkPeak).where(SchoolUplinkPeak.day == day, SchoolUplinkPeak.school.in_(higher)))}
            for school, mbps in higher.items():
                row = rows.get(school)
                if row is None:
                    s.add(SchoolUplinkPeak(school=school, day=day, peak_mbps=mbps, at=now))
                elif mbps > row.peak_mbps:
                    row.peak_mbps, row.at = mbps, now
                recorded[school] = max(mbps, row.peak_mbps) if row is not None else mbps
        # cached only once committed: a failed write is tried again at the next higher rate
        for school, mbps in recorded.items():
            self._peaks[(school, day)] = mbps
        for key in [k for k in self._peaks if k[1] < day - timedelta(days=1)]:
            del self._peaks[key]
