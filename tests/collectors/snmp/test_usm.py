"""USM's cryptography and the SNMPv3 message codec, without the network.

Keys: the RFC 3414 A.3 vectors (MD5, SHA), and every auth/priv protocol's localised keys against pysnmp's
independent implementation (RFC 7860's SHA-2 and the AES-192/256 key extensions have no published
vectors; ``test_v3_netsnmp.py`` checks them against net-snmp's agent too). Messages: the encoder's
output decodes to what was put in, and the decoder refuses malformed messages with a reason.
"""

from __future__ import annotations

import contextlib

import pytest

from collectors.snmp import ber, ber_v3, usm
from collectors.snmp.ber import BerError
from collectors.snmp.ber_v3 import FLAG_AUTH, FLAG_PRIV, FLAG_REPORTABLE, UsmParams

RFC_ENGINE = bytes.fromhex("000000000000000000000002")


# ----------------------------------------------------------------------------------------- RFC 3414 A.3
@pytest.mark.parametrize(
    ("auth", "ku", "kul"),
    [
        ("MD5", "9faf3283884e92834ebc9847d8edd963", "526f5eed9fcce26f8964c2930787d82b"),  # A.3.1
        ("SHA", "9fb5cc0381497b3793528939ff788d5d79145211", "6695febc9288e36282235fc7151f128497b38f3f"),  # A.3.2
    ],
)
def test_rfc3414_password_to_key_and_localisation(auth: str, ku: str, kul: str) -> None:
    proto = usm.AUTH_PROTOCOLS[auth]
    assert usm.password_to_key(b"maplesyrup", proto).hex() == ku
    assert usm.localize_key(bytes.fromhex(ku), RFC_ENGINE, proto).hex() == kul
    keys = usm.localized_keys(RFC_ENGINE, auth, b"maplesyrup", "DES", b"maplesyrup")
    assert keys.auth_key.hex() == kul and keys.priv_key.hex() == kul[:32]  # DES: 8 of key, 8 of pre-IV


def test_empty_password_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        usm.password_to_key(b"", usm.AUTH_PROTOCOLS["SHA"])


# ----------------------------------------------------------------------------------------- pysnmp agrees
def _pysnmp_keys(auth: str, priv: str, engine: bytes) -> tuple[bytes, bytes]:
    from pysnmp.hlapi.v3arch import asyncio as hl
    from pysnmp.proto.secmod.eso.priv import aes192, aes256
    from pysnmp.proto.secmod.rfc3414.auth import hmacmd5, hmacsha
    from pysnmp.proto.secmod.rfc3414.priv import des
    from pysnmp.proto.secmod.rfc3826.priv import aes
    from pysnmp.proto.secmod.rfc7860.auth import hmacsha2

    auth_ids = {"MD5": hl.usmHMACMD5AuthProtocol, "SHA": hl.usmHMACSHAAuthProtocol,
                "SHA224": hl.usmHMAC128SHA224AuthProtocol, "SHA256": hl.usmHMAC192SHA256AuthProtocol,
                "SHA384": hl.usmHMAC256SHA384AuthProtocol, "SHA512": hl.usmHMAC384SHA512AuthProtocol}
    auth_id = auth_ids[auth]
    auth_impl = (hmacmd5.HmacMd5() if auth == "MD5" else hmacsha.HmacSha() if auth == "SHA"
                 else hmacsha2.HmacSha2(auth_id))
    privs = {"DES": des.Des(), "AES": aes.Aes(), "AES192": aes192.AesBlumenthal192(),
             "AES256": aes256.AesBlumenthal256(), "AES192C": aes192.Aes192(), "AES256C": aes256.Aes256()}
    priv_impl = privs[priv]
    from pyasn1.type import univ

    eid = univ.OctetString(engine)
    auth_key = auth_impl.localize_key(auth_impl.hash_passphrase(univ.OctetString(b"auth-password")), eid)
    priv_key = priv_impl.localize_key(auth_id, priv_impl.hash_passphrase(auth_id, univ.OctetString(b"priv-password")),
                                      eid)
    return bytes(auth_key), bytes(priv_key)[: usm.PRIV_PROTOCOLS[priv].key_length]


@pytest.mark.parametrize("priv", list(usm.PRIV_PROTOCOLS))
@pytest.mark.parametrize("auth", list(usm.AUTH_PROTOCOLS))
def test_localised_keys_match_pysnmp(auth: str, priv: str) -> None:
    engine = bytes.fromhex("80001f8804") + b"olt-kanazawa-01"
    ours = usm.localized_keys(engine, auth, b"auth-password", priv, b"priv-password")
    assert (ours.auth_key, ours.priv_key) == _pysnmp_keys(auth, priv, engine)
    assert len(ours.priv_key) == usm.PRIV_PROTOCOLS[priv].key_length


def test_blumenthal_and_reeder_differ_only_where_the_hash_is_short() -> None:
    engine = bytes.fromhex("80001f8804") + b"x" * 8
    for auth, differ in (("MD5", True), ("SHA", True), ("SHA256", False), ("SHA512", False)):
        b = usm.localized_keys(engine, auth, b"a" * 8, "AES256", b"p" * 8).priv_key
        r = usm.localized_keys(engine, auth, b"a" * 8, "AES256C", b"p" * 8).priv_key
        assert (b != r) is differ, auth
        assert b[:16] == r[:16]


# ----------------------------------------------------------------------------------------- sign, encrypt
@pytest.mark.parametrize("priv", list(usm.PRIV_PROTOCOLS))
def test_encrypt_then_decrypt_gives_the_plaintext(priv: str) -> None:
    keys = usm.localized_keys(RFC_ENGINE, "SHA256", b"auth-password", priv, b"priv-password")
    pdu = bytearray(ber.encode_pdu(ber.GET, 7, [(1, 3, 6, 1, 2, 1, 1, 5, 0)]))
    pdu[0] = ber.RESPONSE  # the same shape as an answer, which is what the manager decrypts
    plaintext = ber_v3.encode_scoped_pdu(RFC_ENGINE, b"", bytes(pdu))
    ciphertext, salt = usm.encrypt(keys, 3, 1234, plaintext)
    assert len(salt) == 8 and ciphertext[: len(plaintext)] != plaintext
    again, salt2 = usm.encrypt(keys, 3, 1234, plaintext)
    assert salt2 != salt and again != ciphertext  # a new salt, a new ciphertext
    back = usm.decrypt(keys, 3, 1234, salt, ciphertext)
    assert back[: len(plaintext)] == plaintext
    scoped = ber_v3.decode_scoped_pdu(back, padded=priv == "DES")
    assert scoped.context_engine_id == RFC_ENGINE and scoped.response.request_id == 7


def test_decrypt_refuses_impossible_parameters() -> None:
    keys = usm.localized_keys(RFC_ENGINE, "SHA", b"auth-password", "DES", b"priv-password")
    with pytest.raises(usm.DecryptionError, match="multiple of 8"):
        usm.decrypt(keys, 1, 1, bytes(8), bytes(13))
    with pytest.raises(usm.DecryptionError, match="msgPrivacyParameters of 4"):
        usm.decrypt(keys, 1, 1, bytes(4), bytes(16))


@pytest.mark.parametrize("auth", list(usm.AUTH_PROTOCOLS))
def test_signed_message_verifies_and_a_changed_octet_does_not(auth: str) -> None:
    keys = usm.localized_keys(RFC_ENGINE, auth, b"auth-password", None, b"")
    assert keys.auth is not None
    mac = keys.auth.mac_length
    assert mac == {"MD5": 12, "SHA": 12, "SHA224": 16, "SHA256": 24, "SHA384": 32, "SHA512": 48}[auth]
    scoped = ber_v3.encode_scoped_pdu(RFC_ENGINE, b"", ber.encode_pdu(ber.GET, 1, []))
    params = UsmParams(RFC_ENGINE, 1, 2, b"user", bytes(mac), b"")
    message, at = ber_v3.encode_message(99, FLAG_AUTH | FLAG_REPORTABLE, params, scoped)
    digest = usm.sign(keys, message)
    signed = message[:at] + digest + message[at + mac:]
    msg = ber_v3.decode_message(signed)
    assert msg.auth_at == at and msg.usm.auth == digest
    assert usm.verify(keys, signed, msg.auth_at, msg.usm.auth)
    tampered = bytearray(signed)
    tampered[-1] ^= 1
    assert not usm.verify(keys, bytes(tampered), at, digest)
    assert not usm.verify(keys, signed, at, digest[:-1])


# ----------------------------------------------------------------------------------------- the codec
def _message(flags: int = FLAG_REPORTABLE, engine: bytes = RFC_ENGINE, user: bytes = b"user",
             auth: bytes = b"", priv: bytes = b"", data: bytes | None = None, msg_id: int = 5) -> bytes:
    if data is None:
        data = ber_v3.encode_scoped_pdu(engine, b"", ber.tlv(ber.RESPONSE, ber.encode_int(1) + ber.encode_int(0)
                                                             + ber.encode_int(0) + ber.tlv(ber.SEQUENCE, b"")))
    return ber_v3.encode_message(msg_id, flags, UsmParams(engine, 1, 2, user, auth, priv), data)[0]


def test_message_round_trip() -> None:
    msg = ber_v3.decode_message(_message())
    assert (msg.msg_id, msg.flags, msg.usm.engine_id, msg.usm.boots, msg.usm.time, msg.usm.user) == (
        5, FLAG_REPORTABLE, RFC_ENGINE, 1, 2, b"user")
    scoped = ber_v3.decode_scoped_pdu(msg.scoped)
    assert scoped.response.pdu_type == ber.RESPONSE and scoped.response.request_id == 1


def _patch(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, old
    return data.replace(old, new)


GOOD = _message()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (GOOD + b"\x00", "trailing octet"),
        (GOOD[:-3], "truncated|exceeds|length"),
        (_patch(GOOD, b"\x02\x01\x03\x30", b"\x02\x01\x01\x30"), "not an SNMPv3 message"),
        (_message(flags=FLAG_PRIV | FLAG_REPORTABLE, data=ber.tlv(ber.OCTET_STRING, b"")), "privacy without"),
        (_message(engine=b"\x80\x00\x01"), "msgAuthoritativeEngineID of 3 octets"),
        (_message(user=b"u" * 33), "msgUserName of 33 octets"),
        (_message(msg_id=-1), "msgID -1"),
        (_patch(GOOD, b"\x04\x01\x04\x02", b"\x04\x01\x07\x02"), "say encrypted"),
        (_message(data=ber.tlv(ber.OCTET_STRING, b"x")), "say plaintext"),
        (_patch(GOOD, b"\x04\x01\x04\x02\x01\x03", b"\x04\x01\x04\x02\x01\x02"), "not USM"),
        (ber_v3.encode_message(1, 4, UsmParams(b"", 0, 0, b"", b"", b""), b"\x30\x00", max_size=100)[0],
         "msgMaxSize 100"),
        (b"\x30\x03\x02\x01\x03", "truncated|expected"),
        (b"", "truncated"),
    ],
)
def test_malformed_messages_are_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(BerError, match=reason):
        ber_v3.decode_message(data)


def test_scoped_pdu_trailing_octets_only_as_des_padding() -> None:
    scoped = ber_v3.decode_message(GOOD).scoped
    assert ber_v3.decode_scoped_pdu(scoped + bytes(7), padded=True).response.request_id == 1
    with pytest.raises(BerError, match="trailing"):
        ber_v3.decode_scoped_pdu(scoped + bytes(1))
    with pytest.raises(BerError, match="trailing"):
        ber_v3.decode_scoped_pdu(scoped + bytes(8), padded=True)
    with pytest.raises(BerError, match="not a response PDU"):
        ber_v3.decode_scoped_pdu(ber_v3.encode_scoped_pdu(b"", b"", ber.encode_pdu(ber.GET, 1, [])))


def test_decoder_raises_only_ber_error_on_any_truncation_or_flip() -> None:
    data = _message(flags=FLAG_AUTH | FLAG_REPORTABLE, auth=bytes(12))
    for cut in range(len(data)):
        with pytest.raises(BerError):
            ber_v3.decode_message(data[:cut])
    for i in range(len(data)):
        for bit in (0x01, 0x80):
            flipped = bytearray(data)
            flipped[i] ^= bit
            with contextlib.suppress(BerError):  # a flip may still be a well-formed message
                ber_v3.decode_message(bytes(flipped))
