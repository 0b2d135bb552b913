"""Against running snmpsim agents, checked with net-snmp (an independent SNMP implementation)."""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path

import pytest

from simulator import agents as agents_mod
from simulator.agents import AgentStartError, TownAgents, serve_walk, snmp_get_packet
from simulator.town import DEFAULT_DISTRICTS, DEFAULT_OLTS, Olt, Town, generate_town
from tests.waiting import wait_until

from .netsnmp import HW_RX, ZTE_RX, bulkwalk, expected_rx, parse_numeric_walk, run

HW_TX = "1.3.6.1.4.1.2011.6.128.1.1.2.51.1.3"
PEER_C320 = Path("/work/shared/peer-data/librenms/zxa10_c320.snmprec")


V3 = ["-v3", "-l", "authPriv", "-u", "ftthnoc", "-a", "SHA-256", "-A", "ftthnoc-demo-auth",
      "-x", "AES-256", "-X", "ftthnoc-demo-priv"]  # fmt: skip
V3_AES128 = ["-v3", "-l", "authPriv", "-u", "ftthnoc-legacy", "-a", "SHA", "-A", "ftthnoc-demo-auth",
             "-x", "AES", "-X", "ftthnoc-demo-priv"]  # fmt: skip


@pytest.mark.parametrize("vendor", ["huawei", "zte"])
def test_rx_walk_matches_the_model(small_agents: TownAgents, net_snmp: dict[str, str], vendor: str) -> None:
    for olt in (o for o in small_agents.town.olts if o.vendor == vendor):
        got = bulkwalk(net_snmp, olt.address, HW_RX if vendor == "huawei" else ZTE_RX)
        assert got == expected_rx(olt)


def test_zte_has_no_huawei_tx_column(small_agents: TownAgents, net_snmp: dict[str, str]) -> None:
    zte = next(o for o in small_agents.town.olts if o.vendor == "zte")
    assert bulkwalk(net_snmp, zte.address, HW_TX) == {}


def test_addresses_are_the_running_ports(small_agents: TownAgents, small_town: Town) -> None:
    doc = small_agents.inventory_document()
    cfg = small_agents.poller_config()
    for device in small_agents.town.devices():
        assert device.address == f"127.0.0.1:{small_agents.agents[device.name].port}"
    sections = ("olts", "bwa_stations", "vpn_gateways")
    assert [d["address"] for s in sections for d in doc[s]] == [t["address"] for t in cfg["targets"]]
    assert doc["onus"] == small_town.inventory_document()["onus"]


@pytest.mark.parametrize("auth", [V3, V3_AES128], ids=["sha256-aes256", "sha1-aes128"])
def test_v3_with_empty_context(small_agents: TownAgents, net_snmp: dict[str, str], auth: list[str]) -> None:
    olt = small_agents.town.olts[0]
    out = run([net_snmp["snmpget"], "-On", "-t", "5", *auth, olt.address, "1.3.6.1.2.1.1.5.0"])
    assert f'STRING: "{olt.name}"' in out


def test_v3_with_context_public(small_agents: TownAgents, net_snmp: dict[str, str]) -> None:
    olt = small_agents.town.olts[-1]
    out = run([net_snmp["snmpget"], "-On", "-t", "5", *V3, "-n", "public", olt.address, "1.3.6.1.2.1.1.5.0"])
    assert f'STRING: "{olt.name}"' in out


def test_v3_bulkwalk_of_rx(small_agents: TownAgents, net_snmp: dict[str, str]) -> None:
    olt = next(o for o in small_agents.town.olts if o.vendor == "huawei")
    cmd = [net_snmp["snmpbulkwalk"], "-On", "-Cr25", "-t", "5", *V3, olt.address, HW_RX]
    assert parse_numeric_walk(run(cmd)) == expected_rx(olt)


def test_wrong_community_is_silent(small_agents: TownAgents) -> None:
    olt = small_agents.town.olts[0]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        s.sendto(snmp_get_packet("not-public", (1, 3, 6, 1, 2, 1, 1, 5, 0), 7), ("127.0.0.1", olt.port))
        with pytest.raises(TimeoutError):
            s.recvfrom(2048)


def test_counters_move(small_agents: TownAgents, net_snmp: dict[str, str]) -> None:
    olt = small_agents.town.olts[0]
    oid = f"1.3.6.1.2.1.31.1.1.1.6.{olt.uplinks[0].if_index}"

    def counter() -> int:
        return int(run([net_snmp["snmpget"], "-v2c", "-c", "public", "-Oqv", olt.address, oid]).strip())

    first = counter()
    second = wait_until(lambda: (n := counter()) > first and n, 5, "the uplink's octet counter to move")
    assert second > first >= olt.uplinks[0].in_octets


def test_stop_ends_the_processes(tmp_path: Path) -> None:
    town = generate_town(onus=60)
    agents = TownAgents(town, workdir=tmp_path / "w", cache_dir=tmp_path / "cache")
    agents.start()
    procs = [a.process for a in agents.agents.values()]
    assert all(p is not None and p.poll() is None for p in procs)
    agents.stop()
    assert all(p is not None and p.poll() is not None for p in procs)
    # the cache survives: a second start reuses the index (same data, same paths)
    assert any((tmp_path / "cache").iterdir())
    with TownAgents(town, workdir=tmp_path / "w", cache_dir=tmp_path / "cache") as again:
        assert again.startup_seconds is not None


def test_ports_are_held_for_the_agents_life() -> None:
    """ftthnoc binds each agent's socket and hands it to snmpsim: no other process can take the port,
    not even while the agent restarts, and the port is free again after stop."""
    one = one_olt_town()
    name = one.olts[0].name
    agents = TownAgents(one)
    agents.start()
    try:
        port = agents.agents[name].port
        with pytest.raises(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", port))
        old = agents.agents[name].process
        agents.restart(name)
        assert agents.agents[name].port == port and agents.agents[name].process is not old
        with pytest.raises(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", port))
    finally:
        agents.stop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))


def test_a_starved_agent_is_waited_for_not_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent that gets no CPU for a while (a loaded machine) is asked again, not killed on a timer."""
    real_spawn = agents_mod._Process.spawn

    def spawn_then_starve(self: agents_mod._Process) -> None:
        real_spawn(self)
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)
        threading.Timer(3.0, os.kill, (self.process.pid, signal.SIGCONT)).start()

    monkeypatch.setattr(agents_mod._Process, "spawn", spawn_then_starve)
    one = one_olt_town()
    with TownAgents(one) as agents:
        assert agents.startup_seconds is not None and agents.startup_seconds >= 3.0
        assert all(p.attempts == 1 for p in agents.processes)


def test_the_deadline_scales_with_the_work_and_the_load(monkeypatch: pytest.MonkeyPatch,
                                                        small_agents: TownAgents) -> None:
    olts = [p for p in small_agents.processes if p.name != agents_mod.SMALL_DEVICES]
    cores = os.cpu_count() or 1
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    one, five = agents_mod.startup_budget(olts[:1]), agents_mod.startup_budget(olts)
    assert agents_mod.BUDGET_FLOOR_SECONDS < one < five
    monkeypatch.setattr(os, "getloadavg", lambda: (4.0 * cores, 0.0, 0.0))
    assert agents_mod.startup_budget(olts) - agents_mod.BUDGET_FLOOR_SECONDS == pytest.approx(
        4 * (five - agents_mod.BUDGET_FLOOR_SECONDS))


def test_small_devices_are_engines_of_few_processes(small_agents: TownAgents, net_snmp: dict[str, str]) -> None:
    """Each OLT has its own process; the BWA stations and the gateway share a few, each an engine with its
    own port, engine ID and v3 users (empty context included)."""
    town = small_agents.town
    pids = {n: a.process.pid for n, a in small_agents.agents.items() if a.process is not None}
    small = [d.name for d in town.devices() if not isinstance(d, Olt)]
    shared = min(agents_mod.SMALL_DEVICE_PROCESSES, len(small))
    assert len(set(pids.values())) == len(town.olts) + shared == len(small_agents.processes)
    assert len({pids[o.name] for o in town.olts}) == len(town.olts)
    assert len({pids[n] for n in small}) == shared < len(small)
    assert len({a.engine_id for a in small_agents.agents.values()}) == len(small_agents.agents)
    for name in (town.bwa_stations[0].name, town.vpn_gateways[0].name):
        out = run([net_snmp["snmpget"], "-On", "-t", "5", *V3, small_agents.address(name), "1.3.6.1.2.1.1.5.0"])
        assert f'STRING: "{name}"' in out


def test_restarting_a_small_device_restarts_its_process_on_the_same_ports(net_snmp: dict[str, str]) -> None:
    town = generate_town(onus=30, olts=DEFAULT_OLTS[4:], districts=DEFAULT_DISTRICTS[3:])  # Geihoku
    assert len(town.olts) == 1 and len(town.bwa_stations) + len(town.vpn_gateways) > 2
    with TownAgents(town) as agents:
        name = town.bwa_stations[0].name
        shared = agents.agents[name].host_process
        assert shared is not None and len(shared.agents) > 1
        before = {n: (a.port, a.engine_id, a.process) for n, a in agents.agents.items()}
        agents.restart(name)
        after = {n: (a.port, a.engine_id, a.process) for n, a in agents.agents.items()}
        for n in before:
            assert after[n][:2] == before[n][:2]  # the same port and engine ID
            restarted = n in {a.name for a in shared.agents}
            assert (after[n][2] is not before[n][2]) == restarted  # only the shared process is new
        for device in agents.town.devices():  # every engine answers again, v3 with the same engine ID
            out = run([net_snmp["snmpget"], "-On", "-t", "5", *V3, device.address, "1.3.6.1.2.1.1.5.0"])
            assert f'STRING: "{device.name}"' in out


def one_olt_town() -> Town:
    return generate_town(onus=30, olts=DEFAULT_OLTS[:1], districts=DEFAULT_DISTRICTS[:1])


def test_fixed_port_in_use_is_a_clear_error() -> None:
    one = one_olt_town()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        port = blocker.getsockname()[1]
        with pytest.raises(AgentStartError, match=f"could not bind UDP port {port}"):
            TownAgents(one, ports={one.olts[0].name: port}, startup_timeout=30).start()


def test_bad_data_reports_the_log(tmp_path: Path) -> None:
    bad = tmp_path / "broken.snmprec"
    bad.write_text("1.3.6.1.2.1.1.5.0|4|ok\nnot a record\n")
    with pytest.raises(AgentStartError) as info:
        serve_walk(bad, "public", startup_timeout=5)
    assert "broken.snmprec" in str(info.value)


@pytest.mark.skipif(not PEER_C320.exists(), reason="peer walk not present")
def test_serve_a_recorded_walk(net_snmp: dict[str, str]) -> None:
    with serve_walk(PEER_C320, "public") as walk:
        out = run([net_snmp["snmpget"], "-v2c", "-c", "public", "-On", walk.address, "1.3.6.1.2.1.1.1.0"])
        assert "C320" in out
        column = "1.3.6.1.4.1.3902.1012.3.11.4.1.2"
        recorded = [ln for ln in PEER_C320.read_text(errors="replace").splitlines() if ln.startswith(column + ".")]
        rows = bulkwalk(net_snmp, walk.address, column)
        assert recorded and len(rows) == len(recorded)
        out = run([net_snmp["snmpget"], "-On", *V3, walk.address, "1.3.6.1.2.1.1.1.0"])
        assert "C320" in out


@pytest.mark.full_town
def test_full_town(full_agents: TownAgents, net_snmp: dict[str, str]) -> None:
    """The default 7,000-ONU town starts in seconds and serves every ONU's Rx."""
    agents = full_agents
    assert agents.startup_seconds is not None
    print(f"full town: {agents.startup_seconds:.2f} s to start {len(agents.town.olts)} agents")
    for olt in agents.town.olts:
        assert bulkwalk(net_snmp, olt.address, HW_RX if olt.vendor == "huawei" else ZTE_RX) == expected_rx(olt)
