"""The poller's views: ONU -> district labels and the list of SNMP targets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.inventory.lookup import olt_districts, olt_targets, onu_districts


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
