"""ICMP bursts against real hosts in network namespaces: RTTs, injected loss, jitter, missing hosts.

Loss is injected for real with nftables inside the target namespace (``numgen random``); delays come
from a responder that waits before answering (this kernel has no netem). Bounds are binomial at four
standard deviations, so the tests do not flake.
"""

from __future__ import annotations

import math

import pytest

from collectors.probes.config import ProbeTarget
from collectors.probes.engine import IcmpEngine
from collectors.probes.families import icmp_families
from collectors.probes.icmp import IcmpState, Jitter, account, ping_stats
from tests.collectors.probes.netns import DELAYED_RESPONDER, Lab
from tests.waiting import scaled

pytestmark = pytest.mark.asyncio


async def test_rtt_of_a_namespace_host(lab: Lab) -> None:
    host, _ = lab.veth_host()
    async with IcmpEngine() as engine:
        result = await engine.burst([host.address], count=20, period=0.005, timeout=0.5)
    stats = ping_stats(result.rtts[0])
    assert stats.received == 20, result
    assert stats.min is not None and stats.max is not None and stats.avg is not None
    assert 0 < stats.min <= stats.avg <= stats.max < 0.05  # a veth round trip: microseconds


async def test_injected_loss_is_measured(lab: Lab) -> None:
    lossy, _ = lab.veth_host()
    clean, _ = lab.veth_host()
    lab.nft(lossy.ns, """
table inet loss {
  chain input {
    type filter hook input priority 0; policy accept;
    ip protocol icmp icmp type echo-request numgen random mod 10 < 2 drop
  }
}
""")
    n, p = 400, 0.2
    async with IcmpEngine() as engine:
        result = await engine.burst([lossy.address, clean.address], count=n, period=0.002, timeout=0.3)
    lossy_stats, clean_stats = ping_stats(result.rtts[0]), ping_stats(result.rtts[1])
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs(lossy_stats.loss_ratio - p) <= 4 * sigma, lossy_stats
    assert clean_stats.loss_ratio == 0.0, "loss must be attributed to the target that lost packets"


async def test_missing_host_is_total_loss_not_an_error(lab: Lab) -> None:
    host, link = lab.veth_host()
    missing = str(link.subnet.network_address + 99)  # on the link, nobody answers ARP for it
    state = IcmpState()
    targets = [("onu", ProbeTarget(name="present", address=host.address)),
               ("cpe", ProbeTarget(name="absent", address=missing))]
    async with IcmpEngine() as engine:
        burst = await engine.burst([host.address, missing], count=5, period=0.05, timeout=0.3)
    results = account(state, targets, burst)
    by_target = {r.target.name: r for r in results}
    assert by_target["absent"].stats.loss_ratio == 1.0
    assert by_target["present"].stats.loss_ratio == 0.0
    fams = {f.name: f for f in icmp_families(results)}
    rtt_targets = {s.labels["target"] for s in fams["ftthnoc_probe_icmp_rtt_seconds"].samples}
    assert rtt_targets == {"present"}
    loss = {s.labels["target"]: s.value for s in fams["ftthnoc_probe_icmp_loss_ratio"].samples}
    assert loss == {"present": 0.0, "absent": 1.0}


async def test_delayed_responder_rtt_and_histogram(lab: Lab) -> None:
    host, _ = lab.veth_host()
    lab.sysctl(host.ns, "net.ipv4.icmp_echo_ignore_all=1")
    lab.python(host.ns, DELAYED_RESPONDER, "25")
    state = IcmpState(buckets=(0.005, 0.02, 0.05, 0.1))
    target = ProbeTarget(name="slow", address=host.address)
    async with IcmpEngine() as engine:
        burst = await engine.burst([host.address], count=20, period=0.005, timeout=0.5)
    [result] = account(state, [("school", target)], burst)
    s = result.stats
    assert s.received == 20
    assert s.min is not None and s.max is not None
    # never before the responder's 25 ms; after it by little, and by more on a loaded machine (73 ms at load 15)
    assert s.min >= 0.025 and s.max < 0.025 + scaled(0.025), s
    fams = {f.name: f for f in icmp_families([result])}
    buckets = {x.labels["le"]: x.value for x in fams["ftthnoc_probe_icmp_response_duration_seconds"].samples
               if x.name.endswith("_bucket")}
    rtts = [r for r in burst.rtts[0] if r is not None]
    assert buckets == {le: float(sum(r <= float(le) for r in rtts)) for le in ("0.005", "0.02", "0.05", "0.1")} | {
        "+Inf": 20.0}
    assert buckets["0.02"] == 0.0 and buckets["0.05"] >= 1.0  # the 25 ms delay falls between the two


async def test_jitter_of_alternating_delays(lab: Lab) -> None:
    host, _ = lab.veth_host()
    lab.sysctl(host.ns, "net.ipv4.icmp_echo_ignore_all=1")
    lab.python(host.ns, DELAYED_RESPONDER, "10,30")
    async with IcmpEngine() as engine:
        burst = await engine.burst([host.address], count=48, period=0.01, timeout=0.5)
    rtts = burst.rtts[0]
    assert all(r is not None for r in rtts)
    j = Jitter()
    j.update(rtts)
    ideal = 0.020 * (1 - (15 / 16) ** 47)  # |D| = 20 ms between every consecutive pair
    assert ideal - 0.005 < j.value < ideal + 0.005, (j.value, ideal)
