"""The ONUs' latest readings from the shared time-series store, for the API of a prefecture's shards.

With ``serve --shard I/N``, a process's own poll snapshot holds only its shard's OLTs; the others' ONUs
would read as never polled (or, worse, as whatever an old snapshot said). Every shard's polls land in one
store (Prometheus scraping each poller, or VictoriaMetrics behind ``remote_write``), so the API asks it:
one instant query per request for every OLT the page needs, ``ftth_onu_up`` and ``ftth_onu_rx_power_dbm``
over the last ``LOOKBACK_SECONDS`` as raw samples (a range selector), so that each reading comes with its
own time and the page can say how old it is. A series no longer scraped (its poller died) keeps its last
sample, with its age: never shown as a current value without it. A store that does not answer raises
``HistoryUnavailable``; the API then says "unknown" and why. Only identity labels are asked for.
"""

from __future__ import annotations

import json
import math
import urllib.parse
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ftthnoc.linehistory import RX_FAMILY, UP_FAMILY, HistoryUnavailable, query_api

#: How far back a reading counts: Prometheus' own lookback, after which it calls a series stale.
LOOKBACK_SECONDS = 300
#: An Rx sample belongs to the reading when it is this close to the ``ftth_onu_up`` sample (one poll, one
#: scrape); an older Rx is the light level from before the ONU went down, not now.
SAME_POLL_SECONDS = 1.0
_RE2_SPECIAL = frozenset("\\.+*?()|[]{}^$")

OnuKey = tuple[str, str, int]

__all__ = ["LOOKBACK_SECONDS", "HistoryUnavailable", "PrometheusLatest", "StoreReading"]


@dataclass(frozen=True, slots=True)
class StoreReading:
    """One ONU's newest reading in the store: ``up`` and the Rx of the same poll (None: none), taken ``at``."""

    up: bool | None
    rx_dbm: float | None
    at: datetime

    def age_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.at).total_seconds())


def _re2_literal(text: str) -> str:
    """``text`` as a literal inside a PromQL regular expression (RE2)."""
    return "".join("\\" + c if c in _RE2_SPECIAL else c for c in text)


class PrometheusLatest:
    """The newest ``ftth_onu_up``/Rx per ONU of some OLTs from a Prometheus HTTP API (Prometheus or
    VictoriaMetrics), in one query bounded by ``timeout``. Series of one ONU under other labels (``shard``,
    ``instance``, ``district``) are merged: the newest sample wins."""

    source = "prometheus"

    def __init__(self, url: str, timeout: float = 5.0, lookback_seconds: int = LOOKBACK_SECONDS) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"the Prometheus URL must be http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.lookback_seconds = lookback_seconds

    def query(self, olts: Collection[str]) -> str:
        names = "|".join(_re2_literal(o) for o in sorted(olts))
        matcher = '{__name__=~"' + f"{UP_FAMILY}|{RX_FAMILY}" + '",olt=~' + _json_str(names) + "}"
        return f"{matcher}[{self.lookback_seconds}s]"

    def latest(self, olts: Collection[str], now: datetime | None = None) -> dict[OnuKey, StoreReading]:
        """Every ONU of ``olts`` with a reading in the last ``lookback_seconds`` before ``now``."""
        if not olts:
            return {}
        now = now or datetime.now(UTC)
        rows = query_api(self.url, self.timeout, "/api/v1/query", {"query": self.query(olts),
                                                                    "time": f"{now.timestamp():.3f}"})
        up: dict[OnuKey, tuple[float, float]] = {}
        rx: dict[OnuKey, tuple[float, float]] = {}
        for row in rows:
            metric = row.get("metric") if isinstance(row, dict) else None
            values = row.get("values") if isinstance(row, dict) else None
            if not isinstance(metric, dict) or not isinstance(values, list):
                raise HistoryUnavailable(f"{self.url} answered an instant range query without raw samples")
            try:
                key = (str(metric["olt"]), str(metric["pon_port"]), int(metric["onu_id"]))
            except (KeyError, ValueError):
                continue
            newest = _newest(values)
            if newest is None:
                continue
            into = up if metric.get("__name__") == UP_FAMILY else rx
            if key not in into or newest[0] > into[key][0]:
                into[key] = newest
        out: dict[OnuKey, StoreReading] = {}
        for key in up.keys() | rx.keys():
            u = up.get(key)
            r = rx.get(key)
            if u is not None and r is not None and r[0] < u[0] - SAME_POLL_SECONDS:
                r = None  # the light level from before it went down
            at = max(t for t, _v in (x for x in (u, r) if x is not None))
            out[key] = StoreReading(None if u is None else u[1] == 1.0,
                                    None if r is None or not math.isfinite(r[1]) else r[1],
                                    datetime.fromtimestamp(at, UTC))
        return out


def _json_str(text: str) -> str:
    return json.dumps(text)


def _newest(values: list[Any]) -> tuple[float, float] | None:
    """The newest (time, value) of a series' raw samples."""
    best: tuple[float, float] | None = None
    for pair in values:
        if not (isinstance(pair, list) and len(pair) == 2):
            continue
        try:
            t, v = float(pair[0]), float(pair[1])
        except (TypeError, ValueError):
            continue
        if best is None or t > best[0]:
            best = (t, v)
    return best
