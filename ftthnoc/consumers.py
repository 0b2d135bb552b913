"""One way to consume a poll: the protocols every output of the poller implements, and the fan-out.

Poll once, feed every output. The poller, the prober and the trap receiver produce; the Prometheus
snapshot, the InfluxDB writer, the incident engine and the KPI recorders consume — each through
``observe_poll(poll)`` (and ``observe_event(event)`` for device events), as prometheus/client_python's
collectors all answer ``collect()``. The composition root (``app/wiring.py``) lists them once.

Consumers are called on the poller's event loop, which also times every OLT request: a consumer must
return at once. One that does I/O (a database, a remote server) runs behind ``OffLoop`` (its own thread
and a bounded queue), as the InfluxDB writer runs behind its own: a slow PostgreSQL then shows as a
queue on ``/metrics``, never as OLT timeouts.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from ftthnoc.events import DeviceEvent
from ftthnoc.samples import MetricFamily

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Poll:
    """What one collector run reported: one target's families for one module (or ``_scrape``, the poll's
    report on itself; the prober uses its probe kinds), at one time (UTC)."""

    target: str
    module: str
    families: Sequence[MetricFamily]
    at: datetime


@runtime_checkable
class PollConsumer(Protocol):
    def observe_poll(self, poll: Poll) -> None: ...


@runtime_checkable
class PrivatePollConsumer(Protocol):
    """A consumer of a poll's private families (a VPN's user names: ``ftthnoc.samples.PRIVATE_PREFIX``),
    which must never reach an exporter; only the telework KPI counts them."""

    def observe_private_poll(self, poll: Poll) -> None: ...


@runtime_checkable
class EventConsumer(Protocol):
    def observe_event(self, event: DeviceEvent) -> None: ...


@runtime_checkable
class FamilySource(Protocol):
    """Something whose own state belongs on ``/metrics`` (a writer's queue, open incidents)."""

    def families(self) -> list[MetricFamily]: ...


class Fanout:
    """Hands each poll and event to every consumer in order; one consumer's bug never stops the others."""

    def __init__(self, consumers: Iterable[object]) -> None:
        items = list(consumers)
        self.polls = [c for c in items if isinstance(c, PollConsumer)]
        self.private = [c for c in items if isinstance(c, PrivatePollConsumer)]
        self.events = [c for c in items if isinstance(c, EventConsumer)]

    def publish(self, target: str, module: str, families: list[MetricFamily]) -> None:
        """The poller's and prober's ``publish`` callable."""
        poll = Poll(target, module, families, datetime.now(UTC))
        for consumer in self.polls:
            try:
                consumer.observe_poll(poll)
            except Exception:
                log.exception("%s failed on a poll of %s (module %s)", type(consumer).__name__, target, module)

    def publish_private(self, target: str, module: str, families: list[MetricFamily]) -> None:
        """The poller's ``publish_private``: only to the consumers that implement ``observe_private_poll``."""
        poll = Poll(target, module, families, datetime.now(UTC))
        for consumer in self.private:
            try:
                consumer.observe_private_poll(poll)
            except Exception:
                log.exception("%s failed on a private poll of %s (module %s)", type(consumer).__name__, target, module)

    def on_event(self, event: DeviceEvent) -> None:
        for consumer in self.events:
            try:
                consumer.observe_event(event)
            except Exception:
                log.exception("%s failed on an event from %s", type(consumer).__name__, event.source)


@dataclass(frozen=True, slots=True)
class _PrivatePoll:
    """A private poll in ``OffLoop``'s queue (told apart from a public one)."""

    poll: Poll


class OffLoop:
    """Runs a consumer on its own thread: ``observe_*`` only enqueue (never block, never wait on I/O).

    The queue is bounded: when the consumer cannot keep up (a database that hangs), the oldest waiting
    item is dropped and counted (``ftthnoc_consumer_dropped_total``), so memory stays bounded and the
    poller is never held. The incident engine and the availability recorder diff each poll against the
    last one, so a dropped poll delays what they learn by one interval; it does not lose a state.
    """

    def __init__(self, consumer: object, name: str, maxsize: int = 256) -> None:
        self.consumer = consumer
        self.name = name
        self._queue: queue.Queue[Poll | _PrivatePoll | DeviceEvent | None] = queue.Queue(maxsize)
        self._lock = threading.Lock()
        self.dropped = 0
        self.handled = 0
        self.busy_seconds = 0.0
        self._thread = threading.Thread(target=self._run, name=f"ftthnoc-{name}", daemon=True)
        self._thread.start()

    def observe_poll(self, poll: Poll) -> None:
        if isinstance(self.consumer, PollConsumer):
            self._put(poll)

    def observe_event(self, event: DeviceEvent) -> None:
        if isinstance(self.consumer, EventConsumer):
            self._put(event)

    def observe_private_poll(self, poll: Poll) -> None:
        if isinstance(self.consumer, PrivatePollConsumer):
            self._put(_PrivatePoll(poll))

    def families(self) -> list[MetricFamily]:
        own = self._own_families()
        inner = self.consumer.families() if isinstance(self.consumer, FamilySource) else []
        return [*inner, *own]

    def _own_families(self) -> list[MetricFamily]:
        lab = {"consumer": self.name}
        queued = MetricFamily("ftthnoc_consumer_queue", "Polls and events waiting for a consumer that runs off "
                              "the poll loop (a database that cannot keep up shows here, not as OLT timeouts).")
        queued.add(lab, float(self._queue.qsize()))
        dropped = MetricFamily("ftthnoc_consumer_dropped_total", "Polls and events a consumer dropped because "
                               "its queue was full (oldest first).", type="counter")
        dropped.add(lab, float(self.dropped))
        busy = MetricFamily("ftthnoc_consumer_busy_seconds_total", "Seconds a consumer spent on polls and "
                            "events (its database writes included).", type="counter", unit="seconds")
        busy.add(lab, self.busy_seconds)
        return [queued, dropped, busy]

    def drain(self, timeout: float) -> bool:
        """Wait until everything queued so far was handled; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Handle what is queued (up to ``timeout``), then stop the thread."""
        self.drain(timeout)
        self._put(None)
        self._thread.join(timeout)

    def _put(self, item: Poll | _PrivatePoll | DeviceEvent | None) -> None:
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self._queue.task_done()
                    with self._lock:
                        self.dropped += 1
                except queue.Empty:
                    pass

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                start = time.monotonic()
                if isinstance(item, Poll):
                    self.consumer.observe_poll(item)  # type: ignore[attr-defined]
                elif isinstance(item, _PrivatePoll):
                    self.consumer.observe_private_poll(item.poll)  # type: ignore[attr-defined]
                else:
                    self.consumer.observe_event(item)  # type: ignore[attr-defined]
                self.busy_seconds += time.monotonic() - start
                self.handled += 1
            except Exception:
                log.exception("%s failed on %s", self.name, type(item).__name__)
            finally:
                self._queue.task_done()
