"""Statistics, running state and families of the probes, from made-up results (no packets)."""

from __future__ import annotations

import math

import pytest

from collectors.probes.arp import ArpState, ArpSweep
from collectors.probes.arp import account as arp_account
from collectors.probes.config import ProbeTarget, RegisteredTablet, TabletSubnet
from collectors.probes.engine import BurstResult
from collectors.probes.families import arp_families, icmp_families, le, tcp_families
from collectors.probes.icmp import Histogram, IcmpState, Jitter, account, ping_stats
from collectors.probes.tcp import TcpResult
from ftthnoc.samples import MetricFamily


def by_name(families: list[MetricFamily]) -> dict[str, MetricFamily]:
    return {f.name: f for f in families}


def test_ping_stats() -> None:
    s = ping_stats([0.001, None, 0.003, None])
    assert (s.sent, s.received, s.min, s.max) == (4, 2, 0.001, 0.003)
    assert s.avg == pytest.approx(0.002)
    assert s.loss_ratio == 0.5
    dead = ping_stats([None] * 5)
    assert dead.loss_ratio == 1.0 and dead.min is None and dead.avg is None


def test_jitter_follows_rfc3550() -> None:
    j = Jitter()
    j.update([0.010, 0.030] * 50)
    expected = 0.0
    for _ in range(99):
        expected += (0.020 - expected) / 16
    assert j.value == pytest.approx(expected)
    assert j.differences == 99
    # lost packets are skipped: the difference is taken between the replies that arrived
    k = Jitter()
    k.update([0.010, None, 0.026])
    assert k.value == pytest.approx(0.016 / 16)
    # constant RTT: no jitter
    c = Jitter()
    c.update([0.005] * 30)
    assert c.value == 0.0


def test_histogram_is_cumulative_with_le_semantics() -> None:
    h = Histogram.empty((0.001, 0.01, 0.1))
    for v in (0.0005, 0.001, 0.002, 0.05, 2.0):
        h.observe(v)
    assert h.cumulative() == [(0.001, 2), (0.01, 3), (0.1, 4), (math.inf, 5)]
    assert h.count == 5 and h.total == pytest.approx(2.0535)
    assert le(0.0005) == "0.0005" and le(1.0) == "1.0" and le(math.inf) == "+Inf"


def test_icmp_families_accumulate_over_cycles() -> None:
    state = IcmpState(buckets=(0.001, 0.01))
    onu = ProbeTarget(name="onu-1", address="10.213.200.2", district="Chiyoda", labels={"olt": "chiyoda-olt1"})
    twin = ProbeTarget(name="onu-1-alias", address="10.213.200.2")
    dead = ProbeTarget(name="cpe-9", address="10.213.200.9")
    targets = [("onu", onu), ("onu", twin), ("cpe", dead)]
    burst = BurstResult(("10.213.200.2", "10.213.200.9"), ((0.0005, 0.002, None, 0.02), (None,) * 4), (0, 0), 1.0)
    account(state, targets, burst)
    fams = by_name(icmp_families(account(state, targets, burst)))

    req = fams["ftthnoc_probe_icmp_requests_total"]
    assert req.type == "counter"
    lab = {"target": "onu-1", "kind": "onu", "district": "Chiyoda", "olt": "chiyoda-olt1"}
    assert {(tuple(sorted(s.labels.items())), s.value) for s in req.samples} >= {(tuple(sorted(lab.items())), 8.0)}
    resp = {s.labels["target"]: s.value for s in fams["ftthnoc_probe_icmp_responses_total"].samples}
    assert resp == {"onu-1": 6.0, "onu-1-alias": 6.0, "cpe-9": 0.0}

    hist = fams["ftthnoc_probe_icmp_response_duration_seconds"]
    assert hist.type == "histogram"
    mine = [s for s in hist.samples if s.labels["target"] == "onu-1"]
    buckets = {s.labels["le"]: s.value for s in mine if s.name.endswith("_bucket")}
    assert buckets == {"0.001": 2.0, "0.01": 4.0, "+Inf": 6.0}
    count = next(s.value for s in mine if s.name.endswith("_count"))
    total = next(s.value for s in mine if s.name.endswith("_sum"))
    assert count == 6.0 and total == pytest.approx(2 * 0.0225)
    dead_buckets = [s for s in hist.samples if s.labels["target"] == "cpe-9" and s.name.endswith("_bucket")]
    assert [s.value for s in dead_buckets] == [0.0, 0.0, 0.0]

    loss = {s.labels["target"]: s.value for s in fams["ftthnoc_probe_icmp_loss_ratio"].samples}
    assert loss == {"onu-1": 0.25, "onu-1-alias": 0.25, "cpe-9": 1.0}
    rtt = {(s.labels["target"], s.labels["stat"]): s.value for s in fams["ftthnoc_probe_icmp_rtt_seconds"].samples}
    assert rtt[("onu-1", "min")] == 0.0005 and rtt[("onu-1", "max")] == 0.02
    assert rtt[("onu-1", "avg")] == pytest.approx(0.0075)
    assert not any(t == "cpe-9" for t, _ in rtt), "a dead host has no RTT figures"
    jit = {s.labels["target"] for s in fams["ftthnoc_probe_icmp_jitter_seconds"].samples}
    assert jit == {"onu-1", "onu-1-alias"}


def test_tcp_families() -> None:
    gw = ProbeTarget(name="vpn-gw", address="10.213.200.1", ports=[443, 22, 8443])
    fams = by_name(tcp_families([
        ("gateway", gw, TcpResult("10.213.200.1", 443, "open", 0.002)),
        ("gateway", gw, TcpResult("10.213.200.1", 22, "refused", 0.001)),
        ("gateway", gw, TcpResult("10.213.200.1", 8443, "timeout", None)),
    ]))
    up = {s.labels["port"]: s.value for s in fams["ftthnoc_probe_tcp_up"].samples}
    assert up == {"443": 1.0, "22": 0.0, "8443": 0.0}
    secs = {s.labels["port"]: s.value for s in fams["ftthnoc_probe_tcp_connect_seconds"].samples}
    assert secs == {"443": 0.002, "22": 0.001}


def test_arp_accounting() -> None:
    s1 = TabletSubnet(school="ES01", subnet="10.213.210.0/24", interface="x0",
                      infrastructure_macs=("02:13:00:00:ee:01",))
    s2 = TabletSubnet(school="JH01", subnet="10.213.211.0/24", interface="x1")
    tablets = [
        RegisteredTablet(school="ES01", asset_no="T-001", mac="02:13:00:00:00:01"),
        RegisteredTablet(school="ES01", asset_no="T-002", mac="02-13-00-00-00-02"),
        RegisteredTablet(school="JH01", asset_no="T-101", mac="0213.0000.0101"),
        RegisteredTablet(school="XX99", asset_no="T-900", mac="02:13:00:00:09:00"),  # no subnet: no samples
    ]
    answers = {"10.213.210.10": "02:13:00:00:00:01", "10.213.210.11": "02:13:00:00:ee:01",
               "10.213.210.12": "00:13:00:00:0f:01", "10.213.210.13": "00:13:00:00:0f:02",
               "10.213.210.14": "00:13:00:00:0f:02", "10.213.210.15": "da:a1:19:00:00:01"}
    state = ArpState()
    cycle = arp_account(state, [ArpSweep(s1, answers, 1000.0, 0.5),
                                ArpSweep(s2, {}, 1000.0, 0.1, error="cannot bind to interface x1")], tablets)
    fams = by_name(arp_families(cycle))
    seen = {s.labels["tablet"]: s.value for s in fams["ftthnoc_probe_arp_tablet_seen"].samples}
    assert seen == {"T-001": 1.0, "T-002": 0.0}  # T-101's sweep failed: unknown, not absent
    last = {s.labels["tablet"]: s.value for s in fams["ftthnoc_probe_arp_tablet_last_seen_timestamp_seconds"].samples}
    assert last == {"T-001": 1000.0}
    unknown = {s.labels["school"]: s.value for s in fams["ftthnoc_probe_arp_unknown_macs"].samples}
    assert unknown == {"ES01": 2.0}
    # a random (locally administered) MAC that is no tablet's is counted apart, not as an unknown device
    private = {s.labels["school"]: s.value for s in fams["ftthnoc_probe_arp_private_macs"].samples}
    assert private == {"ES01": 1.0}
    ok = {s.labels["school"]: s.value for s in fams["ftthnoc_probe_arp_sweep_success"].samples}
    assert ok == {"ES01": 1.0, "JH01": 0.0}
    # the next sweep without T-001 keeps its last-seen time
    cycle2 = arp_account(state, [ArpSweep(s1, {}, 2000.0, 0.5)], tablets)
    fams2 = by_name(arp_families(cycle2))
    assert {s.labels["tablet"]: s.value for s in fams2["ftthnoc_probe_arp_tablet_seen"].samples}["T-001"] == 0.0
    assert fams2["ftthnoc_probe_arp_tablet_last_seen_timestamp_seconds"].samples[0].value == 1000.0


def test_a_tablet_registered_under_two_macs_is_one_tablet_seen_by_either() -> None:
    """The delivered MAC and the private Wi-Fi MAC its MDM reported (``Tablet.network_mac``)."""
    subnet = TabletSubnet(school="ES01", subnet="10.213.210.0/24", interface="x0")
    tablets = [RegisteredTablet(school="ES01", asset_no="T-001", mac="f0:99:b6:00:00:01"),
               RegisteredTablet(school="ES01", asset_no="T-001", mac="3a:1b:2c:3d:4e:01"),
               RegisteredTablet(school="ES01", asset_no="T-002", mac="f0:99:b6:00:00:02")]
    state = ArpState()
    cycle = arp_account(state, [ArpSweep(subnet, {"10.213.210.10": "3a:1b:2c:3d:4e:01"}, 1000.0, 0.5)], tablets)
    fams = by_name(arp_families(cycle))
    seen = [(s.labels["tablet"], s.value) for s in fams["ftthnoc_probe_arp_tablet_seen"].samples]
    assert sorted(seen) == [("T-001", 1.0), ("T-002", 0.0)]  # one sample per tablet, not per MAC
    assert [s.value for s in fams["ftthnoc_probe_arp_private_macs"].samples] == [0.0]
    cycle = arp_account(state, [ArpSweep(subnet, {"10.213.210.10": "f0:99:b6:00:00:01"}, 2000.0, 0.5)], tablets)
    last = by_name(arp_families(cycle))["ftthnoc_probe_arp_tablet_last_seen_timestamp_seconds"].samples
    assert [(s.labels["tablet"], s.value) for s in last] == [("T-001", 2000.0)]
