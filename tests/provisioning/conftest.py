"""The simulated town with SSH OLTs, its SNMP agents and an inventory, shared by the provisioning tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from ftthnoc.config import Config
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.inventory.models import AuditEntry, Enrolment, Household, Onu
from provisioning.enrol import Provisioner
from simulator.agents import TownAgents
from simulator.cli.olt_state import OltState, PluggedOnu
from simulator.cli.town import TownCli, provisioning_section
from simulator.town import Town, generate_town
from tests.towns import require_snmpsim
from tests.waiting import scaled

_serials = itertools.count(0x5EED0000)
_homes = itertools.count(900001)


@dataclass
class Env:
    town: Town
    agents: TownAgents
    cli: TownCli
    engine: Engine
    config: Config
    url: str

    def provisioner(self, **settings: Any) -> Provisioner:
        raw = self.config.model_dump(mode="python")
        raw["auths"] = {k: v for k, v in self.config.auths.items()}
        raw["provisioning"] = {**(self.config.provisioning or {}), **settings}
        return Provisioner(self.engine, Config.model_validate(raw), actor="support-test")

    def olt(self, vendor: str = "huawei") -> str:
        return next(o.name for o in self.town.olts if o.vendor == vendor)

    def state(self, olt: str) -> OltState:
        return self.cli.olt_states[olt]

    def install(self, olt: str, port: str | None = None, rx: float = -20.5) -> tuple[str, str, str]:
        """A new household in the OLT's district, installed, with an ONU plugged into ``port``."""
        model = next(o for o in self.town.olts if o.name == olt)
        port = port or model.pon_ports[3].name
        code = f"HH-{next(_homes):06d}"
        with db.session_scope(self.engine) as s:
            import_document(s, {"households": [
                {"code": code, "district": model.district, "plan": "home-1g", "status": "installed"}]})
        prefix = "HWTC" if model.vendor == "huawei" else "ZTEG"
        serial = f"{prefix}-{next(_serials):08X}"
        self.cli.plug(olt, PluggedOnu(port, serial, rx_dbm=rx, olt_rx_dbm=rx - 2))
        return code, serial, port

    def config_dict(self) -> dict[str, Any]:
        """The configuration as a file would hold it (secrets in clear: demo credentials only)."""
        raw = self.config.model_dump(mode="json")
        raw["auths"] = {name: {**auth.model_dump(mode="json"), "community": auth.community.get_secret_value(),
                               "password": auth.password.get_secret_value(),
                               "priv_password": auth.priv_password.get_secret_value()}
                        for name, auth in self.config.auths.items()}
        return raw

    def status(self, code: str) -> str:
        with db.session_scope(self.engine) as s:
            return str(s.scalar(select(Household.status).where(Household.code == code)))

    def onu_row(self, serial: str) -> Onu | None:
        with db.session_scope(self.engine) as s:
            onu = s.scalar(select(Onu).where(Onu.serial == serial))
            if onu is not None:
                s.expunge(onu)
            return onu

    def runs(self, code: str) -> list[Enrolment]:
        with db.session_scope(self.engine) as s:
            rows = list(s.scalars(select(Enrolment).join(Household).where(Household.code == code)
                                  .order_by(Enrolment.id)))
            for r in rows:
                s.expunge(r)
            return rows

    def audit(self, code: str) -> list[AuditEntry]:
        with db.session_scope(self.engine) as s:
            rows = list(s.scalars(select(AuditEntry).where(AuditEntry.entity == f"household:{code}")
                                  .order_by(AuditEntry.id)))
            for r in rows:
                s.expunge(r)
            return rows


@pytest.fixture(scope="package")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    require_snmpsim()
    town = generate_town(seed=11, onus=300, schools=1)
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('provisioning')) / 'inventory.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    with TownAgents(town) as agents, TownCli(agents, schools=False, publish_delay=0.2) as cli:
        with db.session_scope(engine) as s:
            import_document(s, cli.town().inventory_document())
        # an enrolment's check waits for the OLT's agent to serve the new ONU: a restart of that agent, slower
        # on a loaded machine (a redo once waited out 60 s beside three other test workers)
        config = Config.model_validate({**agents.poller_config(), "provisioning": provisioning_section(
            verify_timeout=scaled(60), verify_interval=0.5)})
        yield Env(agents.town, agents, cli, engine, config, url)
    engine.dispose()


@pytest.fixture
def clean_faults(env: Env) -> Iterator[None]:
    yield
    for server in env.cli.servers.values():
        server.faults.clear()


