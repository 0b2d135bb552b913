"""UDP responders that misbehave on purpose: what no well-behaved snmpsim agent will do.

They are real sockets on loopback; requests are parsed with pysnmp (not with the code under test).
"""

from __future__ import annotations

import asyncio
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
        for packet in self.reply(req_id, list(P.apiPDU.get_varbinds(pdu))):
            self.transport.sendto(packet, addr)


async def start(reply: Reply) -> tuple[asyncio.DatagramTransport, _Responder, int]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(lambda: _Responder(reply), local_addr=("127.0.0.1", 0))
    return transport, proto, transport.get_extra_info("sockname")[1]


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
