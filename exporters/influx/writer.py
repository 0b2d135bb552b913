"""The InfluxDB writer: batches polls in a background thread, spools to disk while the server is away.

The poller calls :meth:`InfluxWriter.write` once per poll of each target and module; that call only
appends to an in-memory queue and returns, so a slow or dead time-series server never delays a poll.
One background thread does everything else, in order:

1. encode queued families into line protocol (``points.py``) and cut batches of ``batch_size`` points,
   or whatever is there after ``flush_interval`` seconds;
2. while the spool is empty, POST each batch with influxdb-client's v2 write API (gzip). A connection
   failure, timeout, 429 or 5xx puts the batch in the disk spool (``spool.py``: written, fsynced) and
   schedules a retry with exponential backoff (``backoff_initial`` doubling up to ``backoff_max``, with
   jitter, or the server's ``Retry-After``);
3. while the spool is not empty, new batches are appended to it too, so that order is kept, and the
   oldest segment is retried when its backoff expires; after a 2xx it is deleted and the next one goes
   at once. A spool left by a previous run is replayed the same way from start-up.

Other 4xx answers (a malformed point, a field-type conflict, 413) would fail forever: the batch is moved
to ``spool_dir/rejected/`` with the server's message, counted, logged in one line, and the queue moves
on. 401, 403 and 404 (wrong token, unknown org or bucket) are configuration errors that affect every
batch alike, so those are retried and spooled like an outage, not thrown away.

**Nothing lost, nothing duplicated.** A batch leaves memory only into the spool (fsynced) or after a 2xx;
a segment is deleted only after a 2xx. A batch can therefore be sent twice only if the server took it but
the answer did not arrive (timeout, a crash between the 2xx and the delete, ``close()`` giving up while a
request hangs). That is made harmless by the data model: a point is identified by measurement, tag set
and timestamp, and the timestamp is the poll time fixed in ``write()`` (never the send time), so the
re-sent batch carries identical points. InfluxDB overwrites them (same series, same time: last write
wins); VictoriaMetrics does the same when run with ``-dedup.minScrapeInterval`` (e.g. ``1ms``), which is
the recommended setting for an ftthnoc target (without it, it would keep both copies). In the ordinary
outage and restart cases no batch is sent twice at all.

What is lost: points still in memory (not yet spooled) when the process is killed: at most the last
``flush_interval`` of polls while the server answers; during an outage batches reach the spool within
``flush_interval``. ``close(timeout)`` sends what it can and spools the rest.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections import deque
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException
from pydantic import SecretStr

from ftthnoc.consumers import Poll
from ftthnoc.samples import MetricFamily

from .points import PointEncoder
from .spool import CorruptSegment, Segment, Spool

if TYPE_CHECKING:
    from ftthnoc.settings import Settings

__all__ = ["ERROR_KINDS", "InfluxWriter"]

log = logging.getLogger(__name__)

#: Values of the ``kind`` label of ``ftthnoc_influx_write_errors_total``.
ERROR_KINDS = ("connection", "server", "rejected")
_RETRY_CONFIG = frozenset({401, 403, 404})  # every batch fails alike until an operator fixes it


class _Result(Enum):
    OK = "ok"
    RETRY = "retry"
    REJECTED = "rejected"


class _Abandoned(Exception):
    """``close()`` gave up waiting and spooled the thread's work itself; the thread must just stop."""


class InfluxWriter:
    """Batched, spooled writes of neutral families to InfluxDB v2 (or VictoriaMetrics' ``/api/v2/write``).

    ``write(families, timestamp_ns)`` never blocks; ``families()`` reports the writer's own metrics;
    ``close(timeout)`` flushes and spools. Thread-safe: ``write`` may be called from any thread.
    """

    def __init__(
        self,
        url: str,
        org: str,
        bucket: str,
        token: str | SecretStr,
        spool_dir: Path | str,
        spool_max_bytes: int = 256 * 1024 * 1024,
        batch_size: int = 5000,
        flush_interval: float = 1.0,
        *,
        timeout: float = 10.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        max_queue_points: int = 2_000_000,
        rejected_keep: int = 50,
        fsync: bool = True,
    ) -> None:
        if batch_size < 1 or flush_interval <= 0 or timeout <= 0 or backoff_initial <= 0:
            raise ValueError("batch_size, flush_interval, timeout and backoff_initial must be positive")
        self.url = _redact(url)  # for logs: never a password from the URL
        self.org = org
        self.bucket = bucket
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.backoff_initial = backoff_initial
        self.backoff_max = max(backoff_max, backoff_initial)
        self.max_queue_points = max_queue_points
        self.spool = Spool(spool_dir, spool_max_bytes, rejected_keep=rejected_keep, fsync=fsync)
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        # retries=False: urllib3 must not retry behind our back; the spool and backoff are the retry
        self._client = InfluxDBClient(url=url, token=secret, org=org, timeout=max(1, int(timeout * 1000)),
                                      enable_gzip=True, retries=False)
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
        self._encoder = PointEncoder()

        # shared with write(): guarded by _cond
        self._cond = threading.Condition()
        self._pending: deque[tuple[list[MetricFamily], int, int]] = deque()
        self._pending_samples = 0
        self._closing = False
        self._flush_now = False
        # owned by the thread; close() takes over under _work when the thread is stuck in a request
        self._work = threading.Lock()
        self._abandoned = False
        self._buf: list[str] = []
        self._buf_since = 0.0
        self._inflight: tuple[bytes, int] | None = None
        self._retry_at = 0.0  # monotonic time of the next spool attempt
        self._backoff = backoff_initial
        self._failures = 0  # consecutive failed attempts, for logging the outage once
        self._queue_dropped = 0
        # self-metrics
        self.written_points = 0
        self.errors: dict[str, int] = dict.fromkeys(ERROR_KINDS, 0)
        self.up = 0
        self._warned_closed = False

        self._thread = threading.Thread(target=self._run, name="influx-writer", daemon=True)
        self._thread.start()

    @classmethod
    def from_settings(cls, settings: Settings) -> InfluxWriter | None:
        """The writer the settings describe, or None when ``FTTHNOC_INFLUX_URL`` is not set."""
        if not settings.influx_url:
            return None
        return cls(settings.influx_url, settings.influx_org, settings.influx_bucket, settings.influx_token,
                   settings.influx_spool_dir, settings.influx_spool_max_bytes, settings.influx_batch_size,
                   settings.influx_flush_interval)

    # ------------------------------------------------------------------ the poller's side
    def write(self, families: Iterable[MetricFamily], timestamp_ns: int | None = None) -> None:
        """Queue one poll's families, stamped ``timestamp_ns`` (default: now). Never blocks on I/O.

        The families' sample lists are copied (shallowly), so the caller may reuse the objects.
        """
        ts = time.time_ns() if timestamp_ns is None else int(timestamp_ns)
        copies = [MetricFamily(f.name, f.documentation, f.type, f.unit, list(f.samples)) for f in families]
        n = sum(len(f.samples) for f in copies)
        if not n:
            return
        with self._cond:
            if self._closing:
                if not self._warned_closed:
                    self._warned_closed = True
                    log.warning("influx: write() after close(); points dropped")
                return
            if self._pending_samples + len(self._buf) + n > self.max_queue_points:
                self._queue_dropped += n
                if self._queue_dropped == n:
                    log.error("influx: the writer cannot keep up (%d points queued); dropping newest polls",
                              self._pending_samples + len(self._buf))
                return
            self._pending.append((copies, ts, n))
            self._pending_samples += n
            self._cond.notify()

    def observe_poll(self, poll: Poll) -> None:
        """A ``PollConsumer``: queued, stamped with the poll's time; the writer's own thread sends it."""
        self.write(poll.families, int(poll.at.timestamp() * 1e9))

    def flush(self, timeout: float = 10.0) -> bool:
        """Send everything queued now and wait until nothing is queued or spooled; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flush_now = True
            self._cond.notify()
        try:
            while time.monotonic() < deadline:
                if self.queue_points() == 0 and len(self.spool) == 0:
                    return True
                if not self._thread.is_alive():
                    return False
                time.sleep(0.005)
            return False
        finally:
            with self._cond:
                self._flush_now = False

    def close(self, timeout: float = 10.0) -> None:
        """Flush what can be sent within ``timeout`` seconds; spool everything else; stop the thread."""
        with self._cond:
            if self._closing and not self._thread.is_alive():
                return
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
        if self._thread.is_alive():  # stuck in a request (a hanging server): keep its work on disk ourselves
            with self._work:
                self._abandoned = True
                self._drain_pending()
                if self._inflight is not None:
                    body, points = self._inflight
                    self._spool_append(body, points)
                    self._inflight = None
                self._spool_buffer()
            log.warning("influx: close() timed out after %.1f s with a request in flight; the rest is spooled "
                        "to %s", timeout, self.spool.directory)
        self.spool.close()
        try:
            self._client.close()  # type: ignore[no-untyped-call]
        except Exception:  # pragma: no cover - closing a pool must not fail a shutdown
            log.debug("influx: closing the client failed", exc_info=True)

    def __enter__(self) -> InfluxWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ self-metrics
    def queue_points(self) -> int:
        """Points in memory: samples not yet encoded, encoded points not yet sent, the batch in flight."""
        inflight = self._inflight
        return self._pending_samples + len(self._buf) + (inflight[1] if inflight else 0)

    @property
    def dropped_points(self) -> int:
        return self.spool.dropped_points + self._queue_dropped

    def families(self) -> list[MetricFamily]:
        """The writer's own metrics as neutral families, for the Prometheus exporter."""
        spool_bytes = MetricFamily("ftthnoc_influx_spool_bytes",
                                   "Bytes of batches waiting in the disk spool for the time-series server.",
                                   "gauge", "bytes")
        spool_bytes.add({}, float(self.spool.size_bytes))
        dropped = MetricFamily("ftthnoc_influx_spool_dropped_points_total",
                               "Points given up: oldest spooled batches dropped at the spool bound (or, if the "
                               "writer could not keep up at all, polls refused by the in-memory queue).",
                               "counter")
        dropped.add({}, float(self.dropped_points))
        written = MetricFamily("ftthnoc_influx_written_points_total",
                               "Points the time-series server acknowledged (2xx), direct or replayed.", "counter")
        written.add({}, float(self.written_points))
        errors = MetricFamily("ftthnoc_influx_write_errors_total",
                              "Failed write requests by kind: connection (refused, reset, timeout), server "
                              "(5xx, 429, 401/403/404: retried), rejected (other 4xx: batch set aside).",
                              "counter")
        for kind in ERROR_KINDS:
            errors.add({"kind": kind}, float(self.errors[kind]))
        queue = MetricFamily("ftthnoc_influx_queue_points",
                             "Points waiting in memory to be sent or spooled.", "gauge")
        queue.add({}, float(self.queue_points()))
        up = MetricFamily("ftthnoc_influx_up", "1 if the last write to the time-series server succeeded.", "gauge")
        up.add({}, float(self.up))
        return [spool_bytes, dropped, written, errors, queue, up]

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        while True:
            try:
                with self._work:
                    if self._abandoned:
                        return
                    wait = self._step()
            except _Abandoned:
                return
            except Exception:  # a bug must not silently end the writer: log, pause, go on
                log.exception("influx: writer step failed")
                wait = 1.0
            if wait is None:
                return
            with self._cond:
                busy = self._pending or self._closing or (self._flush_now and self._buf)
                if not busy and wait > 0:
                    self._cond.wait(None if math.isinf(wait) else wait)

    def _step(self) -> float | None:
        """One round of work; the seconds to sleep until the next deadline, or None to stop."""
        self._drain_pending()
        with self._cond:
            closing, flush_now = self._closing, self._flush_now
        now = time.monotonic()
        while self._buf and (len(self._buf) >= self.batch_size or closing or flush_now
                             or now - self._buf_since >= self.flush_interval):
            self._flush_batch()
            self._drain_pending()
            now = time.monotonic()
        if closing:
            return None  # the spool, if any, is replayed by the next start
        if len(self.spool) and now >= self._retry_at:
            self._replay()
            now = time.monotonic()
        deadlines = []
        if self._buf:
            deadlines.append(self._buf_since + self.flush_interval)
        if len(self.spool):
            deadlines.append(self._retry_at)
        return max(0.0, min(deadlines) - now) if deadlines else math.inf

    def _drain_pending(self) -> None:
        """Encode queued polls into the line buffer (on this thread, never the poller's)."""
        while True:
            with self._cond:
                if not self._pending:
                    return
                families, ts, n = self._pending.popleft()
            encoded = self._encoder.encode(families, ts)
            if not self._buf:
                self._buf_since = time.monotonic()
            self._buf.extend(encoded.lines)
            with self._cond:
                self._pending_samples -= n

    def _take_batch(self) -> tuple[bytes, int]:
        """Cut the next batch off the buffer; it counts as in flight until spooled or sent."""
        lines = self._buf[: self.batch_size]
        body = "\n".join(lines).encode("utf-8")
        self._inflight = (body, len(lines))  # before it leaves the buffer: queue_points never under-reports
        del self._buf[: self.batch_size]
        if self._buf:
            self._buf_since = time.monotonic()
        return body, len(lines)

    def _flush_batch(self) -> None:
        """Send one batch, or spool it when the spool already holds older ones (order) or the send fails."""
        body, points = self._take_batch()
        if len(self.spool) or self._send(body, points) is _Result.RETRY:
            self._spool_append(body, points)
        self._inflight = None  # sent, spooled, or kept in rejected/ by _send

    def _spool_buffer(self) -> None:
        while self._buf:
            self._spool_append(*self._take_batch())
            self._inflight = None

    def _spool_append(self, body: bytes, points: int) -> None:
        try:
            self.spool.append(body, points)
        except OSError as exc:  # a full or read-only disk: the batch is lost, say so and count it
            self.spool.dropped_points += points
            log.error("influx spool: cannot write to %s (%s); %d points dropped", self.spool.directory, exc, points)

    def _replay(self) -> None:
        """Send spooled segments oldest first until one fails or the spool is empty."""
        while (seg := self.spool.oldest()) is not None and time.monotonic() >= self._retry_at:
            with self._cond:
                if self._closing:
                    return
            try:
                body = self.spool.read(seg)
            except CorruptSegment as exc:
                log.error("influx spool: %s; moved to rejected/", exc)
                self.spool.reject_segment(seg, str(exc))
                continue
            result = self._send(body, seg.points, seg)
            if result is _Result.OK:
                self.spool.remove(seg)
            elif result is _Result.RETRY:
                return
            # keep memory bounded during a long replay: full batches join the spool's tail
            self._drain_pending()
            while len(self._buf) >= self.batch_size:
                self._spool_append(*self._take_batch())
                self._inflight = None

    def _send(self, body: bytes, points: int, seg: Segment | None = None) -> _Result:
        """POST one batch (the work lock is released meanwhile); classify the outcome."""
        error: BaseException | None = None
        self._work.release()
        try:
            self._write_api.write(bucket=self.bucket, org=self.org, record=body)  # precision: ns, the default
        except Exception as exc:
            error = exc
        finally:
            self._work.acquire()
        if self._abandoned:
            raise _Abandoned
        if error is None:
            self.written_points += points
            self.up = 1
            if self._failures:
                log.warning("influx: %s answers again after %d failed attempts; %d points spooled to replay",
                            self.url, self._failures, self.spool.points - (seg.points if seg else 0))
            self._failures = 0
            self._backoff = self.backoff_initial
            self._retry_at = 0.0
            return _Result.OK
        self.up = 0
        status = error.status if isinstance(error, ApiException) else None
        if isinstance(status, int) and 400 <= status < 500 and status != 429 and status not in _RETRY_CONFIG:
            self.errors["rejected"] += 1
            reason = f"HTTP {status}: {_message(error)}"
            where = self.spool.reject_segment(seg, reason) if seg else self.spool.reject(body, reason)
            log.error("influx: %s rejected a batch of %d points (%s); kept in %s, not retried",
                      self.url, points, reason, where)
            return _Result.REJECTED
        kind = "server" if isinstance(status, int) and status > 0 else "connection"
        self.errors[kind] += 1
        delay = self._backoff * random.uniform(0.8, 1.0)
        retry_after = _retry_after(error)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max))
        self._retry_at = time.monotonic() + delay
        self._backoff = min(self._backoff * 2, self.backoff_max)
        self._failures += 1
        what = f"HTTP {status}: {_message(error)}" if status else _message(error)
        if self._failures == 1:
            log.warning("influx: cannot write to %s (%s); spooling to %s, retrying with backoff",
                        self.url, what, self.spool.directory)
        else:
            log.debug("influx: attempt %d to %s failed (%s); next in %.1f s", self._failures, self.url, what, delay)
        return _Result.RETRY


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")
                                     if parts.hostname else ""))


def _message(error: BaseException) -> str:
    """One short line describing a failed request (InfluxDB's JSON message, or the exception)."""
    text: Any = getattr(error, "message", None) if isinstance(error, ApiException) else None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not text:
        reason = getattr(error, "reason", None)
        text = f"{type(error).__name__}: {reason or error}"
    line = " ".join(str(text).split())
    return line if len(line) <= 200 else line[:200] + "…"


def _retry_after(error: BaseException) -> float | None:
    value = getattr(error, "retry_after", None)
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
