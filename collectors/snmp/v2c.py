"""SNMPv2c over one connected UDP socket, with the project's own BER codec (``ber.py``).

Answers are matched to requests by request-id; a request is retransmitted with the same id. An answer
is taken only when it is what the standard says an answer to us is: version 2c, our community, a
Response PDU (RFC 3416 §4.2; RFC 3584 for the community). Anything else — garbage, another community, a
v1 answer, a stray id — is ignored, and the last reason is kept so that the timeout that follows says
what came instead of an answer.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Sequence

from collectors.snmp import ber
from collectors.snmp.ber import Oid
from collectors.snmp.transport import Device
from ftthnoc.errors import SnmpError, SnmpProtocolError, SnmpTimeout

#: the version field of a v2c message (RFC 1901)
V2C = 1


class _Expired(Exception):
    """A try's timeout passed (internal: becomes a retry, or ``SnmpTimeout`` after the last try)."""


def _expire(fut: asyncio.Future[ber.Response]) -> None:
    if not fut.done():
        fut.set_exception(_Expired())


class V2cTransport(asyncio.DatagramProtocol):
    """One connected UDP socket to one agent; created with :meth:`open`, closed with :meth:`close`."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, asyncio.Future[ber.Response]] = {}
        #: why the last datagram that was no answer to us was refused
        self.last_refusal: str | None = None
        self._ids = itertools.count(random.randint(1, 2**30))
        self.community = device.auth.community.get_secret_value().encode()

    @classmethod
    async def open(cls, device: Device) -> V2cTransport:
        loop = asyncio.get_running_loop()
        try:
            _, proto = await loop.create_datagram_endpoint(lambda: cls(device), remote_addr=(device.host, device.port))
        except OSError as exc:
            raise SnmpError(device.name, f"cannot open a socket to {device.host}:{device.port}: "
                            f"{exc.strerror or exc}") from exc
        return proto

    # asyncio.DatagramProtocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's transport

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        try:
            resp = ber.decode_response(data)
        except ber.BerError as exc:
            self.last_refusal = f"malformed response from the agent: {exc}"
            return
        fut = self.pending.get(resp.request_id)
        if fut is None or fut.done():
            return  # a late answer to an earlier try, or to nobody
        if resp.version != V2C:
            self.last_refusal = f"the agent answered with SNMP version field {resp.version} (v2c is 1)"
        elif resp.pdu_type != ber.RESPONSE:
            self.last_refusal = f"the agent answered with PDU type 0x{resp.pdu_type:02x}, not a Response"
        elif resp.community != self.community:
            self.last_refusal = "an answer came with another community than the one asked with"
        else:
            del self.pending[resp.request_id]
            fut.set_result(resp)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable on a connected socket: nobody listens there.
        if isinstance(exc, ConnectionRefusedError):
            err = SnmpTimeout(self.device.name, "port unreachable: no SNMP agent answers at "
                              f"{self.device.host}:{self.device.port}")
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(err)
            self.pending.clear()

    async def request(self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int = 0) -> ber.Response:
        if self.transport is None or self.transport.is_closing():
            raise SnmpError(self.device.name, "the socket to the agent is closed")
        dev = self.device
        req_id = next(self._ids) & 0x7FFFFFFF
        packet = ber.encode_request(self.community, pdu_type, req_id, list(oids), 0, max_repetitions)
        loop = asyncio.get_running_loop()
        for _attempt in range(dev.retries + 1):
            fut: asyncio.Future[ber.Response] = loop.create_future()
            self.pending[req_id] = fut
            self.transport.sendto(packet)
            # a timer on the future itself: asyncio.wait_for wraps it in two more futures, per request
            timer = loop.call_later(dev.timeout, _expire, fut)
            try:
                return await fut
            except _Expired:
                continue
            finally:
                timer.cancel()
                self.pending.pop(req_id, None)
        if self.last_refusal:
            raise SnmpProtocolError(dev.name, self.last_refusal)
        raise SnmpTimeout(dev.name, f"no response within {dev.timeout:g}s × {dev.retries + 1} tries "
                                    "(device down, wrong community, or an ACL)")

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        for fut in self.pending.values():
            fut.cancel()
        self.pending.clear()
