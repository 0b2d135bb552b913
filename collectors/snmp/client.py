"""The SNMP client: the poller's one entry point for walks and GETs, v2c and v3, with per-device limits.

It opens a transport per poll (``v2c.V2cTransport`` on its own socket, or ``v3.V3Transport`` on the
process's one pysnmp engine, created on the first v3 device so that v2c never loads pysnmp), bounds the
requests in flight to each device with a semaphore shared by every poll of it (OLT agents are
single-threaded and slow), and hands the walk to the one ``walker.Walker``. Callers get ``VarBind``s of
plain Python values and the project's own ``SnmpError`` subclasses.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from collectors.snmp.ber import GET, Oid, VarBind
from collectors.snmp.recorded import RecordedAgent, RecordedTransport
from collectors.snmp.transport import Device, Limits, Transport
from collectors.snmp.v2c import V2cTransport
from collectors.snmp.walker import Breaker, Walker, WalkResult, check_status

if TYPE_CHECKING:
    from collectors.snmp.v3 import V3Engine

__all__ = ["Device", "Limits", "SnmpClient", "WalkResult"]


class SnmpClient:
    """One per process (per event loop): the v3 engine and the per-device semaphores live here."""

    def __init__(self, recordings: Mapping[tuple[str, int], RecordedAgent] | None = None) -> None:
        self._v3: V3Engine | None = None
        self._limits: dict[tuple[str, int], asyncio.Semaphore] = {}
        self.breaker = Breaker()
        #: devices answered from a recorded walk instead of the network (``recorded.py``)
        self.recordings = dict(recordings or {})

    def limit(self, device: Device) -> asyncio.Semaphore:
        """The device's bound on requests in flight, shared by every poll of it in this process."""
        sem = self._limits.get(device.key)
        if sem is None:
            sem = self._limits[device.key] = asyncio.Semaphore(device.concurrency)
        return sem

    @asynccontextmanager
    async def transport(self, device: Device) -> AsyncIterator[Transport]:
        """A transport to ``device`` for the length of one poll; closed however the poll ends."""
        transport: Transport
        recording = self.recordings.get(device.key)
        if recording is not None:
            transport = RecordedTransport(device, recording)
        elif device.auth.version == 3:
            transport = await self._v3engine().open(device)
        else:
            transport = await V2cTransport.open(device)
        try:
            yield transport
        finally:
            transport.close()

    async def walk(self, device: Device, roots: Sequence[Oid], limits: Limits | None = None) -> WalkResult:
        """Walk every root subtree within ``limits`` (default: the device's own over ``Limits()``)."""
        bounds = (limits or Limits()).override(device.max_rows, device.max_requests, device.poll_timeout)
        async with self.transport(device) as transport:
            return await Walker(transport, self.limit(device), self.breaker, bounds).walk(roots)

    async def get(self, device: Device, oids: Sequence[Oid]) -> list[VarBind]:
        async with self.transport(device) as transport, self.limit(device):
            resp = await transport.request(GET, list(oids))
        check_status(device, resp)
        return resp.varbinds

    def close(self) -> None:
        if self._v3 is not None:
            self._v3.close()
            self._v3 = None

    def _v3engine(self) -> V3Engine:
        from collectors.snmp.v3 import V3Engine  # lazy: keeps pysnmp off the v2c path

        if self._v3 is None:
            self._v3 = V3Engine()
        return self._v3
