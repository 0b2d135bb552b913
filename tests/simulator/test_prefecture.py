"""The simulated prefecture: ten towns' fibre as one ``Town``, and its OLTs served by a few processes."""

from __future__ import annotations

from collections import Counter

import pytest

from simulator.agents import TownAgents
from simulator.generate.prefecture import generate_prefecture
from simulator.specs import DEFAULT_DISTRICTS, DEFAULT_OLTS
from simulator.town import Town

from .netsnmp import parse_numeric_walk, run

HW_RX = "1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4"


@pytest.fixture(scope="module")
def prefecture() -> Town:
    return generate_prefecture(towns=3, onus_per_town=600, seed=7)


def test_same_seed_same_prefecture(prefecture: Town) -> None:
    assert generate_prefecture(towns=3, onus_per_town=600, seed=7) == prefecture
    assert generate_prefecture(towns=3, onus_per_town=600, seed=8) != prefecture


def test_onu_counts(prefecture: Town) -> None:
    assert sum(1 for _ in prefecture.onus()) == 3 * 600
    per_town = Counter(u.olt[:3] for u in prefecture.onus())
    assert per_town == {"t01": 600, "t02": 600, "t03": 600}


def test_names_ports_and_serials_are_unique(prefecture: Town) -> None:
    names = [o.name for o in prefecture.olts]
    assert len(names) == len(set(names)) == 3 * len(DEFAULT_OLTS)
    ports = [o.port for o in prefecture.olts]
    assert len(set(ports)) == len(ports)
    serials = [u.serial for u in prefecture.onus()]
    assert len(set(serials)) == len(serials)
    codes = [h.code for h in prefecture.households]
    assert len(set(codes)) == len(codes)
    assert {h.onu_serial for h in prefecture.households if h.onu_serial} == set(serials)


def test_districts_and_olts_are_prefixed_by_town(prefecture: Town) -> None:
    assert [d.code for d in prefecture.districts] == [
        f"t{k:02d}-{d.code}" for k in (1, 2, 3) for d in DEFAULT_DISTRICTS
    ]
    assert "t03-chiyoda-olt1" in {o.name for o in prefecture.olts}
    for o in prefecture.olts:
        assert o.name.startswith(o.district[:4]) and o.district in {d.code for d in prefecture.districts}
    assert all(u.household.startswith(u.olt[:4]) for u in prefecture.onus() if u.household)


def test_towns_differ(prefecture: Town) -> None:
    rx = {k: [u.rx_dbm for u in prefecture.onus() if u.olt.startswith(f"t0{k}-")] for k in (1, 2)}
    assert rx[1] != rx[2]


def test_olts_share_a_few_processes(net_snmp: dict[str, str]) -> None:
    town = generate_prefecture(towns=2, onus_per_town=200, seed=11)
    with TownAgents(town, olt_processes=3) as agents:
        assert len(agents.processes) == 3
        assert len({a.process.pid for a in agents.agents.values() if a.process is not None}) == 3
        for olt in agents.town.olts:
            if olt.vendor != "huawei":
                continue
            cmd = [net_snmp["snmpbulkwalk"], "-v2c", "-c", "public", "-On", "-Cr25", "-t", "5", olt.address, HW_RX]
            assert len(parse_numeric_walk(run(cmd))) == sum(1 for _ in olt.onus())
