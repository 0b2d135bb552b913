"""Counter continuity across polls: 32-bit wraps extended, resets recognised.

A Counter32 on a 10 Gbit/s uplink wraps every 3.4 s of line rate; exported raw, every wrap looks
like a reset to Prometheus and like a negative delta to InfluxDB. So a decrease that a single wrap
explains (less than half the range) is extended; any other decrease, or a device whose sysUpTime
went backwards, is a reset and the series starts again from the raw value.
"""

from __future__ import annotations

from collectors.snmp.ber import Oid


class CounterState:
    """Last raw value and extended total per (device, instance OID); the only state a poll keeps."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, Oid], tuple[int, int]] = {}
        self._uptime: dict[str, int] = {}

    def observe_uptime(self, device: str, ticks: int) -> bool:
        """Record sysUpTime; a decrease means the device restarted and its counters reset."""
        prev = self._uptime.get(device)
        self._uptime[device] = ticks
        if prev is not None and ticks < prev:
            self.forget(device)
            return True
        return False

    def forget(self, device: str) -> None:
        for key in [k for k in self._last if k[0] == device]:
            del self._last[key]

    def extend(self, device: str, metric: str, oid: Oid, raw: int, width: int = 32) -> int:
        key = (device, oid)
        prev = self._last.get(key)
        if prev is None:
            total = raw
        else:
            praw, ptotal = prev
            if raw >= praw:
                total = ptotal + (raw - praw)
            else:
                delta = raw + (1 << width) - praw
                total = ptotal + delta if width == 32 and delta < (1 << 31) else raw
        self._last[key] = (raw, total)
        return total
