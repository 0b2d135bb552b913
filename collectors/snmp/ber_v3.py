"""SNMPv3 messages with USM security parameters, encoded and decoded straight from bytes.

The shapes (RFC 3412 §6, RFC 3414 §2.4)::

    SNMPv3Message ::= SEQUENCE {
        msgVersion INTEGER (3),
        msgGlobalData SEQUENCE { msgID, msgMaxSize INTEGER, msgFlags OCTET STRING (SIZE(1)),
                                 msgSecurityModel INTEGER },
        msgSecurityParameters OCTET STRING,   -- holds the BER of UsmSecurityParameters
        msgData CHOICE { plaintext ScopedPDU, encryptedPDU OCTET STRING } }
    UsmSecurityParameters ::= SEQUENCE {
        msgAuthoritativeEngineID OCTET STRING, msgAuthoritativeEngineBoots INTEGER,
        msgAuthoritativeEngineTime INTEGER, msgUserName OCTET STRING (SIZE(0..32)),
        msgAuthenticationParameters OCTET STRING, msgPrivacyParameters OCTET STRING }
    ScopedPDU ::= SEQUENCE { contextEngineID OCTET STRING, contextName OCTET STRING, data PDU }

The PDU inside is ``ber``'s (``encode_pdu``/``decode_pdu``). No cryptography here: ``usm.py`` signs,
verifies, encrypts and decrypts, and ``v3.py`` puts the two together. The decoder is as strict as the v2c
one: it refuses what RFC 3411/3412/3414 and X.690 refuse (trailing octets, a version other than 3, a
msgID, msgMaxSize, boots or time out of range, a user name above 32 octets, an engine ID of 1–4 or more
than 32 octets, privacy without authentication, a security model other than USM, plaintext where the
flags say encrypted and the reverse), and raises ``ber.BerError`` and nothing else.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from collectors.snmp import ber
from collectors.snmp.ber import INTEGER, OCTET_STRING, SEQUENCE, BerError, Response

SNMPV3: Final = 3
#: msgSecurityModel of the User-based Security Model (RFC 3411 §5)
USM: Final = 3
FLAG_AUTH: Final = 0x01
FLAG_PRIV: Final = 0x02
FLAG_REPORTABLE: Final = 0x04
#: msgMaxSize this manager advertises: the largest UDP payload over IPv4
MAX_MESSAGE_SIZE: Final = 65_507
#: RFC 3412 §6: msgMaxSize INTEGER (484..2147483647); msgID, boots and time (0..2147483647)
MIN_MAX_SIZE: Final = 484
MAX_INT: Final = 2**31 - 1
#: RFC 3411 SnmpEngineID SIZE(5..32); empty in discovery requests and their reports
ENGINE_ID_SIZES: Final = frozenset({0, *range(5, 33)})
MAX_USER_NAME: Final = 32
MAX_CONTEXT_NAME: Final = 32
#: a DES-encrypted scopedPDU is padded to a multiple of 8 octets (RFC 3414 §8.1.1.2)
MAX_PADDING: Final = 7


class UsmParams(NamedTuple):
    """The USM security parameters of one message (octet strings as bytes)."""

    engine_id: bytes
    boots: int
    time: int
    user: bytes
    auth: bytes
    priv: bytes


class Message(NamedTuple):
    """A decoded SNMPv3 message, before authentication and decryption.

    ``auth_at`` is the offset in ``data`` of msgAuthenticationParameters' content: the digest is computed
    over ``data`` with those ``len(usm.auth)`` octets zeroed. ``scoped`` is the plaintext scopedPDU's
    whole TLV, or the ciphertext (the encryptedPDU's content) when ``flags & FLAG_PRIV``.
    """

    msg_id: int
    max_size: int
    flags: int
    usm: UsmParams
    auth_at: int
    scoped: bytes
    data: bytes


class ScopedPdu(NamedTuple):
    context_engine_id: bytes
    context_name: bytes
    response: Response


# ----------------------------------------------------------------------------------------- encoding
def _header_length(body_length: int) -> int:
    """Octets of the tag and length in front of a body of ``body_length`` octets."""
    return 1 + len(ber.encode_length(body_length))


def encode_scoped_pdu(context_engine_id: bytes, context_name: bytes, pdu: bytes) -> bytes:
    return ber.tlv(SEQUENCE, ber.tlv(OCTET_STRING, context_engine_id) + ber.tlv(OCTET_STRING, context_name) + pdu)


def encode_message(msg_id: int, flags: int, usm: UsmParams, msg_data: bytes,
                   max_size: int = MAX_MESSAGE_SIZE) -> tuple[bytes, int]:
    """(message, offset of msgAuthenticationParameters' content). ``msg_data`` is the scopedPDU's TLV, or
    with ``FLAG_PRIV`` the ciphertext (wrapped here in the encryptedPDU OCTET STRING). ``usm.auth`` is
    the digest's placeholder (zeros of the protocol's length) or empty without authentication."""
    global_data = ber.tlv(SEQUENCE, ber.encode_int(msg_id) + ber.encode_int(max_size)
                          + ber.tlv(OCTET_STRING, bytes((flags,))) + ber.encode_int(USM))
    before_auth = (ber.tlv(OCTET_STRING, usm.engine_id) + ber.encode_int(usm.boots) + ber.encode_int(usm.time)
                   + ber.tlv(OCTET_STRING, usm.user))
    usm_body = before_auth + ber.tlv(OCTET_STRING, usm.auth) + ber.tlv(OCTET_STRING, usm.priv)
    usm_seq = ber.tlv(SEQUENCE, usm_body)
    version = ber.encode_int(SNMPV3)
    body = (version + global_data + ber.tlv(OCTET_STRING, usm_seq)
            + (ber.tlv(OCTET_STRING, msg_data) if flags & FLAG_PRIV else msg_data))
    auth_at = (_header_length(len(body)) + len(version) + len(global_data)  # message SEQUENCE, version, header
               + _header_length(len(usm_seq)) + _header_length(len(usm_body))  # OCTET STRING, SEQUENCE
               + len(before_auth) + _header_length(len(usm.auth)))  # engine ID .. user name, auth's header
    return ber.tlv(SEQUENCE, body), auth_at


# ----------------------------------------------------------------------------------------- decoding
def decode_message(data: bytes) -> Message:
    """Decode an SNMPv3 message's header and USM parameters; raise ``BerError`` and nothing else."""
    try:
        return _decode(data)
    except BerError:
        raise
    except (IndexError, ValueError, OverflowError) as exc:  # defensive: a shape we did not foresee
        raise BerError(f"undecodable message: {exc}") from exc


def _bounded(data: bytes, s: int, e: int, what: str, low: int = 0, high: int = MAX_INT) -> int:
    value = ber.read_int(data, s, e, what)
    if not low <= value <= high:
        raise BerError(f"{what} {value} is outside {low}..{high}")
    return value


def _decode(data: bytes) -> Message:
    end = len(data)
    s, e = ber.expect(data, 0, end, SEQUENCE, "message SEQUENCE")
    if e != end:
        raise BerError(f"{end - e} trailing octet(s) after the message")
    vs, ve = ber.expect(data, s, e, INTEGER, "version")
    version = ber.read_int(data, vs, ve, "version")
    if version != SNMPV3:
        raise BerError(f"not an SNMPv3 message (version field {version})")
    # msgGlobalData
    gs, ge = ber.expect(data, ve, e, SEQUENCE, "msgGlobalData")
    is_, ie = ber.expect(data, gs, ge, INTEGER, "msgID")
    ms, me = ber.expect(data, ie, ge, INTEGER, "msgMaxSize")
    fs, fe = ber.expect(data, me, ge, OCTET_STRING, "msgFlags")
    ss, se = ber.expect(data, fe, ge, INTEGER, "msgSecurityModel")
    if se != ge:
        raise BerError("octets after msgSecurityModel inside msgGlobalData")
    msg_id = _bounded(data, is_, ie, "msgID")
    max_size = _bounded(data, ms, me, "msgMaxSize", MIN_MAX_SIZE)
    if fe - fs != 1:
        raise BerError(f"msgFlags of {fe - fs} octets (exactly one)")
    flags = data[fs]
    if flags & FLAG_PRIV and not flags & FLAG_AUTH:
        raise BerError("msgFlags ask for privacy without authentication")
    model = _bounded(data, ss, se, "msgSecurityModel", 1)
    if model != USM:
        raise BerError(f"msgSecurityModel {model} is not USM (3)")
    # msgSecurityParameters: an OCTET STRING holding exactly one UsmSecurityParameters
    ps, pe = ber.expect(data, ge, e, OCTET_STRING, "msgSecurityParameters")
    us, ue = ber.expect(data, ps, pe, SEQUENCE, "UsmSecurityParameters")
    if ue != pe:
        raise BerError("octets after UsmSecurityParameters inside msgSecurityParameters")
    es, ee = ber.expect(data, us, ue, OCTET_STRING, "msgAuthoritativeEngineID")
    bs, be = ber.expect(data, ee, ue, INTEGER, "msgAuthoritativeEngineBoots")
    ts, te = ber.expect(data, be, ue, INTEGER, "msgAuthoritativeEngineTime")
    ns, ne = ber.expect(data, te, ue, OCTET_STRING, "msgUserName")
    as_, ae = ber.expect(data, ne, ue, OCTET_STRING, "msgAuthenticationParameters")
    vs2, ve2 = ber.expect(data, ae, ue, OCTET_STRING, "msgPrivacyParameters")
    if ve2 != ue:
        raise BerError("octets after msgPrivacyParameters inside UsmSecurityParameters")
    if ee - es not in ENGINE_ID_SIZES:
        raise BerError(f"msgAuthoritativeEngineID of {ee - es} octets (empty, or 5 to 32)")
    if ne - ns > MAX_USER_NAME:
        raise BerError(f"msgUserName of {ne - ns} octets (at most {MAX_USER_NAME})")
    usm = UsmParams(data[es:ee], _bounded(data, bs, be, "msgAuthoritativeEngineBoots"),
                    _bounded(data, ts, te, "msgAuthoritativeEngineTime"), data[ns:ne], data[as_:ae],
                    data[vs2:ve2])
    # msgData
    tag, ds, de = ber.header(data, pe, e)
    if de != e:
        raise BerError("octets after msgData inside the message")
    if flags & FLAG_PRIV:
        if tag != OCTET_STRING:
            raise BerError(f"msgFlags say encrypted but msgData is tag 0x{tag:02x}, not an OCTET STRING")
        scoped = data[ds:de]
    else:
        if tag != SEQUENCE:
            raise BerError(f"msgFlags say plaintext but msgData is tag 0x{tag:02x}, not a scopedPDU")
        scoped = data[pe:de]
    return Message(msg_id, max_size, flags, usm, as_, scoped, data)


def decode_scoped_pdu(data: bytes, padded: bool = False) -> ScopedPdu:
    """Decode a scopedPDU holding a Response or Report. ``padded``: ``data`` is a DES plaintext, which may
    end with up to 7 octets of padding after the scopedPDU (RFC 3414 §8.1.1.2); otherwise nothing may
    follow it. Raises ``BerError`` and nothing else."""
    try:
        return _decode_scoped(data, padded)
    except BerError:
        raise
    except (IndexError, ValueError, OverflowError) as exc:
        raise BerError(f"undecodable scopedPDU: {exc}") from exc


def _decode_scoped(data: bytes, padded: bool) -> ScopedPdu:
    end = len(data)
    s, e = ber.expect(data, 0, end, SEQUENCE, "scopedPDU")
    if e != end and not (padded and end - e <= MAX_PADDING):
        raise BerError(f"{end - e} trailing octet(s) after the scopedPDU")
    cs, ce = ber.expect(data, s, e, OCTET_STRING, "contextEngineID")
    ns, ne = ber.expect(data, ce, e, OCTET_STRING, "contextName")
    if ce - cs > 32:
        raise BerError(f"contextEngineID of {ce - cs} octets (at most 32)")
    if ne - ns > MAX_CONTEXT_NAME:
        raise BerError(f"contextName of {ne - ns} octets (at most {MAX_CONTEXT_NAME})")
    pdu_type, request_id, error_status, error_index, varbinds = ber.decode_pdu(data, ne, e)
    return ScopedPdu(data[cs:ce], data[ns:ne],
                     Response(SNMPV3, b"", pdu_type, request_id, error_status, error_index, varbinds))
