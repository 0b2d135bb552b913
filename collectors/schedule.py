"""One clock for everything that repeats (SNMP polls, probe cycles): run now, then every interval.

A run longer than the interval skips ahead instead of piling up. ``stop`` ends everything at once: the
wait between runs, and a run in flight, which is cancelled (its walks stop at their next await and
close their sockets), so that ``serve`` stops within moments of SIGTERM even in the middle of a slow
OLT's walk.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable


async def every(interval: float, body: Callable[[], Awaitable[None]], stop: asyncio.Event,
                cycles: int | None = None, offset: float = 0.0) -> None:
    """Run ``body`` at once, then every ``interval`` seconds (the second run ``offset`` later, so that
    many targets started together spread out), until ``stop`` is set or ``cycles`` runs are done."""
    next_at = time.monotonic()
    done = 0
    stopped = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set() and (cycles is None or done < cycles):
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.wait([stopped], timeout=delay)
                if stop.is_set():
                    return
            run = asyncio.ensure_future(body())
            await asyncio.wait([run, stopped], return_when=asyncio.FIRST_COMPLETED)
            if not run.done():  # stopped mid-run: cancel it and wait until it has let go of its sockets
                run.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await run
                return
            run.result()  # a bug in the body is raised here, not swallowed
            done += 1
            next_at += interval + (offset if done == 1 else 0.0)
            if next_at < time.monotonic():  # a run longer than the interval: skip, do not pile up
                next_at = time.monotonic() + interval
    finally:
        stopped.cancel()
