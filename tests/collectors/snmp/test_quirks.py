from __future__ import annotations

import pytest

from collectors.snmp.quirks import huawei_gpon_fsp, pon_rollup, zte_gpon_port, zte_v2_gpon_pon_index, zte_v2_gpon_port
from ftthnoc.samples import MetricFamily


@pytest.mark.parametrize(("frame", "slot", "port"), [(0, 0, 0), (0, 1, 0), (0, 17, 15), (1, 2, 7)])
def test_huawei_ifindex_arithmetic(frame: int, slot: int, port: int) -> None:
    ifindex = 4194304000 + frame * 2**19 + slot * 8192 + port * 256
    assert huawei_gpon_fsp(ifindex) == f"{frame}/{slot}/{port}"


def test_huawei_non_gpon_ifindex_stays_numeric() -> None:
    assert huawei_gpon_fsp(5) == "5"
    assert huawei_gpon_fsp(4194304000 + 3) == str(4194304000 + 3)


def test_zte_pon_index() -> None:
    assert zte_gpon_port(268501248) == "1/1/1"
    assert zte_gpon_port(268501248 + 256 * 2 + 65536) == "1/2/3"
    assert zte_gpon_port(12) == "12"


def test_zte_v2_pon_index_is_0x1101sspp() -> None:
    # 285278465 is board 1 pon 1, 285278727 board 2 pon 7 (go-snmp-olt-zte-c320's config)
    assert zte_v2_gpon_port(285278465) == "1/1/1"
    assert zte_v2_gpon_port(285278727) == "1/2/7"
    assert zte_v2_gpon_pon_index("1/3/16") == 285278992
    assert zte_v2_gpon_port(268501248) == "268501248"  # a ZXGPON-tree index is not read as a V2 one
    with pytest.raises(ValueError):
        zte_v2_gpon_pon_index("1/1/0")


def test_pon_rollup_counts_states_and_causes() -> None:
    up = MetricFamily("ftth_onu_up", "")
    cause = MetricFamily("ftth_onu_last_down_cause", "", "info")
    rows = [("1", 1, "dying_gasp"), ("2", 0, "dying_gasp"), ("3", 0, "los"), ("4", 0, "losi_lobi"),
            ("5", 0, "lofi"), ("6", 0, None), ("7", 0, "deactivated"), ("8", 0, "reset_by_button"),
            ("10", 0, "optics_shutdown")]
    for onu, value, c in rows:
        lab = {"olt": "o", "pon_port": "0/1/0", "onu_id": onu, "district": "oasa"}
        up.add(lab, value)
        if c:
            cause.add({**lab, "cause": c}, 1)
    instances = {"onu": [dict(s.labels) for s in up.samples] + [{"olt": "o", "pon_port": "0/1/1", "onu_id": "9",
                                                              "district": "oasa"}]}
    fams = {f.name: f for f in pon_rollup([up, cause], instances)}
    known = {s.labels["pon_port"]: s.value for s in fams["ftth_pon_port_onus_known"].samples}
    assert known == {"0/1/0": 9, "0/1/1": 1}
    onus = {s.labels["state"]: s.value for s in fams["ftth_pon_port_onus"].samples}
    down = {s.labels["cause"]: s.value for s in fams["ftth_pon_port_onus_down"].samples}
    assert onus == {"up": 1, "down": 8}
    # ONU 1 is up: its old cause is not counted; ONUs taken down on purpose are down, but no fault
    assert down == {"dying_gasp": 1, "los": 2, "other": 2, "deliberate": 3}
    assert fams["ftth_pon_port_onus"].samples[0].labels["district"] == "oasa"
    assert "onu_id" not in fams["ftth_pon_port_onus"].samples[0].labels
