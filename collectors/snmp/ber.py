"""A minimal BER codec for SNMPv2c GET/GETBULK on the polling hot path.

pysnmp builds every varbind through pyasn1 objects: measured here at about 45× net-snmp's CPU per
varbind, too slow for 7,000 ONUs × 8 columns on a town's single poller. A v2c message is a fixed
shape (SEQUENCE{version, community, PDU{request-id, error-status, error-index, varbinds}}), so this
module encodes requests and decodes responses straight from bytes. SNMPv3 (USM, crypto) stays in
pysnmp: see ``collectors.snmp.v3``.

OIDs are tuples of ints. Values are Python ints, bytes, OID tuples, ``None`` (NULL) or one of the
exception markers below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

Oid = tuple[int, ...]
Value = int | bytes | Oid | None

# Value tags (X.690 universal + SNMP application tags)
INTEGER: Final = 0x02
OCTET_STRING: Final = 0x04
NULL: Final = 0x05
OBJECT_IDENTIFIER: Final = 0x06
SEQUENCE: Final = 0x30
IP_ADDRESS: Final = 0x40
COUNTER32: Final = 0x41
GAUGE32: Final = 0x42
TIMETICKS: Final = 0x43
OPAQUE: Final = 0x44
COUNTER64: Final = 0x46
NO_SUCH_OBJECT: Final = 0x80
NO_SUCH_INSTANCE: Final = 0x81
END_OF_MIB_VIEW: Final = 0x82

GET: Final = 0xA0
GET_NEXT: Final = 0xA1
RESPONSE: Final = 0xA2
GET_BULK: Final = 0xA5
REPORT: Final = 0xA8

UNSIGNED_TAGS: Final = frozenset({COUNTER32, GAUGE32, TIMETICKS, COUNTER64})
EXCEPTION_TAGS: Final = frozenset({NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW})

ERROR_STATUS: Final = (
    "noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess", "wrongType",
    "wrongLength", "wrongEncoding", "wrongValue", "noCreation", "inconsistentValue",
    "resourceUnavailable", "commitFailed", "undoFailed", "authorizationError", "notWritable",
    "inconsistentName",
)


class BerError(ValueError):
    """The bytes are not a well-formed SNMP message."""


@dataclass(frozen=True, slots=True)
class VarBind:
    oid: Oid
    tag: int
    value: Value


@dataclass(frozen=True, slots=True)
class Response:
    version: int
    community: bytes
    pdu_type: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]


# ----------------------------------------------------------------------------------------- encoding
def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _len(len(body)) + body


def encode_int(value: int, tag: int = INTEGER) -> bytes:
    size = max(1, (value.bit_length() + 8) // 8)
    return _tlv(tag, value.to_bytes(size, "big", signed=True))


def encode_oid(oid: Oid) -> bytes:
    if len(oid) < 2:
        raise ValueError(f"an OID needs at least two arcs: {oid}")
    arcs = [oid[0] * 40 + oid[1], *oid[2:]]
    out = bytearray()
    for arc in arcs:
        if arc < 0x80:
            out.append(arc)
            continue
        chunk = []
        while arc:
            chunk.append(arc & 0x7F)
            arc >>= 7
        chunk.reverse()
        out.extend(b | 0x80 for b in chunk[:-1])
        out.append(chunk[-1])
    return _tlv(OBJECT_IDENTIFIER, bytes(out))


def encode_request(
    community: bytes, pdu_type: int, request_id: int, oids: list[Oid], non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:
    """A v2c GET (error fields 0) or GETBULK (error fields = non-repeaters, max-repetitions)."""
    varbinds = b"".join(_tlv(SEQUENCE, encode_oid(o) + b"\x05\x00") for o in oids)
    pdu = _tlv(
        pdu_type,
        encode_int(request_id) + encode_int(non_repeaters) + encode_int(max_repetitions)
        + _tlv(SEQUENCE, varbinds),
    )
    return _tlv(SEQUENCE, encode_int(1) + _tlv(OCTET_STRING, community) + pdu)


def parse_oid(text: str) -> Oid:
    try:
        return tuple(int(p) for p in text.strip().lstrip(".").split("."))
    except ValueError as exc:
        raise ValueError(f"not a numeric OID: {text!r}") from exc


def format_oid(oid: Oid) -> str:
    return ".".join(map(str, oid))


# ----------------------------------------------------------------------------------------- decoding
def _header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, body start, body end) of the TLV at ``pos``."""
    if pos + 2 > end:
        raise BerError("truncated TLV header")
    tag = data[pos]
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or pos + k > end:
            raise BerError("bad length encoding")
        n = int.from_bytes(data[pos:pos + k], "big")
        pos += k
    if pos + n > end:
        raise BerError("length runs past the end of the message")
    return tag, pos, pos + n


def _expect(data: bytes, pos: int, end: int, tag: int, what: str) -> tuple[int, int]:
    t, s, e = _header(data, pos, end)
    if t != tag:
        raise BerError(f"expected {what} (tag 0x{tag:02x}), found tag 0x{t:02x}")
    return s, e


def _int(data: bytes, s: int, e: int) -> int:
    if s == e:
        raise BerError("empty INTEGER")
    return int.from_bytes(data[s:e], "big", signed=True)


def decode_oid(body: bytes) -> Oid:
    if not body:
        raise BerError("empty OBJECT IDENTIFIER")
    arcs: list[int] = []
    acc = 0
    for b in body:
        acc = (acc << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(acc)
            acc = 0
    if body[-1] & 0x80:
        raise BerError("OBJECT IDENTIFIER ends inside an arc")
    first = arcs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return (*head, *arcs[1:])


def decode_response(data: bytes) -> Response:
    """Decode a v1/v2c message; raise ``BerError`` with what is wrong, never anything else."""
    try:
        return _decode(data)
    except BerError:
        raise
    except (IndexError, ValueError) as exc:  # defensive: a shape we did not foresee
        raise BerError(f"undecodable message: {exc}") from exc


def _decode(data: bytes) -> Response:
    end = len(data)
    s, e = _expect(data, 0, end, SEQUENCE, "message SEQUENCE")
    vs, ve = _expect(data, s, e, INTEGER, "version")
    version = _int(data, vs, ve)
    if version not in (0, 1):
        raise BerError(f"not an SNMPv1/v2c message (version field {version})")
    cs, ce = _expect(data, ve, e, OCTET_STRING, "community")
    pdu_type, ps, pe = _header(data, ce, e)
    if pdu_type not in (RESPONSE, REPORT):
        raise BerError(f"not a response PDU (tag 0x{pdu_type:02x})")
    rs, re_ = _expect(data, ps, pe, INTEGER, "request-id")
    es, ee = _expect(data, re_, pe, INTEGER, "error-status")
    xs, xe = _expect(data, ee, pe, INTEGER, "error-index")
    ls, le = _expect(data, xe, pe, SEQUENCE, "varbind list")
    varbinds: list[VarBind] = []
    pos = ls
    append = varbinds.append
    while pos < le:
        bs, be = _expect(data, pos, le, SEQUENCE, "varbind")
        os_, oe = _expect(data, bs, be, OBJECT_IDENTIFIER, "varbind name")
        oid = decode_oid(data[os_:oe])
        tag, ts, te = _header(data, oe, be)
        value: Value
        if tag == INTEGER:
            value = _int(data, ts, te)
        elif tag in UNSIGNED_TAGS:
            value = int.from_bytes(data[ts:te], "big")
        elif tag in (OCTET_STRING, IP_ADDRESS, OPAQUE):
            value = data[ts:te]
        elif tag == OBJECT_IDENTIFIER:
            value = decode_oid(data[ts:te])
        elif tag == NULL or tag in EXCEPTION_TAGS:
            value = None
        else:
            raise BerError(f"unknown value tag 0x{tag:02x} at {format_oid(oid)}")
        append(VarBind(oid, tag, value))
        pos = be
    return Response(
        version, data[cs:ce], pdu_type, _int(data, rs, re_), _int(data, es, ee), _int(data, xs, xe), varbinds
    )
