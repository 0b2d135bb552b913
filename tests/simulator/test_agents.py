"""Against running snmpsim agents, checked with net-snmp (an independent SNMP implementation)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from simulator import agents as agents_mod
from simulator.agents import AgentStartError, TownAgents, serve_walk, snmp_get_packet
from simulator.snmprec import huawei_dbm_raw, zte_rx_raw
from simulator.town import DEFAULT_DISTRICTS, DEFAULT_OLTS, Olt, Town, generate_town

from .netsnmp import parse_numeric_walk, run

HW_RX = "1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4"
HW_TX = "1.3.6.1.4.1.2011.6.128.1.1.2.51.1.3"
ZTE_RX = "1.3.6.1.4.1.3902.1012.3.50.12.1.1.10"
PEER_C320 = Path("/work/shared/peer-data/librenms/zxa10_c320.snmprec")


def _oid(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def expected_rx(olt: Olt) -> dict[tuple[int, ...], str]:
    base = _oid(HW_RX if olt.vendor == "huawei" else ZTE_RX)
    enc = huawei_dbm_raw if olt.vendor == "huawei" else zte_rx_raw
    return {(*base, p.pon_index, u.onu_id): str(enc(u.rx_dbm)) for p in olt.pon_ports for u in p.onus}


def bulkwalk(tools: dict[str, str], address: str, oid: str, *extra: str) -> dict[tuple[int, ...], str]:
    cmd = [tools["snmpbulkwalk"], "-v2c", "-c", "public", "-On", "-Cr25", "-t", "5", *extra, address, oid]
    return parse_numeric_walk(run(cmd))


V3 = ["-v3", "-l", "authPriv", "-u", "ftthnoc", "-a", "SHA-256", "-A", "ftthnoc-demo-auth",
      "-x", "AES-256", "-X", "ftthnoc-demo-priv"]  # fmt: skip
V3_AES128 = ["-v3", "-l", "authPriv", "-u", "ftthnoc-legacy", "-a", "SHA", "-A", "ftthnoc-demo-auth",
             "-x", "AES", "-X", "ftthnoc-demo-priv"]  # fmt: skip


@pytest.mark.parametrize("vendor", ["huawei", "zte"])
def test_rx_walk_matches_the_model(small_agents: TownAgents, net_snmp: dict[str, str], vendor: str) -> None:
    for olt in (o for o in small_agents.town.olts if o.vendor == vendor):
        got = bulkwalk(net_snmp, olt.address, HW_RX if vendor == "huawei" else ZTE_RX)
        assert got == expected_rx(olt)


def test_zte_has_no_tx_column(small_agents: TownAgents, net_snmp: dict[str, str]) -> None:
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
    first = int(run([net_snmp["snmpget"], "-v2c", "-c", "public", "-Oqv", olt.address, oid]).strip())
    time.sleep(1.1)
    second = int(run([net_snmp["snmpget"], "-v2c", "-c", "public", "-Oqv", olt.address, oid]).strip())
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


def test_lost_port_race_moves_to_another_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """snmpsim runs on silently when its bind fails; the start-up notices and picks another port."""
    real = agents_mod.free_udp_port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        taken = blocker.getsockname()[1]
        handed_out = iter([taken])
        monkeypatch.setattr(
            agents_mod, "free_udp_port", lambda host="127.0.0.1": next(handed_out, None) or real(host)
        )
        one = one_olt_town()
        with TownAgents(one, startup_timeout=30) as agents:
            assert agents.town.olts[0].port != taken
            assert agents.agents[one.olts[0].name].attempts == 2


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
