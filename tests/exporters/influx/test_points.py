"""The point layout: names, tags, fields, escaping and refusals, without a server."""

from __future__ import annotations

import logging

import pytest

from exporters.influx.points import PointEncoder, escape_key, split_name
from ftthnoc.samples import MetricFamily, Sample

TS = 1_795_000_000_123_456_789


def fam(name: str, type_: str = "gauge", *samples: tuple[dict[str, str], float]) -> MetricFamily:
    f = MetricFamily(name, "help", type_)  # type: ignore[arg-type]
    for labels, value in samples:
        f.add(labels, value)
    return f


@pytest.mark.parametrize(("name", "expected"), [
    ("ftth_onu_rx_power_dbm", ("ftth_onu", "rx_power_dbm")),
    ("ftth_onu_up", ("ftth_onu", "up")),
    ("ftth_onu_info", ("ftth_onu", "info")),
    ("ftth_pon_port_onus_known", ("ftth_pon_port", "onus_known")),
    ("ftth_olt_rx_threshold_dbm", ("ftth_olt", "rx_threshold_dbm")),
    ("ftthnoc_scrape_errors_total", ("ftthnoc_scrape", "errors_total")),
    ("ftthnoc_influx_up", ("ftthnoc_influx", "up")),
    ("ftth_bwa_cell_up", ("ftth_bwa", "cell_up")),  # not a known group: after the second word
    ("probe_up", ("probe", "up")),
    ("ifHCInOctets", ("snmp", "ifHCInOctets")),  # snmp_exporter's names, as Telegraf's SNMP input
    ("sysUpTime", ("snmp", "sysUpTime")),
])
def test_split_name_rebuilds_the_prometheus_name(name: str, expected: tuple[str, str]) -> None:
    assert split_name(name) == expected
    measurement, field = expected
    if measurement != "snmp":
        assert f"{measurement}_{field}" == name  # what VictoriaMetrics will call the series


def test_families_of_one_entity_share_one_point() -> None:
    lab = {"olt": "chiyoda-olt1", "pon_port": "0/1/0", "onu_id": "7", "district": "chiyoda"}
    enc = PointEncoder().encode([fam("ftth_onu_up", "gauge", (lab, 1)),
                                 fam("ftth_onu_rx_power_dbm", "gauge", (lab, -21.53)),
                                 fam("ftth_onu_distance_meters", "gauge", (lab, 1200))], TS)
    assert enc.lines == [
        "ftth_onu,district=chiyoda,olt=chiyoda-olt1,onu_id=7,pon_port=0/1/0 "
        f"up=1.0,rx_power_dbm=-21.53,distance_meters=1200.0 {TS}"
    ]
    assert enc.values == 3


def test_info_families_become_tags_with_the_prometheus_field_name() -> None:
    lab = {"olt": "o", "pon_port": "0/1/0", "onu_id": "1", "district": "oasa"}
    enc = PointEncoder().encode([
        fam("ftth_onu_last_down_cause", "info", ({**lab, "cause": "dying_gasp"}, 1)),
        fam("ftth_onu_info", "info", ({**lab, "serial": "HWTC-00000001"}, 5)),  # info value is always 1
    ], TS)
    assert enc.lines == [
        f"ftth_onu,cause=dying_gasp,district=oasa,olt=o,onu_id=1,pon_port=0/1/0 last_down_cause_info=1.0 {TS}",
        f"ftth_onu,district=oasa,olt=o,onu_id=1,pon_port=0/1/0,serial=HWTC-00000001 info=1.0 {TS}",
    ]


def test_counters_and_snmp_names() -> None:
    lab = {"device": "olt1", "ifIndex": "4194312448", "ifName": "GPON 0/1/0", "ifDescr": "a,b=c"}
    enc = PointEncoder().encode([fam("ifHCInOctets", "counter", (lab, 123456789012)),
                                 fam("ftthnoc_scrape_errors_total", "counter", ({"target": "t", "module": "m"}, 3))],
                                TS)
    assert enc.lines == [
        f"snmp,device=olt1,ifDescr=a\\,b\\=c,ifIndex=4194312448,ifName=GPON\\ 0/1/0 ifHCInOctets=123456789012.0 {TS}",
        f"ftthnoc_scrape,module=m,target=t errors_total=3.0 {TS}",
    ]


def test_histogram_samples_name_themselves() -> None:
    h = MetricFamily("ftthnoc_probe_rtt_seconds", "RTT", "histogram")
    lab = {"target": "10.0.0.1"}
    h.samples += [Sample("ftthnoc_probe_rtt_seconds_bucket", {**lab, "le": "0.01"}, 3),
                  Sample("ftthnoc_probe_rtt_seconds_bucket", {**lab, "le": "+Inf"}, 4),
                  Sample("ftthnoc_probe_rtt_seconds_sum", lab, 0.021),
                  Sample("ftthnoc_probe_rtt_seconds_count", lab, 4)]
    lines = PointEncoder().encode([h], TS).lines
    assert lines == [
        f"ftthnoc_probe,le=0.01,target=10.0.0.1 rtt_seconds_bucket=3.0 {TS}",
        f"ftthnoc_probe,le=+Inf,target=10.0.0.1 rtt_seconds_bucket=4.0 {TS}",
        f"ftthnoc_probe,target=10.0.0.1 rtt_seconds_sum=0.021,rtt_seconds_count=4.0 {TS}",
    ]


def test_escaping_japanese_and_special_characters() -> None:
    assert escape_key("千代田") == "千代田"
    assert escape_key("a b,c=d\\") == "a\\ b\\,c\\=d\\\\"
    assert escape_key("line\nbreak") == "line break"
    lines = PointEncoder().encode([fam("ftth_onu_up", "gauge", ({"district": "芸北 地区", "olt": ""}, 0))], TS).lines
    assert lines == [f"ftth_onu,district=芸北\\ 地区 up=0.0 {TS}"]  # empty label values are left out


def test_personal_and_reserved_label_keys_are_refused(caplog: pytest.LogCaptureFixture) -> None:
    enc = PointEncoder()
    with caplog.at_level(logging.WARNING):
        out = enc.encode([fam("ftth_onu_up", "gauge", ({"olt": "o", "Name": "山田"}, 1), ({"olt": "o"}, 1),
                              ({"olt": "o", "phone": "082"}, 1), ({"olt": "o", "time": "1"}, 1),
                              ({"olt": "o", "_field": "x"}, 1))], TS)
        enc.encode([fam("ftth_onu_up", "gauge", ({"olt": "o", "Name": "山田"}, 1))], TS)
    assert out.lines == [f"ftth_onu,olt=o up=1.0 {TS}"]
    assert out.skipped == 4
    assert "山田" not in caplog.text and "082" not in caplog.text  # the values are never logged
    assert caplog.text.count("'Name'") == 1  # once per family and key


def test_nan_and_inf_are_skipped_and_ints_are_floats() -> None:
    enc = PointEncoder().encode([fam("ftth_onu_up", "gauge", ({"olt": "a"}, float("nan")), ({"olt": "b"}, float("inf")),
                                     ({"olt": "c"}, 2))], TS)
    assert enc.lines == [f"ftth_onu,olt=c up=2.0 {TS}"]
    assert enc.skipped == 2


def test_sample_timestamp_wins_and_int_labels_are_text() -> None:
    f = MetricFamily("ftth_onu_up", "h")
    f.samples.append(Sample("ftth_onu_up", {"olt": "a", "onu_id": 3}, 1, 1_795_000_000.5))  # type: ignore[dict-item]
    assert PointEncoder().encode([f], TS).lines == ["ftth_onu,olt=a,onu_id=3 up=1.0 1795000000500000000"]


def test_cache_is_bounded() -> None:
    enc = PointEncoder(max_cached_series=10)
    for i in range(50):
        lines = enc.encode([fam("ftth_onu_up", "gauge", ({"onu_id": str(i)}, 1))], TS).lines
        assert lines == [f"ftth_onu,onu_id={i} up=1.0 {TS}"]
    assert enc._cached <= 10
