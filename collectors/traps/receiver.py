"""The SNMP trap and inform receiver: pysnmp's notification receiver on the caller's asyncio loop.

Why pysnmp here: the receiver is the other side of USM — for informs an authoritative engine with its
own boots and time, for traps a keeper of every sender's engine — and a receiver's load is a few
datagrams a minute, not a poll's thousands; the poller's own USM (``collectors.snmp.usm``, ``v3.py``)
speaks only the manager's side. pysnmp stays here, and only here.
What pysnmp does not give: any word about what it refuses. An unknown community, a wrong key or a
garbage datagram is silently discarded; only the engine's RFC 3418 / 3414 counters
(``snmpInBadCommunityNames``, ``usmStatsWrongDigests``, ``snmpInASNParseErrs`` …) move. So the
receiver takes each datagram itself, hands it to the engine, and when no notification came out,
reads which of those counters moved *during that datagram* (processing is synchronous, so the
difference belongs to it) and counts the drop under that reason. Nothing is inferred from text.

Every accepted trap is counted, logged in one line (device, version, rule, kind, ids; never a
community, key or a varbind the rules do not name) and delivered to ``on_event`` as a
``DeviceEvent``. Drops are counted and logged at most once a minute per reason and address, so that
a flood of garbage cannot flood the log.

SNMPv3 *traps* are authenticated with keys localised to the sender's engine ID, so each configured
user is registered once for every ``engine_id`` of ``traps.devices`` (and once for the receiver's
own engine ID, which is what *informs* use after discovering it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final

from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.type import univ
from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config as snmp_config
from pysnmp.entity import engine as snmp_engine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.hlapi.v3arch import asyncio as hl
from pysnmp.proto import rfc1902
from pysnmp.proto.api import v2c as api_v2c
from pysnmp.proto.mpmod.rfc3412 import SNMPv3Message

from collectors.snmp.ber import VarBind, format_oid
from collectors.traps.config import TrapConfig
from collectors.traps.families import DropReason, TrapCounters
from collectors.traps.mapping import (
    SNMP_TRAP_ADDRESS,
    SNMP_TRAP_COMMUNITY,
    SYS_UPTIME,
    RuleSet,
    load_rules,
    trap_oid_of,
)
from ftthnoc.config import Auth
from ftthnoc.errors import ConfigError
from ftthnoc.events import DeviceEvent
from ftthnoc.samples import MetricFamily

#: the configuration's protocol names as pysnmp's (the poller's own USM is ``collectors.snmp.usm``; the
#: receiver keeps pysnmp's, as snmptrapd keeps net-snmp's)
AUTH_PROTOCOLS = {
    "MD5": hl.usmHMACMD5AuthProtocol,
    "SHA": hl.usmHMACSHAAuthProtocol,
    "SHA224": hl.usmHMAC128SHA224AuthProtocol,
    "SHA256": hl.usmHMAC192SHA256AuthProtocol,
    "SHA384": hl.usmHMAC256SHA384AuthProtocol,
    "SHA512": hl.usmHMAC384SHA512AuthProtocol,
}
#: AES192/AES256: Blumenthal key extension (net-snmp's); the C-suffixed ones Reeder's (Cisco's)
PRIV_PROTOCOLS = {
    "DES": hl.usmDESPrivProtocol,
    "AES": hl.usmAesCfb128Protocol,
    "AES192": hl.usmAesBlumenthalCfb192Protocol,
    "AES256": hl.usmAesBlumenthalCfb256Protocol,
    "AES192C": hl.usmAesCfb192Protocol,
    "AES256C": hl.usmAesCfb256Protocol,
}

log = logging.getLogger(__name__)

OnEvent = Callable[[DeviceEvent], None]

#: engine counters that say why a datagram produced no notification, in order of precedence
_DROP_COUNTERS: Final[tuple[tuple[DropReason, str, str], ...]] = (
    ("malformed", "__SNMPv2-MIB", "snmpInASNParseErrs"),
    ("malformed", "__SNMPv2-MIB", "snmpInBadVersions"),
    ("malformed", "__SNMP-MPD-MIB", "snmpInvalidMsgs"),
    ("malformed", "__SNMP-MPD-MIB", "snmpUnknownSecurityModels"),
    ("malformed", "__SNMPv2-MIB", "snmpInGenErrs"),
    ("unknown_community", "__SNMPv2-MIB", "snmpInBadCommunityNames"),
    ("unknown_user", "__SNMP-USER-BASED-SM-MIB", "usmStatsUnknownUserNames"),
    ("bad_auth", "__SNMP-USER-BASED-SM-MIB", "usmStatsWrongDigests"),
    ("bad_auth", "__SNMP-USER-BASED-SM-MIB", "usmStatsDecryptionErrors"),
    ("bad_auth", "__SNMP-USER-BASED-SM-MIB", "usmStatsUnsupportedSecLevels"),
    ("not_in_time_window", "__SNMP-USER-BASED-SM-MIB", "usmStatsNotInTimeWindows"),
    ("unknown_engine_id", "__SNMP-USER-BASED-SM-MIB", "usmStatsUnknownEngineIDs"),
    ("unsupported_pdu", "__SNMP-MPD-MIB", "snmpUnknownPDUHandlers"),
)
_VERSIONS: Final = {1: "v1", 2: "v2c", 3: "v3"}
_DROP_LOG_INTERVAL: Final = 60.0
_RCVBUF: Final = 4 * 1024 * 1024  # a cut feeder fibre sends hundreds of traps at once


class _DropLog:
    """One log line per (reason, address) per minute, with the number held back since the last one."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def __call__(self, reason: str, address: str) -> None:
        now = time.monotonic()
        key = (reason, address)
        last, held = self._seen.get(key, (float("-inf"), 0))
        if now - last < _DROP_LOG_INTERVAL:
            self._seen[key] = (last, held + 1)
            return
        if len(self._seen) > 4096:  # spoofed sources: forget rather than grow
            self._seen.clear()
        self._seen[key] = (now, 0)
        more = f" ({held} more since the last report)" if held else ""
        log.warning("trap dropped from %s: %s%s", address, reason, more)


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE)
        family, _, _, _, addr = infos[0]
        sock = socket.socket(family, socket.SOCK_DGRAM)
    except OSError as exc:
        raise ConfigError(f"cannot listen for traps on {host}:{port}: {exc.strerror or exc}") from exc
    with contextlib.suppress(OSError):  # the kernel caps it; a smaller buffer still works
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        hint = " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" if port and port < 1024 else ""
        raise ConfigError(f"cannot listen for traps on {host}:{port}: {exc.strerror or exc}{hint}") from exc
    sock.setblocking(False)
    return sock


class TrapReceiver:
    """Receives v1/v2c/v3 traps and informs on ``config.host:config.port`` and turns them into events.

    Use ``async with TrapReceiver(...) as rx:`` or ``await rx.start()`` / ``await rx.stop()`` on the
    loop that should run it; ``rx.port`` is the bound port (useful with port 0).
    """

    def __init__(self, config: TrapConfig, auths: Mapping[str, Auth], on_event: OnEvent, *,
                 rules: RuleSet | None = None, counters: TrapCounters | None = None) -> None:
        self.config = config
        self._communities, self._users = config.resolve(auths)
        self._rules = rules if rules is not None else load_rules(config.rules)
        self._on_event = on_event
        self.counters = counters if counters is not None else TrapCounters()
        self._names = config.names_by_address()
        self._engine: Any = None
        self._ntf: Any = None
        self._sock: socket.socket | None = None
        self._handled = False
        self._drop_counters: list[tuple[DropReason, Any]] = []
        self._drop_log = _DropLog()
        self._usm_names: dict[str, str] = {}

    # ------------------------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError("the trap receiver is not started")
        return int(self._sock.getsockname()[1])

    @property
    def engine_id(self) -> str:
        """The receiver's own SNMPv3 engine ID (hex): what informs are addressed to."""
        if self._engine is None:
            raise RuntimeError("the trap receiver is not started")
        (eid,) = self._engine.get_mib_builder().import_symbols("__SNMP-FRAMEWORK-MIB", "snmpEngineID")
        return bytes(eid.syntax).hex()

    async def start(self) -> None:
        if self._engine is not None:
            raise RuntimeError("the trap receiver is already started")
        loop = asyncio.get_running_loop()
        sock = _bind(self.config.host, self.config.port)
        engine: Any = None
        try:
            if self.config.engine_id:
                engine = snmp_engine.SnmpEngine(snmpEngineID=rfc1902.OctetString(hexValue=self.config.engine_id))
            else:
                engine = snmp_engine.SnmpEngine()
            if sock.family == socket.AF_INET6:
                domain, transport = udp6.DOMAIN_NAME, udp6.Udp6Transport(loop=loop).open_server_mode(sock=sock)
            else:
                domain, transport = udp.DOMAIN_NAME, udp.UdpTransport(loop=loop).open_server_mode(sock=sock)
            snmp_config.add_transport(engine, domain, transport)
            # take the datagrams ourselves, so that what the engine refuses can be counted
            engine.transport_dispatcher.unregister_recv_callback(None)
            engine.transport_dispatcher.register_recv_callback(self._datagram)
            self._configure_security(engine)
            self._ntf = ntfrcv.NotificationReceiver(engine, self._notification)
            mib = engine.get_mib_builder()
            self._drop_counters = [(reason, mib.import_symbols(module, name)[0])
                                   for reason, module, name in _DROP_COUNTERS]
        except Exception:
            if engine is not None and engine.transport_dispatcher is not None:
                engine.close_dispatcher()
            sock.close()
            raise
        self._engine, self._sock = engine, sock
        for _ in range(100):  # the endpoint is created by a task; datagrams queue in the socket meanwhile
            if transport.transport is not None:
                break
            await asyncio.sleep(0.01)
        log.info("trap receiver listening on %s:%d (communities=%d, v3 users=%d, devices=%d, rules=%d)",
                 self.config.host, self.port, len(self._communities), len(self._users),
                 len(self.config.devices), len(self._rules.rules))
        if self._users and not self.config.sender_engine_ids():
            log.warning("trap receiver: SNMPv3 users are configured but no device gives its engine_id; "
                        "v3 traps will be dropped as unknown_user (informs still work)")

    async def stop(self) -> None:
        engine, self._engine = self._engine, None
        if engine is None:
            return
        if self._ntf is not None:
            self._ntf.close(engine)
            self._ntf = None
        engine.close_dispatcher()  # closes the transport and its socket
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        await asyncio.sleep(0)
        log.info("trap receiver stopped")

    async def __aenter__(self) -> TrapReceiver:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    def families(self) -> list[MetricFamily]:
        fams = self.counters.families()
        drops = kernel_drops(self._sock) if self._sock is not None else None
        if drops is not None:
            fam = MetricFamily("ftthnoc_traps_kernel_dropped_total", "Datagrams the kernel dropped on the trap "
                               "port because its receive buffer was full (a trap storm, or a receiver held up): "
                               "traps that never reached ftthnoc.", type="counter")
            fam.add({}, float(drops))
            fams.append(fam)
        return fams

    def _configure_security(self, engine: Any) -> None:
        for i, (name, auth) in enumerate(self._communities.items()):
            snmp_config.add_v1_system(engine, f"ftthnoc-{i}", auth.community.get_secret_value(),
                                      securityName=name[:32])
        sender_ids = self.config.sender_engine_ids()
        for name, auth in self._users.items():
            self._usm_names[auth.username] = name
            authenticated, private = auth.security_level != "noAuthNoPriv", auth.security_level == "authPriv"
            kwargs: dict[str, Any] = {
                "authProtocol": AUTH_PROTOCOLS[auth.auth_protocol] if authenticated else snmp_config.USM_AUTH_NONE,
                "authKey": auth.password.get_secret_value() if authenticated else None,
                "privProtocol": PRIV_PROTOCOLS[auth.priv_protocol] if private else snmp_config.USM_PRIV_NONE,
                "privKey": auth.priv_password.get_secret_value() if private else None,
            }
            snmp_config.add_v3_user(engine, auth.username, **kwargs)  # local engine ID: informs
            for eid in sender_ids:  # each sender's engine ID: traps
                snmp_config.add_v3_user(engine, auth.username, securityEngineId=rfc1902.OctetString(hexValue=eid),
                                        **kwargs)

    # ------------------------------------------------------------------------------ datagrams
    def _drop_snapshot(self) -> list[int]:
        return [int(obj.syntax) for _, obj in self._drop_counters]

    def _datagram(self, dispatcher: Any, domain: Any, address: Any, message: bytes) -> None:
        """Every datagram on the port: to the engine, then count what came of it."""
        engine = self._engine
        if engine is None:
            return
        before = self._drop_snapshot()
        self._handled = False
        try:
            engine.message_dispatcher.receive_message(engine, domain, address, message)
        except Exception as exc:  # pysnmp raises on some malformed input rather than counting it
            log.debug("trap receiver: engine raised %s on a datagram", type(exc).__name__)
            if not self._handled:
                self._drop("malformed", address)
            return
        if self._handled:
            return
        after = self._drop_snapshot()
        moved = [reason for (reason, _), b, a in zip(self._drop_counters, before, after, strict=True) if a != b]
        if not moved:
            self._drop("other", address)
            return
        reason = moved[0]
        if reason == "unknown_engine_id" and _is_discovery(message):
            log.debug("trap receiver: SNMPv3 engine ID discovery from %s answered", _host(address))
            return
        self._drop(reason, address)

    def _drop(self, reason: DropReason, address: Any) -> None:
        self.counters.dropped(reason)
        self._drop_log(reason, _host(address))

    def _notification(self, engine: Any, state_reference: Any, context_engine_id: Any, context_name: Any,
                      varbinds: Any, cb_ctx: Any) -> None:
        """pysnmp's callback for an accepted trap or inform; must never raise into the engine."""
        self._handled = True
        address: Any = None
        try:
            try:
                ctx = engine.observer.get_execution_context("rfc3412.receiveMessage:request") or {}
            except KeyError:
                ctx = {}
            address = ctx.get("transportAddress")
            self._accept(ctx, address, varbinds)
        except Exception:  # a bug here must cost one trap, counted, never the receiver
            log.exception("trap receiver: could not handle a notification")
            self._drop("other", address)

    def _accept(self, ctx: Mapping[str, Any], address: Any, raw_varbinds: Any) -> None:
        ip = _host(address)
        varbinds = [vb for vb in (_varbind(n, v) for n, v in raw_varbinds) if vb.oid != SNMP_TRAP_COMMUNITY]
        trap_oid = trap_oid_of(varbinds)
        if trap_oid is None:
            self._drop("malformed", address)
            return
        mapped = self._rules.classify(trap_oid, varbinds)
        if mapped.rule is None and self.config.drop_unmapped:
            self._drop("unmapped", address)
            return
        agent = _agent_address(varbinds)
        source = self._names.get(ip) or (self._names.get(agent) if agent else None) or ip
        version = _VERSIONS.get(int(ctx.get("securityModel", 0) or 0), "?")
        pdu = ctx.get("pdu")
        kind_of_pdu = "inform" if pdu is not None and pdu.tagSet == api_v2c.InformRequestPDU.tagSet else "trap"
        detail = {**mapped.detail, "version": version, "pdu": kind_of_pdu, "address": ip}
        if version == "v3":
            user = str(ctx.get("securityName", ""))
            detail["auth"] = self._usm_names.get(user, user)
        elif version in ("v1", "v2c"):
            detail["auth"] = str(ctx.get("securityName", ""))
        if agent and agent != ip:
            detail["agent_address"] = agent
        uptime = next((vb.value for vb in varbinds if vb.oid == SYS_UPTIME and isinstance(vb.value, int)), None)
        if uptime is not None:
            detail["uptime_ticks"] = str(uptime)
        event = DeviceEvent(
            at=datetime.now(UTC), source=source, kind=mapped.kind,
            olt=source if mapped.onu_scoped else None, pon_port=mapped.pon_port, onu_id=mapped.onu_id,
            cause=mapped.cause, if_index=mapped.if_index, trap_oid=format_oid(trap_oid), detail=detail,
        )
        self.counters.received(event.kind, source)
        log.info("%s %s from %s: %s -> %s%s", kind_of_pdu, version, source if source == ip else f"{source} ({ip})",
                 mapped.rule or format_oid(trap_oid), event.kind, _ids(event))
        try:
            self._on_event(event)
        except Exception:
            log.exception("trap receiver: the event consumer failed on a %s event from %s", event.kind, source)


def kernel_drops(sock: socket.socket) -> int | None:
    """Datagrams the kernel dropped for this UDP socket (its receive queue was full), from the ``drops``
    column of ``/proc/net/udp`` (or ``udp6``) for the socket's inode; None where /proc does not tell."""
    try:
        inode = str(os.fstat(sock.fileno()).st_ino)
    except OSError:
        return None
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table, encoding="ascii") as f:
                next(f, None)
                for line in f:
                    cols = line.split()
                    if len(cols) >= 13 and cols[9] == inode:
                        return int(cols[12])
        except (OSError, ValueError):
            continue
    return None


def _varbind(name: Any, value: Any) -> VarBind:
    """pysnmp's decoded pair as the project's neutral varbind (tag, and int / bytes / OID / None).

    By pyasn1 base class, not by pysnmp's rfc1902 classes: notifications arrive decoded into plain
    ``univ`` types for some values (an OID value is ``univ.ObjectIdentifier``)."""
    tag = value.tagSet[-1]
    tag_int = int(tag.tagClass | tag.tagFormat | tag.tagId)
    if isinstance(value, univ.Integer):
        return VarBind(tuple(name), tag_int, int(value))
    if isinstance(value, univ.OctetString):
        return VarBind(tuple(name), tag_int, bytes(value.asOctets()))
    if isinstance(value, univ.ObjectIdentifier):
        return VarBind(tuple(name), tag_int, tuple(value))
    return VarBind(tuple(name), tag_int, None)


def _host(address: Any) -> str:
    try:
        return str(address[0])
    except (TypeError, IndexError):
        return "?"


def _agent_address(varbinds: list[VarBind]) -> str | None:
    for vb in varbinds:
        if vb.oid == SNMP_TRAP_ADDRESS and isinstance(vb.value, bytes) and len(vb.value) == 4:
            return socket.inet_ntoa(vb.value)
    return None


def _ids(event: DeviceEvent) -> str:
    parts = [f"{k}={v}" for k, v in (("if_index", event.if_index), ("pon_port", event.pon_port),
                                     ("onu_id", event.onu_id), ("cause", event.cause)) if v is not None]
    return (" " + " ".join(parts)) if parts else ""


def _is_discovery(message: bytes) -> bool:
    """An SNMPv3 message with the reportable flag: a sender discovering our engine ID (RFC 3414 §4),
    which the engine answers with a report. A trap is never reportable, so it is a real drop."""
    try:
        msg, _ = ber_decoder.decode(message, asn1Spec=SNMPv3Message())
        flags = msg.getComponentByPosition(1).getComponentByPosition(2).asNumbers()
        return bool(flags and flags[0] & 0x04)
    except Exception:
        return False


__all__ = ["OnEvent", "TrapReceiver"]
