"""Device events: the state changes traps and polls report, for the incident engine to correlate.

Neutral like the samples: the trap receiver and the poller both produce them, the incident engine
consumes them, and none of them needs to know where an event came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

EventKind = Literal["link_down", "link_up", "cold_start", "warm_start", "onu_down", "onu_up", "other"]
DownCause = Literal["dying_gasp", "los", "other"]


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    at: datetime  # UTC
    source: str  # configured device name, or the agent's address
    kind: EventKind
    olt: str | None = None
    pon_port: str | None = None
    onu_id: str | None = None
    cause: DownCause | None = None
    if_index: int | None = None
    trap_oid: str = ""
    detail: dict[str, str] = field(default_factory=dict)
