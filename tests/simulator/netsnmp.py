"""Helpers to drive the net-snmp tools, the independent check on what the agents serve, and what the town's
model says they must answer."""

from __future__ import annotations

import subprocess

from simulator.snmprec import huawei_dbm_raw, zte_rx_raw
from simulator.town import Olt

HW_RX = "1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4"
ZTE_RX = "1.3.6.1.4.1.3902.1012.3.50.12.1.1.10"


def run(cmd: list[str]) -> str:
    """Run a net-snmp command; fail the test with its stderr when it fails."""
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"{' '.join(cmd)} failed: {r.stderr.strip()}"
    return r.stdout


def parse_numeric_walk(text: str) -> dict[tuple[int, ...], str]:
    """``-On`` output -> {oid tuple: value text} (INTEGER / STRING / Hex-STRING values)."""
    out: dict[tuple[int, ...], str] = {}
    for line in text.splitlines():
        if " = " not in line:
            continue
        oid, _, rest = line.partition(" = ")
        if ":" not in rest:
            continue  # "No Such Object ..." and the like
        out[tuple(int(x) for x in oid.strip(".").split("."))] = rest.split(":", 1)[1].strip()
    return out


def oid_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def expected_rx(olt: Olt) -> dict[tuple[int, ...], str]:
    """Every ONU's Rx column entry as the OLT's agent must serve it, from the town's model."""
    base = oid_tuple(HW_RX if olt.vendor == "huawei" else ZTE_RX)
    enc = huawei_dbm_raw if olt.vendor == "huawei" else zte_rx_raw
    ani = () if olt.vendor == "huawei" else (1,)  # ZTE's optics table: {pon}.{onu}.1
    return {(*base, p.pon_index, u.onu_id, *ani): str(enc(u.rx_dbm)) for p in olt.pon_ports for u in p.onus}


def bulkwalk(tools: dict[str, str], address: str, oid: str, *extra: str) -> dict[tuple[int, ...], str]:
    cmd = [tools["snmpbulkwalk"], "-v2c", "-c", "public", "-On", "-Cr25", "-t", "5", *extra, address, oid]
    return parse_numeric_walk(run(cmd))
