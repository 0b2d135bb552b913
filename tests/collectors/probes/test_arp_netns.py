"""ARP sweep of a school subnet: namespaces with chosen MACs on one bridge play tablets and strangers."""

from __future__ import annotations

import time

import pytest

from collectors.probes.arp import ArpState, arp_cycle, sweep
from collectors.probes.config import RegisteredTablet, TabletSubnet
from collectors.probes.families import arp_families
from tests.collectors.probes.netns import Lab

pytestmark = pytest.mark.asyncio

PRESENT = {"T-0001": "02:13:00:00:00:01", "T-0002": "02:13:00:00:00:02", "T-0003": "02:13:00:00:00:03"}
ABSENT = {"T-0004": "02:13:00:00:00:04", "T-0005": "02:13:00:00:00:05"}
STRANGERS = ["00:13:00:00:0f:01", "02:13:00:00:0f:02"]  # a vendor's MAC and a private (random) one
ROUTER = "02:13:00:00:ee:01"


async def test_sweep_finds_registered_tablets_and_counts_strangers(lab: Lab) -> None:
    bridge = lab.bridge()
    hosts = {}
    for i, mac in enumerate([*PRESENT.values(), *STRANGERS, ROUTER]):
        hosts[mac] = lab.bridge_host(bridge, 10 + i * 7, mac)
    assert {h.mac for h in hosts.values()} == {*PRESENT.values(), *STRANGERS, ROUTER}

    subnet = TabletSubnet(school="ES-CHIYODA", subnet=bridge.subnet, interface=bridge.root_if,
                          infrastructure_macs=(ROUTER,))
    elsewhere = TabletSubnet(school="JH-OASA", subnet="10.213.254.0/28", interface="ftp-nonexistent")
    tablets = [RegisteredTablet(school="ES-CHIYODA", asset_no=a, mac=m) for a, m in {**PRESENT, **ABSENT}.items()]
    tablets.append(RegisteredTablet(school="JH-OASA", asset_no="T-0100", mac="02:13:00:00:01:00"))

    before = time.time()
    cycle = await arp_cycle(ArpState(), [subnet, elsewhere], tablets, timeout=0.3, retries=1, rate=2000)
    fams = {f.name: f for f in arp_families(cycle)}

    seen = {(s.labels["school"], s.labels["tablet"]): s.value for s in fams["ftthnoc_probe_arp_tablet_seen"].samples}
    assert seen == {("ES-CHIYODA", a): 1.0 for a in PRESENT} | {("ES-CHIYODA", a): 0.0 for a in ABSENT}
    last = {s.labels["tablet"]: s.value
            for s in fams["ftthnoc_probe_arp_tablet_last_seen_timestamp_seconds"].samples}
    assert set(last) == set(PRESENT)
    assert all(before - 1 <= t <= time.time() for t in last.values())
    unknown = {s.labels["school"]: s.value for s in fams["ftthnoc_probe_arp_unknown_macs"].samples}
    assert unknown == {"ES-CHIYODA": 1.0}
    private = {s.labels["school"]: s.value for s in fams["ftthnoc_probe_arp_private_macs"].samples}
    assert private == {"ES-CHIYODA": 1.0}
    answered = {s.labels["school"]: s.value for s in fams["ftthnoc_probe_arp_hosts"].samples}
    assert answered == {"ES-CHIYODA": 6.0}
    ok = {s.labels["school"]: s.value for s in fams["ftthnoc_probe_arp_sweep_success"].samples}
    assert ok == {"ES-CHIYODA": 1.0, "JH-OASA": 0.0}
    # no label anywhere carries more than identity
    for f in fams.values():
        for s in f.samples:
            assert set(s.labels) <= {"school", "tablet", "subnet"}


async def test_sweep_reports_addresses_and_macs(lab: Lab) -> None:
    bridge = lab.bridge()
    a = lab.bridge_host(bridge, 20, "02:13:00:00:aa:01")
    b = lab.bridge_host(bridge, 21, "02:13:00:00:aa:02")
    result = await sweep(TabletSubnet(school="S", subnet=bridge.subnet, interface=bridge.root_if),
                         timeout=0.3, retries=0)
    assert result.success and result.error is None
    assert result.answers == {a.address: a.mac, b.address: b.mac}
