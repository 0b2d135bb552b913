"""The SNMP client: the poller's one entry point for walks and GETs, v2c and v3, with per-device limits.

It opens a transport per poll (``v2c.V2cTransport`` or ``v3.V3Transport``, each on its own socket; what
SNMPv3 learnt of each device's engine — its ID, boots and time — is kept here across polls, so engine
discovery happens once per device), bounds the requests in flight to each device with a semaphore shared
by every poll of it (OLT agents are single-threaded and slow), and hands the walk to the one
``walker.Walker``. Callers get ``VarBind``s of
plain Python values and the project's own ``SnmpError`` subclasses.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from collectors.snmp.ber import GET, Oid, VarBind
from collectors.snmp.recorded import RecordedAgent, RecordedTransport
from collectors.snmp.transport import Device, Limits, Transport
from collectors.snmp.v2c import V2cTransport
from collectors.snmp.v3 import EngineState, V3Transport
from collectors.snmp.walker import Breaker, Walker, WalkResult, check_status

__all__ = ["Device", "Limits", "SnmpClient", "WalkResult"]


class SnmpClient:
    """One per process (per event loop): the per-device semaphores and SNMPv3 engine states live here."""

    def __init__(self, recordings: Mapping[tuple[str, int], RecordedAgent] | None = None) -> None:
        self._engines: dict[tuple[str, int], EngineState] = {}
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
            transport = await V3Transport.open(device, self.engine(device))
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

    def engine(self, device: Device) -> EngineState:
        """What SNMPv3 knows of the device's engine, shared by every poll of it in this process."""
        state = self._engines.get(device.key)
        if state is None:
            state = self._engines[device.key] = EngineState()
        return state

    def close(self) -> None:
        """Nothing holds a socket between polls (each transport closes with its poll); kept for callers."""
        self._engines.clear()
