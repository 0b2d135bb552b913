"""Fixtures: a migrated inventory (SQLite always, PostgreSQL when FTTHNOC_TEST_POSTGRES_URL is set) with a
small synthetic network, and an engine factory on it.

The database fixtures are the inventory tests' own (imported, so the backends and clean-up are shared).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ftthnoc.events import DeviceEvent, DownCause
from ftthnoc.incidents.engine import IncidentConfig, IncidentEngine
from ftthnoc.incidents.households import InventoryHouseholds
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from tests.ftthnoc.inventory.conftest import database_url, engine, make_database  # noqa: F401

T0 = datetime(2026, 8, 10, 1, 0, tzinfo=UTC)  # 10:00 JST, 2026Q3

#: olt -> port -> (district of its homes, ONUs). Port 0/1/0 of olt-a has 8 ONUs, 0/1/1 has 10.
LAYOUT: dict[str, dict[str, tuple[str, int]]] = {
    "olt-a": {"0/1/0": ("chiyoda", 8), "0/1/1": ("chiyoda", 10), "0/1/2": ("chiyoda", 3)},
    "olt-b": {"1/1/1": ("oasa", 6), "1/1/2": ("oasa", 6), "1/1/3": ("toyohira", 4)},
}
OLT_DISTRICT = {"olt-a": "chiyoda", "olt-b": "oasa"}


def household(olt: str, port: str, onu: int) -> str:
    """``HH-`` + OLT number, slot, port (two digits), ONU (two digits): ``HH-110003``."""
    _frame, slot, number = (int(x) for x in port.split("/"))
    return f"HH-{'ab'.index(olt[-1]) + 1}{slot}{number:02d}{onu:02d}"


def network_document() -> dict[str, Any]:
    """Districts, two OLTs, their ports and ONUs, one household per ONU (plus one ONU without a home)."""
    doc: dict[str, list[dict[str, Any]]] = {
        "districts": [
            {"code": c, "name": c.title(), "households": 1000} for c in ("chiyoda", "oasa", "toyohira")
        ],
        "olts": [],
        "pon_ports": [],
        "households": [],
        "onus": [],
    }
    for n, (olt, ports) in enumerate(LAYOUT.items()):
        doc["olts"].append({
            "name": olt, "district": OLT_DISTRICT[olt], "vendor": "huawei" if olt == "olt-a" else "zte",
            "model": "MA5800-X17" if olt == "olt-a" else "C300", "address": f"10.0.0.{n + 1}:161",
            "pon_class": "B+", "auth": "public_v2", "modules": ["if_mib"],
        })  # fmt: skip
        for port, (district, count) in ports.items():
            doc["pon_ports"].append({"olt": olt, "port": port})
            for onu in range(count):
                code = household(olt, port, onu)
                doc["households"].append({"code": code, "district": district, "plan": "1G", "status": "active"})
                serial = f"{'HWTC' if olt == 'olt-a' else 'ZTEG'}{n:02X}{int(port[-1]):02X}{onu:04X}"
                doc["onus"].append({"serial": serial, "olt": olt, "pon_port": port, "onu_id": onu,
                                    "household": code})  # fmt: skip
    # a spare ONU on 0/1/1 without a subscriber: counted on the port, never as a household
    doc["onus"].append({"serial": "HWTC0F0F0F0F", "olt": "olt-a", "pon_port": "0/1/1", "onu_id": 10,
                        "household": None})  # fmt: skip
    return doc


@pytest.fixture
def network(engine: Engine) -> Engine:  # noqa: F811 - the imported fixture, extended
    """The engine of a migrated database holding ``network_document()``."""
    with db.session_scope(engine) as session:
        import_document(session, network_document())
    return engine


MakeIncidentEngine = Callable[..., IncidentEngine]


@pytest.fixture
def make_engine(network: Engine) -> MakeIncidentEngine:
    """``make_engine(**config)``: a new IncidentEngine on the network's database (a "restart" each call)."""
    factory: Callable[[], Session] = db.session_factory(network)

    def make(**config: Any) -> IncidentEngine:
        lookup = InventoryHouseholds.from_sessions(factory)
        return IncidentEngine(factory, IncidentConfig(**config), lookup)

    return make


def down(at: datetime, olt: str, port: str, onu: int, cause: DownCause | None = "los", **detail: str) -> DeviceEvent:
    return DeviceEvent(at, olt, "onu_down", olt, port, str(onu), cause, detail=dict(detail))


def up(at: datetime, olt: str, port: str, onu: int) -> DeviceEvent:
    return DeviceEvent(at, olt, "onu_up", olt, port, str(onu))
