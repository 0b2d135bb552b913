"""The prober is handed every tablet of the inventory under each of its MACs: the registered one and the
Wi-Fi MAC an MDM reported (``Tablet.network_mac``), so an ARP sweep finds a tablet under its private address."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.wiring import _prober
from ftthnoc.config import Config
from ftthnoc.inventory import db
from ftthnoc.inventory.models import Tablet
from tests.ftthnoc.kpi.conftest import inventory


def test_the_prober_knows_a_tablet_by_its_learned_wifi_mac_too(tmp_path: Path) -> None:
    engine = inventory(tmp_path, {
        "districts": [{"code": "chiyoda", "name": "千代田", "households": 8}],
        "schools": [{"code": "es-1", "name": "一小", "district": "chiyoda", "pupils": 5}],
        "tablets": [{"school": "es-1", "asset_no": f"T-00{n}", "serial": f"S{n}", "mac": f"f0:99:b6:00:00:0{n}",
                     "os": "iPadOS", "grade": 1, "class_name": "1-1"} for n in (1, 2)],
    })  # fmt: skip
    with db.session_scope(engine) as s:
        s.scalars(select(Tablet).where(Tablet.asset_no == "T-001")).one().network_mac = "3a:1b:2c:3d:4e:01"
    prober = _prober(Config.model_validate({"probes": {"icmp": {"packets": 1}}}), engine)
    assert prober is not None
    assert sorted((t.asset_no, t.mac) for t in prober.tablets) == [
        ("T-001", "3a:1b:2c:3d:4e:01"), ("T-001", "f0:99:b6:00:00:01"), ("T-002", "f0:99:b6:00:00:02")]
    engine.dispose()
