"""The v2c codec against pysnmp's own encoder and decoder, plus malformed input."""

from __future__ import annotations

import pytest
from pyasn1.codec.ber import decoder as pyasn1_decoder
from pysnmp.proto import api

from collectors.snmp import ber
from tests.collectors.snmp.misbehaving_agents import response

P = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]


def test_decodes_every_value_type_as_pysnmp_encodes_it() -> None:
    huawei = "1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4.4194304000.3"  # ifIndex above 2^31
    data = response(
        424242,
        [
            (huawei, P.Integer(-2187)),
            ("1.3.6.1.2.1.1.1.0", P.OctetString(b"MA5800\x00\xff")),
            ("1.3.6.1.2.1.1.2.0", P.ObjectIdentifier("1.3.6.1.4.1.2011.2.248")),
            ("1.3.6.1.2.1.4.20.1.1.10.0.0.1", P.IpAddress("10.0.0.1")),
            ("1.3.6.1.2.1.2.2.1.10.1", P.Counter32(4294967295)),
            ("1.3.6.1.2.1.2.2.1.5.1", P.Gauge32(1000000000)),
            ("1.3.6.1.2.1.1.3.0", P.TimeTicks(123456)),
            ("1.3.6.1.2.1.31.1.1.1.6.1", P.Counter64(2**64 - 1)),
            ("1.3.6.1.2.1.2.2.1.10.2", P.Integer(2147483647)),
        ],
    )
    resp = ber.decode_response(data)
    assert resp.request_id == 424242 and resp.error_status == 0 and resp.community == b"public"
    got = [(ber.format_oid(v.oid), v.tag, v.value) for v in resp.varbinds]
    assert got == [
        (huawei, ber.INTEGER, -2187),
        ("1.3.6.1.2.1.1.1.0", ber.OCTET_STRING, b"MA5800\x00\xff"),
        ("1.3.6.1.2.1.1.2.0", ber.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 2011, 2, 248)),
        ("1.3.6.1.2.1.4.20.1.1.10.0.0.1", ber.IP_ADDRESS, bytes([10, 0, 0, 1])),
        ("1.3.6.1.2.1.2.2.1.10.1", ber.COUNTER32, 4294967295),
        ("1.3.6.1.2.1.2.2.1.5.1", ber.GAUGE32, 1000000000),
        ("1.3.6.1.2.1.1.3.0", ber.TIMETICKS, 123456),
        ("1.3.6.1.2.1.31.1.1.1.6.1", ber.COUNTER64, 2**64 - 1),
        ("1.3.6.1.2.1.2.2.1.10.2", ber.INTEGER, 2147483647),
    ]


def test_decodes_exception_values_and_error_status() -> None:
    data = response(7, [("1.3.6.1.2.1.1.9.0", P.NoSuchObject()), ("1.3.6.1.9", P.EndOfMibView())], 5)
    resp = ber.decode_response(data)
    assert resp.error_status == 5
    assert [v.tag for v in resp.varbinds] == [ber.NO_SUCH_OBJECT, ber.END_OF_MIB_VIEW]


@pytest.mark.parametrize("max_rep", [1, 25, 200])
def test_getbulk_request_is_what_pysnmp_reads(max_rep: int) -> None:
    oids = [(1, 3, 6, 1, 4, 1, 2011, 6, 128, 1, 1, 2, 51, 1, 4, 4194304256), (1, 3, 6, 1, 2, 1, 1)]
    packet = ber.encode_request(b"secret", ber.GET_BULK, 2**31 - 1, oids, 0, max_rep)
    msg, rest = pyasn1_decoder.decode(packet, asn1Spec=P.Message())
    assert rest == b""
    pdu = P.apiMessage.get_pdu(msg)
    assert str(P.apiMessage.get_community(msg)) == "secret"
    assert int(P.apiBulkPDU.get_request_id(pdu)) == 2**31 - 1
    assert int(P.apiBulkPDU.get_max_repetitions(pdu)) == max_rep
    assert [tuple(o) for o, _ in P.apiBulkPDU.get_varbinds(pdu)] == oids


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "truncated"),
        (b"\x30\x03\x02\x01", "past the end"),
        (b"\x04\x00", "expected message SEQUENCE"),
        (b"\x30\x03\x02\x01\x03", "not an SNMPv1/v2c"),
        (bytes.fromhex("3010020101040170a208020101020100020100"), "trailing"),
        (bytes.fromhex("3011020101040170a20a020101020100020100"), "past the end"),
    ],
)
def test_malformed_messages_raise_ber_error_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ber.BerError, match=reason):
        ber.decode_response(data)


def test_every_truncation_of_a_real_response_is_a_ber_error() -> None:
    data = response(1, [("1.3.6.1.2.1.1.1.0", P.OctetString(b"x" * 300)), ("1.3.6.1.2.1.1.3.0", P.TimeTicks(5))])
    for cut in range(len(data)):
        with pytest.raises(ber.BerError):
            ber.decode_response(data[:cut])


def test_oid_round_trip_with_large_arcs() -> None:
    for oid in [(1, 3, 6, 1, 4, 1, 2011, 6, 128, 1, 1, 2, 51, 1, 4, 4194304000, 1), (2, 999, 3), (0, 0)]:
        encoded = ber.encode_oid(oid)
        assert ber.decode_oid(encoded[2:]) == oid


# ------------------------------------------------------------------ what the standard refuses
def _msg(varbinds: bytes, *, error_status: bytes = b"\x00", trailer: bytes = b"", version: int = 1) -> bytes:
    """A v2c Response with these raw varbind TLVs, assembled by hand (not with the code under test)."""

    def tlv(tag: int, body: bytes) -> bytes:
        n = len(body)
        return bytes((tag, n)) + body if n < 0x80 else bytes((tag, 0x82)) + n.to_bytes(2, "big") + body

    pdu = tlv(0xA2, tlv(0x02, b"\x01") + tlv(0x02, error_status) + tlv(0x02, b"\x00") + tlv(0x30, varbinds))
    return tlv(0x30, tlv(0x02, bytes((version,))) + tlv(0x04, b"public") + pdu) + trailer


SYS_DESCR_NAME = bytes.fromhex("06082b06010201010100")  # 1.3.6.1.2.1.1.1.0


def _vb(name: bytes, value: bytes) -> bytes:
    n = len(name) + len(value)
    return (bytes((0x30, n)) if n < 0x80 else b"\x30\x82" + n.to_bytes(2, "big")) + name + value


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_msg(_vb(SYS_DESCR_NAME, b"\x05\x00"), trailer=b"\x00"), "trailing octet"),
        (_msg(_vb(SYS_DESCR_NAME, b"\x05\x00") + b"\x05\x00"), "expected varbind"),
        (_msg(_vb(bytes.fromhex("06072b060102018001"), b"\x05\x00")), "leading 0x80"),
        (_msg(_vb(bytes.fromhex("060b2b06010201019080808000"), b"\x05\x00")), "above 2\\^32"),  # arc 2^32
        (_msg(_vb(SYS_DESCR_NAME, b"\x05\x00"), error_status=b"\xff"), "error-status -1"),
        (_msg(_vb(SYS_DESCR_NAME, b"\x05\x00"), error_status=b"\x13"), "error-status 19"),
        (_msg(_vb(SYS_DESCR_NAME, b"\x05\x00\x00")), "after the value"),
    ],
)
def test_messages_the_standard_refuses_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(ber.BerError, match=reason):
        ber.decode_response(data)


def test_the_largest_sub_identifier_is_accepted() -> None:
    name = bytes.fromhex("060b2b0601020101" "8fffffff7f")  # 1.3.6.1.2.1.1.(2^32 - 1)
    resp = ber.decode_response(_msg(_vb(name, b"\x05\x00")))
    assert resp.varbinds[0].oid == (1, 3, 6, 1, 2, 1, 1, 2**32 - 1)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (b"\x41\x06\x01\x00\x00\x00\x00\x00", "Counter32 = 2^40"),
        (b"\x41\x81\x91" + b"\x01" + b"\x00" * 144, "a 145-octet Counter32"),
        (b"\x46\x0a\x01" + b"\x00" * 9, "Counter64 above 2^64 - 1"),
        (b"\x40\x07\x0a\x00\x00\x01\x00\x00\x00", "a 7-octet IpAddress"),
        (b"\x02\x05\x01\x00\x00\x00\x00", "INTEGER above 32 bits"),
        (b"\x05\x01\x00", "NULL with content"),
        (b"\x47\x01\x00", "an unknown value tag"),
    ],
)
def test_a_value_that_breaks_its_type_is_invalid_not_a_number(value: bytes, why: str) -> None:
    resp = ber.decode_response(_msg(_vb(SYS_DESCR_NAME, value)))
    assert [(v.oid, v.tag, v.value) for v in resp.varbinds] == [((1, 3, 6, 1, 2, 1, 1, 1, 0), ber.INVALID, None)], why


def test_a_version_0_answer_decodes_for_the_transport_to_judge() -> None:
    assert ber.decode_response(_msg(_vb(SYS_DESCR_NAME, b"\x05\x00"), version=0)).version == 0


def test_an_oid_too_long_to_be_one_is_refused_before_it_is_read() -> None:
    body = b"\x2b" + b"\x81" * 5000 + b"\x01"
    name = b"\x06\x82" + len(body).to_bytes(2, "big") + body
    seq = b"\x30\x82" + (len(name) + 2).to_bytes(2, "big") + name + b"\x05\x00"
    pdu_body = b"\x02\x01\x01\x02\x01\x00\x02\x01\x00" + b"\x30\x82" + len(seq).to_bytes(2, "big") + seq
    pdu = b"\xa2\x82" + len(pdu_body).to_bytes(2, "big") + pdu_body
    inner = b"\x02\x01\x01\x04\x06public" + pdu
    data = b"\x30\x82" + len(inner).to_bytes(2, "big") + inner
    with pytest.raises(ber.BerError, match="5002 octets"):
        ber.decode_response(data)
