"""Helpers to drive the net-snmp tools, the independent check on what the agents serve."""

from __future__ import annotations

import subprocess


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
