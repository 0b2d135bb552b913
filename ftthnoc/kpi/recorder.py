"""Keeps, from what the collectors publish, the KPI inputs a snapshot forgets: ONU-seconds up per month
and district (availability), when each tablet was last seen, and each school's daily uplink peak
(``ftthnoc.kpi.uplinks``, from its router's IF-MIB counters).

A tablet is seen from two sources: the prober's ARP sweep of the school's subnet (its last-answer
timestamp), and, passively, the school router's ARP table polled over SNMP (the ``school_router_arp``
module's ``ftth_router_arp_entry_info``): an active tablet of the school whose MAC is in the table of the
school's router (the target the uplink mapping names, ``School.uplink_target``) is seen at that poll's
time. A tablet's MAC is the one registered or the Wi-Fi MAC an MDM reported for it (``network_mac``,
learned by ``ftthnoc.inventory.mdm``, whose last sync is a third source). Each source's time is kept per
tablet (``TabletSighting``: ``arp``, ``router_arp``, ``mdm:<kind>``) and ``last_seen_at`` is the latest;
neither ever moves backwards. MACs that are no tablet's are never stored: they are counted per school
(``SchoolArpCount``), a locally administered one (a private, random per-network address: a tablet whose
address no MDM has reported yet) apart from an unknown device.

Availability counts the dark time: a poll of an OLT that failed because the OLT stopped answering
(``ftthnoc_scrape_unanswered`` 1, read as the incident engine reads it: ``read_reachable``) is data, not
a gap. Once ``unreachable_polls`` (2, as the engine's ``olt_unreachable`` rule) such polls come in a row,
every ONU of that OLT (the inventory's, and those its last answered poll listed; suspended and cancelled
lines aside) is booked as expected and not up for each of those polls, the first included, until the OLT
answers: the homes were dark to us, and a KPI that skipped that time would read better the longer an
outage hid the network. One lone timeout (below the threshold) stays skipped time, as it opens no incident.

Fed like the incident engine and the telework KPI (``observe_poll`` after each publish); a database that
is away costs that poll's contribution, logged, never the poll.

It also publishes the schools' figures as gauges (``families``, see ``ftthnoc.kpi.families``): read from the
database at start and after a poll at most every ``gauges_seconds`` (the poll interval, a minute at most),
on the recorder's own thread, so a scrape never waits on SQL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ftthnoc import vendors
from ftthnoc.consumers import Poll
from ftthnoc.geo import Point, cabinet_points, district_families
from ftthnoc.incidents.classify import read_reachable
from ftthnoc.inventory.db import session_scope
from ftthnoc.inventory.lookup import onu_rows
from ftthnoc.inventory.models import (
    District,
    Household,
    HouseholdStatus,
    School,
    SchoolArpCount,
    Tablet,
    mark_seen,
    sightings_of,
)
from ftthnoc.kpi.families import school_families
from ftthnoc.kpi.figures import mext_mbps, tablets_at_home, tablets_seen
from ftthnoc.kpi.models import AvailabilityMonth
from ftthnoc.kpi.uplinks import UplinkMeter
from ftthnoc.normalise import locally_administered, normalise_mac
from ftthnoc.samples import MetricFamily
from ftthnoc.timezone import JST

log = logging.getLogger(__name__)
TABLET_LAST_SEEN = "ftthnoc_probe_arp_tablet_last_seen_timestamp_seconds"
#: one sample per ARP entry of a polled router, the MAC in the ``mac`` label (module ``school_router_arp``)
ROUTER_ARP_ENTRY = "ftth_router_arp_entry_info"
#: the prober's per-subnet counts of MACs that are no tablet's (``collectors.probes.families``)
ARP_UNKNOWN = "ftthnoc_probe_arp_unknown_macs"
ARP_PRIVATE = "ftthnoc_probe_arp_private_macs"
#: ``TabletSighting.source`` of the prober's sweeps and of the school routers' ARP tables
SOURCE_ARP = "arp"
SOURCE_ROUTER_ARP = "router_arp"


def month_of(when: datetime) -> str:
    return when.astimezone(JST).strftime("%Y-%m")


#: households whose line is meant to be off: their ONUs are neither up nor "expected" in availability
OFF_STATUSES: tuple[HouseholdStatus, ...] = (HouseholdStatus.SUSPENDED, HouseholdStatus.CANCELLED)


#: an ONU as the availability counts it: (olt, pon_port, onu_id)
OnuKey = tuple[str, str, str]


class KpiRecorder:
    def __init__(self, engine: Engine, interval_seconds: float, refresh_seconds: float = 300.0,
                 gauges_seconds: float | None = None, unreachable_polls: int = 2) -> None:
        self.engine = engine
        #: failed polls in a row after which an OLT's homes count as down (the incident engine's rule)
        self.unreachable_polls = max(1, unreachable_polls)
        self._olt_modules = vendors.olt_modules()
        #: per OLT, its failed (unanswered) polls in a row, and the ONUs (→ district) it listed when it last answered
        self._silent: dict[str, int] = {}
        self._last_listed: dict[str, dict[OnuKey, str]] = {}
        #: per OLT, its inventory ONUs in service (→ district), refreshed with ``off_lines``
        self._olt_onus: dict[str, dict[OnuKey, str]] = {}
        self.interval = interval_seconds
        self.refresh_seconds = refresh_seconds
        #: how often the schools' gauges are read again: every poll interval, at most every minute
        self.gauges_seconds = min(interval_seconds, 60.0) if gauges_seconds is None else gauges_seconds
        self._lock = threading.Lock()
        self._tablet_rows: list[dict[str, object]] = []
        self._home_rows: list[dict[str, object]] = []
        self._recommended: dict[str, float] = {}
        self._gauges_at = -1e18
        #: the inventory's districts and placed cabinets, for the map's points (``ftthnoc.geo``)
        self._districts: list[str] = []
        self._cabinets: dict[str, Point] = {}
        #: (olt, pon_port, onu_id) of ONUs whose household is suspended or cancelled, refreshed periodically
        self.off_lines: frozenset[tuple[str, str, str]] = frozenset()
        self._off_loaded = -1e18
        #: every tablet's MACs (registered and learned), town-wide: a visiting tablet is not a stranger
        self._tablet_macs: frozenset[str] = frozenset()
        self._macs_loaded = -1e18
        self.uplinks = UplinkMeter(engine, interval_seconds)
        try:
            self.uplinks.refresh()
        except SQLAlchemyError as exc:  # tried again at the first poll
            log.warning("school uplinks not loaded: %s", type(exc).__name__)
        self._school_figures(datetime.now(UTC))

    def families(self) -> list[MetricFamily]:
        """The schools' figures as gauges (a ``FamilySource``: from memory, never the database)."""
        with self._lock:
            rows, recommended, home = list(self._tablet_rows), dict(self._recommended), list(self._home_rows)
            districts, cabinets = list(self._districts), dict(self._cabinets)
        return school_families(rows, recommended, self.uplinks.uplinks, home) + district_families(districts, cabinets)

    def _school_figures(self, now: datetime) -> None:
        """Read the tablets seen and each school's MEXT figure again (on this thread, off the scrape)."""
        if time.monotonic() - self._gauges_at < self.gauges_seconds:
            return
        self._gauges_at = time.monotonic()
        try:
            with session_scope(self.engine, actor="kpi") as s:
                rows = tablets_seen(s, now)["schools"]
                home = tablets_at_home(s, now)["districts"]
                recommended = {code: mext_mbps(pupils) for code, pupils in s.execute(select(School.code,
                                                                                           School.pupils))}
                districts = list(s.scalars(select(District.code)))
                cabinets = cabinet_points(s)
        except SQLAlchemyError as exc:
            log.warning("school figures not read: %s", type(exc).__name__)
            return
        with self._lock:
            self._tablet_rows, self._recommended, self._home_rows = rows, recommended, home
            self._districts, self._cabinets = districts, cabinets

    def observe_poll(self, poll: Poll) -> None:
        """A ``PollConsumer`` (it writes to the database: wired behind ``OffLoop``)."""
        self.record_poll(poll.target, poll.families, poll.at)

    def record_poll(self, target: str, families: Iterable[MetricFamily], now: datetime | None = None) -> None:
        families = list(families)
        now = now or datetime.now(UTC)
        try:
            self._availability(families, now, target)
            self._tablets(families, now)
        except SQLAlchemyError as exc:
            log.warning("KPI inputs not recorded for this poll: %s", type(exc).__name__)
        try:
            self.uplinks.observe(target, families, now)  # first: it refreshes the school → router mapping
        except SQLAlchemyError as exc:
            log.warning("school uplink peak not recorded for this poll: %s", type(exc).__name__)
        try:
            self._router_arp(target, families, now)
        except SQLAlchemyError as exc:
            log.warning("tablets seen in the router's ARP table not recorded for this poll: %s",
                        type(exc).__name__)
        self._school_figures(now)

    def _refresh_off_lines(self) -> None:
        if time.monotonic() - self._off_loaded < self.refresh_seconds:
            return
        with session_scope(self.engine, actor="kpi") as s:
            off: set[OnuKey] = set()
            in_service: dict[str, dict[OnuKey, str]] = {}
            for olt, port, onu_id, status, district in s.execute(onu_rows(Household.status)):
                key = (olt, port, str(onu_id))
                if status in OFF_STATUSES:
                    off.add(key)
                else:
                    in_service.setdefault(olt, {})[key] = district
        self.off_lines, self._olt_onus = frozenset(off), in_service
        self._off_loaded = time.monotonic()

    def _dark_polls(self, target: str, families: list[MetricFamily]) -> int:
        """How many polls' worth of this OLT's homes to book as down now: 0 while it answers (or the
        families say nothing of it, or the silence is still below ``unreachable_polls``), all the silent
        polls so far when the threshold is reached, then one per further silent poll."""
        if any(fam.name == "ftth_onu_up" for fam in families):
            self._silent.pop(target, None)
            return 0
        reachable = read_reachable(target, families, self._olt_modules)
        if reachable is None:
            return 0
        if reachable:
            self._silent.pop(target, None)
            return 0
        silent = self._silent.get(target, 0) + 1
        self._silent[target] = silent
        if silent < self.unreachable_polls:
            return 0
        return silent if silent == self.unreachable_polls else 1

    def _availability(self, families: list[MetricFamily], now: datetime, target: str = "") -> None:
        per_district: dict[str, list[float]] = {}
        listed: dict[str, dict[OnuKey, str]] = {}
        dark = self._dark_polls(target, families) if target else 0
        if dark or any(fam.name == "ftth_onu_up" for fam in families):
            self._refresh_off_lines()
        for fam in families:
            if fam.name != "ftth_onu_up":
                continue
            for sample in fam.samples:
                lab = sample.labels
                key = (lab.get("olt", ""), lab.get("pon_port", ""), lab.get("onu_id", ""))
                district = lab.get("district", "unknown")
                if key[0]:
                    listed.setdefault(key[0], {})[key] = district
                if key in self.off_lines:
                    continue  # a suspended line is down on purpose: not an outage
                counts = per_district.setdefault(district, [0.0, 0.0])
                counts[0] += 1 if sample.value == 1.0 else 0
                counts[1] += 1
        self._last_listed.update(listed)
        if dark:
            homes = {**self._last_listed.get(target, {}), **self._olt_onus.get(target, {})}
            for key, district in homes.items():
                if key not in self.off_lines:
                    per_district.setdefault(district, [0.0, 0.0])[1] += dark
        if not per_district:
            return
        month = month_of(now)
        with session_scope(self.engine, actor="kpi") as s:
            rows = {r.district: r for r in s.scalars(select(AvailabilityMonth).where(AvailabilityMonth.month == month))}
            for district, (up, total) in per_district.items():
                row = rows.get(district)
                if row is None:
                    row = AvailabilityMonth(month=month, district=district, up_seconds=0.0, expected_seconds=0.0)
                    s.add(row)
                row.up_seconds += up * self.interval
                row.expected_seconds += total * self.interval

    def _tablets(self, families: list[MetricFamily], now: datetime) -> None:
        seen: dict[tuple[str, str], float] = {}
        counts: dict[str, list[int]] = {}  # school → [unknown, private], summed over its subnets
        for fam in families:
            if fam.name == TABLET_LAST_SEEN:
                for sample in fam.samples:
                    seen[(sample.labels.get("school", ""), sample.labels.get("tablet", ""))] = sample.value
            elif fam.name in (ARP_UNKNOWN, ARP_PRIVATE):
                for sample in fam.samples:
                    row = counts.setdefault(sample.labels.get("school", ""), [0, 0])
                    row[fam.name == ARP_PRIVATE] += int(sample.value)
        if counts:
            when = now if now.tzinfo else now.replace(tzinfo=UTC)
            with session_scope(self.engine, actor="kpi") as s:
                self._store_counts(s, SOURCE_ARP, {k: (v[0], v[1]) for k, v in counts.items()}, when)
        if not seen:
            return
        with session_scope(self.engine, actor="kpi") as s:
            rows = s.execute(select(Tablet, School.code).join(School, Tablet.school_id == School.id)
                             .where(School.code.in_({k[0] for k in seen}))).all()
            known = sightings_of(s, (t.id for t, _code in rows), SOURCE_ARP)
            for tablet, school in rows:
                ts = seen.get((school, tablet.asset_no))
                if ts is not None:
                    mark_seen(s, tablet, known, SOURCE_ARP, datetime.fromtimestamp(ts, UTC))

    @staticmethod
    def _store_counts(s: Session, source: str, counts: dict[str, tuple[int, int]], when: datetime) -> None:
        rows = {r.school: r for r in s.scalars(select(SchoolArpCount).where(
            SchoolArpCount.source == source, SchoolArpCount.school.in_(counts)))}  # fmt: skip
        for school, (unknown, private) in counts.items():
            row = rows.get(school)
            if row is None:
                s.add(SchoolArpCount(school=school, source=source, at=when, unknown=unknown, private=private))
            else:
                row.at, row.unknown, row.private = when, unknown, private

    def _refresh_tablet_macs(self) -> None:
        if time.monotonic() - self._macs_loaded < self.refresh_seconds:
            return
        with session_scope(self.engine, actor="kpi") as s:
            macs = {m for pair in s.execute(select(Tablet.mac, Tablet.network_mac)) for m in pair if m}
        self._tablet_macs = frozenset(macs)
        self._macs_loaded = time.monotonic()

    def _router_arp(self, target: str, families: list[MetricFamily], now: datetime) -> int:
        """Mark the active tablets of the schools whose router ``target`` is, and whose MAC (registered or
        learned from an MDM) is in the polled ARP table, as seen at ``now``; count the other MACs per
        school (unknown, or private: locally administered). Returns how many tablets moved forward."""
        schools = {code for code, _interface in self.uplinks.uplinks.get(target, ())}
        if not schools:
            return 0
        macs: set[str] = set()
        for fam in families:
            if fam.name != ROUTER_ARP_ENTRY:
                continue
            for sample in fam.samples:
                try:
                    macs.add(normalise_mac(sample.labels.get("mac", "")))
                except ValueError:
                    continue  # not a MAC: nothing to match
        if not macs:
            return 0  # another module's families, a failed poll, or an empty table
        when = now if now.tzinfo else now.replace(tzinfo=UTC)
        marked = 0
        self._refresh_tablet_macs()
        with session_scope(self.engine, actor="kpi") as s:
            # the schools' tablets (a few hundred each), matched here: no MAC from the router is sent to
            # the database, and a long IN list never meets the SQLite parameter limit
            rows = s.scalars(select(Tablet).join(School, Tablet.school_id == School.id)
                             .where(School.code.in_(schools), Tablet.status == "active")).all()
            mine = {m for t in rows for m in (t.mac, t.network_mac) if m}
            known = sightings_of(s, (t.id for t in rows), SOURCE_ROUTER_ARP)
            for tablet in rows:
                if tablet.mac not in macs and tablet.network_mac not in macs:
                    continue
                if mark_seen(s, tablet, known, SOURCE_ROUTER_ARP, when):
                    marked += 1
            strangers = [m for m in macs if m not in mine and m not in self._tablet_macs]
            private = sum(1 for m in strangers if locally_administered(m))
            self._store_counts(s, SOURCE_ROUTER_ARP,
                               {code: (len(strangers) - private, private) for code in schools}, when)
        return marked
