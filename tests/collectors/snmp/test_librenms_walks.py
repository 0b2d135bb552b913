"""Modules against walks recorded from real devices by LibreNMS, compared with LibreNMS's own results.

The walks live in ``../shared/peer-data/librenms/`` (skipped when absent) and are served by snmpsim on
loopback; expected values are read from LibreNMS's JSON at test time, never copied in here.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.module import get_module
from collectors.snmp.poll import poll_module
from ftthnoc.config import Auth
from ftthnoc.samples import MetricFamily
from simulator.agents import ServedWalk, serve_walk

PEER = Path(__file__).resolve().parents[3].parent / "shared" / "peer-data" / "librenms"
IF_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}


def peer(name: str) -> tuple[Path, dict[str, Any]]:
    walk, expected = PEER / f"{name}.snmprec", PEER / f"{name}.json"
    if not walk.exists() or not expected.exists():
        pytest.skip(f"LibreNMS peer walk {name} not present in {PEER}")
    return walk, json.loads(expected.read_text())


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, tuple[ServedWalk, dict[str, Any]]]]:
    """Each peer walk served once for the module, started on first use."""
    running: dict[str, tuple[ServedWalk, dict[str, Any]]] = {}

    class Lazy(dict[str, tuple[ServedWalk, dict[str, Any]]]):
        def __missing__(self, name: str) -> tuple[ServedWalk, dict[str, Any]]:
            walk, expected = peer(name)
            running[name] = (serve_walk(walk, "public"), expected)
            return running[name]

    yield Lazy()
    for agent, _ in running.values():
        agent.stop()


async def poll(address: str, module: str) -> list[MetricFamily]:
    host, port = address.rsplit(":", 1)
    dev = Device(address, host, int(port), Auth(community="public"), timeout=5.0)
    result = await poll_module(SnmpClient(), dev, get_module(module))
    assert result.success, result.error
    return result.families


def by_ifindex(families: list[MetricFamily], name: str) -> dict[int, tuple[dict[str, str], float]]:
    fam = next(f for f in families if f.name == name)
    return {int(s.labels["ifIndex"]): (dict(s.labels), s.value) for s in fam.samples}


@pytest.mark.parametrize("device", ["fortigate", "asa"])
async def test_if_mib_agrees_with_librenms_ports(served: Any, device: str) -> None:
    agent, expected = served[device]
    ports = expected["ports"]["poller"]["ports"] or expected["ports"]["discovery"]["ports"]
    families = await poll(agent.address, "if_mib")
    oper = by_ifindex(families, "ifOperStatus")
    admin = by_ifindex(families, "ifAdminStatus")
    mtu = by_ifindex(families, "ifMtu")
    assert ports
    for port in ports:
        idx = port["ifIndex"]
        labels, status = oper[idx]
        assert labels["ifName"] == port["ifName"], idx
        assert IF_STATUS[int(status)] == port["ifOperStatus"], idx
        assert IF_STATUS[int(admin[idx][1])] == port["ifAdminStatus"], idx
        assert int(mtu[idx][1]) == port["ifMtu"], idx


async def test_zte_gpon_finds_the_c320_onus_per_pon_port(served: Any) -> None:
    agent, expected = served["zxa10_c320"]
    walk_file = PEER / "zxa10_c320.snmprec"
    families = await poll(agent.address, "zte_gpon")
    # expected: ONU instances per ponIndex, counted straight from the recorded file
    table = "1.3.6.1.4.1.3902.1012.3.11.4.1.2."
    per_pon: Counter[int] = Counter()
    for line in walk_file.read_text(errors="replace").splitlines():
        if line.startswith(table):
            pon_index, _onu = line.split("|", 1)[0][len(table):].split(".")
            per_pon[int(pon_index)] += 1
    assert per_pon, "the walk holds ONU rows"
    known = next(f for f in families if f.name == "ftth_pon_port_onus_known")
    got = {s.labels["pon_port"]: int(s.value) for s in known.samples}
    assert sorted(got.values()) == sorted(per_pon.values())
    # every port label names a GPON port LibreNMS found on the device (gpon_1/1/N)
    names = {p["ifName"] for p in expected["ports"]["discovery"]["ports"]}
    assert {f"gpon_{port}" for port in got} <= names
    # distances: each reported one is a real reading (0 and -1 mean none)
    distance = next(f for f in families if f.name == "ftth_onu_distance_meters")
    assert distance.samples and all(s.value > 0 for s in distance.samples)


async def test_huawei_gpon_port_optics_agree_with_librenms_sensors(served: Any) -> None:
    agent, expected = served["smartax"]
    families = {f.name: f for f in await poll(agent.address, "huawei_gpon")}
    ours = {
        "temperature": "ftth_pon_port_temperature_celsius",
        "voltage": "ftth_pon_port_supply_voltage_volts",
        "current": "ftth_pon_port_bias_current_amperes",
        "dbm": "ftth_pon_port_tx_power_dbm",
    }
    checked = 0
    for sensor in expected["sensors"]["discovery"]["sensors"]:
        oid = sensor["sensor_oid"]
        if sensor["sensor_class"] not in ours or ".2011.6.128.1.1.2.23.1." not in oid:
            continue
        port = sensor["sensor_descr"].split("GPON ")[1].split()[0]  # "SFP GPON 0/0/0 TX" → 0/0/0
        fam = families[ours[sensor["sensor_class"]]]
        value = next(s.value for s in fam.samples if s.labels["pon_port"] == port)
        assert value == pytest.approx(float(sensor["sensor_current"]), abs=1e-9), (sensor["sensor_descr"], oid)
        checked += 1
    assert checked >= 4
