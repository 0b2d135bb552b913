"""The data files: sorted, parseable, and saying exactly what the model says."""

from __future__ import annotations

import os
from pathlib import Path

from collectors.snmp.decode import date_and_time
from simulator.snmprec import (
    EMPTY_CONTEXT_FILE,
    HUAWEI_NO_READING,
    HW_XPON,
    IF_ENTRY,
    IFX_ENTRY,
    ZTE_OLT_RX,
    ZTE_V1,
    huawei_date_and_time,
    huawei_dbm_raw,
    huawei_olt_rx_raw,
    olt_records,
    parse,
    render,
    write_if_changed,
    write_town,
    zte_olt_rx_raw,
    zte_rx_raw,
)
from simulator.town import Olt, Town

TAGS = {"2", "4", "4x", "6", "64", "65", "66", "67", "70", "65:numeric", "67:numeric", "70:numeric"}


def _values(olt: Olt, moving: bool = False) -> dict[tuple[int, ...], tuple[str, str]]:
    return {oid: (tag, value) for oid, tag, value in olt_records(olt, moving_counters=moving)}


def test_files_are_sorted_and_parse(small_town: Town, tmp_path: Path) -> None:
    dirs = write_town(small_town, tmp_path)
    assert set(dirs) == {d.name for d in small_town.devices()}
    for olt in small_town.olts:
        text = (dirs[olt.name] / "public.snmprec").read_text(encoding="iso-8859-1")
        assert (dirs[olt.name] / EMPTY_CONTEXT_FILE).read_text(encoding="iso-8859-1") == text
        recs = parse(text)
        oids = [r[0] for r in recs]
        assert oids == sorted(oids)
        assert len(oids) == len(set(oids))
        assert {r[1] for r in recs} <= TAGS
        for _, tag, value in recs:
            if tag == "4x":
                bytes.fromhex(value)
            elif tag in {"2", "65", "66", "67", "70"}:
                int(value)


def test_text_order_is_not_numeric_order(small_town: Town) -> None:
    """The sort must be numeric: ifIndex .10 after .9, and 4194312192 after 268435456."""
    recs = olt_records(small_town.olts[0])
    text_lines = render(recs).splitlines()
    assert text_lines != sorted(text_lines)


def test_system_group(small_town: Town) -> None:
    for olt in small_town.olts:
        v = _values(olt)
        assert v[(1, 3, 6, 1, 2, 1, 1, 5, 0)] == ("4", olt.name)
        descr = v[(1, 3, 6, 1, 2, 1, 1, 1, 0)][1]
        assert descr.startswith("Huawei Integrated Access Software" if olt.vendor == "huawei" else "ZXA10 C3")


def test_if_mib(small_town: Town) -> None:
    for olt in small_town.olts:
        v = _values(olt)
        gpon_descr = set()
        for p in olt.pon_ports:
            x = (p.interface.if_index,)
            assert v[(*IFX_ENTRY, 1, *x)] == ("4", p.interface.name)
            assert v[(*IF_ENTRY, 3, *x)] == ("2", "250")
            assert v[(*IFX_ENTRY, 6, *x)][0] == "70"
            assert v[(*IFX_ENTRY, 15, *x)] == ("66", "2488")
            gpon_descr.add(v[(*IF_ENTRY, 2, *x)][1])
        if olt.vendor == "huawei":
            assert len(gpon_descr) == 1  # ifDescr says nothing: use ifName
        for u in olt.uplinks:
            assert v[(*IF_ENTRY, 5, u.if_index)] == ("66", str(2**32 - 1))
            assert v[(*IFX_ENTRY, 15, u.if_index)] == ("66", "10000")


def test_moving_counters_use_the_numeric_variation(small_town: Town) -> None:
    olt = small_town.olts[0]
    up = olt.uplinks[0]
    tag, value = _values(olt, moving=True)[(*IFX_ENTRY, 6, up.if_index)]
    assert tag == "70:numeric" and f"initial={up.in_octets}" in value and "rate=" in value
    assert _values(olt)[(*IFX_ENTRY, 6, up.if_index)] == ("70", str(up.in_octets))


def test_huawei_ont_tables(small_town: Town) -> None:
    olt = next(o for o in small_town.olts if o.vendor == "huawei")
    v = _values(olt)
    for p in olt.pon_ports:
        assert v[(*HW_XPON, 21, 1, 16, p.pon_index)] == ("2", str(len(p.onus)))
        assert v[(*HW_XPON, 23, 1, 4, p.pon_index)] == ("2", str(huawei_dbm_raw(p.tx_dbm)))
        for u in p.onus:
            x = (p.pon_index, u.onu_id)
            assert v[(*HW_XPON, 43, 1, 3, *x)] == ("4x", b"HWTC".hex() + u.serial[4:].lower())
            assert v[(*HW_XPON, 43, 1, 9, *x)] == ("4", u.household)
            assert v[(*HW_XPON, 46, 1, 15, *x)] == ("2", "1" if u.online else "2")
            assert v[(*HW_XPON, 51, 1, 4, *x)] == ("2", str(huawei_dbm_raw(u.rx_dbm)))
            assert v[(*HW_XPON, 51, 1, 6, *x)] == ("2", str(huawei_olt_rx_raw(u.olt_rx_dbm)))
            if not u.online:
                for col in (1, 3, 4, 6):
                    assert v[(*HW_XPON, 51, 1, col, *x)] == ("2", str(HUAWEI_NO_READING))
                assert v[(*HW_XPON, 46, 1, 20, *x)] == ("2", "-1")
                cause = v[(*HW_XPON, 46, 1, 24, *x)]
                expected = {"dying_gasp": {("2", "13")}, "los": {("2", "1"), ("2", "2")},
                            "deactivated": {("2", "8"), ("2", "30")}}[u.state]
                assert cause in expected, (u.state, cause)


def test_huawei_times_model_and_port_state(small_town: Town) -> None:
    """What the Huawei agents add (HUAWEI-XPON-MIB): the times as DateAndTime at the OLT's JST offset (all
    zeros for never), the ONT's model and firmware, each port's state and laser switch; read back with the
    poller's own DateAndTime reader."""
    olt = next(o for o in small_town.olts if o.vendor == "huawei")
    v = _values(olt)
    for p in olt.pon_ports:
        assert v[(*HW_XPON, 21, 1, 9, p.pon_index)] == ("2", "1")
        assert v[(*HW_XPON, 21, 1, 10, p.pon_index)] == ("2", "1" if p.up else "2")
        for u in p.onus:
            x = (p.pon_index, u.onu_id)
            assert v[(*HW_XPON, 45, 1, 4, *x)] == ("4", u.model) and u.model
            assert v[(*HW_XPON, 45, 1, 5, *x)] == ("4", u.firmware)
            for col, at in ((22, u.last_up_at), (23, u.last_down_at), (25, u.last_dying_gasp_at)):
                tag, raw = v[(*HW_XPON, 46, 1, col, *x)]
                octets = bytes.fromhex(raw)
                assert tag == "4x" and len(octets) == 11
                assert date_and_time(octets) == at and (at is None or octets[8:] == b"+\x09\x00")
            if not u.online:
                assert u.last_down_at is not None and u.last_up_at is not None and u.last_up_at < u.last_down_at
            assert (u.last_dying_gasp_at is not None) == (u.last_down_cause == "dying_gasp")


def test_huawei_date_and_time_encoding() -> None:
    assert huawei_date_and_time(None) == "00" * 11
    # 2026-12-01 00:00:00 JST = 2026-11-30 15:00:00 UTC, written as JST with its +09:00
    assert huawei_date_and_time(1796050800) == "07ea0c01000000002b0900"
    assert huawei_date_and_time(1796050800, 0) == "07ea0b1e0f0000002b0000"


def test_zte_onu_tables(small_town: Town) -> None:
    olt = next(o for o in small_town.olts if o.vendor == "zte")
    v = _values(olt)
    assert not any(oid[: len(HW_XPON)] == HW_XPON for oid in v)
    for p in olt.pon_ports:
        for u in p.onus:
            x = (p.pon_index, u.onu_id)
            ani = (*x, 1)  # the optics table's third index part
            assert v[(*ZTE_V1, 28, 1, 1, 3, *x)] == ("4", u.household)
            assert v[(*ZTE_V1, 28, 1, 1, 5, *x)] == ("4x", b"ZTEG".hex() + u.serial[4:].lower())
            phase = {"online": "3", "los": "1", "dying_gasp": "4"}[u.state]
            assert v[(*ZTE_V1, 28, 2, 1, 4, *x)] == ("2", phase)
            assert v[(*ZTE_V1, 50, 12, 1, 1, 10, *ani)] == ("2", str(zte_rx_raw(u.rx_dbm)))
            assert v[(*ZTE_V1, 50, 12, 1, 1, 14, *ani)] == ("2", str(zte_rx_raw(u.tx_dbm)))
            assert (*ZTE_V1, 50, 12, 1, 1, 10, *x) not in v
            assert v[ZTE_OLT_RX + x] == ("2", str(zte_olt_rx_raw(u.olt_rx_dbm)))
            if not u.online:
                for col in (10, 14, 19):
                    assert v[(*ZTE_V1, 50, 12, 1, 1, col, *ani)] == ("2", "65535")
                assert v[ZTE_OLT_RX + x] == ("2", "-80000")
            if u.rx_dbm is not None and u.rx_dbm < -30:  # sent as 16-bit two's complement, unsigned
                assert 32768 <= int(v[(*ZTE_V1, 50, 12, 1, 1, 10, *ani)][1]) < 65535


def test_zte_encoders_send_signed_levels_unsigned() -> None:
    from simulator.snmprec import zte_temperature_raw

    assert zte_rx_raw(-33.008) == 64032 and zte_rx_raw(-20.0) == 5000 and zte_rx_raw(None) == 65535
    assert zte_temperature_raw(44.5) == 11392 and zte_temperature_raw(-1.0) == 65280


def test_unchanged_files_keep_their_mtime(tmp_path: Path) -> None:
    f = tmp_path / "a.snmprec"
    assert write_if_changed(f, "1.3.6.1|2|1\n")
    os.utime(f, (1_000_000, 1_000_000))
    assert not write_if_changed(f, "1.3.6.1|2|1\n")
    assert f.stat().st_mtime == 1_000_000
    assert write_if_changed(f, "1.3.6.1|2|2\n")
    assert f.stat().st_mtime > 1_000_000


def test_non_ascii_strings_are_hex(small_town: Town) -> None:
    from simulator.snmprec import _str

    assert _str("千代田") == ("4x", "千代田".encode().hex())
    assert _str(" padded ") == ("4x", b" padded ".hex())
    assert _str("HH-000001") == ("4", "HH-000001")
