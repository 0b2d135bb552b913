"""A recorded walk answers as snmpsim answers it: the same walks, the same families, with and without UDP.

snmpsim (an implementation we did not write) serves each LibreNMS walk over UDP; ``RecordedAgent`` answers
the same file in memory. Every module's poll must give identical families both ways, so the in-memory
agent can stand in for snmpsim in the unit tests, and ``ftthnoc poll --once --walk`` tells an operator
what the real device would give.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.module import builtin_modules, get_module
from collectors.snmp.poll import poll_module
from collectors.snmp.recorded import RecordedAgent, RecordError
from ftthnoc.config import Auth
from simulator.agents import serve_walk

PEER = Path(__file__).resolve().parents[3].parent / "shared" / "peer-data" / "librenms"
WALKS = sorted(PEER.glob("*.snmprec")) if PEER.is_dir() else []


def _samples(families: list) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:  # type: ignore[type-arg]
    return {(f.name, tuple(sorted((k, v) for k, v in s.labels.items() if k != "device" and k != "olt")), s.value)
            for f in families for s in f.samples}


@pytest.mark.skipif(not WALKS, reason=f"LibreNMS peer walks not present in {PEER}")
@pytest.mark.parametrize("walk", WALKS, ids=lambda p: p.stem)
async def test_every_module_polls_a_recording_as_it_polls_snmpsim_serving_it(walk: Path) -> None:
    recorded = Device("rec", "walk", 0, Auth(community="public"))
    agent = RecordedAgent.from_snmprec(walk)
    with serve_walk(walk, "public") as served:
        host, port = served.address.rsplit(":", 1)
        udp = Device("rec", host, int(port), Auth(community="public"), timeout=5.0)
        compared = 0
        for name in sorted(builtin_modules()):
            module = get_module(name)
            over_udp = await poll_module(SnmpClient(), udp, module)
            in_memory = await poll_module(SnmpClient({recorded.key: agent}), recorded, module)
            assert (in_memory.success, in_memory.error) == (over_udp.success, over_udp.error), name
            if not over_udp.success:  # a module of another device's MIB: both say so alike
                continue
            assert _samples(in_memory.families) == _samples(over_udp.families), name
            assert in_memory.varbinds == over_udp.varbinds
            compared += len(over_udp.families)
    assert compared


def test_a_broken_recording_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.snmprec"
    bad.write_text("1.3.6.1.2.1.1.5.0|4|olt\n1.3.6.1.2.1.1.3.0|67|not-a-number\n")
    with pytest.raises(RecordError, match="line 2"):
        RecordedAgent.from_snmprec(bad)


@pytest.mark.skipif(not (PEER / "zxa10_c320.snmprec").exists(), reason="the LibreNMS ZTE C320 walk is absent")
def test_poll_once_from_a_recorded_walk() -> None:
    r = subprocess.run([sys.executable, "-m", "app", "poll", "--once", "--walk", str(PEER / "zxa10_c320.snmprec"),
                        "-m", "if_mib"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert 'ifOperStatus{device="zxa10_c320"' in r.stdout
    assert 'ftthnoc_scrape_success{module="if_mib",target="zxa10_c320"} 1.0' in r.stdout
