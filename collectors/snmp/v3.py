"""SNMPv3 through pysnmp's USM: one shared ``SnmpEngine`` for every v3 device of the process.

USM (key localisation, HMAC, AES/DES) is where a home-made codec would be dangerous, so v3 stays in
pysnmp. pysnmp reports failures as *error indications* instead of raising; they are turned into the
project's own errors here, with the device's name and one readable sentence.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pyasn1.type import univ
from pysnmp.hlapi.v3arch import asyncio as hl
from pysnmp.proto import rfc1902, rfc1905

from collectors.snmp import ber
from collectors.snmp.ber import Oid, VarBind
from ftthnoc.config import Auth
from ftthnoc.errors import SnmpAgentError, SnmpAuthError, SnmpError, SnmpProtocolError, SnmpTimeout

if TYPE_CHECKING:
    from collectors.snmp.client import Breaker, WalkResult

_AUTH = {
    "MD5": hl.usmHMACMD5AuthProtocol,
    "SHA": hl.usmHMACSHAAuthProtocol,
    "SHA224": hl.usmHMAC128SHA224AuthProtocol,
    "SHA256": hl.usmHMAC192SHA256AuthProtocol,
    "SHA384": hl.usmHMAC256SHA384AuthProtocol,
    "SHA512": hl.usmHMAC384SHA512AuthProtocol,
}
# Names as snmp_exporter's: AES192/AES256 use Blumenthal key extension (what net-snmp speaks),
# the C-suffixed ones Reeder's (Cisco).
_PRIV = {
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
        authProtocol=_AUTH[auth.auth_protocol] if level != "noAuthNoPriv" else hl.usmNoAuthProtocol,
        privProtocol=_PRIV[auth.priv_protocol] if level == "authPriv" else hl.usmNoPrivProtocol,
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


class V3Session:
    """The shared engine plus cached transports; created on the poller's event loop."""

    def __init__(self) -> None:
        self.engine = hl.SnmpEngine()

    def close(self) -> None:
        self.engine.close_dispatcher()

    async def _target(self, host: str, port: int, timeout: float, retries: int) -> hl.UdpTransportTarget:
        return await hl.UdpTransportTarget.create((host, port), timeout=timeout, retries=retries)

    def _raise(self, name: str, indication: Any, status: Any, index: Any) -> None:
        if indication:
            text = str(indication)
            cls = type(indication).__name__
            if cls == "RequestTimedOut" or "timeout" in text.lower():
                raise SnmpTimeout(name, f"no response to SNMPv3 request ({text})")
            if any(k.lower() in (cls + text).lower().replace(" ", "") for k in _AUTH_FAILURES):
                raise SnmpAuthError(name, f"SNMPv3 authentication failed: {text} "
                                          "(wrong user, key, protocol or security level)")
            raise SnmpError(name, f"SNMPv3 request failed: {text}")
        if status and int(status):
            raise SnmpAgentError(name, f"agent answered {status.prettyPrint()} at varbind {int(index)}")

    async def get(self, device: Any, oids: Sequence[Oid], sem: asyncio.Semaphore) -> list[VarBind]:
        target = await self._target(device.host, device.port, device.timeout, device.retries)
        async with sem:
            ind, status, index, vbs = await hl.get_cmd(
                self.engine, user_data(device.auth), target, hl.ContextData(contextName=device.auth.context_name),
                *[hl.ObjectType(hl.ObjectIdentity(ber.format_oid(o))) for o in oids], lookupMib=False,
            )
        self._raise(device.name, ind, status, index)
        return [to_varbind(n, v) for n, v in vbs]

    async def walk(self, device: Any, roots: Sequence[Oid], sem: asyncio.Semaphore, breaker: Breaker) -> WalkResult:
        from collectors.snmp.client import WalkResult, gather_walks

        target = await self._target(device.host, device.port, device.timeout, device.retries)
        result = WalkResult()
        started = time.monotonic()
        rows = await gather_walks([self._walk_one(device, target, sem, root, result, breaker, started)
                                   for root in roots])
        for root, got in zip(roots, rows, strict=True):
            result.columns[root] = got
        return result

    async def _walk_one(self, device: Any, target: hl.UdpTransportTarget, sem: asyncio.Semaphore,
                        root: Oid, result: Any, breaker: Breaker, started: float) -> list[VarBind]:
        rows: list[VarBind] = []
        cur = root
        n = len(root)
        ctx = hl.ContextData(contextName=device.auth.context_name)
        user = user_data(device.auth)
        while True:
            async with sem:
                breaker.check(device, started)
                ind, status, index, vbs = await hl.bulk_cmd(
                    self.engine, user, target, ctx, 0, device.max_repetitions,
                    hl.ObjectType(hl.ObjectIdentity(ber.format_oid(cur))), lookupMib=False,
                )
            result.requests += 1
            try:
                self._raise(device.name, ind, status, index)
            except SnmpTimeout:
                breaker.trip(device)
                raise
            if not vbs:
                raise SnmpProtocolError(device.name, f"empty GETBULK response at {ber.format_oid(cur)}")
            for name, value in vbs:
                vb = to_varbind(name, value)
                if vb.tag == ber.END_OF_MIB_VIEW or vb.oid[:n] != root:
                    return rows
                if vb.oid <= cur:
                    raise SnmpProtocolError(device.name, f"OID not increasing: {ber.format_oid(vb.oid)}")
                if vb.tag not in ber.EXCEPTION_TAGS:
                    rows.append(vb)
                cur = vb.oid
