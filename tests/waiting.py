"""Waiting for something in a test: ask for it until it is there, never sleep a fixed time and hope.

``wait_until(ready, timeout, what)`` calls ``ready()`` until it returns a true value and returns that
value. The gap between two calls grows from 10 ms to half a second: a quick answer is seen at once, a
slow one costs few calls. ``timeout`` is what the work needs on an idle machine, with a margin; it is
stretched by the machine's load (``scaled``), since on a busy two-core machine every process gets a
smaller share of a core and everything takes longer. Past it the test fails, naming ``what`` it waited
for (and ``detail()``, when given, says more: a log tail, what is still missing).

``sleep`` stays only where a test is about time itself (a rate between two polls, an outage that lasts).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

FIRST_GAP = 0.01
MAX_GAP = 0.5


def load_factor() -> float:
    """Runnable tasks per core over the last minute, at least 1 (1 on an idle machine)."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this platform
        return 1.0
    return max(1.0, load / (os.cpu_count() or 1))


def scaled(seconds: float) -> float:
    """``seconds`` on an idle machine, stretched by the load now."""
    return seconds * load_factor()


class WaitTimeout(AssertionError):
    """What a test waited for did not happen in time."""


def _expired(start: float, timeout: float, deadline: float) -> tuple[bool, float]:
    # the load is read again at each call: a machine that gets busier mid-wait moves the deadline out
    deadline = max(deadline, start + scaled(timeout))
    return time.monotonic() > deadline, deadline


def _fail(what: str, start: float, detail: Callable[[], str] | None) -> WaitTimeout:
    more = detail() if detail is not None else ""
    return WaitTimeout(f"timed out after {time.monotonic() - start:.1f} s waiting for {what}"
                       + (f"\n{more}" if more else ""))


def wait_until(ready: Callable[[], T], timeout: float, what: str, *,
               detail: Callable[[], str] | None = None,
               retry_on: tuple[type[BaseException], ...] = ()) -> T:
    """``ready()``'s first true value; ``WaitTimeout`` after ``scaled(timeout)`` seconds. Exceptions of the
    types in ``retry_on`` (e.g. ``OSError`` while a server is not listening yet) count as "not yet"."""
    start = time.monotonic()
    deadline, gap = start + scaled(timeout), FIRST_GAP
    while True:
        try:
            value = ready()
        except retry_on:
            value = None  # type: ignore[assignment]
        if value:
            return value
        expired, deadline = _expired(start, timeout, deadline)
        if expired:
            raise _fail(what, start, detail)
        time.sleep(min(gap, max(0.0, deadline - time.monotonic())))
        gap = min(MAX_GAP, gap * 2)


async def wait_until_async(ready: Callable[[], T], timeout: float, what: str, *,
                           detail: Callable[[], str] | None = None) -> T:
    """``wait_until`` for a test on an event loop: the loop runs while it waits."""
    start = time.monotonic()
    deadline, gap = start + scaled(timeout), FIRST_GAP
    while True:
        value = ready()
        if value:
            return value
        expired, deadline = _expired(start, timeout, deadline)
        if expired:
            raise _fail(what, start, detail)
        await asyncio.sleep(min(gap, max(0.0, deadline - time.monotonic())))
        gap = min(MAX_GAP, gap * 2)
