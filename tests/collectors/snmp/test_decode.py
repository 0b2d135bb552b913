"""Module decoding rules: scaling, sentinels, maps, enums, index shapes, lookups."""

from __future__ import annotations

import pytest

from collectors.snmp import ber
from collectors.snmp.ber import VarBind, parse_oid
from collectors.snmp.decode import decode_module
from collectors.snmp.module import builtin_modules, get_module, parse_module
from ftthnoc.errors import ModuleError

H = "1.3.6.1.4.1.2011.6.128.1.1.2"
PORT = 4194304000 + 1 * 8192  # GPON 0/1/0


def col(oid: str, rows: dict[tuple[int, ...], object], tag: int = ber.INTEGER) -> tuple[tuple[int, ...], list[VarBind]]:
    root = parse_oid(oid)
    return root, [VarBind(root + idx, tag, v) for idx, v in rows.items()]  # type: ignore[arg-type]


def by_name(fams: list) -> dict:
    return {f.name: {tuple(sorted(s.labels.items())): s.value for s in f.samples} for f in fams}


def test_huawei_scaling_sentinels_and_labels() -> None:
    columns = dict([
        col(f"{H}.46.1.15", {(PORT, 1): 1, (PORT, 2): 2, (PORT, 3): -1}),
        col(f"{H}.51.1.4", {(PORT, 1): -2187, (PORT, 2): 2147483647}),
        col(f"{H}.51.1.6", {(PORT, 1): 10000 - 2345, (PORT, 2): 2147483647}),
        col(f"{H}.46.1.24", {(PORT, 1): -1, (PORT, 2): 13, (PORT, 3): 36}),
    ])
    fams, rejected = decode_module(get_module("huawei_gpon"), columns, "olt-chiyoda-1")
    got = by_name(fams)
    lab = lambda onu: (("olt", "olt-chiyoda-1"), ("onu_id", onu), ("pon_port", "0/1/0"))  # noqa: E731
    assert got["ftth_onu_up"] == {lab("1"): 1, lab("2"): 0}  # invalid(-1) is no reading, not 0
    assert got["ftth_onu_rx_power_dbm"] == {lab("1"): pytest.approx(-21.87)}
    assert got["ftth_onu_olt_rx_power_dbm"] == {lab("1"): pytest.approx(-23.45)}
    causes = {k: v for k, v in got["ftth_onu_last_down_cause"].items()}
    assert causes == {tuple(sorted((*lab("2"), ("cause", "dying_gasp")))): 1,
                      tuple(sorted((*lab("3"), ("cause", "other")))): 1}
    # -1 run status, two 2147483647 sentinels, one -1 cause
    assert rejected == 4
    # a column the agent does not have gives an empty family, not an error
    assert got["ftth_onu_temperature_celsius"] == {}


def test_huawei_down_causes_name_what_the_mib_names() -> None:
    """HUAWEI-XPON-MIB V2.14: the ONT taken down on purpose is not LOS nor "other"."""
    codes = {1: "los", 2: "losi_lobi", 7: "deactivate_fail", 8: "deactivated", 9: "reset", 10: "re_register",
             11: "pop_up_fail", 13: "dying_gasp", 15: "loki", 18: "deactivated_ring", 30: "optics_shutdown",
             31: "reset_by_command", 32: "reset_by_button", 33: "reset_by_software",
             34: "deactivated_broadcast_attack", 35: "operator_check_fail", 37: "rogue_ont", 36: "other"}
    columns = dict([col(f"{H}.46.1.24", {(PORT, code): code for code in codes})])
    fams, _ = decode_module(get_module("huawei_gpon"), columns, "o")
    got = {s.labels["onu_id"]: s.labels["cause"] for f in fams if f.name == "ftth_onu_last_down_cause"
           for s in f.samples}
    assert got == {str(code): label for code, label in codes.items()}


def dt(year: int, *rest: int, tz: str | None = "+", hours: int = 9, minutes: int = 0) -> bytes:
    """A DateAndTime: year (2 octets), month, day, hour, minute, second, deci-second [, sign, hours, minutes]."""
    raw = bytes([year >> 8, year & 0xFF, *rest])
    return raw if tz is None else raw + tz.encode() + bytes([hours, minutes])


def test_date_and_time_is_read_as_unix_seconds() -> None:
    jst = dt(2026, 12, 3, 21, 15, 30, 5)  # 2026-12-03 21:15:30.5 +09:00 = 12:15:30.5 UTC
    columns = dict([
        col(f"{H}.46.1.23", {(PORT, 1): jst, (PORT, 2): bytes(11), (PORT, 3): bytes(8),
                             (PORT, 4): dt(2026, 13, 1, 0, 0, 0, 0), (PORT, 5): b"\x07\xea\x0c",
                             (PORT, 6): dt(2026, 12, 3, 12, 15, 30, 5, tz=None),
                             (PORT, 7): dt(2026, 12, 3, 3, 0, 0, 0, tz="-", hours=5, minutes=30)},
            ber.OCTET_STRING),
    ])
    fams, rejected = decode_module(get_module("huawei_gpon"), columns, "o")
    got = {s.labels["onu_id"]: s.value for f in fams if f.name == "ftth_onu_last_down_timestamp_seconds"
           for s in f.samples}
    # zeros ("never"), month 13, a short value, and 8 octets without a known offset: no reading
    assert got == {"1": pytest.approx(1796300130.5, abs=1e-3), "7": pytest.approx(1796286600, abs=1e-3)}
    assert rejected == 5
    module = parse_module(
        "name: t\ndescription: t\nindexes: {onu: [{labelname: pon_port}, {labelname: onu_id}]}\n"
        f"metrics: [{{name: t_seconds, oid: '{H}.46.1.23', index: onu, help: t, format: date_and_time,"
        " utc_offset_minutes: 0}]\n", "t")
    got8 = {s.labels["onu_id"]: s.value for f in decode_module(module, columns, "o")[0] for s in f.samples}
    assert got8["6"] == pytest.approx(1796300130.5, abs=1e-3)  # the 8-octet form with the module's offset (UTC here)


def test_huawei_model_and_firmware_are_one_info_sample_per_onu() -> None:
    columns = dict([
        col(f"{H}.45.1.4", {(PORT, 1): b"EG8145V5", (PORT, 2): b"HG8245H"}, ber.OCTET_STRING),
        col(f"{H}.45.1.5", {(PORT, 1): b"V5R020C00S115"}, ber.OCTET_STRING),
        col(f"{H}.46.1.15", {(PORT, 1): 1}),
    ])
    fams = {f.name: f for f in decode_module(get_module("huawei_gpon"), columns, "o")[0]}
    model = sorted((s.labels["onu_id"], s.labels["model"], s.labels["firmware"])
                   for s in fams["ftth_onu_model"].samples)
    assert model == [("1", "EG8145V5", "V5R020C00S115"), ("2", "HG8245H", "")]
    assert fams["ftth_onu_model"].type == "info"
    assert "firmware" not in fams["ftth_onu_up"].samples[0].labels  # the lookup stays on the model metric
    # the version table's rows are not ONUs of the roll-up: only the ONU layout's instances are counted
    assert {s.labels["pon_port"]: s.value for s in fams["ftth_pon_port_onus_known"].samples} == {"0/1/0": 1}


def test_huawei_pon_port_state() -> None:
    other = PORT + 256  # 0/1/1
    columns = dict([
        col(f"{H}.21.1.10", {(PORT,): 1, (other,): 2}),
        col(f"{H}.21.1.9", {(PORT,): 1, (other,): -1}),
    ])
    fams = {f.name: f for f in decode_module(get_module("huawei_gpon"), columns, "o")[0]}
    assert {s.labels["pon_port"]: s.value for s in fams["ftth_pon_port_up"].samples} == {"0/1/0": 1, "0/1/1": 0}
    assert {s.labels["pon_port"]: s.value for s in fams["ftth_pon_port_laser_on"].samples} == {"0/1/0": 1}


def test_zte_optics_rows_have_a_third_index_part_and_a_signed_level() -> None:
    z = "1.3.6.1.4.1.3902.1012.3"
    columns = dict([
        col(f"{z}.28.2.1.4", {(268501248, 1): 3, (268501248, 2): 6, (268501248, 3): 3, (268501248, 4): 3}),
        col(f"{z}.50.12.1.1.10", {(268501248, 1, 1): 4000, (268501248, 2, 1): 65535, (268501248, 3, 1): 64032,
                                  (268501248, 4, 1): 31000, (268501248, 5): 4000, (268501248, 6, 2): 4000}),
        col(f"{z}.50.12.1.1.14", {(268501248, 1, 1): 16045, (268501248, 2, 1): 65535}),
        col(f"{z}.50.12.1.1.19", {(268501248, 1, 1): 11392, (268501248, 3, 1): 65280}),
        col("1.3.6.1.4.1.3902.1015.1010.11.2.1.2", {(268501248, 1): -23456, (268501248, 2): -80000}),
    ])
    fams, rejected = decode_module(get_module("zte_gpon"), columns, "olt-oasa-1")
    got = by_name(fams)
    lab = lambda onu: (("olt", "olt-oasa-1"), ("onu_id", onu), ("pon_port", "1/1/1"))  # noqa: E731
    assert got["ftth_onu_rx_power_dbm"] == {
        lab("1"): pytest.approx(4000 * 0.002 - 30),
        lab("3"): pytest.approx((64032 - 65536) * 0.002 - 30),  # −33.008 dBm: weak, working, shown
    }
    assert got["ftth_onu_tx_power_dbm"] == {lab("1"): pytest.approx(16045 * 0.002 - 30)}
    assert got["ftth_onu_temperature_celsius"] == {lab("1"): pytest.approx(44.5), lab("3"): pytest.approx(-1.0)}
    assert got["ftth_onu_olt_rx_power_dbm"] == {lab("1"): pytest.approx(-23.456)}
    # 65535 ×2 and -80000 are no reading; 31000 (+32 dBm) is out of range; {pon}.{onu} and {pon}.{onu}.2
    # are not the optics table's shape
    assert rejected == 6


def test_zte_v2_tree_index_phase_enum_and_text_serial() -> None:
    v2 = "1.3.6.1.4.1.3902.1082.500"
    pon = 285278465 + 1  # 0x1101SSPP: gpon-olt_1/1/2
    columns = dict([
        col(f"{v2}.10.2.3.3.1.18", {(pon, 7): b"1,ZTEGC0000007", (pon, 8): b"1,HWTC1F14CAAD"}, ber.OCTET_STRING),
        col(f"{v2}.10.2.3.8.1.4", {(pon, 7): 4, (pon, 8): 3, (pon, 9): 5}),
        col(f"{v2}.10.2.3.8.1.7", {(pon, 7): 1, (pon, 9): 9}),
        col(f"{v2}.20.2.2.2.1.10", {(pon, 7, 1): 4100, (pon, 8, 1): 65535, (pon, 9, 1): 64032}),
    ])
    fams, rejected = decode_module(get_module("zte_gpon_v2"), columns, "olt-v2")
    got = by_name(fams)
    lab = lambda onu: (("olt", "olt-v2"), ("onu_id", onu), ("pon_port", "1/1/2"))  # noqa: E731
    assert got["ftth_onu_up"] == {lab("7"): 1, lab("8"): 0, lab("9"): 0}  # 3 is syncMib here, not working
    assert got["ftth_onu_rx_power_dbm"] == {lab("7"): pytest.approx(4100 * 0.002 - 30),
                                            lab("9"): pytest.approx(-33.008)}
    assert got["ftth_onu_info"] == {tuple(sorted((*lab("7"), ("serial", "ZTEG-C0000007")))): 1,
                                    tuple(sorted((*lab("8"), ("serial", "HWTC-1F14CAAD")))): 1}
    assert got["ftth_onu_last_down_cause"] == {tuple(sorted((*lab("9"), ("cause", "dying_gasp")))): 1}
    assert rejected == 2  # the 65535 Rx, the "unknown" (1) cause
    known = {s.labels["pon_port"]: s.value for f in fams if f.name == "ftth_pon_port_onus_known" for s in f.samples}
    assert known == {"1/1/2": 3}


def test_a_constant_index_part_labels_nothing_and_must_match() -> None:
    text = HEAD + ("indexes: {i: [{labelname: a}, {constant: 1}, {labelname: b, quirk: octet_string}]}\n"
                   "metrics: [{name: m, oid: 1.3.6.1.9, help: h, index: i}]")
    module = parse_module(text, "t.yaml")
    columns = dict([col("1.3.6.1.9", {(5, 1, 2, 104, 105): 1, (5, 2, 2, 104, 105): 2})])
    fams, rejected = decode_module(module, columns, "")
    assert [dict(s.labels) for f in fams for s in f.samples] == [{"a": "5", "b": "hi"}]
    assert rejected == 1
    with pytest.raises(ModuleError, match="no label"):
        parse_module(HEAD + "indexes: {i: [{labelname: a, constant: 1}]}\nmetrics: []", "t.yaml")


def test_index_of_the_wrong_shape_is_skipped_not_guessed() -> None:
    columns = dict([col(f"{H}.51.1.4", {(PORT,): -2000, (PORT, 1, 9): -2000, (PORT, 4): -2000})])
    fams, rejected = decode_module(get_module("huawei_gpon"), columns, "o")
    assert [s.labels["onu_id"] for f in fams if f.name == "ftth_onu_rx_power_dbm" for s in f.samples] == ["4"]
    assert rejected == 2


def test_if_mib_lookups_and_counters() -> None:
    columns = dict([
        col("1.3.6.1.2.1.31.1.1.1.1", {(7,): b"GPON 0/1/0"}, ber.OCTET_STRING),
        col("1.3.6.1.2.1.2.2.1.2", {(7,): b"Huawei-MA5800-V100R019-GPON_UNI"}, ber.OCTET_STRING),
        col("1.3.6.1.2.1.31.1.1.1.6", {(7,): 2**40}, ber.COUNTER64),
        col("1.3.6.1.2.1.2.2.1.8", {(7,): 1}),
    ])
    fams = {f.name: f for f in decode_module(get_module("if_mib"), columns, "olt")[0]}
    sample = fams["ifHCInOctets"].samples[0]
    assert fams["ifHCInOctets"].type == "counter"
    assert sample.value == 2**40
    assert sample.labels == {"device": "olt", "ifIndex": "7", "ifName": "GPON 0/1/0",
                             "ifDescr": "Huawei-MA5800-V100R019-GPON_UNI", "ifAlias": ""}
    assert fams["ifOperStatus"].samples[0].value == 1


def test_every_builtin_module_loads_and_names_metrics_by_convention() -> None:
    mods = builtin_modules()
    assert {"if_mib", "huawei_gpon", "zte_gpon"} <= set(mods)
    for file_name, mod in mods.items():
        assert mod.name == file_name  # get_module reads only the file of the name it is asked for
        for m in mod.metrics:
            if m.name.startswith("ftth_"):
                assert m.name == m.name.lower()
                if m.type == "gauge" and "power" in m.name:
                    assert m.name.endswith("_dbm")


HEAD = "name: x\ndescription: d\n"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (HEAD + "indexes: {}\nmetrics: [{name: m, oid: 1.3.6, help: h, index: nope}]", "unknown index"),
        (HEAD + "indexes: {i: [{labelname: a, quirk: nope}]}\nmetrics: []", "unknown quirk"),
        (HEAD + "indexes: {i: []}\nmetrics: [{name: m, oid: ifInOctets, help: h, index: i}]", "numeric OID"),
        (HEAD + "indexes: {i: []}\nmetrics: [{name: m, oid: 1.3.6, help: h, index: i, type: info}]", "needs 'label'"),
        ("[unclosed", "module bad.yaml"),
    ],
)
def test_malformed_modules_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ModuleError, match=reason):
        parse_module(text, "bad.yaml")


async def test_a_vendor_neutral_metric_has_one_help_whatever_vendor_made_it() -> None:
    """HELP of ftth_* families comes from the catalogue, not from the module that made them (a Huawei OLT's
    ftth_onu_rx_power_dbm must not cite a ZTE object, nor the other way round)."""
    from ftthnoc.catalogue import help_of

    for module in ("huawei_gpon", "zte_gpon"):
        for metric in builtin_modules()[module].metrics:
            fams, _ = decode_module(builtin_modules()[module], {}, "olt")
            fam = next(f for f in fams if f.name == metric.name)
            wanted = help_of(metric.name)
            if wanted is not None:
                assert fam.documentation == wanted and "3902" not in wanted and "2011" not in wanted


async def test_a_device_without_the_modules_mib_is_a_failed_poll_that_says_so() -> None:
    from collectors.snmp.client import Device, SnmpClient
    from collectors.snmp.poll import poll_module
    from collectors.snmp.recorded import RecordedAgent
    from ftthnoc.config import Auth

    run_status = parse_oid("1.3.6.1.4.1.2011.6.128.1.1.2.46.1.15.4194304256.0")
    huawei_only = RecordedAgent([VarBind(run_status, ber.INTEGER, 1)])
    dev = Device("olt", "walk", 0, Auth())
    result = await poll_module(SnmpClient({dev.key: huawei_only}), dev, builtin_modules()["zte_gpon"])
    assert result.success is False
    assert result.error is not None and "does not speak zte_gpon's MIB" in result.error
