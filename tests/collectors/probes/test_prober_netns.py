"""The runner's entry point: a full probe cycle from configuration to families, and failures as data."""

from __future__ import annotations

import asyncio

import pytest

from collectors.probes import engine as engine_mod
from collectors.probes import tcp as tcp_mod
from collectors.probes.config import ProbeConfig
from collectors.probes.engine import ProbeError
from collectors.probes.prober import Prober
from ftthnoc.samples import MetricFamily
from tests.collectors.probes.netns import LISTENER, Lab
from tests.waiting import scaled

pytestmark = pytest.mark.asyncio


def values(fams: list[MetricFamily], name: str, *keys: str) -> dict[tuple[str, ...], float]:
    fam = next(f for f in fams if f.name == name)
    return {tuple(s.labels.get(k, "") for k in keys): s.value for s in fam.samples}


async def test_cycle_from_configuration(lab: Lab) -> None:
    host, link = lab.veth_host()
    lab.python(host.ns, LISTENER, host.address, "443")
    missing = str(link.subnet.network_address + 99)
    # on a loaded machine the veths' softirqs wait for a core too: a reply's time grows with the load
    timeout = round(scaled(0.3), 2)
    config = ProbeConfig.model_validate({
        "cycle_seconds": timeout + 0.5,
        "targets": {
            "onu": [{"name": "chiyoda-onu-1", "address": host.address, "district": "Chiyoda"}],
            "gateway": [{"name": "vpn-gw", "address": host.address, "ports": [443, 444]}],
            "cpe": [{"name": "gone", "address": missing}],
        },
        "icmp": {"packets": 10, "timeout_seconds": timeout},
        "tcp": {"timeout_seconds": timeout, "attempts": 2},
    })
    prober = Prober(config)
    await prober.cycle()
    fams = await prober.cycle()

    req = values(fams, "ftthnoc_probe_icmp_requests_total", "target", "kind", "district")
    assert req == {("chiyoda-onu-1", "onu", "Chiyoda"): 20.0, ("vpn-gw", "gateway", ""): 20.0,
                   ("gone", "cpe", ""): 20.0}
    resp = values(fams, "ftthnoc_probe_icmp_responses_total", "target")
    assert resp == {("chiyoda-onu-1",): 20.0, ("vpn-gw",): 20.0, ("gone",): 0.0}
    hist = next(f for f in fams if f.name == "ftthnoc_probe_icmp_response_duration_seconds")
    assert hist.type == "histogram"
    inf = {s.labels["target"]: s.value for s in hist.samples if s.labels.get("le") == "+Inf"}
    assert inf == {"chiyoda-onu-1": 20.0, "vpn-gw": 20.0, "gone": 0.0}
    loss = values(fams, "ftthnoc_probe_icmp_loss_ratio", "target")
    assert loss == {("chiyoda-onu-1",): 0.0, ("vpn-gw",): 0.0, ("gone",): 1.0}
    assert {k[0] for k in values(fams, "ftthnoc_probe_icmp_rtt_seconds", "target", "stat")} == {"chiyoda-onu-1",
                                                                                                 "vpn-gw"}
    up = values(fams, "ftthnoc_probe_tcp_up", "target", "port", "kind")
    assert up == {("vpn-gw", "443", "gateway"): 1.0, ("vpn-gw", "444", "gateway"): 0.0}
    ok = values(fams, "ftthnoc_probe_success", "probe")
    assert ok == {("icmp",): 1.0, ("tcp",): 1.0, ("arp",): 1.0}


async def test_run_publishes_each_probe(lab: Lab) -> None:
    host, _ = lab.veth_host()
    config = ProbeConfig.model_validate({
        "cycle_seconds": 0.3,
        "targets": {"onu": [{"name": "o", "address": host.address}]},
        "icmp": {"packets": 3, "timeout_seconds": 0.1},
        "arp": {"cycle_seconds": 0.3},
    })
    published: list[tuple[str, str, list[MetricFamily]]] = []
    await Prober(config).run(asyncio.Event(), lambda s, p, f: published.append((s, p, f)), cycles=2)
    assert sorted(p for _, p, _ in published) == ["arp", "arp", "icmp", "icmp", "tcp", "tcp"]
    last_icmp = [f for s, p, f in published if p == "icmp"][-1]
    assert values(last_icmp, "ftthnoc_probe_icmp_requests_total", "target") == {("o",): 6.0}


async def test_no_raw_socket_is_data_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(proto: int) -> object:
        raise ProbeError("raw sockets are not permitted here (Operation not permitted; needs root or CAP_NET_RAW)")

    monkeypatch.setattr(engine_mod, "open_raw", refuse)
    monkeypatch.setattr(tcp_mod, "open_raw", refuse)
    config = ProbeConfig.model_validate({
        "cycle_seconds": 1,
        "targets": {"gateway": [{"name": "gw", "address": "127.0.0.1", "ports": [1]}]},
        "icmp": {"timeout_seconds": 0.1},
    })
    fams = await Prober(config).cycle()
    assert values(fams, "ftthnoc_probe_success", "probe") == {("icmp",): 0.0, ("tcp",): 0.0, ("arp",): 1.0}
    assert not any(f.name.startswith("ftthnoc_probe_icmp") for f in fams)
