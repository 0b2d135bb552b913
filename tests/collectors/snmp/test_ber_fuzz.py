"""Fuzzing the v2c response decoder (``collectors.snmp.ber.decode_response``) with hypothesis.

What must hold for *any* bytes an agent (or anyone on the path) may send:

* the decoder raises ``ber.BerError`` and nothing else, or returns a ``Response`` whose every field is
  in its type's range (``well_formed``);
* the work it does is linear in the input: counted, not timed (lines of ``ber.py`` executed and octets
  read, under ``sys.settrace``), so the check cannot fail on a slow machine;
* a well-formed message with random OIDs and values, encoded by pysnmp (the independent reference),
  decodes to exactly what was encoded.

Inputs: random bytes; mutations of pysnmp-encoded responses (bit flips, truncations, insertions,
deletions, length-field edits at a real TLV header); structured messages. Each test is bounded by
``max_examples`` and derandomized (the same examples every run, no example database), well under 20 s
here. The corpus ``tests/fixtures/fuzz/ber/`` keeps what once failed and hand-picked edge cases,
replayed by ``test_corpus``; its README says what each file is and how to add one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pyasn1.type import univ
from pysnmp.proto import api

from collectors.snmp import ber

P2 = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
P1 = api.PROTOCOL_MODULES[api.SNMP_VERSION_1]

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "fuzz" / "ber"
MAX_DATAGRAM = 65_507  # the largest UDP payload over IPv4
MAX_SUBID = 2**32 - 1
INT32 = (-(2**31), 2**31 - 1)


#: ``FTTHNOC_FUZZ_SCALE=20`` runs twenty times the examples (a longer hunt, by hand); CI runs 1
SCALE = float(os.environ.get("FTTHNOC_FUZZ_SCALE", "1"))


def fuzz(max_examples: int) -> settings:
    """Bounded (examples, not time), the same examples every run, no example database (the corpus is
    the memory)."""
    return settings(max_examples=max(1, round(max_examples * SCALE)), deadline=None, derandomize=True,
                    database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ------------------------------------------------------------------------------------ the reference
def pysnmp_message(version: int, community: bytes, pdu_type: int, request_id: int, error_status: int,
                   error_index: int, varbinds: list[tuple[tuple[int, ...], Any]]) -> bytes:
    """A response (or v2c report) encoded by pysnmp/pyasn1, not by the code under test."""
    p = P1 if version == 0 else P2
    pdu = P2.ReportPDU() if pdu_type == ber.REPORT else p.GetResponsePDU()
    p.apiPDU.set_defaults(pdu)
    p.apiPDU.set_request_id(pdu, request_id)
    p.apiPDU.set_error_status(pdu, error_status)
    p.apiPDU.set_error_index(pdu, error_index)
    p.apiPDU.set_varbinds(pdu, varbinds)
    msg = p.Message()
    p.apiMessage.set_defaults(msg)
    p.apiMessage.set_community(msg, community)
    p.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


# ------------------------------------------------------------------------------------ strategies
# Boundaries of the base-128 arcs (one more octet each) and of the 32-bit range.
_ARC_EDGES = [0, 1, 39, 40, 127, 128, 16_383, 16_384, 2**21 - 1, 2**21, 2**28 - 1, 2**28, 2**31, MAX_SUBID - 1,
              MAX_SUBID]
arcs = st.one_of(st.sampled_from(_ARC_EDGES), st.integers(0, MAX_SUBID))


@st.composite
def oids(draw: st.DrawFn, max_arcs: int = 128) -> tuple[int, ...]:
    """Any OID SNMP allows: 2 to 128 sub-identifiers, each at most 2^32 - 1. Under arc 2 the second arc
    stops at 2^32 - 81: X.690 encodes the first two as one sub-identifier (80 + second), which must fit
    32 bits here as in net-snmp (pysnmp would encode more; no SNMP OID starts with 2)."""
    first = draw(st.integers(0, 2))
    second = draw(st.integers(0, 39) if first < 2 else st.one_of(st.sampled_from([0, 39, 40, MAX_SUBID - 80]),
                                                                  st.integers(0, MAX_SUBID - 80)))
    size = draw(st.integers(0, 15))
    size = max_arcs - 2 if size == 15 else size  # now and then the longest
    return (first, second, *draw(st.lists(arcs, min_size=size, max_size=size)))


u32 = st.one_of(st.sampled_from([0, 2**31 - 1, 2**31, MAX_SUBID]), st.integers(0, MAX_SUBID))
i32 = st.one_of(st.sampled_from([*INT32, -1, 0, -128, -129, -32_768, -(2**23), 127, 128]), st.integers(*INT32))

#: (pysnmp value, tag ber.py must report, value ber.py must report) for SNMPv2c
Typed = tuple[Any, int, ber.Value]


def _typed(p: Any, v2: bool) -> st.SearchStrategy[Typed]:
    common: list[st.SearchStrategy[Typed]] = [
        i32.map(lambda v: (p.Integer(v), ber.INTEGER, v)),
        st.binary(max_size=300).map(lambda b: (p.OctetString(b), ber.OCTET_STRING, b)),
        oids().map(lambda o: (p.ObjectIdentifier(o), ber.OBJECT_IDENTIFIER, o)),
        st.binary(min_size=4, max_size=4).map(lambda b: (p.IpAddress(b), ber.IP_ADDRESS, b)),
        u32.map(lambda v: ((p.Counter32 if v2 else p.Counter)(v), ber.COUNTER32, v)),
        u32.map(lambda v: ((p.Gauge32 if v2 else p.Gauge)(v), ber.GAUGE32, v)),
        u32.map(lambda v: (p.TimeTicks(v), ber.TIMETICKS, v)),
        st.binary(max_size=40).map(lambda b: (p.Opaque(b), ber.OPAQUE, b)),
        st.just((p.Null(""), ber.NULL, None)),
    ]
    if v2:
        common += [
            st.one_of(st.sampled_from([0, 2**63, 2**64 - 1]), st.integers(0, 2**64 - 1)).map(
                lambda v: (p.Counter64(v), ber.COUNTER64, v)),
            st.sampled_from([(p.NoSuchObject(""), ber.NO_SUCH_OBJECT, None),
                             (p.NoSuchInstance(""), ber.NO_SUCH_INSTANCE, None),
                             (p.EndOfMibView(""), ber.END_OF_MIB_VIEW, None)]),
        ]
    return st.one_of(common)


V2_VALUES, V1_VALUES = _typed(P2, True), _typed(P1, False)


@st.composite
def messages(draw: st.DrawFn) -> tuple[bytes, ber.Response]:
    """A v1/v2c response (or v2c report) with random fields and varbinds, encoded by pysnmp, and the
    ``Response`` it must decode to."""
    version = draw(st.sampled_from([0, 1]))
    pdu_type = ber.RESPONSE if version == 0 else draw(st.sampled_from([ber.RESPONSE, ber.REPORT]))
    community = draw(st.binary(max_size=40))
    request_id = draw(i32)
    error_status = draw(st.integers(0, ber.MAX_ERROR_STATUS))
    error_index = draw(st.one_of(st.integers(0, 64), st.just(2**31 - 1)))
    pairs = draw(st.lists(st.tuples(oids(), V1_VALUES if version == 0 else V2_VALUES), max_size=16))
    data = pysnmp_message(version, community, pdu_type, request_id, error_status, error_index,
                          [(o, t[0]) for o, t in pairs])
    expected = ber.Response(version, community, pdu_type, request_id, error_status, error_index,
                            [ber.VarBind(o, t[1], t[2]) for o, t in pairs])
    return data, expected


def tlv_headers(data: bytes) -> list[tuple[int, int]]:
    """(position of the length octets, their count) of every TLV in well-formed BER, constructed ones
    walked into: where a length-field edit does the most damage. Not the code under test."""
    out: list[tuple[int, int]] = []

    def walk(pos: int, end: int) -> None:
        while pos < end:
            tag, n = data[pos], data[pos + 1]
            k = n & 0x7F if n & 0x80 else 0
            length = int.from_bytes(data[pos + 2:pos + 2 + k], "big") if k else n
            out.append((pos + 1, 1 + k))
            body = pos + 2 + k
            if tag & 0x20:  # constructed: SEQUENCE, the PDUs
                walk(body, body + length)
            pos = body + length

    walk(0, len(data))
    return out


#: replacement length fields: off by one, indefinite (0x80), non-minimal and oversized long forms
def _lengths(length: int) -> list[bytes]:
    return [bytes([min(length + 1, 0x7F)]), bytes([min(max(length - 1, 0), 0x7F)]), b"\x00", b"\x7f", b"\x80",
            b"\x81" + bytes([min(length, 255)]), b"\x82" + min(length, 0xFFFF).to_bytes(2, "big"),
            b"\x84\x00\x00\x00" + bytes([min(length, 255)]), b"\x84\xff\xff\xff\xff", b"\x85\x00\x00\x00\x00\x05",
            b"\x88" + b"\x00" * 8, b"\xff", b"\x82\x00"]


Mutation = tuple[str, int, int, bytes]
mutation = st.tuples(st.sampled_from(["flip", "set", "truncate", "insert", "delete", "length"]),
                     st.integers(0, 1 << 16), st.integers(0, 255),
                     st.one_of(st.binary(max_size=8),
                               st.sampled_from([b"\x30\x80", b"\x06\x01\x80", b"\x02\x05\xff\x80\x00\x00\x00",
                                                b"\x30\x84\x7f\xff\xff\xff", b"\x05\x00"])))


def mutate(data: bytes, ops: list[Mutation]) -> bytes:
    """Apply ``ops`` in turn; positions are taken modulo the current length."""
    buf = bytearray(data)
    for op, pos, arg, blob in ops:
        i = pos % (len(buf) + 1)
        if op == "flip" and buf:
            buf[i % len(buf)] ^= 1 << (arg % 8)
        elif op == "set" and buf:
            buf[i % len(buf)] = arg
        elif op == "truncate":
            del buf[i:]
        elif op == "insert":
            buf[i:i] = blob
        elif op == "delete":
            del buf[i:i + 1 + arg % 8]
        elif op == "length":
            try:
                headers = tlv_headers(bytes(buf))
            except IndexError:  # an earlier op already broke the structure: the plain octet
                headers = [(i % len(buf), 1)] if buf else []
            if headers:
                at, n = headers[pos % len(headers)]
                old = int.from_bytes(buf[at + 1:at + n], "big") if n > 1 else buf[at]
                choices = _lengths(old)
                buf[at:at + n] = choices[arg % len(choices)]
    return bytes(buf)


# ------------------------------------------------------------------------------------ what must hold
def _valid_oid(oid: tuple[int, ...]) -> bool:
    return (2 <= len(oid) <= ber.MAX_OID_LENGTH and all(0 <= a <= MAX_SUBID for a in oid) and oid[0] <= 2
            and (oid[0] == 2 or oid[1] <= 39))


def well_formed(resp: ber.Response, data: bytes) -> None:
    """Every field of a decoded response in its range, every value of the type its tag says."""
    assert resp.version in (0, 1)
    assert resp.pdu_type in (ber.RESPONSE, ber.REPORT)
    assert INT32[0] <= resp.request_id <= INT32[1]
    assert 0 <= resp.error_status <= ber.MAX_ERROR_STATUS
    assert 0 <= resp.error_index <= INT32[1]
    assert isinstance(resp.community, bytes) and len(resp.community) <= len(data)
    assert len(resp.varbinds) <= len(data) // 7  # the smallest varbind: 30 05 06 01 xx 05 00
    unsigned = {ber.COUNTER32: MAX_SUBID, ber.GAUGE32: MAX_SUBID, ber.TIMETICKS: MAX_SUBID,
                ber.COUNTER64: 2**64 - 1}
    for vb in resp.varbinds:
        assert _valid_oid(vb.oid), vb
        if vb.tag == ber.INTEGER:
            assert isinstance(vb.value, int) and INT32[0] <= vb.value <= INT32[1], vb
        elif vb.tag in unsigned:
            assert isinstance(vb.value, int) and 0 <= vb.value <= unsigned[vb.tag], vb
        elif vb.tag in (ber.OCTET_STRING, ber.OPAQUE):
            assert isinstance(vb.value, bytes), vb
        elif vb.tag == ber.IP_ADDRESS:
            assert isinstance(vb.value, bytes) and len(vb.value) == 4, vb
        elif vb.tag == ber.OBJECT_IDENTIFIER:
            assert isinstance(vb.value, tuple) and _valid_oid(vb.value), vb
        else:
            assert vb.tag in (ber.NULL, ber.INVALID, *ber.EXCEPTION_TAGS) and vb.value is None, vb


def decode_or_ber_error(data: bytes) -> ber.Response | None:
    """The decoded response (checked), or None when ``BerError`` was raised; anything else fails."""
    try:
        resp = ber.decode_response(data)
    except ber.BerError:
        return None
    well_formed(resp, data)
    return resp


def pysnmp_view(data: bytes, version: int) -> list[tuple[tuple[int, ...], int, ber.Value]] | None:
    """The varbinds as pysnmp decodes ``data`` (tag, and int / bytes / OID / None), or None if it refuses."""
    p = P1 if version == 0 else P2
    try:
        msg, rest = decoder.decode(data, asn1Spec=p.Message())
        if rest:
            return None
        out: list[tuple[tuple[int, ...], int, ber.Value]] = []
        for name, value in p.apiPDU.get_varbinds(p.apiMessage.get_pdu(msg)):
            tag = value.tagSet[-1]
            tag_int = int(tag.tagClass | tag.tagFormat | tag.tagId)
            if isinstance(value, univ.Null):  # a Null is an OctetString to pyasn1
                out.append((tuple(name), tag_int, None))
            elif isinstance(value, univ.Integer):
                out.append((tuple(name), tag_int, int(value)))
            elif isinstance(value, univ.OctetString):
                out.append((tuple(name), tag_int, bytes(value)))
            elif isinstance(value, univ.ObjectIdentifier):
                out.append((tuple(name), tag_int, tuple(value)))
            else:
                out.append((tuple(name), tag_int, None))
        return out
    except Exception:  # pyasn1 refuses in many ways (PyAsn1Error, its subclasses, ValueError)
        return None


def agrees_with_pysnmp(resp: ber.Response, data: bytes) -> None:
    """What ber.py accepts and pysnmp decodes too, both read alike: every name, and every value ber.py
    does not mark INVALID (INVALID is where ber.py is the stricter: an INTEGER past 32 bits, an OID value
    past 128 arcs, an unknown tag; pysnmp refuses other things, indefinite lengths for one, a v1 message
    with a Report PDU for another, and then there is nothing to compare)."""
    theirs = pysnmp_view(data, resp.version)
    if theirs is None:
        return
    assert [vb.oid for vb in resp.varbinds] == [o for o, _, _ in theirs]
    for vb, (_, tag, value) in zip(resp.varbinds, theirs, strict=True):
        if vb.tag != ber.INVALID:
            assert (vb.tag, vb.value) == (tag, value), vb


# ------------------------------------------------------------------------------------ work, counted
class _Counted(bytes):
    """The input, counting the octets the decoder reads out of it (an index: 1, a slice: its length)."""

    read: int

    def __getitem__(self, key: Any) -> Any:
        out = super().__getitem__(key)
        self.read += len(out) if isinstance(key, slice) else 1
        return out


@contextmanager
def _lines_of(path: str) -> Iterator[list[int]]:
    """Count the lines executed in frames of the file ``path`` while the block runs."""
    count = [0]

    def local(frame: FrameType, event: str, arg: object) -> Callable[..., Any] | None:
        if event == "line":
            count[0] += 1
        return local

    def tracer(frame: FrameType, event: str, arg: object) -> Callable[..., Any] | None:
        return local if frame.f_code.co_filename == path else None

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        yield count
    finally:
        sys.settrace(old)


def work(data: bytes) -> tuple[int, int]:
    """(lines of ber.py executed, octets read) to decode ``data``; deterministic, unlike a clock."""
    counted = _Counted(data)
    counted.read = 0
    with _lines_of(ber.__file__) as lines, suppress(ber.BerError):
        ber.decode_response(counted)
    return lines[0], counted.read


#: the decoder's work may grow with the input by at most this much per octet (lines, octets read), plus
#: a constant; the measured worst case is under a quarter of it (minimal varbinds: 9 lines an octet), and a
#: decoder that copied the rest of the message at each TLV reads ~4,700 octets an octet of this datagram
LINES_PER_OCTET, OCTETS_READ_PER_OCTET, WORK_CONSTANT = 40, 3, 400


def assert_linear(data: bytes) -> None:
    lines, read = work(data)
    n = len(data)
    assert lines <= LINES_PER_OCTET * n + WORK_CONSTANT, f"{lines} lines for {n} octets"
    assert read <= OCTETS_READ_PER_OCTET * n + WORK_CONSTANT, f"{read} octets read for {n} octets"


# ------------------------------------------------------------------------------------ the tests
@fuzz(200)
@given(messages())
def test_a_message_pysnmp_encodes_decodes_to_what_was_encoded(case: tuple[bytes, ber.Response]) -> None:
    data, expected = case
    assert ber.decode_response(data) == expected


@fuzz(1000)
@given(st.one_of(st.binary(max_size=600),
                 st.binary(max_size=600).map(lambda b: b"\x30" + bytes([len(b) & 0x7F]) + b)))
@example(b"\x30\x80\x02\x01\x01\x00\x00")
@example(b"\x30\x84\xff\xff\xff\xff")
def test_random_bytes_raise_only_ber_error(data: bytes) -> None:
    decode_or_ber_error(data)


@fuzz(300)
@given(messages(), st.lists(mutation, min_size=1, max_size=4))
def test_mutated_responses_raise_only_ber_error(case: tuple[bytes, ber.Response], ops: list[Mutation]) -> None:
    data = mutate(case[0], ops)
    resp = decode_or_ber_error(data)
    if resp is not None:
        agrees_with_pysnmp(resp, data)


@fuzz(100)
@given(st.one_of(st.binary(max_size=2000),
                 st.tuples(messages(), st.lists(mutation, min_size=1, max_size=3)).map(lambda c: mutate(c[0][0],
                                                                                                       c[1]))))
def test_work_is_linear_in_the_input(data: bytes) -> None:
    assert_linear(data)


# ------------------------------------------------------------------------------------ found by the fuzz
def test_int32_min_as_pysnmp_writes_it_is_read() -> None:
    """pyasn1 writes every negative power of two with a redundant 0xFF octet, so Integer32's minimum
    takes five octets (``02 05 ff 80 00 00 00``); ber.py refused it as "longer than 32 bits" in a header
    field and marked it INVALID as a value, though it is a valid Integer32 (found by the round trip)."""
    data = pysnmp_message(1, b"public", ber.RESPONSE, -(2**31), 0, 0, [((1, 3, 6, 1, 2, 1, 1, 7, 0),
                                                                         P2.Integer(-(2**31)))])
    assert bytes.fromhex("0205ff80000000") in data
    resp = ber.decode_response(data)
    assert resp.request_id == -(2**31)
    assert resp.varbinds == [ber.VarBind((1, 3, 6, 1, 2, 1, 1, 7, 0), ber.INTEGER, -(2**31))]


@pytest.mark.parametrize("content", ["0080000000", "ff7fffffff", "000000000001", "ffff80000000"])
def test_five_octets_outside_int32_stay_refused(content: str) -> None:
    value = bytes.fromhex(content)
    vb = _tlv(0x30, _tlv(0x06, b"\x2b") + _tlv(0x02, value))
    assert ber.decode_response(_message(vb)).varbinds[0].tag == ber.INVALID
    with pytest.raises(ber.BerError, match=r"request-id .*32"):
        ber.decode_response(_message(vb, request_id=value))


# ------------------------------------------------------------------------------------ maximal datagrams
def _tlv(tag: int, body: bytes, long_form: bool = False) -> bytes:
    n = len(body)
    if long_form:
        return bytes((tag, 0x84)) + n.to_bytes(4, "big") + body
    if n < 0x80:
        return bytes((tag, n)) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + body


def _oid_body(oid: tuple[int, ...]) -> bytes:
    out = bytearray()
    for arc in [oid[0] * 40 + oid[1], *oid[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def _message(vbl: bytes, long_form: bool = False, request_id: bytes = b"\x01") -> bytes:
    """A v2c response around these raw varbind octets, written by hand (not with the code under test)."""
    pdu = _tlv(0xA2, _tlv(0x02, request_id, long_form) + _tlv(0x02, b"\x00", long_form) + _tlv(0x02, b"\x00", long_form)
               + _tlv(0x30, vbl, long_form), long_form)
    return _tlv(0x30, _tlv(0x02, b"\x01", long_form) + _tlv(0x04, b"public", long_form) + pdu, long_form)


def _fill(varbind: bytes, size: int = MAX_DATAGRAM, long_form: bool = False, last: bytes = b"") -> bytes:
    """As many copies of ``varbind`` as fit in a datagram of ``size`` octets, padded to exactly ``size``
    by an OCTET STRING varbind, then ``last``."""
    count = max(0, (size - 300 - len(last)) // len(varbind)) if varbind else 0
    body = varbind * count
    pad_name = _tlv(0x06, b"\x2b\x06")

    def build(pad: int) -> bytes:
        return _message(body + _tlv(0x30, pad_name + _tlv(0x04, b"\x00" * pad, long_form), long_form) + last,
                        long_form)

    guess = size - len(build(0))
    for pad in range(guess, max(-1, guess - 16), -1):  # the pad's own length octets grow with it
        data = build(pad)
        if len(data) == size:
            return data
    raise AssertionError("could not pad to size")


_MAX_OID = (1, 3, *[MAX_SUBID] * 126)


def _nested(depth: int) -> bytes:
    inner = b"\x05\x00"
    for _ in range(depth):
        inner = _tlv(0x30, inner)
    return inner


def maximal_datagrams(size: int = MAX_DATAGRAM) -> dict[str, bytes]:
    """Datagrams of ``size`` octets in the shapes that cost a decoder most per octet."""
    minimal = _tlv(0x30, _tlv(0x06, b"\x2b") + b"\x05\x00")  # 7 octets: 1.3 = NULL
    long_oid = _tlv(0x30, _tlv(0x06, _oid_body(_MAX_OID)) + b"\x05\x00")  # 128 arcs of 5 octets
    oid_value = _tlv(0x30, _tlv(0x06, b"\x2b") + _tlv(0x06, _oid_body(_MAX_OID)))
    bad_last = _tlv(0x30, _tlv(0x06, b"\x2b\x80\x01") + b"\x05\x00")  # arc with a leading 0x80: refused at the end
    return {
        "minimal-varbinds": _fill(minimal, size),
        "max-oid-names": _fill(long_oid, size),
        "max-oid-values": _fill(oid_value, size),
        "long-form-lengths": _fill(_tlv(0x30, _tlv(0x06, b"\x2b", True) + b"\x05\x00", True), size, long_form=True),
        "one-octet-string": _fill(b"", size),
        "nested-sequence-values": _fill(_tlv(0x30, _tlv(0x06, b"\x2b") + _nested(40)), size),
        "counter64-values": _fill(_tlv(0x30, _tlv(0x06, b"\x2b") + _tlv(0x46, b"\x00" + b"\xff" * 8)), size),
        "oversized-counters": _fill(_tlv(0x30, _tlv(0x06, b"\x2b") + _tlv(0x41, b"\x01" * 200)), size),
        "refused-at-the-last-varbind": _fill(minimal, size, last=bad_last),
        "length-past-the-end": (b"\x30\x84" + size.to_bytes(4, "big") + b"\x02\x01\x01" * ((size - 6) // 3)
                                + b"\x00" * ((size - 6) % 3)),
    }


@pytest.mark.parametrize("shape", sorted(maximal_datagrams(1024)))
def test_a_maximal_datagram_costs_linear_work(shape: str) -> None:
    """65,507 octets in each costly shape: decoded (or refused) within the linear bound, and twice the
    octets cost at most about twice the work (a quadratic decoder would cost four times)."""
    full, half = maximal_datagrams()[shape], maximal_datagrams(MAX_DATAGRAM // 2)[shape]
    assert len(full) == MAX_DATAGRAM
    decode_or_ber_error(full)
    assert_linear(full)
    (lines_full, read_full), (lines_half, read_half) = work(full), work(half)
    assert lines_full <= 2.2 * lines_half + WORK_CONSTANT
    assert read_full <= 2.2 * read_half + WORK_CONSTANT


def test_maximal_datagrams_decode_to_what_they_hold() -> None:
    shapes = maximal_datagrams()
    minimal = ber.decode_response(shapes["minimal-varbinds"])
    assert len(minimal.varbinds) > 9_000 and minimal.varbinds[0] == ber.VarBind((1, 3), ber.NULL, None)
    names = ber.decode_response(shapes["max-oid-names"])
    assert names.varbinds[0].oid == _MAX_OID and len(_MAX_OID) == ber.MAX_OID_LENGTH
    values = ber.decode_response(shapes["max-oid-values"])
    assert values.varbinds[0] == ber.VarBind((1, 3), ber.OBJECT_IDENTIFIER, _MAX_OID)
    nested = ber.decode_response(shapes["nested-sequence-values"])
    assert {vb.tag for vb in nested.varbinds[:-1]} == {ber.INVALID}
    oversized = ber.decode_response(shapes["oversized-counters"])
    assert {vb.tag for vb in oversized.varbinds[:-1]} == {ber.INVALID}
    for refused in ("refused-at-the-last-varbind", "length-past-the-end"):
        with pytest.raises(ber.BerError):
            ber.decode_response(shapes[refused])


# ------------------------------------------------------------------------------------ the corpus
def _corpus() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*.bin"))


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.stem)
def test_corpus(path: Path) -> None:
    """Every kept input: ``ok-*`` must decode, ``err-*`` must raise BerError, ``any-*`` either; all within
    the linear bound. ``ok-*`` files with a ``.expect`` beside them must decode to exactly that."""
    data = path.read_bytes()
    resp = decode_or_ber_error(data)
    outcome = path.name.split("-", 1)[0]
    assert outcome in ("ok", "err", "any"), f"{path.name}: name it ok-, err- or any-"
    if outcome == "ok":
        assert resp is not None, f"{path.name} must decode"
    elif outcome == "err":
        assert resp is None, f"{path.name} must be refused"
    expect = path.with_suffix(".expect")
    if expect.exists():
        assert resp is not None
        assert describe(resp) == expect.read_text(encoding="utf-8"), path.name
    assert_linear(data)


def test_the_corpus_is_there_and_described() -> None:
    files = _corpus()
    assert len(files) >= 20
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in files if p.name not in readme]
    assert not missing, f"not described in {CORPUS / 'README.md'}: {missing}"


def describe(resp: ber.Response) -> str:
    """A response as text, one varbind a line: what a ``.expect`` file holds."""
    head = (f"version={resp.version} community={resp.community.hex()} pdu=0x{resp.pdu_type:02x} "
            f"request_id={resp.request_id} error_status={resp.error_status} error_index={resp.error_index}\n")
    lines = []
    for vb in resp.varbinds:
        value = vb.value.hex() if isinstance(vb.value, bytes) else (
            ber.format_oid(vb.value) if isinstance(vb.value, tuple) else repr(vb.value))
        lines.append(f"{ber.format_oid(vb.oid)} 0x{vb.tag:02x} {value}\n")
    return head + "".join(lines)
