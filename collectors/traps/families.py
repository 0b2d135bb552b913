"""The receiver's own counters as neutral metric families, for whichever exporter is wired in.

A trap receiver fails silently by nature (UDP, no answer to a trap), so what it refused is as
important as what it accepted: a rising ``unknown_community`` or ``bad_auth`` is a misconfigured OLT
or someone probing, and ``malformed`` a broken sender. Labels are identity only: the kind of event
and the configured device name (or address) for accepted traps; just the reason for dropped ones,
since a dropped datagram's source is not authenticated and must not mint label values.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Final, Literal

from ftthnoc.samples import MetricFamily

DropReason = Literal[
    "unknown_community",  # v1/v2c community not configured (snmpInBadCommunityNames)
    "unknown_user",  # USM user unknown, or not known for the sender's engine ID (usmStatsUnknownUserNames)
    "bad_auth",  # wrong digest, undecryptable, unsupported security level (usmStats*)
    "not_in_time_window",  # v3 message outside the 150 s window (replay protection)
    "unknown_engine_id",  # v3 message with no or a malformed engine ID that is not a discovery
    "malformed",  # not BER, truncated, unknown version, no snmpTrapOID.0 (snmpInASNParseErrs ...)
    "unsupported_pdu",  # a GET/SET/response sent to the trap port (snmpUnknownPDUHandlers)
    "unmapped",  # no rule matched and the configuration drops such traps
    "other",  # refused without a counter saying why
]
DROP_REASONS: Final[tuple[DropReason, ...]] = (
    "unknown_community", "unknown_user", "bad_auth", "not_in_time_window", "unknown_engine_id", "malformed",
    "unsupported_pdu", "unmapped", "other",
)


class TrapCounters:
    """Counts since start; read from another thread (an exporter's scrape) under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: Counter[tuple[str, str]] = Counter()
        self._dropped: Counter[str] = Counter()

    def received(self, kind: str, source: str) -> None:
        with self._lock:
            self._received[(kind, source)] += 1

    def dropped(self, reason: DropReason) -> None:
        with self._lock:
            self._dropped[reason] += 1

    def received_count(self, kind: str | None = None, source: str | None = None) -> int:
        with self._lock:
            return sum(n for (k, s), n in self._received.items()
                       if (kind is None or k == kind) and (source is None or s == source))

    def dropped_count(self, reason: DropReason | None = None) -> int:
        with self._lock:
            return sum(self._dropped.values()) if reason is None else self._dropped[reason]

    def families(self) -> list[MetricFamily]:
        with self._lock:
            received = sorted(self._received.items())
            dropped = {r: self._dropped[r] for r in DROP_REASONS}
        rec = MetricFamily("ftthnoc_traps_received_total",
                           "Traps and informs accepted since start, by event kind and sending device.",
                           type="counter")
        for (kind, source), n in received:
            rec.add({"kind": kind, "source": source}, n)
        drop = MetricFamily("ftthnoc_traps_dropped_total",
                            "Datagrams on the trap port refused since start, by reason (no event was made).",
                            type="counter")
        for reason, n in dropped.items():
            drop.add({"reason": reason}, n)
        return [rec, drop]
