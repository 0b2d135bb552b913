"""`ftthnoc serve` with `probes:` and `traps:` sections: every part runs in the one process.

Traffic stays on loopback: the probe targets are 127.0.0.1 (ICMP, and TCP to the exporter's own port),
the traps come from net-snmp's snmptrap to 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from ftthnoc.catalogue import TRAPS, names
from simulator.agents import TownAgents
from tests.waiting import wait_until


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def samples(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def test_serve_runs_probes_and_the_trap_receiver(small_agents: TownAgents, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("raw ICMP and TCP probe sockets need root (CAP_NET_RAW)")
    snmptrap = shutil.which("snmptrap")
    if snmptrap is None:
        pytest.skip("net-snmp's snmptrap is not installed (Debian package snmp)")
    http_port, trap_port = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
    doc = small_agents.poller_config(interval_seconds=3600)
    polls = sum(len(t["modules"]) for t in doc["targets"])
    doc["auths"]["trap_v2"] = {"version": 2, "community": "noc-trap-community"}
    doc["probes"] = {
        "cycle_seconds": 2,
        "targets": {"gateway": [{"name": "self", "address": "127.0.0.1", "ports": [http_port]}]},
        "icmp": {"packets": 4, "timeout_seconds": 0.5},
    }
    doc["traps"] = {"host": "127.0.0.1", "port": trap_port, "communities": ["trap_v2"],
                    "devices": [{"name": "chiyoda-olt1", "address": "127.0.0.1"}]}
    cfg = tmp_path / "ftthnoc.yaml"
    cfg.write_text(yaml.safe_dump(doc, allow_unicode=True))
    env = {**os.environ, "FTTHNOC_LISTEN_PORT": str(http_port), "FTTHNOC_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        m = re.search(r"(http://\S+/metrics)", proc.stdout.readline())
        assert m, proc.stderr.read() if proc.stderr else ""
        url = m.group(1)
        home = tmp_path / "netsnmp"
        home.mkdir()
        trap = subprocess.run(
            [snmptrap, "-v2c", "-c", "noc-trap-community", f"127.0.0.1:{trap_port}", "", "1.3.6.1.6.3.1.1.5.3",
             "1.3.6.1.2.1.2.2.1.1.7", "i", "7"],
            env={**os.environ, "SNMP_PERSISTENT_DIR": str(home), "SNMPCONFPATH": str(home), "MIBS": ""},
            capture_output=True, text=True, timeout=30)
        assert trap.returncode == 0, trap.stderr
        ready = ("ftthnoc_probe_icmp_loss_ratio", "ftthnoc_traps_received_total", "ftthnoc_probe_tcp_up")

        def everything() -> dict[str, list[tuple[dict[str, str], float]]] | None:
            got = samples(url)
            complete = all(got.get(n) for n in ready) and len(got.get("ftthnoc_scrape_success", [])) == polls
            return got if complete else None

        got = wait_until(everything, 60, "a probe cycle, the trap and every poll in the exposition")
        assert [v for _, v in got["ftthnoc_probe_icmp_loss_ratio"]] == [0.0]
        assert [(lab["port"], v) for lab, v in got["ftthnoc_probe_tcp_up"]] == [(str(http_port), 1.0)]
        received = {(lab["kind"], lab["source"]): v for lab, v in got["ftthnoc_traps_received_total"]}
        assert received == {("link_down", "chiyoda-olt1"): 1.0}
        assert names(TRAPS) <= set(got)
        assert {v for _, v in got["ftthnoc_scrape_success"]} == {1.0}  # the poller kept polling
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""


def test_a_bad_probes_section_stops_serve_with_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump({"probes": {"targets": {"gateway": [{"name": "x", "address": "not-an-ip"}]}}}))
    r = subprocess.run([sys.executable, "-m", "app", "serve", "--config", str(cfg)],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "FTTHNOC_LISTEN_PORT": "0"})
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ftthnoc: configuration probes.targets"), r.stderr


def test_serve_polls_only_its_shard_of_the_targets(small_agents: TownAgents, tmp_path: Path) -> None:
    """Two shards: each polls exactly the targets Prometheus' hashmod gives it, and together all of them."""
    from ftthnoc.shard import Shard

    doc = small_agents.poller_config(interval_seconds=3600)
    addresses = {t["name"]: t["address"] for t in doc["targets"]}
    cfg = tmp_path / "ftthnoc.yaml"
    cfg.write_text(yaml.safe_dump(doc, allow_unicode=True))
    assert all(Shard(i, 2).select(addresses.values(), str) for i in (0, 1)), addresses  # both shards poll
    polled: dict[int, set[str]] = {}
    for index in (0, 1):
        env = {**os.environ, "FTTHNOC_LISTEN_PORT": "0", "FTTHNOC_DATABASE_URL": f"sqlite:///{tmp_path}/x{index}.db"}
        proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--config", str(cfg), "--shard", f"{index}/2"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            assert proc.stdout is not None
            mine = Shard(index, 2).select(addresses.items(), lambda kv: kv[1])
            assert proc.stdout.readline().strip() == (
                f"ftthnoc: shard {index}/2: polling {len(mine)} of the {len(addresses)} SNMP targets")
            m = re.search(r"(http://\S+/metrics)", proc.stdout.readline())
            assert m, proc.stderr.read() if proc.stderr else ""
            url = m.group(1)

            names = {name for name, _ in mine}
            polls = sum(len(t["modules"]) for t in doc["targets"] if t["name"] in names)

            def scraped(url: str = url, polls: int = polls) -> set[str] | None:
                success = samples(url).get("ftthnoc_scrape_success", [])
                return {labels["target"] for labels, _ in success} if len(success) >= polls else None

            polled[index] = wait_until(scraped, 60, f"shard {index}/2's first polls")
            assert polled[index] == names
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    assert polled[0] | polled[1] == set(addresses) and not polled[0] & polled[1]


def test_serve_refuses_a_shard_outside_its_count(tmp_path: Path) -> None:
    cfg = tmp_path / "ftthnoc.yaml"
    cfg.write_text(yaml.safe_dump({"auths": {}, "targets": []}))
    done = subprocess.run([sys.executable, "-m", "app", "serve", "--config", str(cfg), "--shard", "3/3"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "bad shard '3/3': with N=3 the shard must be 0 to 2" in done.stderr
    assert "Traceback" not in done.stderr
