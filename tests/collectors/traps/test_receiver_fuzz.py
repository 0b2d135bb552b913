"""Fuzzing the trap receiver: hostile datagrams to a real ``TrapReceiver`` on loopback, with hypothesis.

The receiver hands each datagram to pysnmp's engine (``TrapReceiver._datagram``) and counts what came
of it. What must hold for *any* datagram:

* nothing raises out of the receiver (the loop's exception handler records anything that does; the
  receiver's own error log lines, a consumer or classification bug, fail the test too);
* every datagram has exactly one outcome: an event, or one drop under a reason
  (``receiver.counters``), or, for an SNMPv3 engine-ID discovery, the report the engine answers (the
  receiver logs it and counts nothing: it is a protocol exchange, not a trap);
* the receiver still accepts a good trap afterwards.

Inputs: random bytes; mutations of real traps (``tests/fixtures/fuzz/traps/``: v1, v2c, informs and
v3 authPriv, captured from net-snmp's snmptrap, see the README there) with the BER fuzz test's
mutations (bit flips, truncations, insertions, length-field edits); and well-formed v1/v2c traps
with random varbinds, encoded by pysnmp, which must all become events (they exercise the rules of
``traps.yaml``). The receiver runs on its own thread and loop; the test sends one datagram at a time
and waits for its outcome, so nothing is lost to a full socket buffer. Bounded by ``max_examples``,
derandomized, no example database; the corpus is replayed by ``test_corpus``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pyasn1.type import univ
from pysnmp.proto import api
from pysnmp.proto.mpmod.rfc3412 import SNMPv3Message
from pysnmp.proto.secmod.rfc3414.auth.hmacsha import HmacSha
from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters
from pysnmp.proto.secmod.rfc7860.auth.hmacsha2 import HmacSha2

from collectors.traps import TrapReceiver
from collectors.traps.families import DROP_REASONS
from ftthnoc.events import DeviceEvent
from tests.collectors.snmp.test_ber_fuzz import V1_VALUES, V2_VALUES, Mutation, fuzz, mutate, mutation, oids
from tests.collectors.traps.test_receiver import AUTHS, COMMUNITY, trap_config

P2 = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
P1 = api.PROTOCOL_MODULES[api.SNMP_VERSION_1]

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "fuzz" / "traps"
SEEDS = {p.stem: p.read_bytes() for p in sorted(CORPUS.glob("*.bin"))}
GOOD_TRAP = "event-v2c-link-down"

#: one outcome of a datagram: ("event", kind), ("drop", reason) or ("discovery", "")
Outcome = tuple[str, str]


# ------------------------------------------------------------------------------------ the receiver
class _Log(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.discoveries = 0
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "engine ID discovery" in record.getMessage():
            self.discoveries += 1
        elif record.levelno >= logging.ERROR:
            self.errors.append(record.getMessage())


class Running:
    """A ``TrapReceiver`` on its own thread and event loop, fed one datagram at a time."""

    def __init__(self) -> None:
        self.events: list[DeviceEvent] = []
        self.loop_errors: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(lambda loop, ctx: self.loop_errors.append(str(ctx.get("exception")
                                                                                      or ctx.get("message"))))
        self.receiver = TrapReceiver(trap_config(), AUTHS, self.events.append)
        self.log = _Log()
        self.logger = logging.getLogger("collectors.traps.receiver")
        self._thread = threading.Thread(target=self.loop.run_forever, name="trap-fuzz", daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.sent = 0

    def __enter__(self) -> Running:
        self._level = self.logger.level
        self.logger.setLevel(logging.DEBUG)
        self.logger.addHandler(self.log)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.receiver.start(), self.loop).result(30)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.receiver.stop(), self.loop).result(30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(30)
            self.loop.close()
            self.sock.close()
            self.logger.removeHandler(self.log)
            self.logger.setLevel(self._level)

    def _state(self) -> tuple[int, dict[str, int], int]:
        c = self.receiver.counters
        return len(self.events), {r: c.dropped_count(r) for r in DROP_REASONS}, self.log.discoveries

    def accounted(self) -> int:
        events, drops, discoveries = self._state()
        return events + sum(drops.values()) + discoveries

    def send(self, datagram: bytes, timeout: float = 10.0) -> Outcome:
        """Send one datagram and return its one outcome; fail if it has none, or more than one."""
        before = self._state()
        total = self.accounted()
        self.sock.sendto(datagram, ("127.0.0.1", self.receiver.port))
        self.sent += 1
        deadline = time.monotonic() + timeout
        while self.accounted() == total:
            if time.monotonic() > deadline:
                raise AssertionError(f"a datagram of {len(datagram)} octets came to nothing (no event, no drop): "
                                     f"{datagram.hex()}")
            time.sleep(0.0005)
        self._drain()
        after = self._state()
        assert self.accounted() == total + 1, f"one datagram counted {self.accounted() - total} times"
        assert not self.loop_errors, f"the receiver raised: {self.loop_errors}"
        assert not self.log.errors, f"the receiver logged errors: {self.log.errors}"
        if after[0] > before[0]:
            event = self.events[-1]
            assert COMMUNITY not in repr(event)
            return "event", event.kind
        if after[2] > before[2]:
            return "discovery", ""
        (reason,) = [r for r in DROP_REASONS if after[1][r] > before[1][r]]
        return "drop", reason

    def _drain(self) -> None:
        """Read what the engine answered (reports, inform acknowledgements), so our buffer never fills."""
        while True:
            try:
                self.sock.recv(65535)
            except BlockingIOError:
                return

    def still_accepts_a_good_trap(self) -> None:
        assert self.send(SEEDS[GOOD_TRAP]) == ("event", "link_down")
        time.sleep(0.05)  # nothing late: every datagram sent so far had exactly one outcome
        assert self.accounted() == self.sent


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    if not SEEDS:
        pytest.fail(f"no seed traps in {CORPUS}")
    with Running() as r:
        yield r


# ------------------------------------------------------------------------------------ well-formed traps
SYS_UPTIME = (1, 3, 6, 1, 2, 1, 1, 3, 0)
SNMP_TRAP_OID = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
#: the objects the rules of traps.yaml read, and the RFC 3584 varbinds: where classification bugs would be
RULE_PREFIXES = [
    (1, 3, 6, 1, 2, 1, 2, 2, 1, 1), (1, 3, 6, 1, 2, 1, 2, 2, 1, 7), (1, 3, 6, 1, 2, 1, 2, 2, 1, 8),
    (1, 3, 6, 1, 4, 1, 2011, 6, 3, 3, 1, 1, 1), (1, 3, 6, 1, 4, 1, 2011, 6, 3, 3, 2, 1, 1),
    (1, 3, 6, 1, 4, 1, 2011, 6, 3, 3, 4, 1, 1), (1, 3, 6, 1, 4, 1, 2011, 6, 128, 1, 1, 2, 43, 1, 1),
    (1, 3, 6, 1, 4, 1, 2011, 5, 100, 1, 1, 1, 5, 1, 1),
    (1, 3, 6, 1, 4, 1, 3902, 1012, 3, 28, 2, 1, 4), (1, 3, 6, 1, 6, 3, 18, 1, 3), (1, 3, 6, 1, 6, 3, 18, 1, 4),
]
TRAP_OIDS = [(1, 3, 6, 1, 6, 3, 1, 1, 5, i) for i in range(1, 6)] + [
    (1, 3, 6, 1, 4, 1, 2011, 6, 128, 1, 1, 12, 2, 2, 0, 18), (1, 3, 6, 1, 4, 1, 2011, 6, 128, 1, 1, 12, 3, 0, 3),
    (1, 3, 6, 1, 4, 1, 2011, 5, 100, 1, 1, 31, 2, 2, 0, 12), (1, 3, 6, 1, 4, 1, 2011, 6, 128, 1, 1, 12),
    (1, 3, 6, 1, 4, 1, 3902, 1012, 3, 28, 0, 1)]
index_arcs = st.one_of(st.sampled_from([0, 1, 3, 4194304000, 4194312192, 268501248, 2**32 - 1]),
                       st.integers(0, 2**32 - 1))
names = st.one_of(
    st.tuples(st.sampled_from(RULE_PREFIXES), st.lists(index_arcs, max_size=3)).map(lambda t: (*t[0], *t[1])),
    oids(max_arcs=40),
)


@st.composite
def v2c_traps(draw: st.DrawFn) -> bytes:
    """A v2c trap or inform (sysUpTime.0, snmpTrapOID.0, then random varbinds) with the right community."""
    trap_oid = draw(st.one_of(st.sampled_from(TRAP_OIDS), oids(max_arcs=30)))
    extra = draw(st.lists(st.tuples(names, V2_VALUES), max_size=8))
    pdu = P2.InformRequestPDU() if draw(st.booleans()) else P2.SNMPv2TrapPDU()
    P2.apiPDU.set_defaults(pdu)
    P2.apiPDU.set_request_id(pdu, draw(st.integers(-(2**31), 2**31 - 1)))
    P2.apiPDU.set_varbinds(pdu, [(SYS_UPTIME, P2.TimeTicks(draw(st.integers(0, 2**32 - 1)))),
                                 (SNMP_TRAP_OID, P2.ObjectIdentifier(trap_oid)),
                                 *[(o, t[0]) for o, t in extra]])
    msg = P2.Message()
    P2.apiMessage.set_defaults(msg)
    P2.apiMessage.set_community(msg, COMMUNITY)
    P2.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


@st.composite
def v1_traps(draw: st.DrawFn) -> bytes:
    """A v1 trap (any generic-trap, enterprise, agent address) with random varbinds, the right community."""
    pdu = P1.TrapPDU()
    P1.apiTrapPDU.set_defaults(pdu)
    P1.apiTrapPDU.set_enterprise(pdu, draw(st.one_of(st.sampled_from(TRAP_OIDS), oids(max_arcs=30))))
    P1.apiTrapPDU.set_agent_address(pdu, P1.IpAddress(draw(st.binary(min_size=4, max_size=4))))
    P1.apiTrapPDU.set_generic_trap(pdu, draw(st.integers(0, 6)))
    P1.apiTrapPDU.set_specific_trap(pdu, draw(st.integers(0, 2**31 - 1)))
    P1.apiTrapPDU.set_timestamp(pdu, draw(st.integers(0, 2**32 - 1)))
    P1.apiTrapPDU.set_varbinds(pdu, [(o, t[0]) for o, t in draw(st.lists(st.tuples(names, V1_VALUES), max_size=8))])
    msg = P1.Message()
    P1.apiMessage.set_defaults(msg)
    P1.apiMessage.set_community(msg, COMMUNITY)
    P1.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


# ------------------------------------------------------------------------------------ v3 header fields


def _schema_valid_v3(data: bytes) -> bool:
    try:
        msg, rest = decoder.decode(data, asn1Spec=SNMPv3Message())
        decoder.decode(bytes(msg["msgSecurityParameters"]), asn1Spec=UsmSecurityParameters())
    except Exception:  # pyasn1 refuses what the schema's ranges refuse: derived corpus files do that
        return False
    return not rest


V3_SEEDS = sorted(n for n in SEEDS if "-v3-" in n and _schema_valid_v3(SEEDS[n]))
_edge_int = st.one_of(st.sampled_from([-1, 0, 1, 483, 484, 65_507, 2**31 - 1]), st.integers(-(2**31), 2**31 - 1))
V3_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "msgVersion": st.sampled_from([0, 1, 2, 3, 4, 2**31 - 1]),
    "msgID": _edge_int,
    "msgMaxSize": _edge_int,
    "msgFlags": st.binary(max_size=2),  # every bit: priv without auth, reportable on a trap, two octets
    "msgSecurityModel": st.sampled_from([0, 1, 2, 3, 4, 2**31 - 1]),
    "msgAuthoritativeEngineId": st.one_of(st.just(b""), st.binary(min_size=1, max_size=40),
                                          st.sampled_from([bytes.fromhex("80001f8880aabbccddeeff0011")])),
    "msgAuthoritativeEngineBoots": _edge_int,
    "msgAuthoritativeEngineTime": _edge_int,
    "msgUserName": st.one_of(st.sampled_from([b"", b"noc", b"noc-sha1"]), st.binary(max_size=40)),
    "msgAuthenticationParameters": st.one_of(st.just(b""), st.binary(max_size=48)),
    "msgPrivacyParameters": st.one_of(st.just(b""), st.binary(max_size=16)),
    "encryptedPDU": st.binary(max_size=200),
}
_USM_FIELDS = {"msgAuthoritativeEngineId", "msgAuthoritativeEngineBoots", "msgAuthoritativeEngineTime",
               "msgUserName", "msgAuthenticationParameters", "msgPrivacyParameters"}


#: the seeds' users and their authentication keys (tests/collectors/traps/test_receiver.py's AUTHS)
_SIGNERS: dict[bytes, tuple[Any, str]] = {
    b"noc": (HmacSha2(HmacSha2.SHA256_SERVICE_ID), "trap-auth-key-1"),
    b"noc-sha1": (HmacSha(), "trap-auth-key-2"),
}


@functools.cache
def _key(user: bytes, engine_id: bytes) -> Any:
    """The user's authentication key localised to ``engine_id`` (RFC 3414 §2.6), as pysnmp computes it."""
    service, password = _SIGNERS[user]
    return service.localize_key(service.hash_passphrase(password), univ.OctetString(engine_id))


def rewrite_v3(seed: bytes, changes: dict[str, Any], resign: bool = False) -> bytes:
    """The v3 seed with these header or USM fields set (decoded and encoded again by pyasn1). The digest
    is left as it was (any change then breaks it: bad_auth, as from an attacker), or with ``resign``
    computed again with the user's real key (a sender that has the keys and writes odd headers: a
    broken agent), so that the message gets past authentication to the time window and the flags."""
    msg, _ = decoder.decode(seed, asn1Spec=SNMPv3Message())
    usm, _ = decoder.decode(bytes(msg["msgSecurityParameters"]), asn1Spec=UsmSecurityParameters())
    user = bytes(usm["msgUserName"])
    signer = _SIGNERS.get(user) if resign and "msgAuthenticationParameters" not in changes else None
    if signer is not None and len(usm["msgAuthenticationParameters"]):
        usm["msgAuthenticationParameters"] = b"\x00" * signer[0].digest_length
    else:
        signer = None
    for name, value in changes.items():
        raw = univ.Integer(value) if isinstance(value, int) else univ.OctetString(value)
        where = (msg if name == "msgVersion" else usm if name in _USM_FIELDS
                 else msg["msgData"] if name == "encryptedPDU" else msg["msgGlobalData"])
        # past the schema's own ranges (msgID 0..2^31-1, msgFlags of one octet …): what a hostile sender writes
        where.setComponentByName(name, raw, verifyConstraints=False, matchTags=False, matchConstraints=False)
    msg["msgSecurityParameters"] = encoder.encode(usm)
    whole = bytes(encoder.encode(msg))
    if signer is None:
        return whole
    return bytes(signer[0].authenticate_outgoing_message(_key(user, bytes(usm["msgAuthoritativeEngineId"])), whole))


# ------------------------------------------------------------------------------------ the tests
def test_random_datagrams_are_dropped_and_counted(running: Running) -> None:
    @fuzz(300)
    @given(st.one_of(st.binary(max_size=1500),
                     st.binary(max_size=600).map(lambda b: b"\x30" + bytes([len(b) & 0x7F]) + b),
                     st.binary(max_size=600).map(lambda b: b"\x30\x82" + len(b).to_bytes(2, "big") + b)))
    def check(datagram: bytes) -> None:
        running.send(datagram)

    check()
    running.still_accepts_a_good_trap()


def test_mutated_real_traps_have_one_outcome_each(running: Running) -> None:
    outcomes: set[Outcome] = set()

    @fuzz(600)
    @given(st.sampled_from(sorted(SEEDS)), st.lists(mutation, min_size=1, max_size=3))
    def check(seed: str, ops: list[Mutation]) -> None:
        outcomes.add(running.send(mutate(SEEDS[seed], ops)))

    check()
    running.still_accepts_a_good_trap()
    # the mutations reach past the BER parser: into the community, USM and the PDU handlers
    reasons = {r for kind, r in outcomes if kind == "drop"}
    assert {"malformed", "unknown_community", "bad_auth"} <= reasons, outcomes
    assert any(kind == "event" for kind, _ in outcomes), outcomes


def test_v3_traps_with_hostile_header_fields_have_one_outcome_each(running: Running) -> None:
    """Every SNMPv3 header and USM field out of range or inconsistent (priv without auth, a reportable
    trap, a model that is not USM, an empty engine ID, a boots counter at its end): what pysnmp's
    message processing and USM make of it is counted, whatever it is."""
    outcomes: set[Outcome] = set()

    @fuzz(300)
    @given(st.sampled_from(V3_SEEDS), st.dictionaries(st.sampled_from(sorted(V3_FIELDS)), st.none(), min_size=1,
                                                      max_size=4).flatmap(
        lambda keys: st.fixed_dictionaries({k: V3_FIELDS[k] for k in keys})), st.booleans())
    def check(seed: str, changes: dict[str, Any], resign: bool) -> None:
        outcomes.add(running.send(rewrite_v3(SEEDS[seed], changes, resign)))

    check()
    running.still_accepts_a_good_trap()
    reasons = {r for kind, r in outcomes if kind == "drop"}
    assert {"malformed", "unknown_user", "bad_auth", "unknown_engine_id", "other"} <= reasons, outcomes


def test_well_formed_traps_with_random_varbinds_are_all_events(running: Running) -> None:
    kinds: set[str] = set()

    @fuzz(300)
    @given(st.one_of(v2c_traps(), v1_traps()))
    def check(datagram: bytes) -> None:
        outcome = running.send(datagram)
        assert outcome[0] == "event", outcome
        kinds.add(outcome[1])

    check()
    running.still_accepts_a_good_trap()
    assert {"link_down", "cold_start", "other"} <= kinds, kinds


# ------------------------------------------------------------------------------------ the corpus
def _expected(name: str) -> Outcome | None:
    """``event-*``: an event; ``drop-<reason>-*``: that drop; ``discovery-*``; ``any-*``: one outcome."""
    head, _, rest = name.partition("-")
    if head == "event":
        return "event", ""
    if head == "drop":
        reason = next(r for r in DROP_REASONS if rest.startswith(r + "-"))
        return "drop", reason
    if head == "discovery":
        return "discovery", ""
    assert head == "any", f"{name}: name it event-, drop-<reason>-, discovery- or any-"
    return None


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_corpus(running: Running, name: str) -> None:
    outcome = running.send(SEEDS[name])
    expected = _expected(name)
    if expected is not None:
        assert (outcome[0], outcome[1] if expected[1] else "") == expected, outcome
    expect = (CORPUS / f"{name}.expect")
    if expect.exists():
        event = running.events[-1]
        got = f"{event.kind} if_index={event.if_index} pon_port={event.pon_port} onu_id={event.onu_id} " \
              f"cause={event.cause} version={event.detail.get('version')} pdu={event.detail.get('pdu')}\n"
        assert got == expect.read_text(encoding="utf-8")


def test_the_corpus_is_there_and_described() -> None:
    assert len(SEEDS) >= 15
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    missing = [n for n in SEEDS if f"{n}.bin" not in readme]
    assert not missing, f"not described in {CORPUS / 'README.md'}: {missing}"
