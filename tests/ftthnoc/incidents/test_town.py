"""Incidents on the simulated town: real snmpsim agents, real polls, faults injected while it runs.

The town here is this module's own (faults rewrite its agents' data), 300 ONUs on five OLTs; each
test restores every fault it made. The database is SQLite, and PostgreSQL when configured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.module import get_module
from collectors.snmp.poll import poll_device
from ftthnoc.config import Config
from ftthnoc.incidents.classify import read_onus
from ftthnoc.incidents.engine import IncidentChange, IncidentConfig, IncidentEngine
from ftthnoc.incidents.households import InventoryHouseholds
from ftthnoc.incidents.models import Incident
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.samples import MetricFamily
from simulator.agents import TownAgents
from simulator.faults import applied_faults, current_olt, cut_pon_port, cut_splitter, power_cut, restore
from simulator.topology import port_splitters
from simulator.town import Olt, PonPort, generate_town
from tests.ftthnoc.inventory.conftest import MakeDatabase
from tests.towns import running

T0 = datetime(2026, 8, 10, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def town_agents() -> Iterator[TownAgents]:
    with running(generate_town(seed=2026, onus=300)) as agents:
        yield agents


@pytest.fixture
def agents(town_agents: TownAgents) -> Iterator[TownAgents]:
    """The module's town, with every fault a test left behind repaired afterwards."""
    yield town_agents
    restore(town_agents)


class TownPoller:
    """Polls every OLT's GPON module as the poller does and feeds the engine, at a replayed time.

    SNMPv2c by default (the project's own codec: a fifth of pysnmp's v3 time); ``v3=True`` keeps each
    OLT's configured auth.
    """

    def __init__(self, agents: TownAgents, *, v3: bool = False) -> None:
        self.config = Config.model_validate(agents.poller_config())
        self.client = SnmpClient()
        self.v3 = v3

    async def poll(self, olt: str) -> list[MetricFamily]:
        target = next(t for t in self.config.targets if t.name == olt)
        device = Device.from_target(target, self.config.auths[target.auth if self.v3 else "public_v2"])
        modules = [get_module(m) for m in target.modules if m.endswith("gpon")]
        results = await poll_device(self.client, device, modules)
        assert all(r.success for r in results), [r.error for r in results]
        return [f for r in results for f in r.families]

    async def feed(self, engine: IncidentEngine, at: datetime) -> list[IncidentChange]:
        names = [t.name for t in self.config.targets]
        polls = await asyncio.gather(*(self.poll(n) for n in names))
        changes: list[IncidentChange] = []
        for name, families in zip(names, polls, strict=True):
            changes += engine.observe_readings(name, families, at)
        return changes


def inventory_engine(agents: TownAgents, make_database: MakeDatabase) -> tuple[Engine, IncidentEngine]:
    url = make_database()
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_scope(engine) as session:
        import_document(session, agents.inventory_document())
    factory = db.session_factory(engine)
    return engine, IncidentEngine(factory, IncidentConfig(), InventoryHouseholds.from_sessions(factory))


def port_to_cut(agents: TownAgents, vendor: str, avoid_district: str) -> tuple[Olt, PonPort]:
    """An intact port with some ONUs already down before the cut (they must stay out of the incident)."""
    candidates = [
        (o, p) for o in agents.town.olts if o.vendor == vendor and o.district != avoid_district
        for p in o.pon_ports
        if not p.feeder_cut and len(p.onus) >= 8 and any(not u.online for u in p.onus)
    ]  # fmt: skip
    return max(candidates, key=lambda op: len(op[1].onus))


def incidents(engine: Engine) -> list[tuple[str, str, str | None, set[str], bool]]:
    with db.session(engine) as session:
        return [
            (i.kind, i.status, i.pon_port, {h.household for h in i.households if h.household}, i.reportable)
            for i in session.scalars(select(Incident).order_by(Incident.id))
        ]


@pytest.mark.parametrize("make_database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)  # fmt: skip
async def test_feeder_cut_and_power_cut_become_one_incident_each(
    agents: TownAgents, make_database: MakeDatabase
) -> None:
    engine, incident_engine = inventory_engine(agents, make_database)
    try:
        poller = TownPoller(agents)
        # the town starts with its own cut port, already cut at the first poll: level-triggered, it opens at
        # once. Its scattered dying gasps went down days apart (the OLTs' own times): no power cut
        [own] = await poller.feed(incident_engine, T0)
        town_olt, town_port = next((o, p) for o in agents.town.olts for p in o.pon_ports if p.feeder_cut)
        assert (own.change, own.kind, own.olt, own.pon_port) == ("opened", "feeder_cut", town_olt.name, town_port.name)
        assert set(own.households) == {u.household for u in town_port.onus if not u.online and u.household}
        town_cut = ("feeder_cut", "open", town_port.name, set(own.households), False)
        olt, port = port_to_cut(agents, "huawei", "oasa")
        before_down = {u.household for u in port.onus if not u.online}
        expected = {u.household for u in port.onus if u.online}
        assert before_down and expected

        cut = cut_pon_port(agents, olt.name, port.name)
        gasp = power_cut(agents, "oasa", 0.3)
        assert cut.households == expected and gasp.olts == ("oasa-olt1",) and len(gasp.before) >= 5
        t1 = T0 + timedelta(minutes=5)
        changes = await poller.feed(incident_engine, t1)
        assert sorted((c.change, c.kind) for c in changes) == [("opened", "feeder_cut"), ("opened", "power_outage")]
        feeder = next(c for c in changes if c.kind == "feeder_cut")
        power = next(c for c in changes if c.kind == "power_outage")
        assert (feeder.olt, feeder.pon_port, feeder.district, feeder.at) == (olt.name, port.name, olt.district, t1)
        assert set(feeder.households) == expected and not set(feeder.households) & before_down
        assert (power.district, set(power.households)) == ("oasa", gasp.households)
        assert incidents(engine) == [
            town_cut,
            ("feeder_cut", "open", port.name, expected, False),
            ("power_outage", "open", None, set(gasp.households), False),
        ]
        fams = {f.name: f for f in incident_engine.families()}
        each = {(s.labels["kind"], s.labels["olt"], s.labels["pon_port"], s.labels["scope"])
                for s in fams["ftthnoc_incident_open"].samples}
        assert each == {("feeder_cut", town_olt.name, town_port.name, "pon_port"),
                        ("feeder_cut", olt.name, port.name, "pon_port"), ("power_outage", "", "", "district")}
        opened = {(s.labels["kind"], s.labels["district"]): s.value for s in fams["ftthnoc_incidents_open"].samples}
        assert opened[("power_outage", "oasa")] == 1
        assert sum(opened.values()) == 3

        # nothing changes while the faults last: no new incident, no growth
        assert await poller.feed(incident_engine, t1 + timedelta(minutes=5)) == []

        restore(agents, gasp)  # power back after 90 minutes: closed, not reportable
        closed = await poller.feed(incident_engine, t1 + timedelta(minutes=90))
        assert [(c.change, c.kind) for c in closed] == [("closed", "power_outage")]
        restore(agents, cut)  # the feeder spliced after 2 h 5 min: closed and reportable
        closed = await poller.feed(incident_engine, t1 + timedelta(minutes=125))
        assert [(c.change, c.pon_port) for c in closed] == [
            ("reportable", town_port.name), ("reportable", port.name), ("closed", port.name)]  # fmt: skip
        assert incidents(engine) == [
            (*town_cut[:-1], True),  # still cut, and reportable too by now
            ("feeder_cut", "closed", port.name, expected, True),
            ("power_outage", "closed", None, set(gasp.households), False),
        ]
        assert [(i.kind, i.pon_port) for i in incident_engine.open_incidents()] == [("feeder_cut", town_port.name)]
    finally:
        engine.dispose()


@pytest.mark.parametrize("make_database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)  # fmt: skip
@pytest.mark.parametrize("vendor", ["huawei", "zte"])
async def test_a_cut_after_the_first_splitter_is_one_splitter_cut(
    agents: TownAgents, make_database: MakeDatabase, vendor: str
) -> None:
    """Two-stage splitting (1:4 then 1:8): the homes of one second-stage splitter dark together are one
    ``splitter_cut`` at that splitter (a quarter of the port: no feeder cut, and not one ticket per home),
    closed when they are back."""
    engine, incident_engine = inventory_engine(agents, make_database)
    try:
        poller = TownPoller(agents)
        first = await poller.feed(incident_engine, T0)
        assert all(c.kind != "splitter_cut" for c in first)  # the town's own faults are no splitter's
        # a big port (the splitter's homes well under half of it) and a splitter with a home already down
        candidates = [
            (o, p, sp) for o in agents.town.olts if o.vendor == vendor for p in o.pon_ports
            if not p.feeder_cut and len(p.onus) >= 24
            for sp in port_splitters(p) if sp.stage == 2
        ]  # fmt: skip

        def online(p: PonPort, ids: tuple[int, ...]) -> list[str]:
            return [u.household for u in p.onus if u.onu_id in ids and u.online]

        olt, port, splitter = max(candidates, key=lambda c: (len(online(c[1], c[2].onu_ids)) < len(c[2].onu_ids),
                                                               len(online(c[1], c[2].onu_ids))))  # fmt: skip
        expected = set(online(port, splitter.onu_ids))
        assert len(expected) >= 2
        cut = cut_splitter(agents, olt.name, port.name, splitter.name)
        assert cut.households == expected
        t1 = T0 + timedelta(minutes=5)
        changes = await poller.feed(incident_engine, t1)
        assert [(c.change, c.kind, c.olt, c.pon_port, c.splitter) for c in changes] == [
            ("opened", "splitter_cut", olt.name, port.name, splitter.name)]
        assert set(changes[0].households) == expected
        snaps = [s for s in incident_engine.open_incidents() if s.pon_port == port.name and s.olt == olt.name]
        assert [(s.kind, s.splitter, s.cabinet) for s in snaps] == [("splitter_cut", splitter.name, splitter.cabinet)]
        fams = {f.name: f for f in incident_engine.families()}
        each = [s.labels for s in fams["ftthnoc_incident_open"].samples if s.labels["kind"] == "splitter_cut"]
        assert each == [{"kind": "splitter_cut", "district": changes[0].district, "olt": olt.name,
                         "pon_port": port.name, "splitter": splitter.name, "scope": "splitter"}]  # fmt: skip
        assert await poller.feed(incident_engine, t1 + timedelta(minutes=5)) == []  # no growth, no second one
        restore(agents, cut)
        closed = await poller.feed(incident_engine, t1 + timedelta(minutes=30))
        assert [(c.change, c.kind, c.splitter) for c in closed] == [("closed", "splitter_cut", splitter.name)]
        with db.session(engine) as session:
            rows = [(i.kind, i.status, i.splitter, i.cabinet) for i in session.scalars(select(Incident))
                    if i.pon_port == port.name and i.olt == olt.name]  # fmt: skip
        assert rows == [("splitter_cut", "closed", splitter.name, splitter.cabinet)]
    finally:
        engine.dispose()


async def test_faults_use_each_vendors_codes(agents: TownAgents) -> None:
    """A ZTE port cut reads as LOS (phase 1) and a Huawei power cut as dying gasp (cause 13) when polled."""
    poller = TownPoller(agents)
    olt, port = port_to_cut(agents, "zte", "toyohira")
    cut = cut_pon_port(agents, olt.name, port.name)
    gasp = power_cut(agents, "toyohira", 0.2, seed=7)
    zte = read_onus(olt.name, await poller.poll(olt.name))
    huawei = read_onus("toyohira-olt1", await poller.poll("toyohira-olt1"))
    assert zte is not None and huawei is not None
    for _olt, p, onu in cut.onus:
        assert (zte[(p, onu)].up, zte[(p, onu)].cause) == (False, "los")
    for _olt, p, onu in gasp.onus:
        assert (huawei[(p, onu)].up, huawei[(p, onu)].cause) == (False, "dying_gasp")
    assert len(applied_faults(agents)) == 2
    assert sorted(restore(agents)) == sorted({olt.name, "toyohira-olt1"})
    back = read_onus(olt.name, await poller.poll(olt.name))
    assert back is not None and all(back[(p, onu)].up for _o, p, onu in cut.onus)
    assert all(back[(p, onu)].label == "los" for _o, p, onu in cut.onus)  # the cut is now the last down cause
    restored = {(u.pon_port, u.onu_id): u for u in current_olt(agents, olt.name).onus()}
    assert all(restored[(u.pon_port, u.onu_id)].online for u in cut.before)


async def test_restart_keeps_the_address_and_leaves_other_agents_alone(agents: TownAgents) -> None:
    """One client across the restart, over SNMPv3: the engine ID stays, as a rebooted OLT's does."""
    name = "chiyoda-olt2"
    poller = TownPoller(agents, v3=True)
    assert poller.config.auths[next(t.auth for t in poller.config.targets if t.name == name)].version == 3
    assert read_onus(name, await poller.poll(name))
    port = agents.agents[name].port
    old = agents.agents[name].process
    others = {n: a.process.pid for n, a in agents.agents.items() if n != name and a.process is not None}
    agents.restart(name)
    assert agents.agents[name].port == port and agents.address(name) == f"127.0.0.1:{port}"
    assert old is not None and old.poll() is not None  # the old process is gone
    new = agents.agents[name].process
    assert new is not None and new.pid != old.pid
    assert {n: a.process.pid for n, a in agents.agents.items() if n != name and a.process is not None} == others
    assert read_onus(name, await poller.poll(name))


def test_fault_arguments_are_checked(agents: TownAgents) -> None:
    with pytest.raises(KeyError):
        cut_pon_port(agents, "chiyoda-olt1", "9/9/9", restart=False)
    with pytest.raises(KeyError):
        cut_splitter(agents, "chiyoda-olt1", "0/1/0", "no-such-splitter", restart=False)
    with pytest.raises(KeyError):
        power_cut(agents, "nowhere", 0.5, restart=False)
    with pytest.raises(ValueError):
        power_cut(agents, "oasa", 1.5, restart=False)
    assert power_cut(agents, "oasa", 0, restart=False).before == ()
    with pytest.raises(RuntimeError):
        TownAgents(generate_town(onus=20)).restart("chiyoda-olt1")
