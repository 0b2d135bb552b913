"""Why an ONU is down (docs/facts.md, "Why an ONU is down"), from a trap or from two consecutive polls.

Three classes matter to the operators: ``dying_gasp`` (the home lost power), ``los`` (fibre or ONU
failed: the ``los``/``losi_lobi`` labels) and ``other``. They are read from the neutral ``cause`` labels of
``ftth_onu_last_down_cause`` and of trap events; each vendor pack turns its raw codes into those labels.
Polls report states, not changes, so ``PollDiffer`` remembers the last poll of each OLT and turns what
changed into the same ``DeviceEvent``s the trap receiver emits; the incident engine never needs to know
which one it got.

What a diff cannot see: an ONU that went down and came back between two polls (its last-down cause
changes while it stays up) produces no event; traps cover that. The first poll of an OLT is a baseline
for the diff: ONUs already down then produce no event. They are not forgotten: the engine also reads each
poll as a state (``read_onus``, with the device's own last-down time where the module gives one,
``ftth_onu_last_down_timestamp_seconds``) and opens what that state shows (``engine``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from ftthnoc import causes
from ftthnoc.events import DeviceEvent, DownCause
from ftthnoc.samples import MetricFamily

UP_FAMILY = "ftth_onu_up"
CAUSE_FAMILY = "ftth_onu_last_down_cause"
DOWN_TIME_FAMILY = "ftth_onu_last_down_timestamp_seconds"

#: (pon_port, onu_id) on one OLT
PortOnu = tuple[str, str]


def classify_label(label: str | None) -> DownCause:
    """A cause label (module enum, trap varbind text) to its fault class (``ftthnoc.causes``); an ONU taken
    down on purpose is ``other`` here until the incident model tells it apart."""
    cls = causes.class_of(label)
    return "other" if cls == "deliberate" else cls


def classify_event(event: DeviceEvent) -> DownCause:
    """The fault class of an ``onu_down`` event: the event's own cause, else a cause label in its
    detail (``cause``/``cause_label``), else ``other``."""
    if event.cause is not None:
        return event.cause
    for key in ("cause", "cause_label", "down_cause"):
        if key in event.detail:
            return classify_label(event.detail[key])
    return "other"


@dataclass(frozen=True, slots=True)
class OnuReading:
    """One ONU in one poll: up or not, and (when down) why, with the district label if the poll had one and
    the device's own last-down time (UTC) where its module reads one (Huawei), else None."""

    up: bool
    cause: DownCause
    label: str
    district: str | None = None
    down_at: datetime | None = None


def read_onus(olt: str, families: Iterable[MetricFamily]) -> dict[PortOnu, OnuReading] | None:
    """The ONUs of one OLT's poll, or None when the poll says nothing about ONUs (it failed, or the
    module has no ``ftth_onu_up``): a failed poll must never read as "every ONU is gone"."""
    up_fam: MetricFamily | None = None
    labels: dict[PortOnu, str] = {}
    times: dict[PortOnu, datetime] = {}
    for fam in families:
        if fam.name == UP_FAMILY:
            up_fam = fam
        elif fam.name == CAUSE_FAMILY:
            for s in fam.samples:
                if s.labels.get("olt", olt) == olt:
                    labels[(s.labels.get("pon_port", ""), s.labels.get("onu_id", ""))] = s.labels.get("cause", "")
        elif fam.name == DOWN_TIME_FAMILY:
            for s in fam.samples:
                if s.labels.get("olt", olt) == olt and s.value > 0:
                    key = (s.labels.get("pon_port", ""), s.labels.get("onu_id", ""))
                    times[key] = datetime.fromtimestamp(s.value, UTC)
    if up_fam is None or not up_fam.samples:
        return None
    out: dict[PortOnu, OnuReading] = {}
    for s in up_fam.samples:
        if s.labels.get("olt", olt) != olt or "pon_port" not in s.labels or "onu_id" not in s.labels:
            continue
        key = (s.labels["pon_port"], s.labels["onu_id"])
        label = labels.get(key, "")
        up = s.value >= 1
        down_at = None if up else times.get(key)
        out[key] = OnuReading(up, classify_label(label), label, s.labels.get("district"), down_at)
    return out


class PollDiffer:
    """Remembers the last poll of each OLT and reports what changed as ``onu_down``/``onu_up`` events.

    An ONU seen for the first time (first poll of its OLT, or a newly listed ONU) is a baseline, not an
    event. An ONU missing from a poll keeps its last state: absence is not a state change.
    """

    def __init__(self) -> None:
        self._last: dict[str, dict[PortOnu, OnuReading]] = {}

    def seen(self, olt: str) -> bool:
        return olt in self._last

    def olts(self) -> list[str]:
        """The OLTs polled so far."""
        return list(self._last)

    def last(self, olt: str) -> Mapping[PortOnu, OnuReading]:
        return self._last.get(olt, {})

    def diff(self, olt: str, families: Iterable[MetricFamily], at: datetime) -> list[DeviceEvent]:
        """Events implied by this poll of ``olt`` at ``at`` (UTC), in port and ONU order."""
        readings = read_onus(olt, families)
        return [] if readings is None else self.diff_readings(olt, readings, at)

    def diff_readings(self, olt: str, readings: Mapping[PortOnu, OnuReading], at: datetime) -> list[DeviceEvent]:
        before = self._last.get(olt)
        merged = dict(before or {})
        merged.update(readings)
        self._last[olt] = merged
        if before is None:
            return []
        events: list[DeviceEvent] = []
        for key in sorted(readings, key=_order):
            now, was = readings[key], before.get(key)
            if was is None or was.up == now.up:
                continue
            pon_port, onu_id = key
            detail = {"via": "poll"}
            if now.district:
                detail["district"] = now.district
            if now.up:
                events.append(DeviceEvent(at, olt, "onu_up", olt, pon_port, onu_id, detail=detail))
            else:
                detail["cause_label"] = now.label
                events.append(DeviceEvent(at, olt, "onu_down", olt, pon_port, onu_id, now.cause, detail=detail))
        return events


def _order(key: PortOnu) -> tuple[tuple[int, ...], int, str, str]:
    """F/S/P and ONU id in numeric order (so that ``0/1/10`` follows ``0/1/9``)."""
    port, onu = key
    try:
        nums = tuple(int(x) for x in port.split("/"))
        onu_n = int(onu)
    except ValueError:
        return ((), 0, port, onu)
    return (nums, onu_n, "", "")


SCRAPE_FAMILY = "ftthnoc_scrape_success"
UNANSWERED_FAMILY = "ftthnoc_scrape_unanswered"


def read_reachable(target: str, families: Iterable[MetricFamily], olt_modules: frozenset[str]) -> bool | None:
    """From a poll's report on itself: False if the poll of one of the target's OLT modules failed because
    the OLT stopped answering, True if every one was answered, None if the families say nothing about an
    OLT module. A poll that failed although the OLT answered (it overran its bound on a busy poller, or
    answered something malformed) is a failing poll (``FtthnocPollFailing``), not an unreachable OLT; a
    report without ``ftthnoc_scrape_unanswered`` (an older recording) counts every failure as silence."""
    fams = list(families)
    unanswered = {s.labels.get("module"): s.value >= 1 for f in fams if f.name == UNANSWERED_FAMILY
                  for s in f.samples if s.labels.get("target") == target}
    seen: list[bool] = []
    for fam in fams:
        if fam.name != SCRAPE_FAMILY:
            continue
        for s in fam.samples:
            module = s.labels.get("module")
            if s.labels.get("target") == target and module in olt_modules:
                seen.append(s.value >= 1 or not unanswered.get(module, True))
    return None if not seen else all(seen)


# ---------------------------------------------------------------- equipment above the ONUs (issue #11)
PORT_UP_FAMILY = "ftth_pon_port_up"
PORT_LASER_FAMILY = "ftth_pon_port_laser_on"
PORT_TX_FAMILY = "ftth_pon_port_tx_power_dbm"
IF_OPER_FAMILY = "ifOperStatus"
IF_ADMIN_FAMILY = "ifAdminStatus"
SERVICE_FAILED_FAMILY = "ftthnoc_probe_service_failed_cycles"
#: the cause label of the ONU an OLT found transmitting out of its slot (Huawei cause 37, "a rogue ONT
#: detected by itself"; docs/facts.md: a whole port in LOSi with the rogue-ONT alarm is a rogue ONU)
ROGUE_LABEL = "rogue_ont"
#: what the other ONUs of a port with a rogue ONU show: their upstream bursts are lost (LOSi / LOBi)
ROGUE_VICTIM_LABELS: frozenset[str] = frozenset({"losi_lobi", "losi", "lobi"})


@dataclass(frozen=True, slots=True)
class PortReading:
    """One PON port in one poll, where the vendor module reads the port's own rows (Huawei's
    hwGponDeviceOltControlStatus, laser switch and transmit power; ZTE's modules read none): ``up`` its
    operational state, ``laser_on`` the operator's switch, ``transmits`` whether its transmitter gave a
    reading (a dead optic or port answers the sentinel, which the module drops)."""

    up: bool
    laser_on: bool
    transmits: bool


def read_pon_ports(olt: str, families: Iterable[MetricFamily]) -> dict[str, PortReading] | None:
    """The PON ports of one OLT's poll, or None when the poll reads no port state."""
    up: dict[str, bool] = {}
    laser: dict[str, bool] = {}
    tx: set[str] = set()
    for fam in families:
        if fam.name not in (PORT_UP_FAMILY, PORT_LASER_FAMILY, PORT_TX_FAMILY):
            continue
        for s in fam.samples:
            port = s.labels.get("pon_port")
            if port is None or s.labels.get("olt", olt) != olt:
                continue
            if fam.name == PORT_UP_FAMILY:
                up[port] = s.value >= 1
            elif fam.name == PORT_LASER_FAMILY:
                laser[port] = s.value >= 1
            else:
                tx.add(port)
    if not up:
        return None
    return {p: PortReading(u, laser.get(p, True), p in tx) for p, u in up.items()}


def read_uplinks(device: str, families: Iterable[MetricFamily], pattern: str) -> dict[str, bool] | None:
    """The uplinks of one device's ``if_mib`` poll, name → operationally up, or None when the poll has no
    ``ifOperStatus`` or no interface whose ``ifAlias`` (else ``ifName``) matches ``pattern``. An uplink the
    operator shut (``ifAdminStatus`` down) is left out: shut on purpose is no outage."""
    rx = re.compile(pattern)
    oper: dict[str, tuple[str, bool]] = {}
    admin_down: set[str] = set()
    seen = False
    for fam in families:
        if fam.name not in (IF_OPER_FAMILY, IF_ADMIN_FAMILY):
            continue
        seen = True
        for s in fam.samples:
            if s.labels.get("device", device) != device:
                continue
            index = s.labels.get("ifIndex", "")
            if fam.name == IF_ADMIN_FAMILY:
                if s.value == 2:
                    admin_down.add(index)
                continue
            name = s.labels.get("ifName") or s.labels.get("ifDescr") or index
            if rx.search(s.labels.get("ifAlias", "")) or rx.search(name):
                oper[index] = (name, s.value == 1)
    if not seen:
        return None
    found = {name: is_up for index, (name, is_up) in oper.items() if index not in admin_down}
    return found or None


@dataclass(frozen=True, slots=True)
class ServiceReading:
    """A town service's check (``probe``: http, dns) in one prober cycle: failed cycles in a row."""

    target: str
    probe: str
    failed_cycles: int
    district: str | None


def read_services(families: Iterable[MetricFamily]) -> list[ServiceReading] | None:
    """The service checks of one prober publish, or None when it has none."""
    out: list[ServiceReading] | None = None
    for fam in families:
        if fam.name != SERVICE_FAILED_FAMILY:
            continue
        out = out if out is not None else []
        for s in fam.samples:
            if "target" in s.labels:
                out.append(ServiceReading(s.labels["target"], s.labels.get("probe", ""), int(s.value),
                                          s.labels.get("district")))  # fmt: skip
    return out
