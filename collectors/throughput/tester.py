"""The scheduled throughput tests: each configured school, inside its window, every so often.

Schools are tested one after another, never together (two tests at once would share the server's link and
each measure less than the school has), each as download then upload. Every result, a failed one too,
is remembered for ``/metrics`` (published as module ``throughput`` of the school's code), and stored
through ``record`` (``ftthnoc.kpi.throughput.record``) off the event loop. A database that refuses the
write costs nothing: the results wait in ``pending`` and go with the next write (up to ``MAX_PENDING``).

An iperf3 server runs one test at a time and says "the server is busy" to any other client, also for a
moment after a test while it closes the last one (seen between a school's download and its upload on a
busy machine), or when another town's tester shares it: such a run is tried again after ``BUSY_WAITS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from collectors.schedule import every
from collectors.throughput.config import ThroughputConfig
from collectors.throughput.iperf import Iperf3Run, run_iperf3
from ftthnoc.kpi.throughput import DIRECTIONS, Direction, ThroughputResult, throughput_families
from ftthnoc.samples import MetricFamily

log = logging.getLogger(__name__)

MODULE = "throughput"
#: how often the schedule is looked at (seconds)
TICK_SECONDS = 30.0
#: results kept for a database that is away; past this the oldest go (with a warning)
MAX_PENDING = 10_000

#: seconds to wait before each new try of a run the server refused as busy (then the busy result stands)
BUSY_WAITS = (1.0, 3.0, 9.0)
BUSY = "the server is busy"

Publish = Callable[[str, str, list[MetricFamily]], None]
Record = Callable[[list[ThroughputResult]], object]
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ThroughputTester:
    def __init__(self, config: ThroughputConfig, record: Record | None = None, clock: Clock = _utcnow) -> None:
        self.config = config
        self.record = record
        self.clock = clock
        #: results not yet stored (the database was away)
        self.pending: list[ThroughputResult] = []
        self.last: dict[tuple[str, Direction], ThroughputResult] = {}
        self._attempted: dict[str, datetime] = {}

    def due(self, now: datetime) -> list[str]:
        """The schools whose window is open and whose last test is at least ``every_minutes`` old."""
        out: list[str] = []
        for school in sorted(self.config.schools):
            schedule = self.config.schedule_of(school)
            if not schedule.open_at(now):
                continue
            last = self._attempted.get(school)
            if last is None or (now - last).total_seconds() >= schedule.every_minutes * 60:
                out.append(school)
        return out

    async def test_school(self, school: str, publish: Publish | None = None) -> list[ThroughputResult]:
        """Test ``school`` now (download, then upload), remember, publish and store the results."""
        self._attempted[school] = self.clock()
        run = self.config.run_for(school)
        results = [await self._run(run, school, direction) for direction in DIRECTIONS]
        for r in results:
            self.last[(r.school, r.direction)] = r
            if r.ok and r.bits_per_second is not None:
                log.info("throughput %s %s: %.1f Mbit/s (%d streams to %s)", school, r.direction,
                         r.bits_per_second / 1e6, r.streams, r.server)  # fmt: skip
            else:
                log.warning("throughput %s %s failed: %s", school, r.direction, r.error)
        if publish is not None:
            publish(school, MODULE, throughput_families(r for (s, _), r in self.last.items() if s == school))
        self.pending.extend(results)
        if len(self.pending) > MAX_PENDING:
            log.warning("dropping %d unstored throughput results (the database is away)",
                        len(self.pending) - MAX_PENDING)  # fmt: skip
            del self.pending[: len(self.pending) - MAX_PENDING]
        await self.flush()
        return results

    async def _run(self, run: Iperf3Run, school: str, direction: Direction) -> ThroughputResult:
        result = await run_iperf3(run, school, direction, self.clock())
        for wait in BUSY_WAITS:
            if result.ok or BUSY not in (result.error or ""):
                break
            log.info("throughput %s %s: the server is busy, trying again in %g s", school, direction, wait)
            await asyncio.sleep(wait)
            result = await run_iperf3(run, school, direction, self.clock())
        return result

    async def flush(self) -> bool:
        """Store what is pending; False (and kept) when the database refuses."""
        if not self.pending or self.record is None:
            return not self.pending or self.record is None
        batch = list(self.pending)
        try:
            await asyncio.to_thread(self.record, batch)
        except Exception as exc:  # any database failure: keep them for the next try
            log.warning("%d throughput results not stored yet, kept for the next try: %s: %s", len(batch),
                        type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")  # fmt: skip
            return False
        del self.pending[: len(batch)]
        return True

    async def run(self, stop: asyncio.Event, publish: Publish, tick: float = TICK_SECONDS) -> None:
        """Look at the schedule every ``tick`` seconds and test whichever schools are due, until ``stop``."""

        async def body() -> None:
            await self.flush()
            for school in self.due(self.clock()):
                if stop.is_set():
                    return
                await self.test_school(school, publish)

        if self.config.start_delay_seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.config.start_delay_seconds)
        if not stop.is_set():
            await every(tick, body, stop)
        await self.flush()  # on the way out: what the database refused so far, one last time

    def families(self) -> list[MetricFamily]:
        """The latest result of every school and direction tested since start."""
        return throughput_families(self.last.values())
