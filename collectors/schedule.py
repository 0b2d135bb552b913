"""One clock for everything that repeats (SNMP polls, probe cycles): run now, then every interval.

A run longer than the interval skips ahead instead of piling up; ``stop`` ends the wait at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def every(interval: float, body: Callable[[], Awaitable[None]], stop: asyncio.Event,
                cycles: int | None = None, offset: float = 0.0) -> None:
    """Run ``body`` at once, then every ``interval`` seconds (the second run ``offset`` later, so that
    many targets started together spread out), until ``stop`` is set or ``cycles`` runs are done."""
    next_at = time.monotonic()
    done = 0
    while not stop.is_set() and (cycles is None or done < cycles):
        delay = next_at - time.monotonic()
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), delay)
                return
            except TimeoutError:
                pass
        await body()
        done += 1
        next_at += interval + (offset if done == 1 else 0.0)
        if next_at < time.monotonic():  # a run longer than the interval: skip, do not pile up
            next_at = time.monotonic() + interval
