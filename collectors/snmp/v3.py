"""SNMPv3 through pysnmp's USM: one shared ``SnmpEngine`` for every v3 device of the process.

USM (key localisation, HMAC, AES/DES) is where a home-made codec would be dangerous, so v3 stays in
pysnmp. pysnmp reports failures as *error indications* instead of raising; they are turned into the
project's own errors here, with the device's name and one readable sentence. Its answers become the
same ``ber.Response`` the v2c transport returns, so that one walker serves both (``walker.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyasn1.type import univ
from pysnmp.hlapi.v3arch import asyncio as hl
from pysnmp.proto import rfc1902, rfc1905

from collectors.snmp import ber
from collectors.snmp.ber import Oid, VarBind
from collectors.snmp.transport import Device
from ftthnoc.config import Auth
from ftthnoc.errors import SnmpAuthError, SnmpError, SnmpTimeout

AUTH_PROTOCOLS = {
    "MD5": hl.usmHMACMD5AuthProtocol,
    "SHA": hl.usmHMACSHAAuthProtocol,
    "SHA224": hl.usmHMAC128SHA224AuthProtocol,
    "SHA256": hl.usmHMAC192SHA256AuthProtocol,
    "SHA384": hl.usmHMAC256SHA384AuthProtocol,
    "SHA512": hl.usmHMAC384SHA512AuthProtocol,
}
# Names as snmp_exporter's: AES192/AES256 use Blumenthal key extension (what net-snmp speaks),
# the C-suffixed ones Reeder's (Cisco).
PRIV_PROTOCOLS = {
    "DES": hl.usmDESPrivProtocol,
    "AES": hl.usmAesCfb128Protocol,
    "AES192": hl.usmAesBlumenthalCfb192Protocol,
    "AES256": hl.usmAesBlumenthalCfb256Protocol,
    "AES192C": hl.usmAesCfb192Protocol,
    "AES256C": hl.usmAesCfb256Protocol,
}
_AUTH_FAILURES = ("wrongDigest", "unknownUserName", "unsupportedSecLevel", "decryptionError",
                  "authenticationFailure", "unknownSecurityName", "notInTimeWindow")

# pysnmp value classes → BER tags, so that v3 varbinds look exactly like v2c ones downstream
_TAGS: dict[type[Any], int] = {
    rfc1902.Integer32: ber.INTEGER,
    rfc1902.Integer: ber.INTEGER,
    rfc1902.OctetString: ber.OCTET_STRING,
    rfc1902.ObjectIdentifier: ber.OBJECT_IDENTIFIER,
    rfc1902.IpAddress: ber.IP_ADDRESS,
    rfc1902.Counter32: ber.COUNTER32,
    rfc1902.Gauge32: ber.GAUGE32,
    rfc1902.Unsigned32: ber.GAUGE32,
    rfc1902.TimeTicks: ber.TIMETICKS,
    rfc1902.Opaque: ber.OPAQUE,
    rfc1902.Counter64: ber.COUNTER64,
    rfc1902.Bits: ber.OCTET_STRING,
    # base ASN.1 classes last in every MRO: some decoders hand these back for OID/string/integer values
    univ.Integer: ber.INTEGER,
    univ.OctetString: ber.OCTET_STRING,
    univ.ObjectIdentifier: ber.OBJECT_IDENTIFIER,
}


def user_data(auth: Auth) -> hl.UsmUserData:
    level = auth.security_level
    return hl.UsmUserData(
        auth.username,
        authKey=auth.password.get_secret_value() if level != "noAuthNoPriv" else None,
        privKey=auth.priv_password.get_secret_value() if level == "authPriv" else None,
        authProtocol=AUTH_PROTOCOLS[auth.auth_protocol] if level != "noAuthNoPriv" else hl.usmNoAuthProtocol,
        privProtocol=PRIV_PROTOCOLS[auth.priv_protocol] if level == "authPriv" else hl.usmNoPrivProtocol,
    )


def to_varbind(name: Any, value: Any) -> VarBind:
    oid = tuple(name)
    if isinstance(value, rfc1905.EndOfMibView):
        return VarBind(oid, ber.END_OF_MIB_VIEW, None)
    if isinstance(value, rfc1905.NoSuchInstance):
        return VarBind(oid, ber.NO_SUCH_INSTANCE, None)
    if isinstance(value, rfc1905.NoSuchObject):
        return VarBind(oid, ber.NO_SUCH_OBJECT, None)
    for cls in type(value).__mro__:
        tag = _TAGS.get(cls)
        if tag is None:
            continue
        if tag in (ber.OCTET_STRING, ber.IP_ADDRESS, ber.OPAQUE):
            return VarBind(oid, tag, bytes(value.asOctets()))
        if tag == ber.OBJECT_IDENTIFIER:
            return VarBind(oid, tag, tuple(value))
        return VarBind(oid, tag, int(value))
    return VarBind(oid, ber.NULL, None)


class V3Engine:
    """The process's one pysnmp engine (created lazily on the poller's loop, closed with the client)."""

    def __init__(self) -> None:
        self.engine = hl.SnmpEngine()

    def close(self) -> None:
        self.engine.close_dispatcher()

    async def open(self, device: Device) -> V3Transport:
        target = await hl.UdpTransportTarget.create((device.host, device.port), timeout=device.timeout,
                                                    retries=device.retries)
        return V3Transport(self.engine, device, target)


class V3Transport:
    """One v3 agent on the shared engine: a ``Transport`` (see ``transport.py``)."""

    def __init__(self, engine: hl.SnmpEngine, device: Device, target: hl.UdpTransportTarget) -> None:
        self.engine = engine
        self.device = device
        self.target = target
        self.user = user_data(device.auth)
        self.context = hl.ContextData(contextName=device.auth.context_name)

    async def request(self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int = 0) -> ber.Response:
        objects = [hl.ObjectType(hl.ObjectIdentity(ber.format_oid(o))) for o in oids]
        if pdu_type == ber.GET_BULK:
            ind, status, index, vbs = await hl.bulk_cmd(self.engine, self.user, self.target, self.context, 0,
                                                        max_repetitions, *objects, lookupMib=False)
        elif pdu_type == ber.GET:
            ind, status, index, vbs = await hl.get_cmd(self.engine, self.user, self.target, self.context,
                                                       *objects, lookupMib=False)
        else:
            raise ValueError(f"PDU type 0x{pdu_type:02x} is not sent by the poller")
        if ind:
            raise _indication(self.device.name, ind)
        return ber.Response(3, b"", ber.RESPONSE, 0, int(status or 0), int(index or 0),
                            [to_varbind(n, v) for n, v in vbs])

    def close(self) -> None:
        """Nothing per agent: the engine's transports close with it."""


def _indication(name: str, indication: Any) -> SnmpError:
    text = str(indication)
    cls = type(indication).__name__
    if cls == "RequestTimedOut" or "timeout" in text.lower():
        return SnmpTimeout(name, f"no response to SNMPv3 request ({text})")
    if any(k.lower() in (cls + text).lower().replace(" ", "") for k in _AUTH_FAILURES):
        return SnmpAuthError(name, f"SNMPv3 authentication failed: {text} "
                                   "(wrong user, key, protocol or security level)")
    return SnmpError(name, f"SNMPv3 request failed: {text}")
