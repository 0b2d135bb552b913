"""The client against agents that misbehave: garbage, silence, loops, stray answers."""

from __future__ import annotations

import time

import pytest

from collectors.snmp import ber
from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.module import get_module
from collectors.snmp.poll import poll_module
from ftthnoc.config import Auth
from ftthnoc.errors import SnmpProtocolError, SnmpTimeout
from tests.collectors.snmp import misbehaving_agents as agents


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
