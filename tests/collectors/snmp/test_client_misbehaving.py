"""The client against agents that misbehave: garbage, silence, loops, stray answers."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from collectors.snmp import ber
from collectors.snmp.client import Device, Limits, SnmpClient
from collectors.snmp.module import ModuleLimits, get_module
from collectors.snmp.poll import poll_module
from ftthnoc.config import Auth
from ftthnoc.errors import SnmpLimitExceeded, SnmpProtocolError, SnmpTimeout
from tests.collectors.snmp import misbehaving_agents as agents
from tests.waiting import scaled


def device(port: int, timeout: float = 0.3, retries: int = 1) -> Device:
    return Device("olt-test", "127.0.0.1", port, Auth(community="public"), timeout=timeout, retries=retries)


async def test_garbage_answer_is_a_clear_error_not_a_crash() -> None:
    transport, _, port = await agents.start(agents.garbage)
    try:
        result = await poll_module(SnmpClient(), device(port), get_module("if_mib"))
    finally:
        transport.close()
    assert result.success is False
    assert result.error is not None and "malformed response" in result.error
    assert result.families == []


async def test_silent_agent_times_out_after_timeout_times_tries() -> None:
    transport, proto, port = await agents.start(agents.silent)
    try:
        start = time.monotonic()
        with pytest.raises(SnmpTimeout, match=r"no response within 0\.3s × 3 tries"):
            await SnmpClient().get(device(port, 0.3, 2), [(1, 3, 6, 1, 2, 1, 1, 5, 0)])
        elapsed = time.monotonic() - start
    finally:
        transport.close()
    assert proto.requests == 3  # one try and two retries, each a real datagram
    assert 0.85 <= elapsed < 2.0


async def test_agent_loop_is_detected() -> None:
    transport, _, port = await agents.start(agents.looping)
    try:
        with pytest.raises(SnmpProtocolError, match="OID not increasing"):
            await SnmpClient().walk(device(port), [(1, 3, 6, 1, 2, 1, 2, 2, 1, 4)])
    finally:
        transport.close()


async def test_stray_answer_with_another_request_id_is_ignored() -> None:
    transport, _, port = await agents.start(agents.stray_then_right)
    try:
        vbs = await SnmpClient().get(device(port), [(1, 3, 6, 1, 2, 1, 1, 5, 0)])
    finally:
        transport.close()
    assert [(v.tag, v.value) for v in vbs] == [(ber.OCTET_STRING, b"olt-chiyoda-1")]


# ------------------------------------------------------------------ hostile agents: every walk ends
IF_MTU = (1, 3, 6, 1, 2, 1, 2, 2, 1, 4)


async def test_an_endless_agent_ends_at_the_row_bound() -> None:
    transport, proto, port = await agents.start(agents.endless())
    try:
        with pytest.raises(SnmpLimitExceeded, match=r"passed its bound of 1000 rows.*max_rows"):
            await SnmpClient().walk(device(port), [IF_MTU], Limits(max_rows=1000))
    finally:
        transport.close()
    assert 40 <= proto.requests <= 42  # 25 rows an answer: it stopped right after the bound


async def test_an_endless_agent_ends_at_the_request_bound() -> None:
    transport, proto, port = await agents.start(agents.endless())
    try:
        with pytest.raises(SnmpLimitExceeded, match=r"passed its bound of 30 requests"):
            await SnmpClient().walk(device(port), [IF_MTU, (1, 3, 6, 1, 2, 1, 2, 2, 1, 5)],
                                    Limits(max_requests=30))
    finally:
        transport.close()
    assert proto.requests <= 31


async def test_an_endless_slow_agent_ends_at_the_time_bound() -> None:
    transport, proto, port = await agents.start(agents.slow(agents.endless(), 0.05))
    # A request timeout far beyond the bound, stretched with the machine's load: the agent answers every
    # request in 0.05 s, so only the bound (the error's own words say which) can end this walk.
    request_timeout = scaled(5.0)
    try:
        start = time.monotonic()
        with pytest.raises(SnmpLimitExceeded, match=r"did not finish within its bound of 1 s"):
            await SnmpClient().walk(device(port, timeout=request_timeout), [IF_MTU], Limits(max_seconds=1.0))
        elapsed = time.monotonic() - start
        asked = proto.requests
        await asyncio.sleep(0.5)  # about time itself: "nothing more is asked during this half second"
    finally:
        transport.close()
    assert elapsed >= 1.0  # not before its bound
    assert asked > 0 and proto.requests == asked  # the walk stopped with the error, nothing left asking


async def test_a_failed_bound_is_a_scrape_error_not_an_exception() -> None:
    transport, _, port = await agents.start(agents.endless())
    try:
        module = get_module("if_mib").model_copy(update={"limits": ModuleLimits(max_rows=500)})
        result = await poll_module(SnmpClient(), device(port), module)
    finally:
        transport.close()
    assert result.success is False and result.families == []
    assert result.error is not None and "500 rows" in result.error
    assert result.unanswered is False  # it answered, without end: a failing poll, not a dead device


@pytest.mark.parametrize(("reply", "unanswered"), [(agents.silent, True), (agents.wrong_community, False),
                                                   (agents.garbage, False)])
async def test_a_failed_poll_says_whether_the_agent_answered(reply: agents.Reply, unanswered: bool) -> None:
    """Silence (a dead OLT; a real agent asked with a wrong community is silent too) against an answer the
    poller refused (another community's, a malformed one)."""
    transport, _, port = await agents.start(reply)
    try:
        result = await poll_module(SnmpClient(), device(port, timeout=0.2, retries=0), get_module("if_mib"))
    finally:
        transport.close()
    assert result.success is False
    assert result.unanswered is unanswered, result.error


async def test_a_target_bound_wins_over_the_module_bound() -> None:
    transport, _, port = await agents.start(agents.endless())
    try:
        dev = Device("olt-test", "127.0.0.1", port, Auth(community="public"), timeout=0.5, max_rows=200)
        result = await poll_module(SnmpClient(), dev, get_module("if_mib"))
    finally:
        transport.close()
    assert result.error is not None and "200 rows" in result.error


async def test_an_oversized_reading_is_a_rejected_reading_not_a_failed_poll() -> None:
    transport, _, port = await agents.start(agents.oversized)
    try:
        result = await poll_module(SnmpClient(), device(port), get_module("if_mib"))
    finally:
        transport.close()
    assert result.success, result.error
    assert result.rejected == 1  # interface 2's 401-octet Counter64
    octets = {s.labels["ifIndex"]: s.value for f in result.families if f.name == "ifHCInOctets" for s in f.samples}
    assert octets == {"1": 1500.0, "3": 1500.0}
    mtu = {s.labels["ifIndex"]: s.value for f in result.families if f.name == "ifMtu" for s in f.samples}
    assert mtu == {"1": 1500.0, "2": 1500.0, "3": 1500.0}


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (agents.absurd_subid, r"malformed response.*OBJECT IDENTIFIER"),
        (agents.wrong_community, "another community"),
        (agents.version_0, "version field 0"),
        (agents.get_request_pdu, "not a response PDU"),
        (agents.trailing_bytes, "trailing octet"),
        (agents.negative_error_status, "error-status -1"),
    ],
)
async def test_answers_the_standard_refuses_are_refused_with_the_reason(reply: agents.Reply, reason: str) -> None:
    transport, _, port = await agents.start(reply)
    try:
        result = await poll_module(SnmpClient(), device(port, timeout=0.2, retries=0), get_module("if_mib"))
    finally:
        transport.close()
    assert result.success is False and result.families == []
    assert result.error is not None
    assert re.search(reason, result.error), result.error
