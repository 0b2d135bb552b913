"""The probes' configuration model: what it accepts, and what it refuses with a reason."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from collectors.probes.config import ProbeConfig
from ftthnoc.errors import ConfigError

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


# --------------------------------------------------------------------------------------------------
# Targets from the inventory: plain dicts by kind, as ftthnoc.inventory.lookup.probe_targets gives them

INVENTORY: dict[str, list[dict[str, object]]] = {
    "onu": [
        {"name": "chiyoda-olt1/0/1/0/3", "address": "192.0.2.3", "district": "chiyoda",
         "labels": {"olt": "chiyoda-olt1", "pon_port": "0/1/0", "onu_id": "3"}, "ports": []},
        {"name": "chiyoda-olt1/0/1/0/4", "address": "192.0.2.4", "district": "chiyoda",
         "labels": {"olt": "chiyoda-olt1", "pon_port": "0/1/0", "onu_id": "4"}, "ports": []},
    ],
    "school": [{"name": "chiyoda-es", "address": "192.0.2.20", "district": "chiyoda", "labels": {}, "ports": []}],
    "gateway": [{"name": "telework-vpn", "address": "192.0.2.1", "district": None, "labels": {}, "ports": [443]}],
    "olt": [{"name": "chiyoda-olt1", "address": "192.0.2.254", "district": "chiyoda", "labels": {}, "ports": []}],
}


def test_from_inventory_defaults_to_nothing() -> None:
    cfg = ProbeConfig.model_validate(yaml.safe_load(EXAMPLE))
    assert cfg.from_inventory == []
    assert cfg.with_targets(INVENTORY).targets == cfg.targets


def test_inventory_targets_of_the_chosen_kinds_are_added() -> None:
    cfg = ProbeConfig.model_validate({"from_inventory": ["onu", "school"]})
    merged = cfg.with_targets(INVENTORY)
    assert {kind: [t.name for t in ts] for kind, ts in merged.targets.items()} == {
        "onu": ["chiyoda-olt1/0/1/0/3", "chiyoda-olt1/0/1/0/4"],
        "school": ["chiyoda-es"],
    }  # gateway and olt were offered but not chosen
    assert merged.targets["onu"][0].labels == {"olt": "chiyoda-olt1", "pon_port": "0/1/0", "onu_id": "3"}
    assert merged.targets["onu"][0].district == "chiyoda"
    assert cfg.targets == {}  # the original is left as it was
    assert ProbeConfig(from_inventory=["bwa"]).with_targets(INVENTORY).targets == {"bwa": []}


def test_configured_targets_win_on_a_name_clash() -> None:
    cfg = ProbeConfig.model_validate(yaml.safe_load(EXAMPLE) | {"from_inventory": ["onu", "gateway", "olt"]})
    merged = cfg.with_targets(INVENTORY)
    onus = {t.name: t for t in merged.targets["onu"]}
    assert list(onus) == ["chiyoda-olt1/0/1/0/3", "chiyoda-olt1/0/1/0/4"]  # configured first, then the rest
    assert onus["chiyoda-olt1/0/1/0/3"].address == "10.20.100.3"  # the configuration's, whole
    assert onus["chiyoda-olt1/0/1/0/3"].labels == {"olt": "chiyoda-olt1"}
    gateways = {t.name: t for t in merged.targets["gateway"]}
    assert list(gateways) == ["telework-vpn", "core-router"]
    assert gateways["telework-vpn"].ports == [443, 22] and gateways["telework-vpn"].address == "10.20.0.1"
    assert [t.name for t in merged.targets["olt"]] == ["chiyoda-olt1"]
    assert merged.from_inventory == ["onu", "gateway", "olt"]
    assert merged.arp.tablets == cfg.arp.tablets and merged.icmp == cfg.icmp


def test_unknown_inventory_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="from_inventory"):
        ProbeConfig.model_validate({"from_inventory": ["cpe"]})


@pytest.mark.parametrize(("kind", "record", "message"), [
    ("gateway", {"name": "vpn-townhall", "address": "vpn.town.example", "ports": [443]},
     "probes.from_inventory: gateway target 'vpn-townhall' from the inventory: "
     "address: 'vpn.town.example' is not an IPv4 address"),
    ("bwa", {"name": "bwa-geihoku-1", "address": "2001:db8::7"},
     "bwa target 'bwa-geihoku-1' from the inventory: address: '2001:db8::7' is not an IPv4 address"),
    ("onu", {"name": "x", "address": "192.0.2.9", "labels": {"household": "HH-000123"}},
     "onu target 'x' from the inventory: labels: label 'household' would carry personal data"),
    ("onu", {"name": "x", "address": "192.0.2.9", "serial": "HWTC-A1B2C3D4"},
     "onu target 'x' from the inventory: serial: Extra inputs are not permitted"),
])
def test_a_bad_inventory_target_is_a_config_error_naming_it(kind: str, record: dict[str, object],
                                                           message: str) -> None:
    cfg = ProbeConfig.model_validate({"from_inventory": [kind]})
    with pytest.raises(ConfigError) as caught:
        cfg.with_targets({kind: [record]})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_twice_the_same_name_from_the_inventory_is_refused() -> None:
    twice = {"onu": [INVENTORY["onu"][0], {**INVENTORY["onu"][0], "address": "192.0.2.99"}]}
    with pytest.raises(ConfigError, match=r"probes.from_inventory: target names must be unique within kind 'onu'"):
        ProbeConfig(from_inventory=["onu"]).with_targets(twice)
