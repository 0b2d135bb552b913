"""Every outage an operator sees first, end to end on one simulated town (issue #11).

One started town for the module (snmpsim agents, 300 ONUs on five OLTs, and the town's HTTPS portal and DNS
server on loopback), one incident engine on SQLite fed as ``serve`` feeds it: each OLT's GPON and ``if_mib``
polls and the poll's report on itself, the prober's HTTP and DNS checks. Each test injects one fault the way
the vendor MIBs show it, and asserts that exactly one incident of its kind opens, that the alert rule reading
``ftthnoc_incident_open`` fires for it while the incident alerts of what is under it stay quiet (``promtool
test rules`` on the exporter's series), and that the repair closes it. Time is replayed: each step of the
module's clock is a minute.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select

from collectors.probes.config import ProbeConfig
from collectors.probes.prober import SOURCE, Prober
from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.module import get_module
from collectors.snmp.poll import poll_device, scrape_families
from ftthnoc.config import Config
from ftthnoc.incidents.engine import IncidentChange, IncidentConfig, IncidentEngine
from ftthnoc.incidents.households import InventoryHouseholds
from ftthnoc.incidents.models import Incident
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.samples import MetricFamily
from simulator.agents import TownAgents
from simulator.faults import board_down, cut_pon_port, pon_port_down, power_cut, restore, rogue_onu, uplink_down
from simulator.services import LOOPBACK, NAME, TownServices
from simulator.town import generate_town
from tests.grafana.grafana_json import RULES
from tests.towns import require_snmpsim

PROMTOOL = shutil.which("promtool")
T0 = datetime(2026, 8, 10, 1, 0, tzinfo=UTC)
INSTANCE = {"job": "ftthnoc", "instance": "noc1.example:9469"}
#: the alert that reads each kind, and the label its rule adds (``board`` of a port, the service's ``target``)
ALERT_OF_KIND: dict[str, str] = {
    "feeder_cut": "FtthPonPortFeederCut", "olt_unreachable": "FtthOltNotAnswering",
    "power_outage": "FtthPowerOutageIncidentOpen", "board_down": "FtthOltBoardDown",
    "pon_port_down": "FtthPonPortDown", "uplink_down": "FtthOltUplinkDown", "rogue_onu": "FtthRogueOnu",
    "service_down": "FtthTownServiceOutage",
}  # fmt: skip


@dataclass
class Town:
    """The module's running town and the engine it feeds, with the replayed clock."""

    agents: TownAgents
    services: TownServices
    database: Engine
    engine: IncidentEngine
    config: Config
    prober: Prober
    now: datetime = T0
    baseline: set[tuple[str, str | None, str | None]] = field(default_factory=set)

    async def _poll(self, name: str) -> list[tuple[str, list[MetricFamily]]]:
        target = next(t for t in self.config.targets if t.name == name)
        device = Device.from_target(target, self.config.auths["public_v2"])
        modules = [get_module(m) for m in target.modules if m.endswith("gpon") or m == "if_mib"]
        results = await poll_device(SnmpClient(), device, modules)  # a client per event loop (per test)
        return [*((r.module, r.families) for r in results), ("_scrape", scrape_families(name, results))]

    async def step(self, minutes: int = 1) -> list[IncidentChange]:
        """One poll of every OLT and one cycle of the service checks, ``minutes`` after the last step."""
        self.now += timedelta(minutes=minutes)
        names = [t.name for t in self.config.targets if any(m.endswith("gpon") for m in t.modules)]
        polls = await asyncio.gather(*(self._poll(n) for n in names))
        changes: list[IncidentChange] = []
        for name, published in zip(names, polls, strict=True):
            for _module, families in published:  # as the poller publishes: one module at a time
                changes += self.engine.observe_readings(name, families, self.now)
        for once in (self.prober.http, self.prober.dns):
            changes += self.engine.observe_readings(SOURCE, await once(), self.now)
        return changes

    def open_now(self) -> set[tuple[str, str | None, str | None]]:
        return {(i.kind, i.olt, i.pon_port) for i in self.engine.open_incidents()}


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    require_snmpsim()
    work = tmp_path_factory.mktemp("town-kinds")
    url = f"sqlite:///{work / 'inventory.db'}"
    db.upgrade(url)
    database = db.make_engine(url)
    with TownAgents(generate_town(seed=2026, onus=300)) as agents, TownServices(work / "services") as services:
        with db.session_scope(database) as session:
            import_document(session, agents.inventory_document())
        factory = db.session_factory(database)
        engine = IncidentEngine(factory, IncidentConfig(), InventoryHouseholds.from_sessions(factory))
        probes = ProbeConfig.model_validate({
            "http": {"timeout_seconds": 5.0, "targets": [
                {"name": "e-application", "url": services.url, "ca_file": str(services.ca_file),
                 "body_regex": "電子申請"}]},
            "dns": {"timeout_seconds": 2.0, "targets": [
                {"name": "town-dns", "server": LOOPBACK, "port": services.dns_port, "query_name": NAME,
                 "expected_addresses": [LOOPBACK]}]},
        })  # fmt: skip
        town = Town(agents, services, database, engine, Config.model_validate(agents.poller_config()),
                    Prober(probes))
        # the town starts with a cut feeder of its own (chiyoda-olt1 0/1/0): open from the first poll, and
        # the only incident then; every test leaves the town as it found it
        asyncio.run(town.step(0))
        town.baseline = town.open_now()
        assert {k for k, _o, _p in town.baseline} == {"feeder_cut"}, town.baseline
        try:
            yield town
        finally:
            database.dispose()


@pytest.fixture
def fresh(town: Town) -> Iterator[Town]:
    """The town, every fault repaired and the services started again after the test."""
    yield town
    restore(town.agents)
    for service in ("portal", "dns"):
        town.services.start(service)


def rules() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load((RULES / "ftthnoc.rules.yml").read_text(encoding="utf-8"))
    return {r["alert"]: r for g in doc["groups"] for r in g["rules"] if "alert" in r}


def _alert_labels(kind: str, labels: dict[str, str]) -> dict[str, str]:
    """What the alert of ``kind`` carries for one series: its labels but the empty ones, the rule's
    ``severity`` and the label its ``label_replace`` adds."""
    out = {k: v for k, v in labels.items() if v}
    rule = rules()[ALERT_OF_KIND[kind]]
    add = re.search(r'label_replace\(\w+\{[^}]*\}, "(\w+)", "\$1", "(\w+)", "([^"]+)"\)', rule["expr"])
    if add:
        m = re.fullmatch(add[3], labels.get(add[2], ""))
        if m:
            out[add[1]] = m[1]
    return {**out, **rule["labels"]}


def _render(text: str, labels: dict[str, str]) -> str:
    return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m[1], ""), text)


def assert_alerts(town: Town, tmp_path: Path) -> list[str]:
    """Run the incident alert rules with ``promtool test rules`` over the series the engine exports now: each
    alert fires for exactly the open incidents of its kind (none of what is under a fault: the engine opened
    nothing for it). Returns the alerts that fire."""
    if PROMTOOL is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    fam = next(f for f in town.engine.families() if f.name == "ftthnoc_incident_open")
    series = [{**INSTANCE, **s.labels} for s in fam.samples]
    cases = []
    firing = []
    for kind, alert in ALERT_OF_KIND.items():
        rule = rules()[alert]
        expected = []
        for labels in (s for s in series if s["kind"] == kind):
            got = _alert_labels(kind, labels)
            expected.append({"exp_labels": got, "exp_annotations": {k: _render(v, got) for k, v
                                                                    in rule["annotations"].items()}})  # fmt: skip
        cases.append({"eval_time": "2m", "alertname": alert, "exp_alerts": expected})
        if expected:
            firing.append(alert)
    inputs = [{"series": "ftthnoc_incident_open{" + ",".join(f'{k}="{v}"' for k, v in s.items()) + "}",
               "values": "1x5"} for s in series]  # fmt: skip
    test = {"rule_files": [str(RULES / "ftthnoc.rules.yml")], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": inputs, "alert_rule_test": cases}]}  # fmt: skip
    path = tmp_path / "incidents.test.yml"
    path.write_text(yaml.safe_dump(test, allow_unicode=True), encoding="utf-8")
    r = subprocess.run([PROMTOOL, "test", "rules", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return firing


def new_incidents(town: Town) -> set[tuple[str, str | None, str | None]]:
    return town.open_now() - town.baseline


def stored(town: Town, kind: str) -> list[tuple[str, int]]:
    with db.session(town.database) as session:
        return [(i.status, i.affected_count) for i in session.scalars(select(Incident).where(Incident.kind == kind))]


def opened(changes: list[IncidentChange]) -> list[tuple[str, str | None, str | None]]:
    return [(c.kind, c.olt, c.pon_port) for c in changes if c.change == "opened"]


def closed(changes: list[IncidentChange]) -> list[str]:
    return [c.kind for c in changes if c.change == "closed"]


def check_one(town: Town, tmp_path: Path, changes: list[IncidentChange],
              expected: tuple[str, str | None, str | None]) -> None:  # fmt: skip
    """Exactly ``expected`` opened, it is the only new open incident, and only its alert fires beside the
    town's own feeder cut."""
    assert opened(changes) == [expected], changes
    assert new_incidents(town) == {expected}
    assert set(assert_alerts(town, tmp_path)) == {"FtthPonPortFeederCut", ALERT_OF_KIND[expected[0]]}


async def test_a_dead_board_opens_one_board_incident(fresh: Town, tmp_path: Path) -> None:
    fault = board_down(fresh.agents, "chiyoda-olt2", "0/1")
    changes = await fresh.step()
    check_one(fresh, tmp_path, changes, ("board_down", "chiyoda-olt2", "0/1"))
    [(_status, affected)] = stored(fresh, "board_down")
    assert affected == len(fault.households)
    assert await fresh.step() == []  # nothing grows or opens while it lasts
    restore(fresh.agents, fault)
    assert closed(await fresh.step()) == ["board_down"]
    assert new_incidents(fresh) == set()


async def test_a_dead_port_is_not_a_feeder_cut(fresh: Town, tmp_path: Path) -> None:
    fault = pon_port_down(fresh.agents, "toyohira-olt1", "0/1/3")
    check_one(fresh, tmp_path, await fresh.step(), ("pon_port_down", "toyohira-olt1", "0/1/3"))
    restore(fresh.agents, fault)
    assert closed(await fresh.step()) == ["pon_port_down"]


async def test_uplinks_down_are_one_incident_for_the_olt(fresh: Town, tmp_path: Path) -> None:
    fault = uplink_down(fresh.agents, "oasa-olt1")
    changes = await fresh.step()
    check_one(fresh, tmp_path, changes, ("uplink_down", "oasa-olt1", None))
    [up] = [c for c in changes if c.change == "opened"]
    olt = next(o for o in fresh.agents.town.olts if o.name == "oasa-olt1")
    assert up.affected_count == len({u.household for u in olt.onus() if u.household})
    restore(fresh.agents, fault)
    assert closed(await fresh.step()) == ["uplink_down"]


async def test_a_rogue_onu_is_not_a_feeder_cut(fresh: Town, tmp_path: Path) -> None:
    fault = rogue_onu(fresh.agents, "toyohira-olt1", "0/1/0")
    check_one(fresh, tmp_path, await fresh.step(), ("rogue_onu", "toyohira-olt1", "0/1/0"))
    restore(fresh.agents, fault)
    assert closed(await fresh.step()) == ["rogue_onu"]


async def test_an_olt_that_stops_answering(fresh: Town, tmp_path: Path) -> None:
    process = fresh.agents.agents["geihoku-olt1"].host_process
    assert process is not None
    process.stop()
    try:
        assert opened(await fresh.step()) == []  # one failed poll is no outage
        check_one(fresh, tmp_path, await fresh.step(), ("olt_unreachable", "geihoku-olt1", None))
    finally:
        fresh.agents.restart("geihoku-olt1")
    assert closed(await fresh.step()) == ["olt_unreachable"]


async def test_a_feeder_cut_and_a_power_cut(fresh: Town, tmp_path: Path) -> None:
    cut = cut_pon_port(fresh.agents, "chiyoda-olt2", "0/1/1")
    check_one(fresh, tmp_path, await fresh.step(), ("feeder_cut", "chiyoda-olt2", "0/1/1"))
    restore(fresh.agents, cut)
    assert closed(await fresh.step()) == ["feeder_cut"]
    gasp = power_cut(fresh.agents, "geihoku", 0.3)
    check_one(fresh, tmp_path, await fresh.step(), ("power_outage", None, None))
    restore(fresh.agents, gasp)
    assert closed(await fresh.step()) == ["power_outage"]


async def test_a_town_service_down(fresh: Town, tmp_path: Path) -> None:
    fresh.services.stop("portal")
    assert opened(await fresh.step()) == []  # one failed check is no outage
    check_one(fresh, tmp_path, await fresh.step(), ("service_down", "e-application", None))
    fresh.services.stop("dns")  # the other service too: its own incident, once
    assert opened(await fresh.step()) == []
    assert opened(await fresh.step()) == [("service_down", "town-dns", None)]
    fresh.services.start("portal")
    fresh.services.start("dns")
    assert sorted(closed(await fresh.step())) == ["service_down", "service_down"]
    assert new_incidents(fresh) == set()
