"""Translation rules from neutral families to the text and OpenMetrics expositions."""

from __future__ import annotations

import shutil
import subprocess

from prometheus_client import REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text
from prometheus_client.registry import Collector

from exporters.prometheus import (
    FamiliesCollector,
    Snapshot,
    SnapshotCollector,
    exposition,
    make_registry,
    render,
)
from ftthnoc.samples import MetricFamily

from .conftest import if_mib_families, own_families

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def lines(body: bytes) -> list[str]:
    return body.decode("utf-8").splitlines()


def test_gauge_is_a_gauge_with_labels_and_value() -> None:
    out = lines(render(own_families("olt1", rx=-23.25)[:1]))
    assert out == [
        "# HELP ftth_onu_rx_power_dbm ONU optical receive power as seen by the OLT.",
        "# TYPE ftth_onu_rx_power_dbm gauge",
        'ftth_onu_rx_power_dbm{district="山田地区",olt="olt1",onu_id="1",pon_port="0/1/0"} -23.25',
        'ftth_onu_rx_power_dbm{district="山田地区",olt="olt1",onu_id="2",pon_port="0/1/0"} -23.25',
    ]


def test_own_counter_keeps_total_in_both_formats() -> None:
    err = MetricFamily("ftthnoc_scrape_errors_total", "Polls that failed.", "counter")
    err.add({"target": "olt1"}, 7)
    # Text format 0.0.4: TYPE and samples carry the full name (what promtool and Prometheus expect).
    assert lines(render([err])) == [
        "# HELP ftthnoc_scrape_errors_total Polls that failed.",
        "# TYPE ftthnoc_scrape_errors_total counter",
        'ftthnoc_scrape_errors_total{target="olt1"} 7.0',
    ]
    # OpenMetrics: the family is named without _total, the sample with it.
    assert lines(render([err], accept_header=OPENMETRICS)) == [
        "# HELP ftthnoc_scrape_errors Polls that failed.",
        "# TYPE ftthnoc_scrape_errors counter",
        'ftthnoc_scrape_errors_total{target="olt1"} 7.0',
        "# EOF",
    ]


def test_snmp_exporter_counter_keeps_its_exact_name() -> None:
    octs = if_mib_families("olt1", octets=98765)[:1]
    text = lines(render(octs))
    assert text == [
        "# HELP ifHCInOctets The total number of octets received on the interface.",
        "# TYPE ifHCInOctets counter",
        'ifHCInOctets{ifDescr="GigabitEthernet0/0/1",ifIndex="1",target="olt1"} 98765.0',
    ]
    assert not any("_total" in line for line in text)
    # OpenMetrics forbids a counter sample without _total, so the type there is unknown; the name is kept.
    om = render(octs, accept_header=OPENMETRICS).decode()
    assert "# TYPE ifHCInOctets unknown\n" in om
    assert '\nifHCInOctets{ifDescr="GigabitEthernet0/0/1",ifIndex="1",target="olt1"} 98765.0\n' in om
    [parsed] = list(parse_openmetrics(om))
    assert parsed.name == "ifHCInOctets" and parsed.samples[0].name == "ifHCInOctets"


def test_snmp_counters_between_other_families_keep_order_and_types() -> None:
    fams = own_families("olt1")[:2] + if_mib_families("olt1") + own_families("olt1")[2:]
    out = lines(render(fams))
    types = [line for line in out if line.startswith("# TYPE")]
    assert types == [
        "# TYPE ftth_onu_rx_power_dbm gauge",
        "# TYPE ftthnoc_scrape_success gauge",
        "# TYPE ifHCInOctets counter",
        "# TYPE ifOperStatus gauge",
        "# TYPE ftthnoc_scrape_errors_total counter",
        "# TYPE ftth_onu_last_down_cause_info gauge",
    ]
    assert [m.name for m in parse_text("\n".join(out) + "\n")] == [
        "ftth_onu_rx_power_dbm",
        "ftthnoc_scrape_success",
        "ifHCInOctets",
        "ifOperStatus",
        "ftthnoc_scrape_errors",
        "ftth_onu_last_down_cause_info",
    ]


def test_a_help_text_mentioning_untyped_does_not_confuse_the_retyping() -> None:
    f = MetricFamily("ifInErrors", "Sometimes untyped\nuntyped", "counter")
    f.add({"ifIndex": "1"}, 3)
    assert lines(render([f])) == [
        r"# HELP ifInErrors Sometimes untyped\nuntyped",
        "# TYPE ifInErrors counter",
        'ifInErrors{ifIndex="1"} 3.0',
    ]


def test_stock_encoder_still_gives_valid_output_for_snmp_counters() -> None:
    # Someone calling prometheus_client.generate_latest directly gets an untyped family, same name.
    registry = make_registry(Snapshot())
    collector = FamiliesCollector(if_mib_families("olt1")[:1])
    assert lines(generate_latest(collector))[1:] == [
        "# TYPE ifHCInOctets untyped",
        'ifHCInOctets{ifDescr="GigabitEthernet0/0/1",ifIndex="1",target="olt1"} 1.23456789e+09',
    ]
    assert generate_latest(registry) == b""


def test_info_family_value_is_one_and_labels_carry_the_info() -> None:
    plain = MetricFamily("ftth_onu_last_down_cause", "Why the ONU last went down.", "info")
    plain.add({"onu_id": "1", "cause": "dying_gasp"}, 0)  # the value of an info is always 1
    suffixed = MetricFamily("ftth_onu_model_info", "ONU model.", "info")
    suffixed.add({"onu_id": "1", "model": "HG8010H"}, 1)
    assert lines(render([plain, suffixed])) == [
        "# HELP ftth_onu_last_down_cause_info Why the ONU last went down.",
        "# TYPE ftth_onu_last_down_cause_info gauge",
        'ftth_onu_last_down_cause_info{cause="dying_gasp",onu_id="1"} 1.0',
        "# HELP ftth_onu_model_info ONU model.",
        "# TYPE ftth_onu_model_info gauge",
        'ftth_onu_model_info{model="HG8010H",onu_id="1"} 1.0',
    ]
    om = render([plain, suffixed], accept_header=OPENMETRICS).decode()
    assert "# TYPE ftth_onu_last_down_cause info\n" in om and "# TYPE ftth_onu_model info\n" in om
    parsed = list(parse_openmetrics(om))
    assert [(m.name, m.type, m.samples[0].value) for m in parsed] == [
        ("ftth_onu_last_down_cause", "info", 1),
        ("ftth_onu_model", "info", 1),
    ]


def test_timestamps_only_when_asked_for() -> None:
    f = MetricFamily("ftthnoc_scrape_success", "ok")
    f.add({"target": "olt1"}, 1, timestamp=1_700_000_000.25)
    f.add({"target": "olt2"}, 0)  # no timestamp on this one
    assert lines(render([f]))[2:] == [
        'ftthnoc_scrape_success{target="olt1"} 1.0',
        'ftthnoc_scrape_success{target="olt2"} 0.0',
    ]
    assert lines(render([f], timestamps=True))[2:] == [
        'ftthnoc_scrape_success{target="olt1"} 1.0 1700000000250',
        'ftthnoc_scrape_success{target="olt2"} 0.0',
    ]
    om = lines(render([f], timestamps=True, accept_header=OPENMETRICS))
    assert 'ftthnoc_scrape_success{target="olt1"} 1.0 1700000000.25' in om


def test_label_values_with_japanese_quotes_backslashes_and_newlines() -> None:
    tricky = 'ＮＴＴ局舎 "北" \\ 2F\n架 3'
    f = MetricFamily("ftth_onu_rx_power_dbm", "Rx power; help with \\ and\nnewline.")
    f.add({"olt": "olt1", "district": tricky}, -20)
    body = render([f])
    assert r'district="ＮＴＴ局舎 \"北\" \\ 2F\n架 3"' in body.decode("utf-8")
    assert r"# HELP ftth_onu_rx_power_dbm Rx power; help with \\ and\nnewline." in body.decode("utf-8")
    for parsed in (
        list(parse_text(body.decode())),
        list(parse_openmetrics(render([f], accept_header=OPENMETRICS).decode())),
    ):
        assert parsed[0].samples[0].labels["district"] == tricky
        assert parsed[0].documentation == "Rx power; help with \\ and\nnewline."


def test_unit_is_only_used_when_the_name_ends_with_it() -> None:
    good = MetricFamily("ftth_onu_rx_power_dbm", "Rx.", "gauge", "dbm")
    good.add({}, -20)
    odd = MetricFamily("ftth_onu_temperature", "Temp.", "gauge", "celsius")  # never renamed behind our back
    odd.add({}, 40)
    om = lines(render([good, odd], accept_header=OPENMETRICS))
    assert "# UNIT ftth_onu_rx_power_dbm dbm" in om
    assert "ftth_onu_temperature 40.0" in om and not any("celsius" in line for line in om)


def test_empty_families_are_left_out() -> None:
    assert render([MetricFamily("nothing_yet", "No samples.")]) == b""
    assert render([]) == b""


def test_registry_is_private_and_takes_extra_collectors() -> None:
    class Extra(Collector):
        def collect(self):  # type: ignore[no-untyped-def]
            yield GaugeMetricFamily("ftthnoc_build_info_version", "extra", value=1)

    snap = Snapshot()
    snap.publish("olt1", "huawei_gpon", own_families("olt1"))
    registry = make_registry(snap, [Extra()])
    body, content_type = exposition(registry)
    assert content_type.startswith("text/plain; version=0.0.4")
    assert b"ftthnoc_scrape_success{" in body and b"ftthnoc_build_info_version 1.0" in body
    assert b"ftthnoc_scrape_success" not in generate_latest(REGISTRY)  # never the global default


def test_snapshot_collector_reads_at_collect_time() -> None:
    snap = Snapshot()
    collector = SnapshotCollector(snap)
    assert list(collector.collect()) == [] and collector.describe() == []
    snap.publish("olt1", "m", own_families("olt1", success=0))
    [ok] = [m for m in collector.collect() if m.name == "ftthnoc_scrape_success"]
    assert ok.samples[0].value == 0


def test_histogram_families_keep_their_bucket_sum_and_count_samples() -> None:
    from ftthnoc.samples import Sample

    fam = MetricFamily("ftthnoc_probe_icmp_response_duration_seconds", "RTT.", "histogram")
    lab = {"target": "oasa-school"}
    for le, n in (("0.001", 3.0), ("0.01", 9.0), ("+Inf", 10.0)):
        fam.samples.append(Sample(fam.name + "_bucket", {**lab, "le": le}, n))
    fam.samples.append(Sample(fam.name + "_sum", lab, 0.042))
    fam.samples.append(Sample(fam.name + "_count", lab, 10.0))
    text = render([fam]).decode()
    assert "# TYPE ftthnoc_probe_icmp_response_duration_seconds histogram" in text
    parsed = next(iter(parse_text(text)))
    assert parsed.type == "histogram"
    got = {(s.name, s.labels.get("le")): s.value for s in parsed.samples}
    assert got[("ftthnoc_probe_icmp_response_duration_seconds_bucket", "0.01")] == 9.0
    assert got[("ftthnoc_probe_icmp_response_duration_seconds_count", None)] == 10.0
    if shutil.which("promtool"):
        lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout + lint.stderr
