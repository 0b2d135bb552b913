"""A minimal BER codec for SNMPv2c GET/GETBULK on the polling hot path.

pysnmp builds every varbind through pyasn1 objects: measured here at about 45× net-snmp's CPU per
varbind, too slow for 7,000 ONUs × 8 columns on a town's single poller. A v2c message is a fixed
shape (SEQUENCE{version, community, PDU{request-id, error-status, error-index, varbinds}}), so this
module encodes requests and decodes responses straight from bytes. The PDU inside (``encode_pdu``,
``decode_pdu``) is the same in an SNMPv3 message: ``ber_v3`` wraps it in the v3 header and USM.

OIDs are tuples of ints. Values are Python ints, bytes, OID tuples, ``None`` (NULL) or one of the
exception markers below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NamedTuple

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


class VarBind(NamedTuple):
    """One name and value. A named tuple, not a dataclass: one is made per varbind of every poll, and a
    tuple is built in a third of a frozen dataclass's time."""

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
def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + encode_length(len(body)) + body


def encode_int(value: int, tag: int = INTEGER) -> bytes:
    size = max(1, (value.bit_length() + 8) // 8)
    return tlv(tag, value.to_bytes(size, "big", signed=True))


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
    return tlv(OBJECT_IDENTIFIER, bytes(out))


def encode_pdu(pdu_type: int, request_id: int, oids: list[Oid], non_repeaters: int = 0,
               max_repetitions: int = 0) -> bytes:
    """A GET (error fields 0) or GETBULK (error fields = non-repeaters, max-repetitions) PDU, NULL values;
    the same bytes in a v2c message and in an SNMPv3 scopedPDU."""
    varbinds = b"".join(tlv(SEQUENCE, encode_oid(o) + b"\x05\x00") for o in oids)
    return tlv(
        pdu_type,
        encode_int(request_id) + encode_int(non_repeaters) + encode_int(max_repetitions)
        + tlv(SEQUENCE, varbinds),
    )


def encode_request(
    community: bytes, pdu_type: int, request_id: int, oids: list[Oid], non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:
    """A v2c GET or GETBULK message."""
    pdu = encode_pdu(pdu_type, request_id, oids, non_repeaters, max_repetitions)
    return tlv(SEQUENCE, encode_int(1) + tlv(OCTET_STRING, community) + pdu)


def parse_oid(text: str) -> Oid:
    try:
        return tuple(int(p) for p in text.strip().lstrip(".").split("."))
    except ValueError as exc:
        raise ValueError(f"not a numeric OID: {text!r}") from exc


def format_oid(oid: Oid) -> str:
    return ".".join(map(str, oid))


# ----------------------------------------------------------------------------------------- decoding
#: An OID has at most 128 sub-identifiers, each at most 2^32 - 1 (RFC 2578 §3.5, RFC 3416 §4.1).
MAX_OID_LENGTH: Final = 128
MAX_SUBID: Final = 2**32 - 1
#: the largest error-status RFC 3416 defines (inconsistentName)
MAX_ERROR_STATUS: Final = len(ERROR_STATUS) - 1
#: A varbind whose *name* is well formed but whose value breaks its type (a 401-octet Counter32, a
#: 7-octet IpAddress, an unknown tag): the walk goes on past it and the poll counts it as a rejected
#: reading, never a number. Outside the byte range, so it can be no real tag.
INVALID: Final = 0x100
#: octets of content at most, and the range, of each fixed-width value type
_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1
_UNSIGNED_RANGE: Final = {COUNTER32: 2**32 - 1, GAUGE32: 2**32 - 1, TIMETICKS: 2**32 - 1, COUNTER64: 2**64 - 1}


def header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
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


def expect(data: bytes, pos: int, end: int, tag: int, what: str) -> tuple[int, int]:
    t, s, e = header(data, pos, end)
    if t != tag:
        raise BerError(f"expected {what} (tag 0x{tag:02x}), found tag 0x{t:02x}")
    return s, e


def read_int(data: bytes, s: int, e: int, what: str = "INTEGER") -> int:
    """A signed Integer32 (X.690 §8.3; SNMP's INTEGER is 32-bit). Five octets are read when the value
    fits: pyasn1 (pysnmp, snmpsim) writes every negative power of two with a redundant leading 0xFF, so
    -2^31 arrives as ``ff 80 00 00 00``."""
    if s == e:
        raise BerError(f"empty {what}")
    if e - s > 5:
        raise BerError(f"{what} longer than 32 bits ({e - s} octets)")
    value = int.from_bytes(data[s:e], "big", signed=True)
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise BerError(f"{what} {value} is outside the 32-bit range")
    return value


_ARC_LIMIT: Final = MAX_SUBID >> 7  # an arc above this cannot take one more 7-bit group


def decode_oid(body: bytes) -> Oid:
    """Sub-identifiers of an OBJECT IDENTIFIER's content; linear in its length.

    Refuses what X.690 §8.19 and RFC 2578 refuse: an arc that starts with 0x80 (not minimal), an arc
    above 2^32 - 1, more than 128 sub-identifiers, content that ends inside an arc. One pass, one branch
    per octet for the common one-octet arc: this runs once per varbind of every poll.
    """
    if not body:
        raise BerError("empty OBJECT IDENTIFIER")
    if body[-1] & 0x80:
        raise BerError("OBJECT IDENTIFIER ends inside an arc")
    if len(body) > MAX_OID_LENGTH * 5:
        raise BerError(f"OBJECT IDENTIFIER of {len(body)} octets (at most {MAX_OID_LENGTH} sub-identifiers)")
    arcs: list[int] = []
    append = arcs.append
    acc = 0
    for b in body:
        if b < 0x80:
            append((acc << 7) | b)
            acc = 0
        elif acc == 0 and b == 0x80:
            raise BerError("OBJECT IDENTIFIER arc with a leading 0x80 octet (not minimal)")
        else:
            acc = (acc << 7) | (b & 0x7F)
            if acc > _ARC_LIMIT:  # one more octet would pass 2^32 - 1: stop before the int grows
                raise BerError("OBJECT IDENTIFIER sub-identifier above 2^32 - 1")
    if len(arcs) + 1 > MAX_OID_LENGTH:
        raise BerError(f"OBJECT IDENTIFIER with {len(arcs) + 1} sub-identifiers (at most {MAX_OID_LENGTH})")
    first = arcs[0]
    if first < 80:
        return (first // 40, first % 40, *arcs[1:])
    return (2, first - 80, *arcs[1:])


def _value(data: bytes, tag: int, s: int, e: int) -> tuple[int, Value]:
    """(tag, value) of a varbind's value, or (INVALID, None) when the value breaks its type."""
    n = e - s
    if tag == INTEGER:
        if n == 0 or n > 5:  # five octets: -2^31 as pyasn1 writes it (see ``read_int``)
            return INVALID, None
        value = int.from_bytes(data[s:e], "big", signed=True)
        return (tag, value) if _INT32_MIN <= value <= _INT32_MAX else (INVALID, None)
    if tag in UNSIGNED_TAGS:
        # Unsigned types are INTEGER-encoded; a 0x00 octet may lead (2^32 - 1 takes five octets). Agents
        # that send 0xFFFFFFFF in four octets are read as unsigned, as net-snmp reads them.
        limit = _UNSIGNED_RANGE[tag]
        if n == 0 or n > (9 if tag == COUNTER64 else 5):
            return INVALID, None
        value = int.from_bytes(data[s:e], "big")
        return (tag, value) if value <= limit else (INVALID, None)
    if tag in (OCTET_STRING, OPAQUE):
        return tag, data[s:e]
    if tag == IP_ADDRESS:
        return (tag, data[s:e]) if n == 4 else (INVALID, None)
    if tag == OBJECT_IDENTIFIER:
        try:
            return tag, decode_oid(data[s:e])
        except BerError:
            return INVALID, None
    if tag == NULL or tag in EXCEPTION_TAGS:
        return (tag, None) if n == 0 else (INVALID, None)
    return INVALID, None


def decode_response(data: bytes) -> Response:
    """Decode a v1/v2c message; raise ``BerError`` with what is wrong, never anything else.

    Linear in the message's length. The message is refused as a whole when its structure is wrong
    (lengths, shapes, a varbind name, trailing bytes, header fields out of range); a value that breaks
    its own type only marks that varbind ``INVALID``.
    """
    try:
        return _decode(data)
    except BerError:
        raise
    except (IndexError, ValueError, OverflowError) as exc:  # defensive: a shape we did not foresee
        raise BerError(f"undecodable message: {exc}") from exc


def _decode(data: bytes) -> Response:
    end = len(data)
    s, e = expect(data, 0, end, SEQUENCE, "message SEQUENCE")
    if e != end:
        raise BerError(f"{end - e} trailing octet(s) after the message")
    vs, ve = expect(data, s, e, INTEGER, "version")
    version = read_int(data, vs, ve, "version")
    if version not in (0, 1):
        raise BerError(f"not an SNMPv1/v2c message (version field {version})")
    cs, ce = expect(data, ve, e, OCTET_STRING, "community")
    pdu_type, request_id, error_status, error_index, varbinds = decode_pdu(data, ce, e)
    return Response(version, data[cs:ce], pdu_type, request_id, error_status, error_index, varbinds)


def decode_pdu(data: bytes, pos: int, end: int) -> tuple[int, int, int, int, list[VarBind]]:
    """(type, request-id, error-status, error-index, varbinds) of a Response or Report PDU that starts at
    ``pos`` and ends exactly at ``end``: the PDU of a v2c message, or of an SNMPv3 scopedPDU. Raises
    ``BerError`` (and, on a shape not foreseen, ``IndexError``/``ValueError``: callers wrap it)."""
    pdu_type, ps, pe = header(data, pos, end)
    if pdu_type not in (RESPONSE, REPORT):
        raise BerError(f"not a response PDU (tag 0x{pdu_type:02x})")
    if pe != end:
        raise BerError("octets after the PDU inside the message")
    rs, re_ = expect(data, ps, pe, INTEGER, "request-id")
    es, ee = expect(data, re_, pe, INTEGER, "error-status")
    xs, xe = expect(data, ee, pe, INTEGER, "error-index")
    ls, le = expect(data, xe, pe, SEQUENCE, "varbind list")
    if le != pe:
        raise BerError("octets after the varbind list inside the PDU")
    error_status = read_int(data, es, ee, "error-status")
    if not 0 <= error_status <= MAX_ERROR_STATUS:
        raise BerError(f"error-status {error_status} is not one RFC 3416 defines")
    error_index = read_int(data, xs, xe, "error-index")
    if error_index < 0:
        raise BerError(f"negative error-index {error_index}")
    varbinds: list[VarBind] = []
    pos = ls
    append = varbinds.append
    while pos < le:
        bs, be = expect(data, pos, le, SEQUENCE, "varbind")
        os_, oe = expect(data, bs, be, OBJECT_IDENTIFIER, "varbind name")
        oid = decode_oid(data[os_:oe])
        tag, ts, te = header(data, oe, be)
        if te != be:
            raise BerError(f"octets after the value of {format_oid(oid)}")
        vtag, value = _value(data, tag, ts, te)
        append(VarBind(oid, vtag, value))
        pos = be
    return pdu_type, read_int(data, rs, re_, "request-id"), error_status, error_index, varbinds
