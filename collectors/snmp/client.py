"""The SNMP client: GET and GETBULK walks, v2c and v3, with per-device limits.

This is the only place (with ``v3.py``) where SNMP protocol objects exist; callers get ``VarBind``s
of plain Python values and the project's own ``SnmpError`` subclasses.

Design choices, after net-snmp and snmp_exporter:
- One UDP socket per device, request-ids matched to futures, retransmission with the same id.
- A per-device semaphore bounds requests in flight (OLT agents are single-threaded and slow); the
  subtrees of one poll are walked concurrently under that bound.
- A walk stops at the end of its subtree or at endOfMibView, and fails loudly on an OID that does
  not increase (an agent loop), as ``snmpbulkwalk`` does.
- ``tooBig`` halves max-repetitions and tries again instead of failing the poll.
- A device that lets one request time out completely is treated as down for the rest of every walk
  already under way: its queued subtrees fail at once instead of each waiting out its own timeout
  (without this, a dead OLT with 37 subtrees at concurrency 2 costs 19 timeouts, not one).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from collectors.snmp import ber
from collectors.snmp.ber import GET, GET_BULK, Oid, VarBind
from ftthnoc.config import Auth, Target
from ftthnoc.errors import SnmpAgentError, SnmpError, SnmpProtocolError, SnmpTimeout

if TYPE_CHECKING:
    from collectors.snmp.v3 import V3Session


@dataclass(frozen=True, slots=True)
class Device:
    """Everything the client needs to talk to one agent; built from a configured ``Target``."""

    name: str
    host: str
    port: int
    auth: Auth
    max_repetitions: int = 25
    timeout: float = 2.0
    retries: int = 1
    concurrency: int = 2

    @classmethod
    def from_target(cls, target: Target, auth: Auth) -> Device:
        host, port = target.host_port()
        return cls(target.name, host, port, auth, target.max_repetitions, target.timeout, target.retries,
                   target.concurrency)


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
        down_at = self._down_at.get((device.host, device.port))
        if down_at is not None and down_at >= since:
            raise SnmpTimeout(device.name, "did not answer an earlier request of this poll; "
                                           "the rest of the poll was skipped")

    def trip(self, device: Device) -> None:
        self._down_at[(device.host, device.port)] = time.monotonic()

    def reset(self, device: Device) -> None:
        self._down_at.pop((device.host, device.port), None)


async def gather_walks(coros: Sequence[Any]) -> list[Any]:
    """Run subtree walks together; the first failure cancels the rest and is raised as itself."""
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(c) for c in coros]
    except* SnmpError as group:
        raise group.exceptions[0] from None
    return [t.result() for t in tasks]


class _V2cChannel(asyncio.DatagramProtocol):
    """One connected UDP socket to one agent; answers are matched by request-id."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, asyncio.Future[ber.Response]] = {}
        self.last_garbage: str | None = None
        self.refused = False
        self._ids = itertools.count(random.randint(1, 2**30))
        self.community = device.auth.community.get_secret_value().encode()

    # asyncio.DatagramProtocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's transport

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        try:
            resp = ber.decode_response(data)
        except ber.BerError as exc:
            self.last_garbage = str(exc)
            return
        fut = self.pending.pop(resp.request_id, None)
        if fut is not None and not fut.done():
            fut.set_result(resp)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable on a connected socket: nobody listens there.
        if isinstance(exc, ConnectionRefusedError):
            self.refused = True
            err = SnmpTimeout(self.device.name, "port unreachable: no SNMP agent answers at "
                              f"{self.device.host}:{self.device.port}")
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(err)
            self.pending.clear()

    async def request(self, pdu_type: int, oids: list[Oid], max_repetitions: int = 0) -> ber.Response:
        assert self.transport is not None
        dev = self.device
        req_id = next(self._ids) & 0x7FFFFFFF
        packet = ber.encode_request(self.community, pdu_type, req_id, oids, 0, max_repetitions)
        loop = asyncio.get_running_loop()
        for _attempt in range(dev.retries + 1):
            fut: asyncio.Future[ber.Response] = loop.create_future()
            self.pending[req_id] = fut
            self.transport.sendto(packet)
            try:
                return await asyncio.wait_for(fut, dev.timeout)
            except TimeoutError:
                continue
            finally:
                self.pending.pop(req_id, None)
        if self.last_garbage:
            raise SnmpProtocolError(dev.name, f"malformed response from the agent: {self.last_garbage}")
        raise SnmpTimeout(dev.name, f"no response within {dev.timeout:g}s × {dev.retries + 1} tries "
                                    "(device down, wrong community, or an ACL)")

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class SnmpClient:
    """One per process: the pysnmp engine for v3 lives here and is shared by every v3 device."""

    def __init__(self) -> None:
        self._v3: V3Session | None = None  # created on the first v3 device: v2c never loads pysnmp
        self._limits: dict[tuple[str, int], asyncio.Semaphore] = {}
        self.breaker = Breaker()

    def limit(self, device: Device) -> asyncio.Semaphore:
        """The device's bound on requests in flight, shared by every poll of it in this process."""
        key = (device.host, device.port)
        sem = self._limits.get(key)
        if sem is None:
            sem = self._limits[key] = asyncio.Semaphore(device.concurrency)
        return sem

    async def walk(self, device: Device, roots: Sequence[Oid]) -> WalkResult:
        """Walk every root subtree; missing subtrees give empty lists, not errors."""
        if device.auth.version == 3:
            return await self._v3session().walk(device, roots, self.limit(device), self.breaker)
        chan = await self._open(device)
        try:
            sem = self.limit(device)
            result = WalkResult()
            started = time.monotonic()
            walks = [self._walk_one(chan, sem, root, result, started) for root in roots]
            for root, rows in zip(roots, await gather_walks(walks), strict=True):
                result.columns[root] = rows
            return result
        finally:
            chan.close()

    async def get(self, device: Device, oids: Sequence[Oid]) -> list[VarBind]:
        if device.auth.version == 3:
            return await self._v3session().get(device, oids, self.limit(device))
        chan = await self._open(device)
        try:
            async with self.limit(device):
                resp = await chan.request(GET, list(oids))
            _check_status(device, resp)
            return resp.varbinds
        finally:
            chan.close()

    def close(self) -> None:
        if self._v3 is not None:
            self._v3.close()
            self._v3 = None

    # --------------------------------------------------------------------------------- internals
    def _v3session(self) -> V3Session:
        from collectors.snmp.v3 import V3Session  # lazy: keeps pysnmp off the v2c path

        if self._v3 is None:
            self._v3 = V3Session()
        return self._v3

    async def _open(self, device: Device) -> _V2cChannel:
        loop = asyncio.get_running_loop()
        try:
            _, proto = await loop.create_datagram_endpoint(
                lambda: _V2cChannel(device), remote_addr=(device.host, device.port)
            )
        except OSError as exc:
            raise SnmpError(device.name, f"cannot open a socket to {device.host}:{device.port}: "
                            f"{exc.strerror or exc}") from exc
        return proto

    async def _walk_one(self, chan: _V2cChannel, sem: asyncio.Semaphore, root: Oid,
                        result: WalkResult, started: float) -> list[VarBind]:
        dev = chan.device
        rows: list[VarBind] = []
        cur = root
        n = len(root)
        max_rep = dev.max_repetitions
        while True:
            async with sem:
                self.breaker.check(dev, started)
                try:
                    resp = await chan.request(GET_BULK, [cur], max_rep)
                except SnmpTimeout:
                    self.breaker.trip(dev)
                    raise
            self.breaker.reset(dev)
            result.requests += 1
            if resp.error_status == 1 and max_rep > 1:  # tooBig: ask for less
                max_rep = max(1, max_rep // 2)
                continue
            _check_status(dev, resp)
            if not resp.varbinds:
                raise SnmpProtocolError(dev.name, f"empty GETBULK response at {ber.format_oid(cur)}")
            for vb in resp.varbinds:
                oid = vb.oid
                if vb.tag == ber.END_OF_MIB_VIEW or oid[:n] != root:
                    return rows
                if oid <= cur:
                    raise SnmpProtocolError(dev.name, f"OID not increasing: {ber.format_oid(oid)} "
                                            f"after {ber.format_oid(cur)}")
                if vb.tag not in ber.EXCEPTION_TAGS:
                    rows.append(vb)
                cur = oid


def _check_status(device: Device, resp: ber.Response) -> None:
    if resp.error_status:
        name = ber.ERROR_STATUS[resp.error_status] if resp.error_status < len(ber.ERROR_STATUS) else "?"
        raise SnmpAgentError(device.name, f"agent answered {name}({resp.error_status}) at varbind "
                             f"{resp.error_index}")
