"""The probes' configuration model: what it accepts, and what it refuses with a reason."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from collectors.probes.config import ProbeConfig

EXAMPLE = """
cycle_seconds: 60
targets:
  onu:
    - {name: chiyoda-olt1/0/1/0/3, address: 10.20.100.3, district: Chiyoda, labels: {olt: chiyoda-olt1}}
  gateway:
    - {name: telework-vpn, address: 10.20.0.1, ports: [443, 22]}
    - {name: core-router, address: 10.20.0.254, icmp: false, ports: [179]}
icmp: {packets: 20, timeout_seconds: 1.0}
tcp: {timeout_seconds: 2, attempts: 2}
arp:
  cycle_seconds: 300
  subnets:
    - {school: ES-CHIYODA, subnet: 10.30.1.0/24, interface: vlan301, infrastructure_macs: ["00:1A:2B:3C:4D:5E"]}
  tablets:
    - {school: ES-CHIYODA, asset_no: T-000123, mac: 001A.2B3C.4D60}
"""


def test_example_parses() -> None:
    cfg = ProbeConfig.model_validate(yaml.safe_load(EXAMPLE))
    assert [(k, t.name) for k, t in cfg.icmp_targets()] == [("onu", "chiyoda-olt1/0/1/0/3"),
                                                            ("gateway", "telework-vpn")]
    assert [(t.name, p) for _, t, p in cfg.tcp_targets()] == [("telework-vpn", 443), ("telework-vpn", 22),
                                                              ("core-router", 179)]
    assert cfg.arp.tablets[0].mac == "00:1a:2b:3c:4d:60"
    assert cfg.arp.subnets[0].infrastructure_macs == ("00:1a:2b:3c:4d:5e",)
    assert ProbeConfig().targets == {}


@pytest.mark.parametrize(("patch", "message"), [
    ({"targets": {"onu": [{"name": "a", "address": "10.0.0.1", "labels": {"phone": "x"}}]}}, "personal"),
    ({"targets": {"onu": [{"name": "a", "address": "10.0.0.1", "labels": {"target": "x"}}]}}, "set by the probe"),
    ({"targets": {"onu": [{"name": "a", "address": "10.0.0.1"}, {"name": "a", "address": "10.0.0.2"}]}}, "unique"),
    ({"targets": {"on u": []}}, "plain word"),
    ({"targets": {"onu": [{"name": "a", "address": "example.org"}]}}, "IPv4"),
    ({"targets": {"gw": [{"name": "a", "address": "10.0.0.1", "ports": [70000]}]}}, "65535"),
    ({"icmp": {"buckets": [0.01, 0.001]}}, "increasing"),
    ({"icmp": {"timeout_seconds": 5}, "cycle_seconds": 5}, "shorter"),
    ({"arp": {"tablets": [{"school": "s", "asset_no": "1", "mac": "nope"}]}}, "MAC"),
    ({"arp": {"tablets": [{"school": "s", "asset_no": "1", "mac": "02:00:00:00:00:01"},
                          {"school": "s", "asset_no": "2", "mac": "0200.0000.0001"}]}}, "twice"),
    ({"arp": {"subnets": [{"school": "s", "subnet": "10.0.0.0/16", "interface": "eth1"}]}}, "/20"),
    ({"bogus": 1}, "Extra inputs"),
])
def test_refusals(patch: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ProbeConfig.model_validate(patch)
