"""A household's line in one look: is it up now, is its light level within its PON class's limits, why
and since when it is down, and the open incident it belongs to.

Everything comes from what the API already reads: the inventory (the household's ONUs, their OLT's PON
class), the poller's snapshot through the state provider (``api.services.onus.line_of``: up, Rx, last
down cause and time) and the incident tables. Nothing here asks a device. No personal field is read.

With poller shards, an ONU on an OLT this process does not poll (``Live``) reads its up and Rx from the
shared store with the reading's age, or ``unknown`` and why (its shard is silent, the store did not
answer or has no reading), as the ONU list does (``api.services.onus.Lives``): never an old value as
current. ONUs on the process's own OLTs read its snapshot, unless its own shard is silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.common import Window
from api.services.onus import Live, Lives, OnuLine, OnuStateProvider, Unknown, line_of, search
from ftthnoc.causes import CauseClass, class_of
from ftthnoc.config import Thresholds
from ftthnoc.incidents.models import Incident, IncidentHousehold
from ftthnoc.inventory.models import Olt

#: What the headline says: up, down, nobody can say now (another shard's OLT: its shard silent, the store
#: not answering), no poll has seen the ONU, or no ONU on the line at all.
LineState = Literal["up", "down", "unknown", "not_polled", "no_onu"]
#: Where Rx stands against the PON class's alarm levels.
RxLevel = Literal["ok", "low_warning", "low_critical", "high_warning", "high_critical"]

#: ONUs of one household looked at, at most (one is the rule).
MAX_ONUS = 8


@dataclass(frozen=True)
class OnuStatus:
    serial: str
    olt: str
    pon_port: str
    onu_id: int
    pon_class: str | None
    line: OnuLine
    state: LineState
    rx_level: RxLevel | None
    thresholds: Thresholds | None
    cause_class: CauseClass | None
    #: when it went down: the OLT's last-down time, else when its incident counted it, else None
    down_since: datetime | None


@dataclass(frozen=True)
class LineStatus:
    """The headline (``state``, from the ONU that matters most: a down one before an unpolled one before
    an up one) and each ONU's own status; ``incident``: the open incident that counts this household."""

    state: LineState
    rx_level: RxLevel | None
    cause_class: CauseClass | None
    cause: str | None
    down_since: datetime | None
    incident: Incident | None
    onus: list[OnuStatus]
    #: the headline ONU's reading is another shard's, from the store, this old
    age_seconds: float | None = None
    #: why the headline ONU's state is unknown now (``state`` ``unknown``)
    unknown: Unknown | None = None


def rx_level(rx_dbm: float | None, limits: Thresholds | None) -> RxLevel | None:
    """Rx against the alarm levels (None when either is unknown)."""
    if rx_dbm is None or limits is None:
        return None
    if rx_dbm < limits.rx_low_critical:
        return "low_critical"
    if rx_dbm < limits.rx_low_warning:
        return "low_warning"
    if rx_dbm > limits.rx_high_critical:
        return "high_critical"
    if rx_dbm > limits.rx_high_warning:
        return "high_warning"
    return "ok"


def open_incident(session: Session, code: str) -> tuple[Incident, dict[tuple[str, str, str], datetime]] | None:
    """The newest open incident that counts household ``code`` among its still-down ONUs, and when it
    counted each of them ((olt, pon_port, onu_id) -> joined)."""
    rows = session.execute(
        select(Incident, IncidentHousehold)
        .join(IncidentHousehold, IncidentHousehold.incident_id == Incident.id)
        .where(IncidentHousehold.household == code, IncidentHousehold.returned_at.is_(None),
               Incident.status == "open")
        .order_by(Incident.started_at.desc(), Incident.id.desc())
    ).all()  # fmt: skip
    if not rows:
        return None
    incident = rows[0][0]
    joined = {(m.olt, m.pon_port, m.onu_id): m.joined_at for i, m in rows if i.id == incident.id}
    return incident, joined


_ORDER: dict[LineState, int] = {"down": 0, "unknown": 1, "not_polled": 2, "up": 3, "no_onu": 4}


def status(session: Session, provider: OnuStateProvider | None, code: str,
           thresholds: Mapping[str, Thresholds], live: Live | None = None) -> LineStatus:  # fmt: skip
    """Household ``code``'s line now (the household's existence is the caller's to check). ``live``: where
    ONUs on OLTs the process does not poll read from (one store query for the household); None: the
    snapshot alone. Either way an OLT whose shard is silent reads ``unknown``, as in the ONU list."""
    found = open_incident(session, code)
    incident, joined = found if found is not None else (None, {})
    onus = search(session, None, Window(MAX_ONUS), household=code).items
    wanted = select(Olt.name, Olt.pon_class).where(Olt.name.in_({o.olt for o in onus}))
    classes = {name: pon_class for name, pon_class in session.execute(wanted)}
    seen = [line_of(provider, o.olt, o.pon_port, o.onu_id) for o in onus]
    if onus:  # one heartbeat query, one store query for the OLTs beyond the snapshot; the ONU list's rule
        lives = Lives.load(session, live)
        lives.ask_for(o.olt for o, line in zip(onus, seen, strict=True) if not line.polled)
        seen = [lives.resolve(o.olt, o.pon_port, o.onu_id, line) for o, line in zip(onus, seen, strict=True)]
    statuses = []
    for o, line in zip(onus, seen, strict=True):
        pon_class = classes.get(o.olt)
        limits = thresholds.get(pon_class) if pon_class else None
        state: LineState = ("unknown" if line.unknown is not None else "not_polled" if not line.polled
                            or line.up is None else ("up" if line.up else "down"))  # fmt: skip
        down = state == "down"
        statuses.append(OnuStatus(
            o.serial, o.olt, o.pon_port, o.onu_id, pon_class, line, state,
            rx_level(line.rx_dbm, limits) if state == "up" else None, limits,
            class_of(line.cause) if down and line.cause else None,
            (line.down_at or joined.get((o.olt, o.pon_port, str(o.onu_id)))) if down else None,
        ))  # fmt: skip
    if not statuses:
        return LineStatus("no_onu", None, None, None, None, incident, [])
    head = min(statuses, key=lambda s: _ORDER[s.state])
    cause_class = head.cause_class
    if head.state == "down" and cause_class is None and incident is not None:
        cause_class = class_of(incident.cause)  # the incident's class when the OLT gave no cause
    return LineStatus(head.state, head.rx_level, cause_class, head.line.cause if head.state == "down" else None,
                      head.down_since, incident, statuses, head.line.age_seconds, head.line.unknown)  # fmt: skip
