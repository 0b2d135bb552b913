"""The correlator: hundreds of ONU alarms become one incident an operator can act on and report.

Level-triggered: every poll of an OLT is read as a state (which ONUs are down now, why, and since when
where the OLT says so), not only as a change from the last poll. A fault already present at the first
poll, or at a restart, opens its incident like one that starts while ftthnoc watches; traps and the
changes between polls add what a state cannot give (each ONU's own time, flaps between polls).

Rules (defaults in ``IncidentConfig``; docs/facts.md):

- **OLT unreachable**: ``unreachable_polls`` (2) polls in a row of one of an OLT's ONU modules failed
  (``ftthnoc_scrape_success`` 0) → one ``olt_unreachable`` incident for the OLT, started at the first
  failed poll, its ONUs as members (every home on it is dark to the poller): an OLT that cannot be polled
  must not read as "no incidents"; one timeout on a busy OLT is not an outage. It closes when it answers.
  ONUs under an unreachable OLT open nothing else: that incident explains them.

- **Board, PON port, rogue ONU, uplinks, town services** (``board_down``, ``pon_port_down``, ``rogue_onu``,
  ``uplink_down``, ``service_down``; ``_equipment_state`` and after): read from the same polls and the
  prober's service checks, each opens one incident and holds what is under it. A Huawei port reads faulty
  whenever none of its ONUs answers, as in a whole feeder cut: a port is down only when it also transmits no
  light.

- **Feeder cut**: at least ``feeder_min_onus`` (4) ONUs, and at least ``feeder_min_share`` (50 %) of the
  ONUs known on one PON port, go down with LOS within ``feeder_window_seconds`` (60 s) → one
  ``feeder_cut`` incident for that port. "Known" is the union of the inventory's ONUs on the port and
  the ONUs the OLT listed in its last poll.
- **Power outage**: at least ``power_min_onus`` (5) dying gasps in one district within
  ``power_window_seconds`` (300 s) → one ``power_outage`` incident for the district. With shards
  (``owned_olts``), the gasps are counted over every shard's (``ftthnoc.incidents.shared``): 3 + 3 over
  two shards is a power cut, one row that each shard adds its homes to.
- ONUs that go down the same way while an incident for their port (LOS) or district (dying gasp) is
  open join it: the affected count grows, no second incident opens.
- An incident closes when ``close_share`` (100 %) of its ONUs are back; it then has start, end, duration
  and affected count. The ministry's rule (``ftthnoc.incidents.reporting.verdict``: 2 h or more, or
  30,000 users or more; never a power cut at the homes) flags it ``reportable`` for the quarterly report,
  as soon as an open incident meets it, too.
- **Line fault** (off unless ``line_fault_min_onus`` is set, e.g. 2): a few ONUs of one port in LOS within
  the feeder window of each other, below the feeder-cut thresholds and still down once that window has
  passed (so that a feeder cut cannot grow out of them any more) → one ``line_fault`` for the port: a
  second-stage splitter or a shared drop. The ministry's 2-hour rule counts a 2-home fault of 5 hours, and
  only an incident reaches the quarterly export. Homes dark since unknown times at the first poll (no device
  time) are no group, as for power outages.
- **Splitter cut** (with the inventory's splitters, ``TopologyLookup``): the LOS ONUs of a poll's state that
  no feeder cut takes and that are at least ``splitter_min_share`` (100 %) of the online ONUs below one
  splitter (and at least ``splitter_min_onus``), within the feeder window of each other → one
  ``splitter_cut`` at the highest such splitter, first stage first (a splitter over the whole port is the
  feeder's). ONUs going down below it later join it; homes dark before it stay out. No topology: no change.
- A single ONU in LOS (or a few, below the thresholds, line faults off) opens no incident: that is the
  household's own fault ticket, handled by support. It is still classified and counted
  (``ftthnoc_onu_down_events_total{cause}``).
- **The state of each poll**: after the changes, the ONUs a poll shows down that no open incident holds
  are checked against the same rules, each ONU dated by the OLT's own last-down time where the module
  reads one (``ftth_onu_last_down_timestamp_seconds``, Huawei), else by the first poll that showed it
  down. The burst windows then apply to those times: ONUs of one port that went down within 60 s
  of each other an hour before ftthnoc started are a feeder cut that started an hour ago. An ONU already
  down at its first poll without a device time (ZTE) is dated by that poll: it counts toward a feeder cut
  (half of a port dark is a fact of the port) but not toward a power outage (five homes of a district
  without power since unknown times are not one power cut).

Time comes only from the events and polls (trap time, poll time, the devices' own times), so a test can
replay a 2-hour outage in milliseconds; the injected ``clock`` only dates a poll observed without an
explicit time.

State lives in memory and is mirrored to the inventory database (``incidents``,
``incident_households``) whenever an incident changes; a new engine on the same database loads the
open incidents and closes them when their ONUs return. A failed write is logged and retried with the
next change: the correlation never stops for the database.

Thread-safety: call ``observe``/``observe_poll`` from one thread — the poller's event loop thread (the
trap receiver hands its events to that loop). A lock makes ``families()`` and ``open_incidents()``
safe to call from an exporter's thread as well. Database writes are synchronous and happen only when
an incident changes, so they block the loop rarely and briefly.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from ftthnoc import vendors
from ftthnoc.consumers import Poll
from ftthnoc.events import DeviceEvent, DownCause
from ftthnoc.incidents.classify import (
    ROGUE_LABEL,
    ROGUE_VICTIM_LABELS,
    OnuReading,
    PollDiffer,
    PortOnu,
    PortReading,
    ServiceReading,
    classify_event,
    read_onus,
    read_pon_ports,
    read_reachable,
    read_services,
    read_uplinks,
)
from ftthnoc.incidents.families import OpenSummary, incident_families
from ftthnoc.incidents.households import HouseholdsLookup, InventoryHouseholds, OnuKey
from ftthnoc.incidents.models import (
    CAUSE_OF_KIND,
    INCIDENT_KINDS,
    SCOPE_OF_KIND,
    TOWN_DISTRICT,
    Incident,
    IncidentHousehold,
    IncidentKind,
)
from ftthnoc.incidents.reporting import REPORTABLE_SECONDS, REPORTABLE_USERS, verdict
from ftthnoc.incidents.shared import Gasp, SharedGasps
from ftthnoc.incidents.topology import InventoryTopology, TopologyLookup
from ftthnoc.samples import MetricFamily
from ftthnoc.timezone import as_utc

log = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]
ChangeKind = Literal["opened", "grown", "reportable", "closed"]
UNKNOWN_DISTRICT = "unknown"
K = TypeVar("K")
#: what an open incident is found by: (kind, olt, pon_port, district), the parts its kind does not use empty
Slot = tuple[str, str, str, str]
#: kinds that close when their ONUs are back (an unreachable OLT closes when it answers)
_BY_MEMBERS: frozenset[str] = frozenset({"feeder_cut", "power_outage", "line_fault", "splitter_cut"})
#: kinds found by their OLT alone (a service's incident by its probe target, kept in the olt column)
_WHOLE_OLT: frozenset[str] = frozenset({"olt_unreachable", "uplink_down", "service_down"})


class IncidentConfig(BaseModel):
    """Correlation thresholds; the defaults are the operators' rules of thumb (keep them configurable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feeder_min_onus: int = Field(4, ge=1)
    feeder_min_share: float = Field(0.5, gt=0, le=1)
    feeder_window_seconds: float = Field(60.0, gt=0)
    power_min_onus: int = Field(5, ge=1)
    power_window_seconds: float = Field(300.0, gt=0)
    close_share: float = Field(1.0, gt=0, le=1)
    unreachable_polls: int = Field(2, ge=1)
    reportable_seconds: float = Field(REPORTABLE_SECONDS, gt=0)
    reportable_users: int = Field(REPORTABLE_USERS, ge=1)
    #: a few homes of one port dark together, below the feeder-cut thresholds: at least this many ONUs in LOS
    #: within ``feeder_window_seconds`` of each other and still down once that window has passed open a
    #: ``line_fault`` (None: off, they stay the households' own tickets). The ministry's 2-hour rule does not
    #: depend on the number of users: a 2-home fault of 5 hours is reportable, and only an incident reaches
    #: the quarterly export.
    line_fault_min_onus: int | None = Field(None, ge=2)
    #: an OLT interface is an uplink when its ifAlias (else ifName) matches this regular expression (the
    #: operators' convention of naming uplinks in the description, as the simulated town's "<olt> uplink 1")
    uplink_pattern: str = r"(?i)\buplink\b"
    #: a town service is down after this many failed checks in a row (FtthTownServiceDown's ``>= 2``)
    service_failed_cycles: int = Field(2, ge=1)
    #: a cut below a PON port (inventory splitters): at least this share of a splitter's online ONUs, and at
    #: least ``splitter_min_onus``, in LOS within ``feeder_window_seconds`` of each other → one ``splitter_cut``
    splitter_min_share: float = Field(1.0, gt=0, le=1)
    splitter_min_onus: int = Field(2, ge=1)


@dataclass(frozen=True, slots=True)
class IncidentChange:
    """What one ``observe`` call did to one incident. ``households`` are the codes added by it."""

    change: ChangeKind
    incident_id: int | None  # None only if the database write failed (it is retried)
    kind: IncidentKind
    district: str
    olt: str | None
    pon_port: str | None
    at: datetime
    affected_count: int
    onu_count: int
    households: tuple[str, ...] = ()
    splitter: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentSnapshot:
    """An open incident as the engine sees it now (for the API, the CLI and tests)."""

    id: int | None
    kind: IncidentKind
    district: str
    olt: str | None
    pon_port: str | None
    started_at: datetime
    reportable: bool
    affected_count: int
    onus: tuple[OnuKey, ...]
    households: tuple[str, ...]
    down: tuple[OnuKey, ...]
    splitter: str | None = None
    cabinet: str | None = None

    @property
    def scope(self) -> str:
        return SCOPE_OF_KIND[self.kind]


@dataclass(slots=True)
class _Member:
    household: str | None
    joined_at: datetime
    returned_at: datetime | None = None
    row_id: int | None = None
    dirty: bool = True


@dataclass(eq=False, slots=True)
class _Incident:
    kind: IncidentKind
    district: str
    olt: str | None
    pon_port: str | None
    started_at: datetime
    members: dict[OnuKey, _Member] = field(default_factory=dict)
    id: int | None = None
    reportable: bool = False
    ended_at: datetime | None = None
    splitter: str | None = None
    cabinet: str | None = None

    @property
    def cause(self) -> str:
        return CAUSE_OF_KIND[self.kind]

    @property
    def slot(self) -> Slot:
        if self.kind == "splitter_cut":
            return _splitter_slot(self.olt or "", self.pon_port or "", self.splitter or "")
        return _slot(self.kind, self.olt, self.pon_port, self.district)

    @property
    def affected_count(self) -> int:
        return len({m.household for m in self.members.values() if m.household})

    def households(self) -> tuple[str, ...]:
        return tuple(sorted({m.household for m in self.members.values() if m.household}))

    def returned_share(self) -> float:
        if not self.members:
            return 1.0
        return sum(1 for m in self.members.values() if m.returned_at is not None) / len(self.members)


@dataclass(slots=True)
class _Touched:
    opened: bool = False
    grown: bool = False
    reportable: bool = False
    closed: bool = False
    added: list[str] = field(default_factory=list)
    at: datetime | None = None


class _Batch:
    """The incidents one ``observe`` call touched, in order, to report as ``IncidentChange``s."""

    def __init__(self) -> None:
        self.touched: dict[_Incident, _Touched] = {}

    def get(self, inc: _Incident, at: datetime) -> _Touched:
        t = self.touched.setdefault(inc, _Touched())
        t.at = at
        return t


def _slot(kind: IncidentKind, olt: str | None, pon_port: str | None, district: str) -> Slot:
    if kind == "power_outage":
        return (kind, "", "", district)
    if kind in _WHOLE_OLT:
        return (kind, olt or "", "", "")
    return (kind, olt or "", pon_port or "", "")


def _board(port: str) -> str:
    """The board (frame/slot) of a PON port F/S/P: ``0/1`` of ``0/1/3``."""
    return port.rpartition("/")[0]


def _splitter_slot(olt: str, pon_port: str, splitter: str) -> Slot:
    return ("splitter_cut", olt, pon_port, splitter)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class IncidentEngine:
    """Correlates ONU down/up events into incidents; see the module docstring for rules and threading."""

    def __init__(
        self,
        session_factory: SessionFactory,
        config: IncidentConfig | None = None,
        households_lookup: HouseholdsLookup | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        olt_modules: frozenset[str] | None = None,
        topology: TopologyLookup | None = None,
        owned_olts: frozenset[str] | None = None,
        shard: str | None = None,
    ) -> None:
        self._sessions = session_factory
        #: a shard's OLTs (``serve --shard``): the engine takes up only their open incidents, and a district's
        #: power cut is one row that every shard with homes in it adds its own ONUs to (``_shared_row``)
        self._owned = owned_olts
        #: ... and counts a district's dying gasps over every shard's (``ftthnoc.incidents.shared``)
        self._gasps = SharedGasps(session_factory, owned_olts, shard or "?") if owned_olts is not None else None
        #: this shard's ONUs down with a dying gasp, dated, under no OLT-wide incident: ONU → (district, since)
        self._my_gasps: dict[OnuKey, Gasp] = {}
        self.config = config or IncidentConfig()
        self._households: HouseholdsLookup = (
            households_lookup if households_lookup is not None else InventoryHouseholds.from_sessions(session_factory)
        )
        self._topology: TopologyLookup = (
            topology if topology is not None else InventoryTopology.from_sessions(session_factory)
        )
        self._clock = clock
        #: the modules that read an OLT's ONUs: a failed poll of one is an unreachable OLT
        self._olt_modules = olt_modules if olt_modules is not None else vendors.olt_modules()
        self._lock = threading.RLock()
        self.differ = PollDiffer()
        self._down: dict[OnuKey, DownCause] = {}
        #: the first poll that showed an ONU down (for ONUs whose OLT gives no time of its own) ...
        self._seen_down: dict[OnuKey, datetime] = {}
        #: ... and those already down in it, not seen going down: since when they are down, nobody knows
        self._undated: set[OnuKey] = set()
        self._los_pending: dict[tuple[str, str], dict[OnuKey, datetime]] = {}
        self._power_pending: dict[str, dict[OnuKey, datetime]] = {}
        self._open: list[_Incident] = []
        self._index: dict[Slot, _Incident] = {}
        self._polled: dict[tuple[str, str], frozenset[str]] = {}
        #: OLT → (failed polls in a row, the first one's time)
        self._failing: dict[str, tuple[int, datetime]] = {}
        self._dirty: dict[_Incident, None] = {}
        self._totals: Counter[str] = Counter()
        self._down_events: Counter[tuple[str, str]] = Counter()
        #: (service target, probe) → since when its checks fail (the first failed cycle seen)
        self._service_since: dict[tuple[str, str], datetime] = {}
        #: (service target, probe) → its last reading
        self._services: dict[tuple[str, str], ServiceReading] = {}
        #: OLT → since when every uplink is down (the first poll that showed it)
        self._uplink_since: dict[str, datetime] = {}
        self._load()
        if self._gasps is not None:
            self._gasps.sync({})  # a shard starting clears its OLTs' gasps; its polls write them afresh

    # ------------------------------------------------------------------ public API
    def observe(self, event: DeviceEvent) -> list[IncidentChange]:
        """Take one event (trap or poll); returns the incidents it opened, grew, flagged or closed."""
        with self._lock:
            batch = _Batch()
            self._observe(event, batch)
            self._tick(as_utc(event.at), batch)
            return self._commit(batch)

    def observe_many(self, events: Iterable[DeviceEvent]) -> list[IncidentChange]:
        """Several events in one database transaction (a poll's worth, a trap burst)."""
        with self._lock:
            batch = _Batch()
            latest: datetime | None = None
            for event in events:
                self._observe(event, batch)
                at = as_utc(event.at)
                latest = at if latest is None or at > latest else latest
            if latest is not None:
                self._tick(latest, batch)
            return self._commit(batch)

    def observe_poll(self, poll: Poll) -> None:
        """A ``PollConsumer``: the poll's ONU readings, or its report on itself (``_scrape``: whether an OLT
        answered), with the changes it made logged."""
        _log_changes(self.observe_readings(poll.target, poll.families, poll.at))

    def observe_event(self, event: DeviceEvent) -> None:
        """An ``EventConsumer``: a trap's (or any source's) event, with the changes it made logged."""
        _log_changes(self.observe(event))

    def observe_readings(
        self, olt: str, families: Iterable[MetricFamily], at: datetime | None = None
    ) -> list[IncidentChange]:
        """Read this poll of ``olt`` as a state and as a change from the last one, and act on both.

        Fits the poller's ``publish(target, module, families)``: ``ftth_onu_up`` (with causes and times)
        is the OLT's state; ``ftthnoc_scrape_success`` of an OLT module says whether the OLT
        answered; families with neither (another module, a failed module poll) change nothing. Members of
        open incidents that the poll shows up are returned even without a diff (the first poll after a
        restart, a missed change).
        """
        fams = list(families)
        when = as_utc(at) if at is not None else self._clock()
        readings = read_onus(olt, fams)
        reachable = read_reachable(olt, fams, self._olt_modules)
        uplinks = read_uplinks(olt, fams, self.config.uplink_pattern)
        services = read_services(fams)
        if readings is None and reachable is None and uplinks is None and services is None:
            return []
        with self._lock:
            batch = _Batch()
            if readings is not None or reachable:
                self._olt_answers(olt, when, batch)
            elif reachable is False:
                self._olt_unreachable(olt, when, batch)
            if readings is not None:
                self._equipment_state(olt, readings, read_pon_ports(olt, fams), when, batch)
                self._poll_state(olt, readings, when, batch)
            if uplinks is not None:
                self._uplink_state(olt, uplinks, when, batch)
            if services is not None:
                self._service_state(services, when, batch)
            self._tick(when, batch)
            return self._commit(batch)

    def _poll_state(self, olt: str, readings: dict[PortOnu, OnuReading], when: datetime, batch: _Batch) -> None:
        listed: dict[str, set[str]] = {}
        for port, onu in readings:
            listed.setdefault(port, set()).add(onu)
        for port, onus in listed.items():
            self._polled[(olt, port)] = frozenset(onus)
        before = self.differ.last(olt)
        for (port, onu), r in readings.items():
            key = (olt, port, onu)
            if r.up:
                self._seen_down.pop(key, None)
                self._undated.discard(key)
            elif key not in self._seen_down:
                self._seen_down[key] = when
                was = before.get((port, onu))
                if was is None or not was.up:
                    self._undated.add(key)
        events = self.differ.diff_readings(olt, readings, when)
        back = {(e.pon_port, e.onu_id) for e in events if e.kind == "onu_up"}
        for inc in self._open:
            for (m_olt, port, onu), m in inc.members.items():
                reading = readings.get((port, onu))
                returned = reading is not None and reading.up and m.returned_at is None
                if m_olt == olt and returned and (port, onu) not in back:
                    back.add((port, onu))
                    events.append(DeviceEvent(when, olt, "onu_up", olt, port, onu, detail={"via": "reconcile"}))
        for event in events:
            self._observe(event, batch)
        self._feeder_state(olt, readings, when, batch)
        self._power_state(when, batch)

    def tick(self, at: datetime | None = None) -> list[IncidentChange]:
        """Advance time without an event: flags open incidents that have become reportable."""
        with self._lock:
            batch = _Batch()
            self._tick(as_utc(at) if at is not None else self._clock(), batch)
            return self._commit(batch)

    def families(self) -> list[MetricFamily]:
        """``ftthnoc_incident_open`` (one series per open incident), ``ftthnoc_incidents_open``, ``_total``,
        ``_affected_households`` and the down-event counts."""
        with self._lock:
            summaries = [
                OpenSummary(i.kind, i.district, i.affected_count, i.olt or "", i.pon_port or "", SCOPE_OF_KIND[i.kind],
                            i.splitter or "")
                for i in self._open
            ]
            return incident_families(summaries, self._totals, self._down_events, self._households.districts())

    def open_incidents(self) -> list[IncidentSnapshot]:
        with self._lock:
            return [
                IncidentSnapshot(
                    id=i.id,
                    kind=i.kind,
                    district=i.district,
                    olt=i.olt,
                    pon_port=i.pon_port,
                    started_at=i.started_at,
                    reportable=i.reportable,
                    affected_count=i.affected_count,
                    onus=tuple(i.members),
                    households=i.households(),
                    down=tuple(k for k, m in i.members.items() if m.returned_at is None),
                    splitter=i.splitter,
                    cabinet=i.cabinet,
                )
                for i in self._open
            ]

    def set_households(self, lookup: HouseholdsLookup) -> None:
        """Use a fresh inventory view (after an import); affects ONUs that go down from now on."""
        with self._lock:
            self._households = lookup

    def set_topology(self, lookup: TopologyLookup) -> None:
        """Use a fresh splitter tree (after an import); affects cuts seen from now on."""
        with self._lock:
            self._topology = lookup

    def flush(self) -> bool:
        """Retry writing changes a failed database write left behind; True when nothing is pending."""
        with self._lock:
            return self._flush()

    # ------------------------------------------------------------------ correlation
    def _observe(self, event: DeviceEvent, batch: _Batch) -> None:
        if event.kind not in ("onu_down", "onu_up") or not event.olt or not event.pon_port or event.onu_id is None:
            return
        key: OnuKey = (event.olt, event.pon_port, str(event.onu_id))
        at = as_utc(event.at)
        if event.kind == "onu_down":
            self._down_event(key, classify_event(event), at, event, batch)
        else:
            self._up_event(key, at, batch)

    def _down_event(self, key: OnuKey, cause: DownCause, at: datetime, event: DeviceEvent, batch: _Batch) -> None:
        if key in self._down:
            return  # the trap and the next poll report the same fault: count it once
        self._down[key] = cause
        district = self._district(key, event)
        self._down_events[(cause, district)] += 1
        for inc in self._open:
            m = inc.members.get(key)
            if m is not None and inc.cause == cause:  # came back, and is down the same way again
                m.returned_at, m.dirty = None, True
                self._mark(inc, at, batch)
                return
        if self._covering(key) is not None:
            return  # its OLT is unreachable: that incident explains it
        if cause == "los":
            port = (key[0], key[1])
            open_inc = self._index.get(_slot("feeder_cut", key[0], key[1], ""))
            if open_inc is not None:
                self._join(open_inc, key, at, batch)
                return
            if self._join_splitter(key, at, batch):
                return
            pending = self._los_pending.setdefault(port, {})
            self._expire_los(port, at, batch)
            pending[key] = at
            n = len(pending)
            known = len(self._households.port_onus(*port) | self._polled.get(port, frozenset()))
            if n >= self.config.feeder_min_onus and n >= self.config.feeder_min_share * max(known, n):
                self._open_incident("feeder_cut", port[0], port[1], None, pending, batch)
        elif cause == "dying_gasp":
            if self._gasps is not None:
                self._my_gasps[key] = (district, at)
            open_inc = self._index.get(_slot("power_outage", None, None, district))
            if open_inc is not None:
                self._join(open_inc, key, at, batch)
                return
            pending = self._power_pending.setdefault(district, {})
            pending[key] = at
            _prune(pending, at, self.config.power_window_seconds)
            if len(pending) >= self.config.power_min_onus:
                self._open_incident("power_outage", None, None, district, pending, batch)

    def _up_event(self, key: OnuKey, at: datetime, batch: _Batch) -> None:
        self._down.pop(key, None)
        self._my_gasps.pop(key, None)
        self._seen_down.pop(key, None)
        self._undated.discard(key)
        pending_los = self._los_pending.get((key[0], key[1]))
        if pending_los is not None:
            pending_los.pop(key, None)
        for pending in self._power_pending.values():
            pending.pop(key, None)
        for inc in list(self._open):
            m = inc.members.get(key)
            if m is None or m.returned_at is not None:
                continue
            m.returned_at, m.dirty = at, True
            self._mark(inc, at, batch)
            if inc.kind in _BY_MEMBERS and inc.returned_share() >= self.config.close_share - 1e-9:
                self._close(inc, at, batch)  # an unreachable OLT closes when it answers again

    def _open_incident(
        self,
        kind: IncidentKind,
        olt: str | None,
        pon_port: str | None,
        district: str | None,
        pending: dict[OnuKey, datetime],
        batch: _Batch,
        start: datetime | None = None,
        splitter: tuple[str, str | None] | None = None,
    ) -> _Incident:
        """Open an incident of ``pending``'s ONUs (each with its time), started at the earliest of them (or at
        ``start`` when there are none: an OLT whose ONUs nobody knows yet)."""
        members = {k: _Member(self._household(k), t) for k, t in sorted(pending.items())}
        if district is None:  # a port can serve two districts: the one most of its affected homes are in
            votes = Counter(self._district(k, None) for k in members)
            district = votes.most_common(1)[0][0] if votes else self._olt_district(olt)
        began = min(pending.values()) if pending else start
        assert began is not None, "an incident without members needs its start"
        inc = _Incident(kind, district, olt, pon_port, began, members)
        if splitter is not None:
            inc.splitter, inc.cabinet = splitter
        pending.clear()
        self._open.append(inc)
        self._index[inc.slot] = inc
        if kind in _BY_MEMBERS:
            for k in members:
                self._down.setdefault(k, "dying_gasp" if kind == "power_outage" else "los")
        self._totals[kind] += 1
        latest = max((m.joined_at for m in members.values()), default=began)
        touched = self._mark(inc, latest, batch)
        touched.opened = True
        touched.added.extend(inc.households())
        return inc

    def _join(self, inc: _Incident, key: OnuKey, at: datetime, batch: _Batch) -> None:
        member = _Member(self._household(key), at)
        inc.members[key] = member
        touched = self._mark(inc, at, batch)
        touched.grown = True
        if member.household:
            touched.added.append(member.household)

    def _close(self, inc: _Incident, at: datetime, batch: _Batch) -> None:
        inc.ended_at = max(at, inc.started_at)
        touched = self._mark(inc, at, batch)
        if not inc.reportable and self._reportable(inc, inc.ended_at):
            inc.reportable = touched.reportable = True
        self._open.remove(inc)
        if self._index.get(inc.slot) is inc:
            del self._index[inc.slot]
        touched.closed = True
        log.info("incident closed: %s %s after %s", inc.kind, inc.district, inc.ended_at - inc.started_at)

    def _tick(self, at: datetime, batch: _Batch) -> None:
        for inc in self._open:
            if not inc.reportable and self._reportable(inc, at):
                inc.reportable = True
                self._mark(inc, at, batch).reportable = True
        for port in list(self._los_pending):
            self._expire_los(port, at, batch)
            if not self._los_pending[port]:
                del self._los_pending[port]
        _prune_all(self._power_pending, at, self.config.power_window_seconds)
        if self._gasps is not None:
            self._shared_power(self._gasps, batch)

    def _reportable(self, inc: _Incident, at: datetime) -> bool:
        """The ministry's rule (``ftthnoc.incidents.reporting``) on the incident as it stands at ``at``."""
        return verdict(
            cause=inc.cause, scope=SCOPE_OF_KIND[inc.kind], duration_seconds=(at - inc.started_at).total_seconds(),
            users_affected=inc.affected_count, min_seconds=self.config.reportable_seconds,
            min_users=self.config.reportable_users,
        ).reportable  # fmt: skip

    # ------------------------------------------------------------------ the state of a poll
    def _olt_answers(self, olt: str, when: datetime, batch: _Batch) -> None:
        self._failing.pop(olt, None)
        inc = self._index.get(_slot("olt_unreachable", olt, None, ""))
        if inc is not None:
            self._return_all(inc, when, batch)
            self._close(inc, when, batch)

    def _olt_unreachable(self, olt: str, when: datetime, batch: _Batch) -> None:
        if _slot("olt_unreachable", olt, None, "") in self._index:
            return
        failed, since = self._failing.get(olt, (0, when))
        self._failing[olt] = (failed + 1, since)
        if failed + 1 < self.config.unreachable_polls:
            return
        onus = self._olt_onus(olt)
        self._open_incident("olt_unreachable", olt, None, None, dict.fromkeys(sorted(onus), since), batch, since)

    def _feeder_state(self, olt: str, readings: dict[PortOnu, OnuReading], when: datetime, batch: _Batch) -> None:
        """Ports of this poll whose LOS ONUs, as the poll shows them, make a feeder cut no incident holds."""
        held = self._held()
        by_port: dict[str, dict[OnuKey, datetime]] = {}
        for (port, onu), r in readings.items():
            key = (olt, port, onu)
            if r.up or r.cause != "los" or key in held:
                continue
            by_port.setdefault(port, {})[key] = self._down_time(key, r, when)
        for port, downs in sorted(by_port.items()):
            if _slot("feeder_cut", olt, port, "") in self._index or self._covering((olt, port, "")) is not None:
                continue
            burst = _densest(downs, self.config.feeder_window_seconds)
            n = len(burst)
            known = len(self._households.port_onus(olt, port) | self._polled.get((olt, port), frozenset()))
            if n >= self.config.feeder_min_onus and n >= self.config.feeder_min_share * max(known, n):
                self._los_pending.pop((olt, port), None)
                self._open_incident("feeder_cut", olt, port, None, burst, batch)
                continue
            downs = self._splitter_cuts(olt, port, downs, batch)
            if self.config.line_fault_min_onus is not None:
                # down since unknown times (the first poll, no device time) are no group of homes
                dated = {k: t for k, t in downs.items()
                         if k not in self._undated or readings[(k[1], k[2])].down_at is not None}  # fmt: skip
                self._line_fault(olt, port, dated, when, batch)

    def _splitter_cuts(self, olt: str, pon_port: str, downs: dict[OnuKey, datetime], batch: _Batch
                       ) -> dict[OnuKey, datetime]:  # fmt: skip
        """A port's LOS ONUs (no incident holding them, below the feeder-cut thresholds) that make the cut of
        one of its splitters: at least ``splitter_min_share`` of the splitter's online ONUs and at least
        ``splitter_min_onus``, within the feeder window of each other → one ``splitter_cut`` at the highest
        splitter that explains them (its children then have nothing left), or more members of the one open.
        A splitter over every ONU of the port is left to the feeder-cut rule. Returns the ONUs not taken."""
        nodes = self._topology.port_splitters(olt, pon_port)
        if not nodes or not downs:
            return downs
        port_onus = {(olt, pon_port, o) for o in self._households.port_onus(olt, pon_port)
                     | self._polled.get((olt, pon_port), frozenset())}  # fmt: skip
        rest = dict(downs)
        for node in nodes:
            below = self._topology.onus_below(node.name)
            mine = {k: t for k, t in rest.items() if k in below}
            if not mine or port_onus <= below:
                continue
            open_inc = self._index.get(_splitter_slot(olt, pon_port, node.name))
            if open_inc is not None:  # homes dark since before the cut (an older fault) stay out of it
                since = open_inc.started_at - timedelta(seconds=self.config.feeder_window_seconds)
                for k, t in sorted(mine.items()):
                    if t >= since:
                        self._join(open_inc, k, t, batch)
                        rest.pop(k)
                continue
            burst = _densest(mine, self.config.feeder_window_seconds)
            # online: below the splitter and not down for another reason (an older LOS, a dying gasp ...)
            online = sum(1 for k in below if k in burst or self._up_now(k))
            if len(burst) < self.config.splitter_min_onus or len(burst) < self.config.splitter_min_share * online:
                continue
            pending = self._los_pending.get((olt, pon_port), {})
            for k in burst:
                rest.pop(k)
                pending.pop(k, None)
            self._open_incident("splitter_cut", olt, pon_port, None, dict(burst), batch,
                                splitter=(node.name, node.cabinet))  # fmt: skip
        return rest

    def _up_now(self, key: OnuKey) -> bool:
        """Whether an ONU is up as its OLT's last poll shows it (else as the events say)."""
        reading = self.differ.last(key[0]).get((key[1], key[2]))
        return reading.up if reading is not None else key not in self._down

    def _join_splitter(self, key: OnuKey, at: datetime, batch: _Batch) -> bool:
        """An ONU going dark below a splitter whose cut is open joins that incident."""
        for name in self._topology.splitters_above(key):
            inc = self._index.get(_splitter_slot(key[0], key[1], name))
            if inc is not None:
                self._join(inc, key, at, batch)
                return True
        return False

    def _expire_los(self, port: tuple[str, str], at: datetime, batch: _Batch) -> None:
        """Drop a port's pending LOS events older than the feeder window; those that are still down and
        make a group of homes (``line_fault_min_onus``) open a line fault instead of being forgotten."""
        pending = self._los_pending.get(port)
        if pending is None:
            return
        window = timedelta(seconds=self.config.feeder_window_seconds)
        old = {k: t for k, t in pending.items() if t < at - window}
        if old and self.config.line_fault_min_onus is not None:
            self._line_fault(port[0], port[1], old, at, batch)
        for k in old:
            pending.pop(k, None)

    def _line_fault(self, olt: str, pon_port: str, downs: dict[OnuKey, datetime], at: datetime,
                    batch: _Batch) -> None:  # fmt: skip
        """A group of at least ``line_fault_min_onus`` ONUs of one port, down within the feeder window of each
        other, that window past (a feeder cut can no longer grow out of them) and no incident holding them:
        one ``line_fault``, or more members of the one open on the port."""
        least = self.config.line_fault_min_onus
        if least is None:
            return
        held = self._held()
        window = timedelta(seconds=self.config.feeder_window_seconds)
        free = {k: t for k, t in downs.items()
                if k not in held and self._covering(k) is None and t < at - window}  # fmt: skip
        burst = _densest(free, self.config.feeder_window_seconds)
        if len(burst) < least:
            return
        open_inc = self._index.get(_slot("line_fault", olt, pon_port, ""))
        if open_inc is None:
            self._open_incident("line_fault", olt, pon_port, None, dict(burst), batch)
            return
        for k, t in sorted(burst.items()):
            self._join(open_inc, k, t, batch)

    def _power_state(self, when: datetime, batch: _Batch) -> None:
        """Districts whose dying gasps, over every OLT's last poll, make a power cut no incident holds. Only
        ONUs with a time count: the OLT's own, or the poll in which the engine saw them go down."""
        held = self._held()
        by_district: dict[str, dict[OnuKey, datetime]] = {}
        polled = set(self.differ.olts())
        gasps: dict[OnuKey, Gasp] = {}
        for olt in polled:
            for (port, onu), r in self.differ.last(olt).items():
                key = (olt, port, onu)
                if r.up or r.cause != "dying_gasp" or self._covering(key) is not None:
                    continue
                if r.down_at is None and key in self._undated:
                    continue  # down since an unknown time: cannot be part of a burst of gasps
                t = self._down_time(key, r, when)
                district = self._district(key, None, r.district)
                gasps[key] = (district, t)
                if key not in held:
                    by_district.setdefault(district, {})[key] = t
        if self._gasps is not None:  # the polls say which of their OLTs' ONUs gasp now
            self._my_gasps = {k: g for k, g in self._my_gasps.items() if k[0] not in polled} | gasps
        for district, downs in sorted(by_district.items()):
            if _slot("power_outage", None, None, district) in self._index or len(downs) < self.config.power_min_onus:
                continue
            burst = _densest(downs, self.config.power_window_seconds)
            if len(burst) >= self.config.power_min_onus:
                self._power_pending.pop(district, None)
                self._open_incident("power_outage", None, None, district, burst, batch)

    def _shared_power(self, gasps: SharedGasps, batch: _Batch) -> None:
        """A shard's part of a power cut counted over every shard's gasps: its ONUs gasping in a district where
        no incident of its own is open are written to ``shard_gasps``; when the district's burst over every
        shard's rows reaches ``power_min_onus`` (or another shard's power cut is open there), this shard opens
        its part of the one row (``_shared_row`` merges them) with its own gasps of the burst (of the open
        cut: those since its start, less a window). A database that does not answer delays it to the next
        poll; the shard's own rule (``_power_state``) does not wait for it."""
        if not gasps.sync(self._my_gasps):
            return
        held = self._held()
        by_district: dict[str, dict[OnuKey, datetime]] = {}
        for key, (district, t) in self._my_gasps.items():
            if key in held or self._covering(key) is not None:
                continue
            if _slot("power_outage", None, None, district) in self._index:
                continue
            by_district.setdefault(district, {})[key] = t
        window = timedelta(seconds=self.config.power_window_seconds)
        for district, mine in sorted(by_district.items()):
            try:
                everyone, open_since = gasps.district(district)
            except SQLAlchemyError as exc:
                log.warning("shared dying gasps of %s not read (%s); counted with the next poll", district,
                            type(exc).__name__)
                return
            everyone.update(mine)
            if open_since is not None:
                members = {k: t for k, t in mine.items() if t >= open_since - window}
            else:
                burst = _densest(everyone, self.config.power_window_seconds)
                enough = len(burst) >= self.config.power_min_onus
                members = {k: t for k, t in burst.items() if k in mine} if enough else {}
            if members:
                self._power_pending.pop(district, None)
                self._open_incident("power_outage", None, None, district, members, batch)

    def _down_time(self, key: OnuKey, reading: OnuReading | None, when: datetime) -> datetime:
        """Since when an ONU is down: the OLT's own time, never after the first poll that showed it down (the
        one that saw it go down, or its first poll: ``_undated``), which is the time without one. An OLT's
        clock can run ahead of ours (no NTP on the management network): an ONU dark since an earlier poll,
        dated "later" by its OLT, must not join the burst of a cut that came after it."""
        seen = self._seen_down.get(key, when)
        if reading is not None and reading.down_at is not None:
            return min(reading.down_at, seen, when)
        return seen

    def _held(self) -> set[OnuKey]:
        """ONUs an open incident holds as down (not returned)."""
        return {k for inc in self._open for k, m in inc.members.items() if m.returned_at is None}

    def _covering(self, key: OnuKey) -> _Incident | None:
        """The open incident above an ONU (its OLT unreachable, its board or port down, a rogue ONU on its
        port), if any."""
        return self._index.get(_slot("olt_unreachable", key[0], None, "")) or self._equipment_covering(key)

    def _return_all(self, inc: _Incident, at: datetime, batch: _Batch) -> None:
        for m in inc.members.values():
            if m.returned_at is None:
                m.returned_at, m.dirty = at, True
        self._mark(inc, at, batch)

    def _olt_onus(self, olt: str) -> set[OnuKey]:
        """The ONUs of an OLT: the inventory's and those its last poll listed."""
        onus = {(olt, port, onu) for port, onu in self.differ.last(olt)}
        return onus | {(o, port, onu) for (o, port, onu) in self._households.olt_onus(olt)}

    def _olt_district(self, olt: str | None) -> str:
        return (self._households.olt_district(olt) if olt else None) or UNKNOWN_DISTRICT

    def _mark(self, inc: _Incident, at: datetime, batch: _Batch) -> _Touched:
        self._dirty[inc] = None
        return batch.get(inc, at)

    def _household(self, key: OnuKey) -> str | None:
        home = self._households.home(*key)
        return home.household if home is not None else None

    def _district(self, key: OnuKey, event: DeviceEvent | None, label: str | None = None) -> str:
        home = self._households.home(*key)
        if home is not None:
            return home.district
        if event is not None and event.detail.get("district"):
            return event.detail["district"]
        if label and label != UNKNOWN_DISTRICT:
            return label
        return self._households.olt_district(key[0]) or UNKNOWN_DISTRICT

    # ------------------------------------------------------------------ equipment above the ONUs (issue #11)
    def _equipment_covering(self, key: OnuKey) -> _Incident | None:
        """The open board, port or rogue-ONU incident above an ONU, if any."""
        olt, port = key[0], key[1]
        board = _board(port)
        return (self._index.get(_slot("board_down", olt, board, ""))
                or self._index.get(_slot("pon_port_down", olt, port, ""))
                or self._index.get(_slot("rogue_onu", olt, port, "")))  # fmt: skip

    def _equipment_state(self, olt: str, readings: dict[PortOnu, OnuReading], ports: dict[str, PortReading] | None,
                         when: datetime, batch: _Batch) -> None:  # fmt: skip
        """Boards, PON ports and rogue ONUs of this poll, read before its ONUs so that their incidents hold
        the ONUs under them (no feeder cut or line fault opens for those): a board down holds its ports, a
        port down or a rogue ONU its ONUs. Each opens once and closes when the poll no longer shows it.

        - ``board_down``: every ONU of every port of one board (frame/slot), at least two ports with ONUs,
          is down, and every port of it whose state the module reads is faulty. No vendor pack reads a
          board's own status (neither HUAWEI-DEVICE-MIB's board table nor ZTE's card table is in a module),
          so the board is derived from its ports.
        - ``pon_port_down``: the port's own state faulty, its laser switched on, and no transmit power
          reading: the OLT's port or optic is dead. A cut feeder leaves the port transmitting (Huawei
          reads the port faulty then too, since no ONU answers): that stays a ``feeder_cut``. Only where the
          module reads the port (Huawei).
        - ``rogue_onu``: the ONUs of one port down with LOSi/LOBi as many as a feeder cut needs
          (``feeder_min_onus``, ``feeder_min_share``), and one ONU of the port whose last down cause is the
          rogue-ONT alarm (Huawei cause 37). Where no vendor gives that alarm it stays a feeder cut.
        """
        by_port: dict[str, dict[OnuKey, OnuReading]] = {}
        for (port, onu), r in readings.items():
            by_port.setdefault(port, {})[(olt, port, onu)] = r
        all_ports = sorted(set(by_port) | set(ports or {}))
        boards: dict[str, list[str]] = {}
        for port in all_ports:
            boards.setdefault(_board(port), []).append(port)
        on_dead_board: set[str] = set()
        for board, names in boards.items():
            populated = [p for p in names if by_port.get(p)]
            dead = (len(populated) >= 2
                    and all(not r.up for p in populated for r in by_port[p].values())
                    and all(not ports[p].up for p in names if ports is not None and p in ports))  # fmt: skip
            onus = {k: r for p in populated for k, r in by_port[p].items()}
            self._equipment_incident("board_down", olt, board, dead, onus, when, batch)
            if dead:
                on_dead_board.update(names)
        for port in all_ports:
            onus = by_port.get(port, {})
            state = ports.get(port) if ports is not None else None
            port_dead = (port not in on_dead_board and state is not None
                         and not state.up and state.laser_on and not state.transmits)  # fmt: skip
            self._equipment_incident("pon_port_down", olt, port, port_dead, onus, when, batch)
            rogue = port not in on_dead_board and not port_dead and self._rogue(olt, port, onus)
            victims = {k: r for k, r in onus.items()
                       if not r.up and (r.label in ROGUE_VICTIM_LABELS or r.label == ROGUE_LABEL)}  # fmt: skip
            self._equipment_incident("rogue_onu", olt, port, rogue, victims, when, batch)

    def _rogue(self, olt: str, port: str, onus: dict[OnuKey, OnuReading]) -> bool:
        """A rogue ONU on the port: the rogue-ONT alarm on one ONU, and as many in LOSi/LOBi as a cut needs."""
        if not any(r.label == ROGUE_LABEL for r in onus.values()):
            return False
        n = sum(1 for r in onus.values() if not r.up and r.label in ROGUE_VICTIM_LABELS)
        known = len(self._households.port_onus(olt, port) | {k[2] for k in onus})
        return n >= self.config.feeder_min_onus and n >= self.config.feeder_min_share * max(known, n)

    def _equipment_incident(self, kind: IncidentKind, olt: str, part: str, down: bool,
                            onus: dict[OnuKey, OnuReading], when: datetime, batch: _Batch) -> None:  # fmt: skip
        """Open ``kind`` for ``part`` (a board or a port of ``olt``) with the ONUs of ``onus`` that this poll
        shows going down as members while ``down``; close it when not. The ONUs' own time dates it where the
        OLT gives one."""
        slot = _slot(kind, olt, part, "")
        inc = self._index.get(slot)
        # ONUs the last poll already showed down went down before the equipment did: their own tickets, as
        # for a feeder cut (at the first poll nobody knows: all of them)
        before = self.differ.last(olt)
        onus = {k: r for k, r in onus.items()
                if not r.up and ((k[1], k[2]) not in before or before[(k[1], k[2])].up)}  # fmt: skip
        if down and inc is None:
            members = {k: self._down_time(k, r, when) for k, r in onus.items()}
            self._open_incident(kind, olt, part, None, members, batch, when)
        elif down and inc is not None:
            for k, r in sorted(onus.items()):
                if k not in inc.members:
                    self._join(inc, k, self._down_time(k, r, when), batch)
        elif inc is not None:
            self._return_all(inc, when, batch)
            self._close(inc, when, batch)

    def _uplink_state(self, olt: str, uplinks: dict[str, bool], when: datetime, batch: _Batch) -> None:
        """``uplink_down``: every uplink of the OLT (``uplink_pattern``) operationally down, none shut by the
        operator. Its users are every home on the OLT: their ONUs may still be up on the PON, but no traffic
        leaves the OLT. It holds no ONU as down (a feeder cut under it is another crew's fault and still
        opens), and closes as soon as one uplink is up."""
        slot = _slot("uplink_down", olt, None, "")
        inc = self._index.get(slot)
        if not any(uplinks.values()):
            since = self._uplink_since.setdefault(olt, when)
            if inc is None:
                members = dict.fromkeys(sorted(self._olt_onus(olt)), since)
                self._open_incident("uplink_down", olt, None, self._olt_district(olt), members, batch, since)
            return
        self._uplink_since.pop(olt, None)
        if inc is not None:
            self._return_all(inc, when, batch)
            self._close(inc, when, batch)

    def _service_state(self, services: list[ServiceReading], when: datetime, batch: _Batch) -> None:
        """``service_down``: a town service (an e-application portal, the website, the town's DNS) failed
        ``service_failed_cycles`` checks in a row (the prober's count, as FtthTownServiceDown reads it) →
        one incident per service target, whichever of its checks (http, dns) fails, started at the first
        failed check. No household is a member: the homes' lines work; the district is the probe target's,
        else the whole town (``TOWN_DISTRICT``). It closes when none of its checks fails any more."""
        for r in services:
            key = (r.target, r.probe)
            self._services[key] = r
            if r.failed_cycles > 0:
                self._service_since.setdefault(key, when)
            else:
                self._service_since.pop(key, None)
        for target in sorted({r.target for r in services}):
            checks = [r for (t, _p), r in self._services.items() if t == target]
            down = any(r.failed_cycles >= self.config.service_failed_cycles for r in checks)
            inc = self._index.get(_slot("service_down", target, None, ""))
            if down and inc is None:
                since = min(self._service_since.get((target, r.probe), when) for r in checks if r.failed_cycles)
                district = next((r.district for r in checks if r.district), None) or TOWN_DISTRICT
                self._open_incident("service_down", target, None, district, {}, batch, since)
            elif not down and inc is not None:
                self._close(inc, when, batch)

    # ------------------------------------------------------------------ persistence
    def _load(self) -> None:
        """Open incidents and the per-kind totals from the database (a restart keeps both)."""
        with self._sessions() as session:
            for kind_name, n in session.execute(select(Incident.kind, func.count()).group_by(Incident.kind)):
                self._totals[kind_name] = n
            rows = session.scalars(
                select(Incident)
                .where(Incident.status == "open")
                .order_by(Incident.id)
                .options(selectinload(Incident.households))
            ).all()
            for row in rows:
                kind = next((k for k in INCIDENT_KINDS if k == row.kind), None)
                if kind is None:  # a kind this version does not know (a newer one wrote it): leave it alone
                    log.warning("incident #%s has an unknown kind %r: not loaded", row.id, row.kind)
                    continue
                if self._owned is not None and row.olt is not None and row.olt not in self._owned:
                    continue  # another shard's OLT: that shard's engine has it
                started = as_utc(row.started_at)
                inc = _Incident(kind, row.district, row.olt, row.pon_port, started, id=row.id,
                                splitter=row.splitter, cabinet=row.cabinet)  # fmt: skip
                inc.reportable = row.reportable
                for h in row.households:
                    if self._owned is not None and h.olt not in self._owned:
                        continue
                    key = (h.olt, h.pon_port, h.onu_id)
                    returned = as_utc(h.returned_at) if h.returned_at is not None else None
                    inc.members[key] = _Member(h.household, as_utc(h.joined_at), returned, h.id, dirty=False)
                    if returned is None and kind in _BY_MEMBERS:
                        self._down[key] = "dying_gasp" if kind == "power_outage" else "los"
                if self._owned is not None and not inc.members and row.olt is None:
                    continue  # a shared power cut without homes of this shard's OLTs
                self._open.append(inc)
                self._index[inc.slot] = inc

    def _commit(self, batch: _Batch) -> list[IncidentChange]:
        if not batch.touched:
            return []
        self._flush()
        changes: list[IncidentChange] = []
        for inc, t in batch.touched.items():
            at = t.at or inc.started_at
            kinds: list[ChangeKind] = []
            if t.opened:
                kinds.append("opened")
            elif t.grown:
                kinds.append("grown")
            if t.reportable:
                kinds.append("reportable")
            if t.closed:
                kinds.append("closed")
            for k in kinds:
                added = tuple(t.added) if k in ("opened", "grown") else ()
                changes.append(
                    IncidentChange(
                        k, inc.id, inc.kind, inc.district, inc.olt, inc.pon_port, at,
                        inc.affected_count, len(inc.members), added, inc.splitter,
                    )
                )
        return changes

    def _flush(self) -> bool:
        dirty = list(self._dirty)
        if not dirty:
            return True
        try:
            with self._sessions() as session:
                written: list[tuple[_Incident, Incident, list[tuple[_Member, IncidentHousehold]]]] = []
                for inc in dirty:
                    shared = self._owned is not None and inc.kind == "power_outage"
                    row = session.get(Incident, inc.id) if inc.id is not None else None
                    if shared:
                        row = _shared_row(session, inc, row)
                    new_row = row is None
                    first_start = row.started_at if row is not None else None
                    if row is None:
                        row = Incident(kind=inc.kind, cause=CAUSE_OF_KIND[inc.kind])
                        session.add(row)
                    _fill(row, inc)
                    added: list[tuple[_Member, IncidentHousehold]] = []
                    for (olt, port, onu), m in inc.members.items():
                        if not m.dirty:
                            continue
                        if m.row_id is None:
                            h = IncidentHousehold(
                                olt=olt, pon_port=port, onu_id=onu, household=m.household,
                                joined_at=m.joined_at, returned_at=m.returned_at,
                            )
                            if new_row:
                                row.households.append(h)
                            else:
                                h.incident_id = row.id
                                session.add(h)
                            added.append((m, h))
                        else:
                            existing = session.get(IncidentHousehold, m.row_id)
                            if existing is not None:
                                existing.returned_at = m.returned_at
                    written.append((inc, row, added))
                    if shared:
                        session.flush()
                        _recount(session, row, inc, first_start)
                session.flush()
                ids = [(inc, row.id, [(m, h.id) for m, h in added]) for inc, row, added in written]
                session.commit()
        except SQLAlchemyError:
            log.exception("incident store: write failed; kept in memory, retried with the next change")
            return False
        for inc, row_id, members in ids:
            inc.id = row_id
            for m, h_id in members:
                m.row_id = h_id
            for m in inc.members.values():
                m.dirty = False
        self._dirty.clear()
        return True


def _shared_row(session: Session, inc: _Incident, row: Incident | None) -> Incident | None:
    """A district's power cut seen by several shards is one row: under a lock on the district (PostgreSQL's
    advisory lock, held to the commit; SQLite has one writer anyway), the open row another shard opened is
    the one to add to. Returns the row to write (None: none is open, insert one)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"ftthnoc power_outage {inc.district}"))))
    if row is not None:
        return row
    return session.scalars(select(Incident).where(Incident.kind == "power_outage", Incident.status == "open",
                                                  Incident.district == inc.district)
                           .order_by(Incident.id).limit(1)).first()


def _recount(session: Session, row: Incident, inc: _Incident, first_start: datetime | None) -> None:
    """A shared power cut's counts from every shard's members, its start the earliest shard's, and closed
    only when no shard's member is still down (the last shard whose homes return closes it)."""
    members = select(IncidentHousehold).where(IncidentHousehold.incident_id == row.id).subquery()
    affected, onus, down = session.execute(select(
        func.count(func.distinct(members.c.household)), func.count(),
        func.count().filter(members.c.returned_at.is_(None)))).one()
    row.affected_count, row.onu_count = affected, onus
    if first_start is not None and as_utc(first_start) < inc.started_at:
        row.started_at = first_start
    if inc.ended_at is not None and down:
        row.status, row.ended_at, row.duration_seconds = "open", None, None
    elif inc.ended_at is not None:
        row.duration_seconds = int((inc.ended_at - as_utc(row.started_at)).total_seconds())


def _fill(row: Incident, inc: _Incident) -> None:
    row.status = "open" if inc.ended_at is None else "closed"
    row.district = inc.district
    row.olt = inc.olt
    row.pon_port = inc.pon_port
    row.started_at = inc.started_at
    row.ended_at = inc.ended_at
    row.duration_seconds = (
        None if inc.ended_at is None else int((inc.ended_at - inc.started_at).total_seconds())
    )
    row.affected_count = inc.affected_count
    row.onu_count = len(inc.members)
    row.reportable = inc.reportable
    row.splitter = inc.splitter
    row.cabinet = inc.cabinet


def _densest(times: dict[OnuKey, datetime], window_seconds: float) -> dict[OnuKey, datetime]:
    """The most ONUs whose times lie within ``window_seconds`` of each other (of equal bursts, the latest):
    the burst a state's down times hold, as the event rules would have seen it."""
    ordered = sorted(times.items(), key=lambda kv: (kv[1], kv[0]))
    window = timedelta(seconds=window_seconds)
    best: tuple[int, int] = (0, 0)
    lo = 0
    for hi in range(len(ordered)):
        while ordered[hi][1] - ordered[lo][1] > window:
            lo += 1
        if hi - lo + 1 >= best[1] - best[0]:
            best = (lo, hi + 1)
    return dict(ordered[best[0]:best[1]])


def _prune_all(pendings: dict[K, dict[OnuKey, datetime]], at: datetime, window_seconds: float) -> None:
    """Prune every pending burst and drop the empty ones, so that memory stays bounded."""
    for name in list(pendings):
        _prune(pendings[name], at, window_seconds)
        if not pendings[name]:
            del pendings[name]


def _prune(pending: dict[OnuKey, datetime], at: datetime, window_seconds: float) -> None:
    """Forget down events older than the window: they are no longer part of a burst."""
    oldest = at - timedelta(seconds=window_seconds)
    for key in [k for k, t in pending.items() if t < oldest]:
        del pending[key]


def _log_changes(changes: Sequence[IncidentChange]) -> None:
    """One readable line per change; a change's repr lists (masked) household codes, one per home."""
    for line in summarize(changes).splitlines():
        log.info("incident %s", line)


def summarize(changes: Sequence[IncidentChange]) -> str:
    """One line per change, for logs and the demo (household codes are counted, not listed)."""
    return "\n".join(
        f"{c.change} #{c.incident_id} {c.kind} {c.district} {c.olt or ''} {c.pon_port or ''} "
        f"{'splitter ' + c.splitter + ' ' if c.splitter else ''}"
        f"affected={c.affected_count} at={c.at.isoformat()}"
        for c in changes
    )
