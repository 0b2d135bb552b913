"""One ONU's last week for the household page: its light level (Rx, hourly low and high) and how often it
went down (flaps: up→down transitions), read either from the time series (``PrometheusHistory``, the
Prometheus HTTP API, which VictoriaMetrics answers too) or, without one, from an in-process history fed
by the polls themselves (``PollHistory``, a ``ftthnoc.consumers.PollConsumer``), so the demo shows it.

Both answer the same ``LineHistoryReader`` protocol; a store that cannot answer raises
``HistoryUnavailable`` (the page says so, it never fails). Only identity labels (olt, pon_port, onu_id)
are asked for or kept: nothing of the household.

``PollHistory``'s memory is bounded: per ONU one ring of ``HOURS`` (168) hourly slots, each the hour's
number (4 bytes), its lowest and highest Rx in hundredths of a dB (2 + 2 bytes) and its up→down count
(1 byte), allocated when the ONU is first seen. At 7,000 ONUs it holds 13.4 MiB, 2.0 kB an ONU (measured with
tracemalloc, ``tests/ftthnoc/test_linehistory.py``), however long it runs.
"""

from __future__ import annotations

import json
import math
import threading
import urllib.error
import urllib.parse
import urllib.request
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from ftthnoc.consumers import Poll

#: The window the page shows: one week, hour by hour.
DAYS = 7
STEP_SECONDS = 3600
HOURS = DAYS * 24
UP_FAMILY = "ftth_onu_up"
RX_FAMILY = "ftth_onu_rx_power_dbm"
#: An hour slot with no Rx reading (int16 hundredths of a dB: -327.68 dB is no light level).
_NONE = -32768


@dataclass(frozen=True, slots=True)
class RxHour:
    """The lowest and highest Rx (dBm) read in the hour starting at ``at`` (UTC)."""

    at: datetime
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class LineHistory:
    """An ONU's week: hourly Rx (oldest first, hours without a reading left out) and its flaps, None when
    the store has no up/down series for it; ``start``/``end`` the window asked for."""

    rx: list[RxHour]
    flaps: int | None
    start: datetime
    end: datetime
    source: str


class HistoryUnavailable(Exception):
    """The store did not answer (or answered nonsense); the message says why, in the store's words."""


@runtime_checkable
class LineHistoryReader(Protocol):
    def history(self, olt: str, pon_port: str, onu_id: int, now: datetime | None = None) -> LineHistory: ...


def _hour(at: datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


class _Ring:
    """One ONU's week in fixed arrays (see the module's docstring for the bound)."""

    __slots__ = ("downs", "high", "hour", "last_up", "low")

    def __init__(self) -> None:
        self.hour = array("i", [-1]) * HOURS
        self.low = array("h", [_NONE]) * HOURS
        self.high = array("h", [_NONE]) * HOURS
        self.downs = array("B", [0]) * HOURS
        self.last_up: bool | None = None

    def slot(self, hour: int) -> int:
        i = hour % HOURS
        if self.hour[i] != hour:  # a week-old slot: start it afresh
            self.hour[i], self.low[i], self.high[i], self.downs[i] = hour, _NONE, _NONE, 0
        return i


def _centi(dbm: float) -> int | None:
    if not math.isfinite(dbm) or not -300.0 < dbm < 300.0:
        return None
    return round(dbm * 100)


class PollHistory:
    """Hourly Rx low/high and up→down transitions per ONU for the last week, from the polls it observes.

    ``observe_poll`` runs on the poll loop: a dictionary look-up and a few array writes per ONU, under a
    lock the page's reads share. A transition is counted when a poll finds down an ONU the previous poll
    found up; one that goes down and up between two polls is not seen (nor by Prometheus)."""

    source = "polls"

    def __init__(self) -> None:
        self._rings: dict[tuple[str, str, int], _Ring] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rings)

    def observe_poll(self, poll: Poll) -> None:
        hour = _hour(poll.at)
        for fam in poll.families:
            if fam.name not in (UP_FAMILY, RX_FAMILY):
                continue
            with self._lock:  # once a family: the page's reads wait at most one family's update
                for s in fam.samples:
                    self._observe(fam.name == UP_FAMILY, s.labels, s.value, hour)

    def _observe(self, is_up: bool, labels: Mapping[str, str], value: float, hour: int) -> None:
        try:
            key = (labels["olt"], labels["pon_port"], int(labels["onu_id"]))
        except (KeyError, ValueError):
            return
        ring = self._rings.get(key)
        if ring is None:
            ring = self._rings[key] = _Ring()
        i = ring.slot(hour)
        if is_up:
            up = value == 1.0
            if ring.last_up and not up and ring.downs[i] < 255:
                ring.downs[i] += 1
            ring.last_up = up
            return
        centi = _centi(value)
        if centi is None:
            return
        if ring.low[i] == _NONE or centi < ring.low[i]:
            ring.low[i] = centi
        if ring.high[i] == _NONE or centi > ring.high[i]:
            ring.high[i] = centi

    def history(self, olt: str, pon_port: str, onu_id: int, now: datetime | None = None) -> LineHistory:
        now = now or datetime.now(UTC)
        end = _hour(now)
        first = end - HOURS + 1
        start = datetime.fromtimestamp(first * STEP_SECONDS, UTC)
        with self._lock:
            ring = self._rings.get((olt, pon_port, onu_id))
            if ring is None:
                return LineHistory([], None, start, now, self.source)
            rows = [(ring.hour[i], ring.low[i], ring.high[i], ring.downs[i]) for i in range(HOURS)]
        rx = []
        flaps = 0
        for hour, low, high, downs in sorted(r for r in rows if first <= r[0] <= end):
            flaps += downs
            if low != _NONE:
                rx.append(RxHour(datetime.fromtimestamp(hour * STEP_SECONDS, UTC), low / 100, high / 100))
        return LineHistory(rx, flaps, start, now, self.source)


def _selector(name: str, olt: str, pon_port: str, onu_id: int) -> str:
    labels = {"olt": olt, "pon_port": pon_port, "onu_id": str(onu_id)}
    return name + "{" + ",".join(f"{k}={json.dumps(v)}" for k, v in labels.items()) + "}"


def query_api(url: str, timeout: float, path: str, params: dict[str, str]) -> list[Any]:
    """One call of a Prometheus HTTP API (``/api/v1/query`` or ``query_range``): its result list, or
    ``HistoryUnavailable`` with the store's own words (no answer in ``timeout`` s, an HTTP error, not JSON,
    a refused query)."""
    full = f"{url}{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(full, timeout=timeout) as r:
            body = json.loads(r.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        said = exc.read(300).decode(errors="replace")
        raise HistoryUnavailable(f"{url} answered HTTP {exc.code}: {said}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HistoryUnavailable(f"{url} did not answer: {reason}") from exc
    except ValueError as exc:
        raise HistoryUnavailable(f"{url} answered something that is not JSON") from exc
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else None
        raise HistoryUnavailable(f"{url} refused the query: {error or body!r:.200}")
    result = body.get("data", {}).get("result")
    if not isinstance(result, list):
        raise HistoryUnavailable(f"{url} answered without a result list")
    return result


class PrometheusHistory:
    """The week from a Prometheus HTTP API (Prometheus, or VictoriaMetrics' ``/api/v1/...``): hourly
    ``min_over_time``/``max_over_time`` of ``ftth_onu_rx_power_dbm`` (``query_range``, step 1 h) and
    ``resets(ftth_onu_up[7d])``, which counts every fall of the gauge: each 1→0 is one up→down transition.
    Series of one ONU under other labels (``district``, ``shard``) are merged (min, max, sum)."""

    source = "prometheus"

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"the Prometheus URL must be http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, path: str, params: dict[str, str]) -> list[Any]:
        return query_api(self.url, self.timeout, path, params)

    def _range(self, expr: str, first: int, last: int) -> dict[int, float]:
        rows = self._call("/api/v1/query_range", {"query": expr, "start": str(first), "end": str(last),
                                                  "step": str(STEP_SECONDS)})  # fmt: skip
        out: dict[int, float] = {}
        for row in rows:
            for stamp, value in _values(row):
                out[int(float(stamp))] = float(value)
        return out

    def history(self, olt: str, pon_port: str, onu_id: int, now: datetime | None = None) -> LineHistory:
        now = now or datetime.now(UTC)
        # the value at t covers the hour before t: evaluate at each hour's end, label it by its start
        last = (_hour(now) + 1) * STEP_SECONDS
        first = last - (HOURS - 1) * STEP_SECONDS
        rx_sel = _selector(RX_FAMILY, olt, pon_port, onu_id)
        lows = self._range(f"min(min_over_time({rx_sel}[1h]))", first, last)
        highs = self._range(f"max(max_over_time({rx_sel}[1h]))", first, last)
        rx = [RxHour(datetime.fromtimestamp(t - STEP_SECONDS, UTC), low, highs.get(t, low))
              for t, low in sorted(lows.items()) if math.isfinite(low)]  # fmt: skip
        flaps_rows = self._call("/api/v1/query", {
            "query": f"sum(resets({_selector(UP_FAMILY, olt, pon_port, onu_id)}[{DAYS}d]))",
            "time": str(now.timestamp())})  # fmt: skip
        flaps = None
        for row in flaps_rows:
            value = row.get("value") if isinstance(row, dict) else None
            if isinstance(value, list) and len(value) == 2:
                flaps = round(float(value[1]))
        start = datetime.fromtimestamp(first - STEP_SECONDS, UTC)
        return LineHistory(rx, flaps, start, now, self.source)


def _values(row: Any) -> Iterable[tuple[Any, Any]]:
    values = row.get("values") if isinstance(row, dict) else None
    if not isinstance(values, list):
        raise HistoryUnavailable("the store answered a range without values")
    for pair in values:
        if isinstance(pair, list) and len(pair) == 2:
            yield pair[0], pair[1]
