"""The store of agents' data shared by a test run: a second start reuses the first's index and serves the
same answers (checked with net-snmp), and a fault never writes into the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.agents import TownAgents
from simulator.faults import cut_pon_port, restore
from simulator.model import Town
from simulator.shareddata import SharedData

from .netsnmp import HW_RX, bulkwalk, expected_rx


def _stored_bytes(store: SharedData) -> dict[str, bytes]:
    return {str(f.relative_to(store.data)): f.read_bytes() for f in sorted(store.data.rglob("*")) if f.is_file()}


def test_a_second_start_serves_the_stored_data_from_the_stored_index(
        small_town: Town, net_snmp: dict[str, str], tmp_path: Path) -> None:  # fmt: skip
    store = SharedData(tmp_path / "store")
    with TownAgents(small_town, shared_data=store) as first:
        assert all(p.cache_dir != store.cache for p in first.processes)  # nothing indexed yet: built privately
        assert all(store.holds(a.data_dir) for a in first.agents.values())
    assert all(store.indexed(d) for d in store.data.iterdir())
    with TownAgents(small_town, shared_data=store) as second:
        assert all(p.cache_dir == store.cache for p in second.processes)
        for olt in (o for o in second.town.olts if o.vendor == "huawei"):
            assert bulkwalk(net_snmp, olt.address, HW_RX) == expected_rx(olt)


def test_a_fault_rewrites_the_agents_own_copy_and_never_the_store(
        small_town: Town, net_snmp: dict[str, str], tmp_path: Path) -> None:  # fmt: skip
    store = SharedData(tmp_path / "store")
    with TownAgents(small_town, shared_data=store):
        pass
    stored = _stored_bytes(store)
    olt = next(o for o in small_town.olts if o.vendor == "huawei")
    port = next(p for p in olt.pon_ports if any(u.online for u in p.onus))
    with TownAgents(small_town, shared_data=store) as agents:
        fault = cut_pon_port(agents, olt.name, port.name)
        assert not store.holds(agents.agents[olt.name].data_dir)
        served = next(o for o in agents.town.olts if o.name == olt.name)  # the town as started, addressed
        assert bulkwalk(net_snmp, served.address, HW_RX) != expected_rx(served)  # the cut port reads no light
        restore(agents, fault)
        assert bulkwalk(net_snmp, served.address, HW_RX) == expected_rx(served)
    assert _stored_bytes(store) == stored
    with TownAgents(small_town, shared_data=store) as again:  # a later start still serves the town as made
        fresh = next(o for o in again.town.olts if o.name == olt.name)
        assert again.agents[olt.name].host_process.cache_dir == store.cache
        assert bulkwalk(net_snmp, fresh.address, HW_RX) == expected_rx(fresh)


def test_the_environment_names_the_store(small_town: Town, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTTHNOC_SIM_SHARED_DATA", str(tmp_path / "env-store"))
    shared = TownAgents(small_town).shared
    assert shared is not None and shared.root == (tmp_path / "env-store").resolve()
    monkeypatch.delenv("FTTHNOC_SIM_SHARED_DATA")
    assert TownAgents(small_town).shared is None
