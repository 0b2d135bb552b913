"""The one walker as a unit: over in-memory transports (no sockets), so every rule is exercised quickly.

What travels over UDP (the v2c transport, snmpsim, net-snmp) has its own process-level tests; here the
walker's own promises: subtree ends, tooBig, loops, bounds, the breaker, and that the v2c and v3
transports meet one walker (the recorded agent answers exactly as snmpsim does: ``test_recorded.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from collectors.snmp import ber
from collectors.snmp.ber import Oid, VarBind
from collectors.snmp.recorded import RecordedAgent, RecordedTransport
from collectors.snmp.transport import Device, Limits
from collectors.snmp.walker import Breaker, Walker
from ftthnoc.config import Auth
from ftthnoc.errors import SnmpAgentError, SnmpLimitExceeded, SnmpProtocolError, SnmpTimeout

ROOT: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 4)
OTHER: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 5)


def device(**kw: object) -> Device:
    return Device("olt-unit", "192.0.2.1", 161, Auth(), **kw)  # type: ignore[arg-type]  # never contacted


def table(n: int, root: Oid = ROOT) -> list[VarBind]:
    return [VarBind((*root, i), ber.INTEGER, 1500 + i) for i in range(1, n + 1)]


def walker(transport: object, limits: Limits | None = None) -> Walker:
    return Walker(transport, asyncio.Semaphore(2), Breaker(), limits or Limits())  # type: ignore[arg-type]


async def test_walks_a_subtree_to_its_end_and_no_further() -> None:
    agent = RecordedAgent([*table(60), *table(3, OTHER)])
    result = await walker(RecordedTransport(device(max_repetitions=25), agent)).walk([ROOT, OTHER])
    assert [vb.value for vb in result.columns[ROOT]] == [1500 + i for i in range(1, 61)]
    assert len(result.columns[OTHER]) == 3
    assert result.requests == 4  # three answers for the 60 rows, one for OTHER's 3 rows and the end of the MIB


async def test_a_missing_subtree_is_empty_not_an_error() -> None:
    result = await walker(RecordedTransport(device(), RecordedAgent(table(5)))).walk([(1, 3, 6, 1, 4, 1, 9)])
    assert result.columns == {(1, 3, 6, 1, 4, 1, 9): []}


class Scripted:
    """A transport whose answers a test writes: tooBig above a size, a loop, a dead agent."""

    def __init__(self, agent: RecordedAgent, *, too_big_above: int | None = None, loop_at: int | None = None,
                 dead: bool = False) -> None:
        self.device = device(max_repetitions=40)
        self.agent = agent
        self.too_big_above = too_big_above
        self.loop_at = loop_at
        self.dead = dead
        self.asked: list[int] = []

    async def request(self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int = 0) -> ber.Response:
        self.asked.append(max_repetitions)
        if self.dead:
            raise SnmpTimeout(self.device.name, "no response")
        if self.too_big_above is not None and max_repetitions > self.too_big_above:
            return ber.Response(1, b"", ber.RESPONSE, 0, 1, 0, [])
        rows = self.agent.next_after(oids[0], max_repetitions)
        if self.loop_at is not None and len(self.asked) == self.loop_at:
            rows = [VarBind(oids[0], ber.INTEGER, 1)]
        return ber.Response(1, b"", ber.RESPONSE, 0, 0, 0, rows)

    def close(self) -> None:
        pass


async def test_too_big_halves_max_repetitions_until_the_answer_fits() -> None:
    transport = Scripted(RecordedAgent(table(30)), too_big_above=10)
    result = await walker(transport).walk([ROOT])
    assert len(result.columns[ROOT]) == 30
    assert transport.asked[:3] == [40, 20, 10]  # halved twice, then kept
    assert set(transport.asked[3:]) == {10}


async def test_an_oid_that_does_not_increase_is_an_agent_loop() -> None:
    with pytest.raises(SnmpProtocolError, match="OID not increasing"):
        await walker(Scripted(RecordedAgent(table(100)), loop_at=2)).walk([ROOT])


async def test_an_error_status_other_than_too_big_fails_the_walk() -> None:
    class GenErr(Scripted):
        async def request(self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int = 0) -> ber.Response:
            return ber.Response(1, b"", ber.RESPONSE, 0, 5, 1, [])

    with pytest.raises(SnmpAgentError, match=r"genErr\(5\)"):
        await walker(GenErr(RecordedAgent([]))).walk([ROOT])


async def test_bounds_end_a_walk_however_the_agent_answers() -> None:
    agent = RecordedAgent(table(1000))
    with pytest.raises(SnmpLimitExceeded, match="bound of 100 rows"):
        await walker(RecordedTransport(device(), agent), Limits(max_rows=100)).walk([ROOT])
    with pytest.raises(SnmpLimitExceeded, match="bound of 3 requests"):
        await walker(RecordedTransport(device(), agent), Limits(max_requests=3)).walk([ROOT])


async def test_a_timeout_trips_the_breaker_and_the_sibling_walks_give_up_at_once() -> None:
    transport = Scripted(RecordedAgent(table(10)), dead=True)
    with pytest.raises(SnmpTimeout):
        await walker(transport).walk([ROOT, OTHER, (1, 3, 6, 1, 2, 1, 2, 2, 1, 6)])
    assert len(transport.asked) <= 2  # the concurrency's worth of requests, not one per subtree


async def test_cancelling_a_walk_stops_it_at_its_next_request() -> None:
    gate = asyncio.Event()

    class Slow(Scripted):
        async def request(self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int = 0) -> ber.Response:
            self.asked.append(max_repetitions)
            await gate.wait()
            return await super().request(pdu_type, oids, max_repetitions)

    transport = Slow(RecordedAgent(table(1000)))
    task = asyncio.create_task(walker(transport).walk([ROOT]))
    while not transport.asked:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.set()
    await asyncio.sleep(0)
    assert len(transport.asked) == 1
