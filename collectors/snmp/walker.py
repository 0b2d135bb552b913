"""The one SNMP walk: GETBULK down a subtree, the same over v2c and v3 (``transport.py``).

What it guarantees, whatever the agent does:
- It ends: at the end of the subtree or endOfMibView, at an OID that does not increase (an agent loop,
  as ``snmpbulkwalk`` says), or at the poll's bounds (``Limits``: rows of one subtree, requests of the
  poll, seconds of the poll), each failing that poll with a clear ``SnmpProtocolError``. An agent that
  keeps answering inside the subtree cannot make a poll run forever or grow without end.
- ``tooBig`` halves max-repetitions and asks again instead of failing.
- A device that lets one request time out completely is treated as down for the rest of every walk of
  the same poll: its queued subtrees fail at once (a dead OLT with 37 subtrees at concurrency 2 would
  otherwise cost 19 timeouts, not one).
- Cancellation (SIGTERM, a ``/snmp`` caller that gave up) stops every subtree at its next await, and
  the transport's socket is closed by the caller's ``finally``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from collectors.snmp import ber
from collectors.snmp.ber import GET_BULK, Oid, VarBind
from collectors.snmp.transport import Device, Limits, Transport
from ftthnoc.errors import SnmpAgentError, SnmpError, SnmpLimitExceeded, SnmpProtocolError, SnmpTimeout

T = TypeVar("T")


@dataclass(slots=True)
class WalkResult:
    """Varbinds per walked root, plus what a poll reports about itself."""

    columns: dict[Oid, list[VarBind]] = field(default_factory=dict)
    requests: int = 0

    @property
    def varbinds(self) -> int:
        return sum(len(v) for v in self.columns.values())


class Breaker:
    """Remembers when each device last let a request time out, so sibling walks can give up."""

    def __init__(self) -> None:
        self._down_at: dict[tuple[str, int], float] = {}

    def check(self, device: Device, since: float) -> None:
        down_at = self._down_at.get(device.key)
        if down_at is not None and down_at >= since:
            raise SnmpTimeout(device.name, "did not answer an earlier request of this poll; "
                                           "the rest of the poll was skipped")

    def trip(self, device: Device) -> None:
        self._down_at[device.key] = time.monotonic()

    def reset(self, device: Device) -> None:
        self._down_at.pop(device.key, None)


async def gather_walks(coros: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Run subtree walks together; the first failure cancels the rest and is raised as itself."""
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(c) for c in coros]
    except* SnmpError as group:
        raise group.exceptions[0] from None
    return [t.result() for t in tasks]


def check_status(device: Device, resp: ber.Response) -> None:
    if resp.error_status:
        name = ber.ERROR_STATUS[resp.error_status] if resp.error_status < len(ber.ERROR_STATUS) else "?"
        raise SnmpAgentError(device.name, f"agent answered {name}({resp.error_status}) at varbind "
                             f"{resp.error_index}")


class Walker:
    """Walks the subtrees of one poll of one device over one transport, within ``limits``."""

    def __init__(self, transport: Transport, sem: asyncio.Semaphore, breaker: Breaker, limits: Limits) -> None:
        self.transport = transport
        self.device = transport.device
        self.sem = sem
        self.breaker = breaker
        self.limits = limits
        self.result = WalkResult()
        self.started = time.monotonic()

    async def walk(self, roots: Sequence[Oid]) -> WalkResult:
        """Every root's subtree (missing subtrees give empty lists, not errors), within the bounds."""
        seconds = self.limits.max_seconds
        try:
            async with asyncio.timeout(seconds):
                rows = await gather_walks([self._subtree(root) for root in roots])
        except TimeoutError:
            raise SnmpLimitExceeded(self.device.name, f"the poll did not finish within its bound of {seconds:g} s "
                                    f"({self.result.requests} requests made; poll_timeout)") from None
        for root, got in zip(roots, rows, strict=True):
            self.result.columns[root] = got
        return self.result

    async def _request(self, cur: Oid, max_rep: int) -> ber.Response:
        if self.result.requests >= self.limits.max_requests:
            raise SnmpLimitExceeded(self.device.name, f"the poll passed its bound of {self.limits.max_requests} "
                                    "requests (max_requests)")
        async with self.sem:
            self.breaker.check(self.device, self.started)
            try:
                resp = await self.transport.request(GET_BULK, [cur], max_rep)
            except SnmpTimeout:
                self.breaker.trip(self.device)
                raise
            finally:
                self.result.requests += 1
        self.breaker.reset(self.device)
        return resp

    async def _subtree(self, root: Oid) -> list[VarBind]:
        dev = self.device
        max_rows = self.limits.max_rows
        rows: list[VarBind] = []
        seen = 0  # every varbind the agent sent inside the subtree, exceptions included
        cur = root
        n = len(root)
        max_rep = dev.max_repetitions
        while True:
            resp = await self._request(cur, max_rep)
            if resp.error_status == 1 and max_rep > 1:  # tooBig: ask for less
                max_rep = max(1, max_rep // 2)
                continue
            check_status(dev, resp)
            if not resp.varbinds:
                raise SnmpProtocolError(dev.name, f"empty GETBULK response at {ber.format_oid(cur)}")
            for vb in resp.varbinds:
                oid = vb.oid
                if vb.tag == ber.END_OF_MIB_VIEW or oid[:n] != root:
                    return rows
                if oid <= cur:
                    raise SnmpProtocolError(dev.name, f"OID not increasing: {ber.format_oid(oid)} "
                                            f"after {ber.format_oid(cur)}")
                seen += 1
                if seen > max_rows:
                    raise SnmpLimitExceeded(dev.name, f"the walk of {ber.format_oid(root)} passed its bound of "
                                            f"{max_rows} rows: the agent keeps answering inside the subtree "
                                            "(max_rows)")
                if vb.tag not in ber.EXCEPTION_TAGS:
                    rows.append(vb)
                cur = oid
