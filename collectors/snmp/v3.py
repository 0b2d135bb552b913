"""SNMPv3 with USM: the project's own ``Transport`` (``ber_v3`` for the messages, ``usm`` for the crypto).

Why not pysnmp: its hl API builds every varbind through pyasn1 and costs ~45× net-snmp's CPU per
varbind; a town's v3 poll through it would need several cores. A v3 message is the v2c PDU
(``ber.encode_pdu``/``decode_pdu``) inside a header and USM parameters, so the hot path stays the v2c
codec's, plus one HMAC and one AES call per message through ``cryptography``.

What the manager does (RFC 3414 §3.2, §4; RFC 3412 §7.2):

- **Engine discovery.** The first request to a device sends an unauthenticated, empty GET with no engine
  ID and no user; the agent's Report (usmStatsUnknownEngineIDs) names its engine ID, boots and time.
  What is learnt lives in an ``EngineState`` per device kept by the client across polls, so discovery
  and key localisation happen once per device (and again only when the agent says its engine is
  another: a Report of usmStatsUnknownEngineIDs to a request).
- **Time.** Requests carry the engine's boots and its time as estimated from the last one heard. An
  authenticated message moves that notion forward (never back); an authenticated Report of
  usmStatsNotInTimeWindows sets it (the agent restarted, or discovery's unauthenticated figures were
  wrong) and the request is sent again. An authenticated answer older than the window (150 s) is
  refused.
- **Answers.** An answer is taken only when it is the answer: the msgID of a try in flight, the user and
  engine it was sent to, the same security level (a Report may be lower), a digest that verifies, a
  scopedPDU that decrypts and decodes, the same context and request-id. Anything else is dropped and
  remembered as the reason, should the request time out.
- **Errors** are the project's own, one sentence each, never a secret: the agent's Reports of an unknown
  user, a wrong digest, an unsupported security level, a decryption error or an unknown context become
  ``SnmpAuthError``; silence ``SnmpTimeout``. An agent that cannot decrypt may drop the request
  silently (net-snmp does): when an authPriv request gets no answer from an engine whose privacy key
  was never seen working, one authNoPriv probe tells a wrong privacy key (an authenticated answer comes)
  from a dead device (nothing comes).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from collectors.snmp import ber, ber_v3, usm
from collectors.snmp.ber import Oid
from collectors.snmp.ber_v3 import FLAG_AUTH, FLAG_PRIV, FLAG_REPORTABLE, UsmParams
from collectors.snmp.transport import Device
from ftthnoc.errors import SnmpAuthError, SnmpError, SnmpProtocolError, SnmpTimeout

#: RFC 3414 §3.2.7: an authenticated message more than 150 s older than the engine's time is refused
TIME_WINDOW: Final = 150
#: times a request is re-sent after a Report that asks for it (notInTimeWindow, unknownEngineID)
RESENDS: Final = 2

_USM_STATS: Final = (1, 3, 6, 1, 6, 3, 15, 1, 1)
UNSUPPORTED_SEC_LEVELS: Final = (*_USM_STATS, 1, 0)
NOT_IN_TIME_WINDOWS: Final = (*_USM_STATS, 2, 0)
UNKNOWN_USER_NAMES: Final = (*_USM_STATS, 3, 0)
UNKNOWN_ENGINE_IDS: Final = (*_USM_STATS, 4, 0)
WRONG_DIGESTS: Final = (*_USM_STATS, 5, 0)
DECRYPTION_ERRORS: Final = (*_USM_STATS, 6, 0)
#: SNMP-MPD-MIB snmpMPDStats (RFC 3412) and SNMP-TARGET-MIB's context counters (RFC 3413)
_MPD_STATS: Final[dict[Oid, str]] = {
    (1, 3, 6, 1, 6, 3, 11, 2, 1, 1, 0): "snmpUnknownSecurityModels",
    (1, 3, 6, 1, 6, 3, 11, 2, 1, 2, 0): "snmpInvalidMsgs",
    (1, 3, 6, 1, 6, 3, 11, 2, 1, 3, 0): "snmpUnknownPDUHandlers",
}
_CONTEXT_STATS: Final[dict[Oid, str]] = {
    (1, 3, 6, 1, 6, 3, 12, 1, 4, 0): "snmpUnavailableContexts",
    (1, 3, 6, 1, 6, 3, 12, 1, 5, 0): "snmpUnknownContexts",
}
_LEVEL_FLAGS: Final = {"noAuthNoPriv": 0, "authNoPriv": FLAG_AUTH, "authPriv": FLAG_AUTH | FLAG_PRIV}
_LEVEL_NAMES: Final = {v: k for k, v in _LEVEL_FLAGS.items()}


@dataclass(slots=True)
class EngineState:
    """What this manager knows of one agent's engine (RFC 3414 §2.3); one per device, kept by the client
    across polls. ``verified``: boots and time came from an authenticated message, not only from
    discovery's unauthenticated Report."""

    engine_id: bytes = b""
    boots: int = 0
    time: int = 0
    #: monotonic clock when ``time`` was learnt (the engine's time now is ``time`` + the seconds since)
    at: float = 0.0
    #: latestReceivedEngineTime (RFC 3414 §2.3)
    latest: int = 0
    verified: bool = False
    #: a localised privacy key an encrypted answer of this engine was decrypted with
    working_priv_key: bytes | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def now(self) -> int:
        return min(ber_v3.MAX_INT, self.time + int(time.monotonic() - self.at))

    def learn(self, engine_id: bytes, boots: int, engine_time: int, verified: bool) -> None:
        self.engine_id, self.boots, self.time, self.latest = engine_id, boots, engine_time, engine_time
        self.at = time.monotonic()
        self.verified = verified

    def observe(self, boots: int, engine_time: int) -> bool:
        """An authenticated message said (boots, time): move forward (RFC 3414 §3.2.7 b) and tell whether
        the message is inside the time window."""
        if not self.verified:
            self.learn(self.engine_id, boots, engine_time, True)
            return True
        if boots > self.boots or (boots == self.boots and engine_time > self.latest):
            self.boots, self.time, self.latest, self.at = boots, engine_time, engine_time, time.monotonic()
        return not (self.boots == ber_v3.MAX_INT or boots < self.boots
                    or (boots == self.boots and engine_time < self.now() - TIME_WINDOW))


@dataclass(slots=True)
class _Try:
    """One message in flight, and what its answer must match."""

    future: asyncio.Future[_Reply]
    flags: int
    user: bytes
    engine_id: bytes
    context_name: bytes
    request_id: int


@dataclass(frozen=True, slots=True)
class _Reply:
    flags: int
    usm: UsmParams
    scoped: ber_v3.ScopedPdu


class _Expired(Exception):
    """A try's timeout passed (internal: becomes a retry, or ``SnmpTimeout`` after the last try)."""


def _expire(fut: asyncio.Future[_Reply]) -> None:
    if not fut.done():
        fut.set_exception(_Expired())


class V3Transport(asyncio.DatagramProtocol):
    """One connected UDP socket to one SNMPv3 agent, as one user; a ``Transport`` (``transport.py``)."""

    def __init__(self, device: Device, state: EngineState) -> None:
        self.device = device
        self.state = state
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, _Try] = {}
        #: why the last datagram that was no answer to us was refused
        self.last_refusal: str | None = None
        self._ids = itertools.count(random.randint(1, 2**30))
        auth = device.auth
        self.level = auth.security_level
        self.flags = _LEVEL_FLAGS[self.level]
        self.user = auth.username.encode()
        self.context_name = auth.context_name.encode()
        self._secrets = (auth.auth_protocol if self.flags & FLAG_AUTH else None,
                         auth.password.get_secret_value().encode() if self.flags & FLAG_AUTH else b"",
                         auth.priv_protocol if self.flags & FLAG_PRIV else None,
                         auth.priv_password.get_secret_value().encode() if self.flags & FLAG_PRIV else b"")
        self._keys: usm.UserKeys | None = None
        self._keys_engine = b""

    @classmethod
    async def open(cls, device: Device, state: EngineState) -> V3Transport:
        loop = asyncio.get_running_loop()
        try:
            _, proto = await loop.create_datagram_endpoint(lambda: cls(device, state),
                                                           remote_addr=(device.host, device.port))
        except OSError as exc:
            raise SnmpError(device.name, f"cannot open a socket to {device.host}:{device.port}: "
                            f"{exc.strerror or exc}") from exc
        return proto

    # ------------------------------------------------------------------------------------- keys
    def keys(self) -> usm.UserKeys:
        """The user's keys localised to the engine as now known (password-to-key is cached per process)."""
        engine_id = self.state.engine_id
        if self._keys is None or self._keys_engine != engine_id:
            self._keys = usm.localized_keys(engine_id, *self._secrets)
            self._keys_engine = engine_id
        return self._keys

    # ------------------------------------------------------------------------------------- receiving
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's transport

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        try:
            msg = ber_v3.decode_message(data)
        except ber.BerError as exc:
            self.last_refusal = f"malformed SNMPv3 message from the agent: {exc}"
            return
        sent = self.pending.get(msg.msg_id)
        if sent is None or sent.future.done():
            return  # a late answer to an earlier try, or to nobody
        try:
            reply = self._accept(msg, sent)
        except (ber.BerError, usm.DecryptionError) as exc:
            self.last_refusal = f"an SNMPv3 answer was refused: {exc}"
            return
        if reply is not None:
            sent.future.set_result(reply)

    def _accept(self, msg: ber_v3.Message, sent: _Try) -> _Reply | None:
        """The reply in ``msg`` if it answers ``sent``; ``None`` (with ``last_refusal`` set) if not."""
        params = msg.usm
        level = msg.flags & (FLAG_AUTH | FLAG_PRIV)
        if params.user != sent.user and (level or params.user):  # an unauthenticated Report may name nobody
            self.last_refusal = "an answer came for another SNMPv3 user than the one asked as"
            return None
        if level & ~sent.flags:
            self.last_refusal = "an answer came at a higher security level than the request's"
            return None
        if level & FLAG_AUTH:
            if params.engine_id != self.state.engine_id:
                self.last_refusal = "an authenticated answer came from another engine than the one asked"
                return None
            keys = self.keys()
            if not usm.verify(keys, msg.data, msg.auth_at, params.auth):
                self.last_refusal = "an answer's digest did not verify with the user's authentication key"
                return None
        if level & FLAG_PRIV:
            plaintext = usm.decrypt(self.keys(), params.boots, params.time, params.priv, msg.scoped)
            keys = self.keys()
            scoped = ber_v3.decode_scoped_pdu(plaintext, padded=keys.priv is not None and keys.priv.cipher == "DES")
            self.state.working_priv_key = keys.priv_key
        else:
            scoped = ber_v3.decode_scoped_pdu(msg.scoped)
        resp = scoped.response
        if resp.pdu_type == ber.REPORT:
            if level & FLAG_AUTH:
                if scoped.response.varbinds and scoped.response.varbinds[0].oid == NOT_IN_TIME_WINDOWS:
                    self.state.learn(params.engine_id, params.boots, params.time, True)
                elif not self.state.observe(params.boots, params.time):
                    self.last_refusal = "an authenticated Report came from outside the engine's time window"
                    return None
            return _Reply(msg.flags, params, scoped)
        if params.user != sent.user:
            self.last_refusal = "a Response came for another SNMPv3 user than the one asked as"
            return None
        if level != sent.flags & (FLAG_AUTH | FLAG_PRIV):
            self.last_refusal = (f"a Response came at level {_LEVEL_NAMES[level]}, the request was "
                                 f"{_LEVEL_NAMES[sent.flags & (FLAG_AUTH | FLAG_PRIV)]}")
            return None
        if level & FLAG_AUTH and not self.state.observe(params.boots, params.time):
            self.last_refusal = "an answer came from outside the engine's time window (a replay, or a clock gone back)"
            return None
        if scoped.context_engine_id != sent.engine_id or scoped.context_name != sent.context_name:
            self.last_refusal = "an answer came for another context than the one asked"
            return None
        if resp.request_id != sent.request_id:
            self.last_refusal = "an answer came with another request-id than the one asked"
            return None
        return _Reply(msg.flags, params, scoped)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable on a connected socket: nobody listens there.
        if isinstance(exc, ConnectionRefusedError):
            err = SnmpTimeout(self.device.name, "port unreachable: no SNMP agent answers at "
                              f"{self.device.host}:{self.device.port}")
            for sent in self.pending.values():
                if not sent.future.done():
                    sent.future.set_exception(err)
            self.pending.clear()

    # ------------------------------------------------------------------------------------- sending
    def _encode(self, msg_id: int, flags: int | None, pdu: bytes, request_id: int) -> tuple[bytes, _Try]:
        """One message of ``pdu`` at security level ``flags``, with the engine's time as now estimated;
        ``flags`` None: a discovery probe (no engine ID, no user, no context, no security)."""
        state = self.state
        loop = asyncio.get_running_loop()
        if flags is None:
            probe = ber_v3.encode_scoped_pdu(b"", b"", pdu)
            sent = _Try(loop.create_future(), 0, b"", b"", b"", request_id)
            params = UsmParams(b"", 0, 0, b"", b"", b"")
            return ber_v3.encode_message(msg_id, FLAG_REPORTABLE, params, probe)[0], sent
        sent = _Try(loop.create_future(), flags, self.user, state.engine_id, self.context_name, request_id)
        scoped = ber_v3.encode_scoped_pdu(state.engine_id, self.context_name, pdu)
        if not flags & FLAG_AUTH:
            params = UsmParams(state.engine_id, state.boots, state.now(), self.user, b"", b"")
            return ber_v3.encode_message(msg_id, flags | FLAG_REPORTABLE, params, scoped)[0], sent
        keys = self.keys()
        assert keys.auth is not None
        boots, now = state.boots, state.now()
        salt = b""
        if flags & FLAG_PRIV:
            scoped, salt = usm.encrypt(keys, boots, now, scoped)
        params = UsmParams(state.engine_id, boots, now, self.user, bytes(keys.auth.mac_length), salt)
        message, at = ber_v3.encode_message(msg_id, flags | FLAG_REPORTABLE, params, scoped)
        digest = usm.sign(keys, message)
        return message[:at] + digest + message[at + len(digest):], sent

    async def _exchange(self, flags: int | None, pdu: bytes, request_id: int, tries: int | None = None) -> _Reply:
        """Send ``pdu`` and wait for its answer: ``tries`` (default retries + 1) tries of ``timeout`` each,
        every try a new message (new msgID, the time as now estimated, a new salt). ``flags``: as
        ``_encode``'s."""
        if self.transport is None or self.transport.is_closing():
            raise SnmpError(self.device.name, "the socket to the agent is closed")
        dev = self.device
        loop = asyncio.get_running_loop()
        msg_ids: list[int] = []
        try:
            for _attempt in range(tries or dev.retries + 1):
                msg_id = next(self._ids) & ber_v3.MAX_INT
                message, sent = self._encode(msg_id, flags, pdu, request_id)
                self.pending[msg_id] = sent
                msg_ids.append(msg_id)
                self.transport.sendto(message)
                timer = loop.call_later(dev.timeout, _expire, sent.future)
                try:
                    return await sent.future
                except _Expired:
                    continue
                finally:
                    timer.cancel()
        finally:
            for m in msg_ids:
                self.pending.pop(m, None)
        raise _Expired

    # ------------------------------------------------------------------------------------- discovery
    async def discover(self) -> None:
        """Learn the agent's engine ID, boots and time (RFC 3414 §4), once per device and client."""
        state = self.state
        async with state.lock:
            if state.engine_id:
                return
            request_id = next(self._ids) & ber_v3.MAX_INT
            try:
                reply = await self._exchange(None, ber.encode_pdu(ber.GET, request_id, []), request_id)
            except _Expired:
                raise SnmpTimeout(self.device.name, self._silence("SNMPv3 engine discovery")) from None
            params = reply.usm
            if reply.scoped.response.pdu_type != ber.REPORT or len(params.engine_id) < 5:
                raise SnmpProtocolError(self.device.name, "the agent answered SNMPv3 engine discovery "
                                        "without its engine ID")
            state.learn(params.engine_id, params.boots, params.time, False)
            state.working_priv_key = None

    # ------------------------------------------------------------------------------------- requests
    async def request(self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int = 0) -> ber.Response:
        if pdu_type not in (ber.GET, ber.GET_BULK):
            raise ValueError(f"PDU type 0x{pdu_type:02x} is not sent by the poller")
        request_id = next(self._ids) & ber_v3.MAX_INT
        pdu = ber.encode_pdu(pdu_type, request_id, list(oids), 0, max_repetitions)
        for resend in range(RESENDS + 1):
            if not self.state.engine_id:
                await self.discover()
            try:
                reply = await self._exchange(self.flags, pdu, request_id)
            except _Expired:
                raise await self._timeout() from None
            resp = reply.scoped.response
            if resp.pdu_type == ber.RESPONSE:
                return resp
            oid = resp.varbinds[0].oid if resp.varbinds else ()
            if resend < RESENDS and oid == NOT_IN_TIME_WINDOWS and reply.flags & FLAG_AUTH:
                continue  # the Report set the engine's time (``_accept``): send again
            if resend < RESENDS and oid == UNKNOWN_ENGINE_IDS:
                self.state.engine_id = b""  # another engine answers there now: discover it
                continue
            raise self._report_error(oid)
        raise SnmpProtocolError(self.device.name, "the agent kept answering with Reports of "
                                f"{ber.format_oid(oid)} after {RESENDS} re-sends")

    def _report_error(self, oid: Oid) -> SnmpError:
        name, user = self.device.name, self.device.auth.username
        level = self.level
        auth = self.device.auth.auth_protocol
        priv = self.device.auth.priv_protocol
        failed = "SNMPv3 authentication failed: "
        if oid == UNKNOWN_USER_NAMES:
            return SnmpAuthError(name, f"{failed}the agent knows no user '{user}' (usmStatsUnknownUserNames)")
        if oid == WRONG_DIGESTS:
            return SnmpAuthError(name, f"{failed}wrong authentication password or protocol ({auth}) for user "
                                       f"'{user}' (usmStatsWrongDigests)")
        if oid == UNSUPPORTED_SEC_LEVELS:
            return SnmpAuthError(name, f"{failed}the agent does not accept security level {level} for user "
                                       f"'{user}' (usmStatsUnsupportedSecLevels)")
        if oid == DECRYPTION_ERRORS:
            return SnmpAuthError(name, f"{failed}wrong privacy password or protocol ({priv}) for user '{user}': "
                                       "the agent could not decrypt the request (usmStatsDecryptionErrors)")
        if oid in _CONTEXT_STATS:
            context = self.device.auth.context_name
            return SnmpAuthError(name, f"{failed}the agent serves no context '{context}' ({_CONTEXT_STATS[oid]})")
        if oid == NOT_IN_TIME_WINDOWS:
            return SnmpAuthError(name, f"{failed}the agent reports the request outside its time window "
                                       "without an authenticated Report to synchronise from (usmStatsNotInTimeWindows)")
        if oid == UNKNOWN_ENGINE_IDS:
            return SnmpProtocolError(name, "the agent keeps reporting an unknown engine ID after discovery")
        what = _MPD_STATS.get(oid, ber.format_oid(oid) if oid else "no varbind")
        return SnmpProtocolError(name, f"the agent answered with a Report ({what}) instead of a Response")

    async def _timeout(self) -> SnmpError:
        """The error for a request that got no acceptable answer. An authPriv request of an engine whose
        privacy key was never seen working gets one authNoPriv probe: an authenticated answer to it means
        the agent is there and takes the authentication key, so the privacy key or protocol is wrong."""
        dev = self.device
        keys = self.keys() if self.flags & FLAG_AUTH else None
        if keys is not None and self.flags & FLAG_PRIV and self.state.working_priv_key != keys.priv_key:
            request_id = next(self._ids) & ber_v3.MAX_INT
            try:
                reply = await self._exchange(FLAG_AUTH, ber.encode_pdu(ber.GET, request_id, []), request_id, tries=1)
            except _Expired:
                reply = None
            if reply is not None and reply.flags & FLAG_AUTH:
                return SnmpAuthError(dev.name, "SNMPv3 authentication failed: wrong privacy password or protocol "
                                     f"({dev.auth.priv_protocol}) for user '{dev.auth.username}': the agent "
                                     "answers authenticated requests but drops the encrypted ones")
        return SnmpTimeout(dev.name, self._silence("SNMPv3 request"))

    def _silence(self, what: str) -> str:
        dev = self.device
        text = (f"no response to the {what} within {dev.timeout:g}s × {dev.retries + 1} tries "
                "(device down, or an ACL)")
        if self.last_refusal:
            text += f"; the last datagram refused: {self.last_refusal}"
        return text

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        for sent in self.pending.values():
            sent.future.cancel()
        self.pending.clear()
