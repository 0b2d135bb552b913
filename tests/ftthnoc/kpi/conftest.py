"""A simulated town whose school routers answer SNMP (only theirs: the other devices have their own
tests), and its inventory, shared by the KPI tests that poll real agents."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.kpi.recorder import KpiRecorder
from simulator.agents import TownAgents
from simulator.town import Town, generate_town
from tests.towns import running


@pytest.fixture(scope="package")
def router_town() -> Town:
    return generate_town(seed=3, onus=100, schools=2, school_routers=True)


@pytest.fixture(scope="package")
def router_agents(router_town: Town) -> Iterator[TownAgents]:
    routers_only = dataclasses.replace(router_town, olts=(), bwa_stations=(), vpn_gateways=())
    with running(routers_only) as agents:
        yield agents


def inventory(directory: Path, document: dict[str, Any]) -> Engine:
    """A migrated SQLite inventory holding ``document``."""
    url = f"sqlite:///{directory / 'inventory.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        import_document(s, document)
    return engine


def town_inventory(town: Town, directory: Path) -> Engine:
    return inventory(directory, town.inventory_document())


async def poll_routers(agents: TownAgents, recorder: KpiRecorder, interval: float, now: datetime | None = None) -> None:
    """Poll every router once through the real poller, feeding the recorder (at ``now`` when given)."""
    from collectors.runner import Poller
    from ftthnoc.config import Config

    config = Config.model_validate(agents.poller_config(interval_seconds=interval))
    poller = Poller(config, lambda target, _module, fams: recorder.record_poll(target, fams, now=now))
    try:
        for target in config.targets:
            await poller.poll_target(target)
    finally:
        poller.client.close()
