"""The trap rules (traps.yaml) and the receiver's configuration, without sockets."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import get_args

import pytest

from collectors.snmp import ber
from collectors.snmp.ber import VarBind, parse_oid
from collectors.traps import TrapConfig, TrapCounters
from collectors.traps.config import normalize_engine_id
from collectors.traps.mapping import builtin_rules, load_rules, parse_rules, trap_oid_of
from collectors.traps.receiver import AUTH_PROTOCOLS, PRIV_PROTOCOLS, _DropLog, _varbind
from ftthnoc.config import Auth, AuthProtocol, PrivProtocol
from ftthnoc.errors import ConfigError

HW = "1.3.6.1.4.1.2011.6.128.1.1.2.46.1"
PON = 4194304000 + 2 * 8192 + 3 * 256  # GPON 0/2/3


def vb(oid: str, value: int | bytes | tuple[int, ...] | None, tag: int = ber.INTEGER) -> VarBind:
    return VarBind(parse_oid(oid), tag, value)


def classify(trap: str, *varbinds: VarBind):  # type: ignore[no-untyped-def]
    return builtin_rules().classify(parse_oid(trap), list(varbinds))


def test_builtin_rules_load_and_generic_traps_are_exact() -> None:
    rules = builtin_rules()
    assert {r.name for r in rules.rules} >= {"coldStart", "warmStart", "linkDown", "linkUp", "hwGponProfOntDGAlarmTrap",
                                            "zte_onu_state"}
    assert classify("1.3.6.1.6.3.1.1.5.2").kind == "warm_start"
    assert classify("1.3.6.1.6.3.1.1.5.3.1").rule is None  # exact means exact


def test_link_down_prefers_the_if_index_value() -> None:
    m = classify("1.3.6.1.6.3.1.1.5.3", vb("1.3.6.1.2.1.2.2.1.8.4", 2), vb("1.3.6.1.2.1.2.2.1.1.4", 4))
    assert (m.kind, m.if_index, m.onu_scoped) == ("link_down", 4, False)


# HUAWEI-XPON-TRAP-MIB: ONT alarms carry hwFrameIndex, hwSlotIndex, hwPortIndex (HUAWEI-DEVICE-MIB), the ONT
# index and the equipment ID, each at its own table's instance
FRAME, SLOT, PORT_IX = "1.3.6.1.4.1.2011.6.3.3.1.1.1", "1.3.6.1.4.1.2011.6.3.3.2.1.1", "1.3.6.1.4.1.2011.6.3.3.4.1.1"
ONT_INDEX = "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.1"          # hwGponDeviceOntIndex
ONT_OBJECT_INDEX = "1.3.6.1.4.1.2011.5.100.1.1.1.5.1.1"    # hwGponDeviceOntObjectIndex (distributed mode)
EQUIPMENT_ID = "1.3.6.1.4.1.2011.6.128.1.1.2.45.1.4"       # hwGponDeviceOntEquipmentId
PROF = "1.3.6.1.4.1.2011.6.128.1.1.12.2.2.0"               # hwXponDeviceOntAlarmTrapsPrefix
DIST = "1.3.6.1.4.1.2011.5.100.1.1.31.2.2.0"               # hwGponOntAlarmTrapsPrefix


def ont_alarm(f: int, s_: int, p: int, ont: int, index: str = ONT_INDEX) -> list[VarBind]:
    pon = 4194304000 + f * 2**19 + s_ * 8192 + p * 256
    return [vb(f"{FRAME}.{f}", f), vb(f"{SLOT}.{f}.{s_}", s_), vb(f"{PORT_IX}.{f}.{s_}.{p}", p),
            vb(f"{index}.{pon}.{ont}", ont), vb(f"{EQUIPMENT_ID}.{pon}.{ont}", b"EG8145V5", ber.OCTET_STRING)]


@pytest.mark.parametrize("prefix", [PROF, DIST])
@pytest.mark.parametrize("code, kind, cause", [
    (12, "onu_down", "los"), (13, "onu_up", None), (18, "onu_down", "dying_gasp"), (19, "onu_up", None),
    (10, "onu_down", "other"), (11, "onu_up", None),
])
def test_huawei_ont_alarms_read_frame_slot_port_and_ont(prefix: str, code: int, kind: str, cause: str | None) -> None:
    index = ONT_INDEX if prefix == PROF else ONT_OBJECT_INDEX
    m = classify(f"{prefix}.{code}", *ont_alarm(0, 2, 3, 8, index))
    assert (m.kind, m.cause, m.pon_port, m.onu_id) == (kind, cause, "0/2/3", "8")
    assert m.detail["verified"] == "false" and "EG8145V5" not in repr(m)  # the equipment ID is not read


def test_huawei_ont_alarm_varbinds_at_instance_zero_read_the_same() -> None:
    """The rules read the varbinds' values: an agent that sends them at .0 gives the same ids."""
    m = classify(f"{PROF}.18", vb(f"{FRAME}.0", 0), vb(f"{SLOT}.0", 1), vb(f"{PORT_IX}.0", 15),
                 vb(f"{ONT_INDEX}.0", 127))
    assert (m.kind, m.cause, m.pon_port, m.onu_id) == ("onu_down", "dying_gasp", "0/1/15", "127")


def test_huawei_ont_alarm_without_the_port_keeps_the_ont_unplaced() -> None:
    m = classify(f"{PROF}.12", vb(f"{FRAME}.0", 0), vb(f"{ONT_INDEX}.{PON}.8", 8))
    assert (m.kind, m.cause, m.pon_port, m.onu_id) == ("onu_down", "los", None, "8")


@pytest.mark.parametrize("trap, index", [
    ("1.3.6.1.4.1.2011.6.128.1.1.12.3.0.3", ONT_INDEX),           # hwGponProfOntVersionTrap
    ("1.3.6.1.4.1.2011.5.100.1.1.31.1.0.3", ONT_OBJECT_INDEX),    # hwGponDeviceOntVersionTrap
    ("1.3.6.1.4.1.2011.6.145.3.1.0.20", "1.3.6.1.4.1.2011.6.128.1.1.2.41.1.1"),  # hwXponCommonOntFirstOnlineTrap
])
def test_huawei_online_notifications_carry_if_index_and_ont(trap: str, index: str) -> None:
    m = classify(trap, vb(f"1.3.6.1.2.1.2.2.1.1.{PON}", PON - 2**32), vb(f"{index}.{PON}.8", 8))
    assert (m.kind, m.cause, m.pon_port, m.onu_id) == ("onu_up", None, "0/2/3", "8")
    # only the ifIndex varbind: its instance, not its (signed 32-bit) value, names the port
    m = classify(trap, vb(f"1.3.6.1.2.1.2.2.1.1.{PON}", PON - 2**32))
    assert (m.kind, m.pon_port, m.onu_id) == ("onu_up", "0/2/3", None)


def test_other_huawei_xpon_notifications_are_other_with_their_ids() -> None:
    # hwXponOntInitiativeDownAlarmTrap: the ONT went offline on its own initiative: not an outage
    m = classify("1.3.6.1.4.1.2011.6.145.3.2.1.0.31", *ont_alarm(0, 1, 0, 3, "1.3.6.1.4.1.2011.6.145.1.1.1.3.1.1"))
    assert (m.rule, m.kind, m.cause, m.pon_port, m.onu_id) == ("huawei_xpon_common_other", "other", None, "0/1/0",
                                                               "3")
    assert classify("1.3.6.1.4.1.2011.6.128.1.1.12.2.1.0.121").rule == "huawei_xpon_other"


def test_pon_port_parts_must_be_fields() -> None:
    with pytest.raises(ConfigError, match="pon_port_parts names fields it does not read"):
        parse_rules("rules: [{name: a, oid: 1.3.6, pon_port_parts: [frame, slot, port], "
                    "fields: {frame: {prefix: 1.3.6.1}}}]", "t.yaml")


def test_zte_phase_states() -> None:
    def state(phase: int) -> tuple[str, str | None]:
        m = classify("1.3.6.1.4.1.3902.1012.3.28.0.9", vb(f"1.3.6.1.4.1.3902.1012.3.28.2.1.4.{0x10020300}.44", phase))
        assert (m.pon_port, m.onu_id) == ("1/2/3", "44")
        return m.kind, m.cause

    assert state(3) == ("onu_up", None)
    assert state(1) == ("onu_down", "los")
    assert state(4) == ("onu_down", "dying_gasp")
    assert state(6) == ("onu_down", "other")
    assert state(0) == ("other", None)


def test_exact_rule_wins_over_prefix_and_longest_prefix_wins(tmp_path: Path) -> None:
    text = """
rules:
  - {name: wide, oid_prefix: 1.3.6.1.4.1.2011, kind: other}
  - {name: narrow, oid_prefix: 1.3.6.1.4.1.2011.6.128, kind: onu_down}
  - {name: gasp, oid: 1.3.6.1.4.1.2011.6.128.0.7, kind: onu_down, cause: dying_gasp,
     fields: {onu_id: {prefix: 1.3.6.1.4.1.2011.6.128.1.1.2.46.1.15, take: index, position: 1}}}
"""
    path = tmp_path / "traps.yaml"
    path.write_text(text)
    rules = load_rules(path)
    assert rules.classify(parse_oid("1.3.6.1.4.1.2011.2.1"), []).rule == "wide"
    assert rules.classify(parse_oid("1.3.6.1.4.1.2011.6.128.0.1"), []).rule == "narrow"
    m = rules.classify(parse_oid("1.3.6.1.4.1.2011.6.128.0.7"), [vb(f"{HW}.15.{PON}.9", 2)])
    assert (m.rule, m.cause, m.onu_id, m.pon_port) == ("gasp", "dying_gasp", "9", None)


@pytest.mark.parametrize("text, message", [
    ("rules: [{name: a, kind: other}]", "exactly one of oid and oid_prefix"),
    ("rules: [{name: a, oid: 1.3.6, oid_prefix: 1.3.6}]", "exactly one of oid and oid_prefix"),
    ("rules: [{name: a, oid: 1.3.x}]", "not a numeric OID"),
    ("rules: [{name: a, oid: 1.3.6, kind: sideways}]", "kind"),
    ("rules: [{name: a, oid: 1.3.6, pon_port: no_such_quirk}]", "unknown pon_port quirk"),
    ("rules: [{name: a, oid: 1.3.6, states: {1: onu_up}}]", "no state field"),
    ("rules: [{name: a, oid: 1.3.6}, {name: a, oid: 1.3.7}]", "unique"),
    ("rules: [{name: a, oid: 1.3.6}, {name: b, oid: 1.3.6}]", "same trap OID"),
    ("rules: [", "trap rules"),
])
def test_bad_rule_files_are_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_rules(text, "test.yaml")


def test_missing_rule_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read trap rules"):
        load_rules(tmp_path / "nope.yaml")


def test_trap_oid_is_read_from_snmp_trap_oid() -> None:
    assert trap_oid_of([vb("1.3.6.1.2.1.1.3.0", 5, ber.TIMETICKS),
                        vb("1.3.6.1.6.3.1.1.4.1.0", (1, 3, 6, 1, 6, 3, 1, 1, 5, 1), ber.OBJECT_IDENTIFIER)]) \
        == (1, 3, 6, 1, 6, 3, 1, 1, 5, 1)
    assert trap_oid_of([vb("1.3.6.1.6.3.1.1.4.1.0", None, ber.NULL)]) is None


# ------------------------------------------------------------------------------------------ configuration
AUTHS = {
    "v2": Auth(version=2, community="c"),
    "v3a": Auth(version=3, username="u", security_level="authNoPriv", password="12345678"),
    "v3b": Auth(version=3, username="u", security_level="authNoPriv", password="87654321"),
}


def test_engine_ids_are_normalised_and_checked() -> None:
    assert normalize_engine_id("0x80:00:1F:88:80:AA") == "80001f8880aa"
    for bad in ("0x800", "zz00112233", "00" * 33, "0x0011"):
        with pytest.raises(ValueError):
            normalize_engine_id(bad)
    cfg = TrapConfig.model_validate({"devices": [{"name": "a", "address": "10.0.0.1", "engine_id": "0x8000AABBCC"},
                                                 {"name": "b", "address": "10.0.0.2"}]})
    assert cfg.sender_engine_ids() == ["8000aabbcc"]
    assert cfg.names_by_address() == {"10.0.0.1": "a", "10.0.0.2": "b"}
    assert (cfg.host, cfg.port) == ("0.0.0.0", 162)


def test_duplicate_devices_are_refused() -> None:
    with pytest.raises(ValueError, match="device addresses must be unique"):
        TrapConfig.model_validate({"devices": [{"name": "a", "address": "10.0.0.1"},
                                               {"name": "b", "address": "10.0.0.1"}]})


@pytest.mark.parametrize("kw, message", [
    ({"communities": ["nope"]}, "names no auth"),
    ({"communities": ["v3a"]}, "must name v2c auths"),
    ({"users": ["v2"]}, "must name SNMPv3 auths"),
    ({"users": ["v3a", "v3b"]}, "both use USM user 'u'"),
    ({}, "every trap would be dropped"),
])
def test_resolve_checks_auth_names(kw: dict[str, list[str]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrapConfig.model_validate(kw).resolve(AUTHS)


def test_every_configurable_protocol_has_a_pysnmp_mapping() -> None:
    assert set(AUTH_PROTOCOLS) == set(get_args(AuthProtocol))
    assert set(PRIV_PROTOCOLS) == set(get_args(PrivProtocol))


def test_counters_start_at_zero_for_every_reason() -> None:
    c = TrapCounters()
    c.dropped("bad_auth")
    c.received("onu_down", "chiyoda-olt1")
    received, dropped = c.families()
    assert received.name == "ftthnoc_traps_received_total" and received.type == "counter"
    assert [(s.labels, s.value) for s in received.samples] == [({"kind": "onu_down", "source": "chiyoda-olt1"}, 1)]
    values = {s.labels["reason"]: s.value for s in dropped.samples}
    assert values["bad_auth"] == 1 and values["unknown_community"] == 0 and len(values) == 9


def test_drop_log_is_throttled(caplog: pytest.LogCaptureFixture) -> None:
    log = _DropLog()
    with caplog.at_level(logging.WARNING, logger="collectors.traps.receiver"):
        for _ in range(50):
            log("malformed", "192.0.2.7")
        log("bad_auth", "192.0.2.7")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["trap dropped from 192.0.2.7: malformed", "trap dropped from 192.0.2.7: bad_auth"]


def test_pysnmp_values_map_to_the_same_tags_as_the_v2c_codec_including_plain_asn1_classes() -> None:
    """The trap receiver is the one place that still turns pysnmp's values into the neutral varbind."""
    from pyasn1.type import univ
    from pysnmp.proto import rfc1902

    name = univ.ObjectIdentifier("1.3.6.1.2.1.1.2.0")
    cases = [
        (univ.ObjectIdentifier("1.3.6.1.4.1.2011.2.248"), ber.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 2011, 2, 248)),
        (rfc1902.ObjectIdentifier("1.3.6.1.4.1.3902"), ber.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 3902)),
        (univ.OctetString(b"MA5800"), ber.OCTET_STRING, b"MA5800"),
        (univ.Integer(-2187), ber.INTEGER, -2187),
        (rfc1902.Counter64(2**64 - 1), ber.COUNTER64, 2**64 - 1),
        (rfc1902.Gauge32(7), ber.GAUGE32, 7),
        (rfc1902.IpAddress("10.0.0.1"), ber.IP_ADDRESS, bytes([10, 0, 0, 1])),
    ]
    for value, tag, want in cases:
        vb = _varbind(name, value)
        assert (vb.tag, vb.value) == (tag, want), type(value).__name__
