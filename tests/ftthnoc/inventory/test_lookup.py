"""The poller's views: ONU -> district labels, the list of SNMP targets and the packet probes' targets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.inventory.lookup import olt_districts, olt_targets, onu_districts, probe_targets


def test_onu_districts_prefer_the_home_over_the_olt(engine: Engine, sample: dict[str, Any]) -> None:
    with db.session_scope(engine) as session:
        import_document(session, sample)
    with db.session_scope(engine) as session:
        districts = onu_districts(session)
    assert districts == {
        ("olt-chiyoda-1", "0/1/0", 0): "chiyoda",
        ("olt-chiyoda-1", "0/1/0", 1): "chiyoda",
        # HH-000003 lives in Oasa although its OLT stands in Chiyoda.
        ("olt-chiyoda-1", "0/1/1", 0): "oasa",
        # No household yet: the OLT's district.
        ("olt-oasa-1", "1/1/1", 1): "oasa",
    }


def test_onu_districts_of_an_empty_inventory(engine: Engine) -> None:
    with db.session(engine) as session:
        assert onu_districts(session) == {}
        assert olt_districts(session) == {}


def test_olt_districts(engine: Engine, sample: dict[str, Any]) -> None:
    with db.session_scope(engine) as session:
        import_document(session, sample)
    with db.session(engine) as session:
        assert olt_districts(session) == {"olt-chiyoda-1": "chiyoda", "olt-oasa-1": "oasa"}


def test_olt_targets_are_plain_dicts_for_every_device(engine: Engine, sample: dict[str, Any]) -> None:
    with db.session_scope(engine) as session:
        import_document(session, sample)
    with db.session_scope(engine) as session:
        targets = olt_targets(session)
    assert [(t["kind"], t["name"]) for t in targets] == [
        ("olt", "olt-chiyoda-1"),
        ("olt", "olt-oasa-1"),
        ("bwa", "bwa-geihoku-1"),
        ("vpn", "vpn-townhall"),
    ]
    assert targets[0] == {
        "kind": "olt",
        "name": "olt-chiyoda-1",
        "address": "10.0.0.1:161",
        "modules": ["if_mib", "huawei_gpon"],
        "auth": "olt_v3",
        "pon_class": "B+",
        "vendor": "huawei",
        "district": "chiyoda",
    }
    assert targets[1]["pon_class"] == "C+" and targets[1]["vendor"] == "zte"
    assert targets[2]["pon_class"] is None and targets[2]["district"] == "oasa"
    assert targets[3]["vendor"] == "cisco_asa" and targets[3]["modules"] == ["if_mib", "cisco_ra"]
    assert all(type(t) is dict for t in targets)


def test_probe_targets_by_kind(engine: Engine, sample: dict[str, Any]) -> None:
    with db.session_scope(engine) as session:
        import_document(session, sample)
    with db.session(engine) as session:
        targets = probe_targets(session)
    assert list(targets) == ["onu", "school", "gateway", "bwa", "olt"]
    assert targets["onu"] == [
        {
            "name": "olt-chiyoda-1/0/1/0/0",
            "address": "192.0.2.10",
            "district": "chiyoda",
            "labels": {"olt": "olt-chiyoda-1", "pon_port": "0/1/0", "onu_id": "0"},
            "ports": [],
        },
        # HWTC-A1B2C3D5 has no management address: not probed.
        {
            "name": "olt-chiyoda-1/0/1/1/0",
            "address": "192.0.2.12",
            "district": "oasa",  # the household's district, not the OLT's
            "labels": {"olt": "olt-chiyoda-1", "pon_port": "0/1/1", "onu_id": "0"},
            "ports": [],
        },
        {
            "name": "olt-oasa-1/1/1/1/1",
            "address": "192.0.2.13",
            "district": "oasa",  # no household yet: the OLT's
            "labels": {"olt": "olt-oasa-1", "pon_port": "1/1/1", "onu_id": "1"},
            "ports": [],
        },
    ]
    # oasa-es has no address: not probed.
    assert targets["school"] == [
        {"name": "chiyoda-es", "address": "192.0.2.20", "district": "chiyoda", "labels": {}, "ports": []}
    ]
    assert targets["gateway"] == [
        {"name": "vpn-townhall", "address": "10.0.3.1", "district": None, "labels": {}, "ports": [443]}
    ]
    assert targets["bwa"] == [
        {"name": "bwa-geihoku-1", "address": "10.0.2.1", "district": "oasa", "labels": {}, "ports": []}
    ]
    assert [(t["name"], t["address"], t["district"]) for t in targets["olt"]] == [
        ("olt-chiyoda-1", "10.0.0.1", "chiyoda"),
        ("olt-oasa-1", "10.0.1.1", "oasa"),
    ]
    assert all(type(t) is dict for ts in targets.values() for t in ts)


def test_probe_targets_of_an_empty_inventory(engine: Engine) -> None:
    with db.session(engine) as session:
        assert probe_targets(session) == {"onu": [], "school": [], "gateway": [], "bwa": [], "olt": []}


def test_probe_targets_pass_hosts_as_written(engine: Engine, sample: dict[str, Any]) -> None:
    """Names and IPv6 hosts are handed on, for the probes' configuration to refuse by name."""
    sample["vpn_gateways"][0]["address"] = "vpn.town.example:161"
    sample["bwa_stations"][0]["address"] = "[2001:db8::7]:161"
    with db.session_scope(engine) as session:
        import_document(session, sample)
    with db.session(engine) as session:
        targets = probe_targets(session)
    assert targets["gateway"][0]["address"] == "vpn.town.example"
    assert targets["bwa"][0]["address"] == "2001:db8::7"


def test_probe_targets_feed_the_probes_configuration(engine: Engine, sample: dict[str, Any]) -> None:
    """The contract with collectors.probes: what the inventory gives, ProbeConfig.with_targets takes."""
    from collectors.probes.config import ProbeConfig

    with db.session_scope(engine) as session:
        import_document(session, sample)
    with db.session(engine) as session:
        targets = probe_targets(session)
    config = ProbeConfig(from_inventory=["onu", "school", "gateway", "bwa", "olt"]).with_targets(targets)
    assert {kind: len(ts) for kind, ts in config.targets.items()} == {
        "onu": 3, "school": 1, "gateway": 1, "bwa": 1, "olt": 2,
    }  # fmt: skip
    assert [(t.address, p) for _, t, p in config.tcp_targets()] == [("10.0.3.1", 443)]
    assert len(config.icmp_targets()) == 8
