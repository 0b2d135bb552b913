"""UDP responders that misbehave on purpose: what no well-behaved snmpsim agent will do.

They are real sockets on loopback; requests are parsed with pysnmp (not with the code under test).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

P = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]

Reply = Callable[[int, list[tuple[Any, Any]]], list[bytes]]


def response(request_id: int, varbinds: list[tuple[str, Any]], error_status: int = 0) -> bytes:
    """A v2c Response encoded by pysnmp/pyasn1: the reference the project's codec is checked against."""
    pdu = P.ResponsePDU()
    P.apiPDU.set_defaults(pdu)
    P.apiPDU.set_request_id(pdu, request_id)
    P.apiPDU.set_error_status(pdu, error_status)
    P.apiPDU.set_varbinds(pdu, varbinds)
    msg = P.Message()
    P.apiMessage.set_defaults(msg)
    P.apiMessage.set_community(msg, "public")
    P.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


class _Responder(asyncio.DatagramProtocol):
    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.transport: Any = None
        self.requests = 0

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.requests += 1
        msg, _ = decoder.decode(data, asn1Spec=P.Message())
        pdu = P.apiMessage.get_pdu(msg)
        req_id = int(P.apiPDU.get_request_id(pdu))
        loop = asyncio.get_running_loop()
        for packet in self.reply(req_id, list(P.apiPDU.get_varbinds(pdu))):
            delay = getattr(packet, "delay", 0.0)
            if delay:
                loop.call_later(delay, self._send, bytes(packet), addr)
            else:
                self.transport.sendto(packet, addr)

    def _send(self, packet: bytes, addr: Any) -> None:
        if not self.transport.is_closing():
            self.transport.sendto(packet, addr)


async def start(reply: Reply) -> tuple[asyncio.DatagramTransport, _Responder, int]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(lambda: _Responder(reply), local_addr=("127.0.0.1", 0))
    return transport, proto, transport.get_extra_info("sockname")[1]


class InThread:
    """A misbehaving agent on its own thread and event loop, for tests whose poller is another process::

        with InThread(endless) as agent:
            run_ftthnoc("poll", "--target", agent.address, ...)
            agent.requests      # datagrams it has received so far
    """

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="misbehaving-agent")
        self.port = 0
        self._proto: _Responder | None = None
        self._transport: asyncio.DatagramTransport | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._transport, self._proto, self.port = self.loop.run_until_complete(start(self.reply))
        self._ready.set()
        self.loop.run_forever()
        self._transport.close()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def requests(self) -> int:
        return self._proto.requests if self._proto is not None else 0

    def __enter__(self) -> InThread:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the misbehaving agent did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)


def garbage(req_id: int, vbs: list[tuple[Any, Any]]) -> list[bytes]:
    return [b"\x30\x82\xff\xff\x02\x01\x01garbage"]


def silent(req_id: int, vbs: list[tuple[Any, Any]]) -> list[bytes]:
    return []


def looping(req_id: int, vbs: list[tuple[Any, Any]]) -> list[bytes]:
    """Always answers the same instance: a broken agent that would make a naive walk spin forever."""
    return [response(req_id, [("1.3.6.1.2.1.2.2.1.4.1", P.Integer(1500))])]


def stray_then_right(req_id: int, vbs: list[tuple[Any, Any]]) -> list[bytes]:
    """A late answer to an older request arrives first; it must be ignored, not taken."""
    return [
        response(req_id + 1000, [("1.3.6.1.2.1.1.5.0", P.OctetString(b"WRONG"))]),
        response(req_id, [("1.3.6.1.2.1.1.5.0", P.OctetString(b"olt-chiyoda-1"))]),
    ]


# --------------------------------------------------------------------------- hostile agents
def endless() -> Reply:
    """An agent that always answers inside the asked subtree, one step further each time: a walk of any
    subtree never ends by itself (each answer's OIDs increase, so no loop check can catch it)."""
    answered: set[tuple[int, ...]] = set()

    def reply(req_id: int, vbs: list[tuple[Any, Any]]) -> list[bytes]:
        asked = tuple(int(x) for x in vbs[0][0])
        base, last = (asked[:-1], asked[-1]) if asked in answered else (asked, 0)
        oids = [(*base, last + i) for i in range(1, 26)]
        answered.add(oids[-1])
        return [response(req_id, [(".".join(map(str, o)), P.Integer(1500)) for o in oids])]

    return reply


def slow(reply: Reply, seconds: float) -> Reply:
    """``reply``, answered ``seconds`` later (in a thread-free way: the responder schedules it)."""

    def delayed(req_id: int, vbs: list[tuple[Any, Any]]) -> list[bytes]:
        return [_Later(seconds, p) for p in reply(req_id, vbs)]  # type: ignore[misc]

    return delayed


class _Later(bytes):
    """A packet the responder sends after ``delay`` seconds."""

    delay: float

    def __new__(cls, delay: float, data: bytes) -> _Later:
        obj = super().__new__(cls, data)
        obj.delay = delay
        return obj


# Raw BER, written by hand (not with the code under test): what an attacker's agent may send.
def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes((tag, n)) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + body


def _oid_body(arcs: list[int]) -> bytes:
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def raw_response(req_id: int, varbinds: list[tuple[list[int], int, bytes]], *, version: int = 1,
                 community: bytes = b"public", pdu: int = 0xA2, error_status: bytes = b"\x00",
                 trailer: bytes = b"") -> bytes:
    """A response with exactly these (oid arcs, value tag, value content octets) varbinds."""
    vbl = b"".join(_tlv(0x30, _tlv(0x06, _oid_body(o)) + _tlv(tag, body)) for o, tag, body in varbinds)
    body = (_tlv(0x02, req_id.to_bytes(4, "big", signed=True)) + _tlv(0x02, error_status) + _tlv(0x02, b"\x00")
            + _tlv(0x30, vbl))
    return _tlv(0x30, _tlv(0x02, bytes((version,))) + _tlv(0x04, community) + _tlv(pdu, body)) + trailer


IF_MTU = [1, 3, 6, 1, 2, 1, 2, 2, 1, 4]
IF_HC_IN_OCTETS = [1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6]
END = [1, 3, 6, 1, 2, 1, 99]


def oversized(req_id: int, vbs: list[tuple[Any, Any]]) -> list[bytes]:
    """if_mib rows where interface 2's ifHCInOctets is a 401-octet Counter64; everything else is sane."""
    asked = [int(x) for x in vbs[0][0]]
    rows: list[tuple[list[int], int, bytes]] = []
    for column in (IF_MTU, IF_HC_IN_OCTETS):
        if asked[: len(column)] == column or asked < column:
            for ifindex in (1, 2, 3):
                if [*column, ifindex] > asked:
                    value = b"\x01" + b"\x00" * 400 if (column is IF_HC_IN_OCTETS and ifindex == 2) else b"\x05\xdc"
                    rows.append(([*column, ifindex], 0x46 if column is IF_HC_IN_OCTETS else 0x02, value))
    rows.append((END, 0x82, b""))
    return [raw_response(req_id, rows[:25])]


def absurd_subid(req_id: int, vbs: list[tuple[Any, Any]]) -> list[bytes]:
    """An index sub-identifier of 5,000 decimal digits: no SNMP message may carry it."""
    return [raw_response(req_id, [([*IF_MTU, 10**5000], 0x02, b"\x05\xdc")])]


def wrong_community(req_id: int, vbs: list[tuple[Any, Any]]) -> list[bytes]:
    return [raw_response(req_id, [([*IF_MTU, 1], 0x02, b"\x05\xdc"), (END, 0x82, b"")], community=b"private")]


def version_0(req_id: int, vbs: list[tuple[Any, Any]]) -> list[bytes]:
    return [raw_response(req_id, [([*IF_MTU, 1], 0x02, b"\x05\xdc"), (END, 0x82, b"")], version=0)]


def get_request_pdu(req_id: int, vbs: list[tuple[Any, Any]]) -> list[bytes]:
    return [raw_response(req_id, [([*IF_MTU, 1], 0x02, b"\x05\xdc"), (END, 0x82, b"")], pdu=0xA0)]


def trailing_bytes(req_id: int, vbs: list[tuple[Any, Any]]) -> list[bytes]:
    return [raw_response(req_id, [([*IF_MTU, 1], 0x02, b"\x05\xdc"), (END, 0x82, b"")], trailer=b"\x00\x00")]


def negative_error_status(req_id: int, vbs: list[tuple[Any, Any]]) -> list[bytes]:
    return [raw_response(req_id, [([*IF_MTU, 1], 0x02, b"\x05\xdc")], error_status=b"\xff")]
