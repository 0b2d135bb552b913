"""`ftthnoc demo` probes loopback when it may (root or CAP_NET_RAW), and never anything else."""

from __future__ import annotations

import copy
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.cli.demo import GATEWAY_NAME, demo_probes, loopback_only, raw_socket_refusal
from collectors.probes.config import ProbeConfig
from ftthnoc.errors import ConfigError
from simulator.services import TownServices
from simulator.town import generate_town
from tests.waiting import wait_until

FTTHNOC = [sys.executable, "-m", "app"]
SCHOOL = generate_town(onus=500).schools[0].code


def _demo(tmp_path: Path, *prefix: str) -> subprocess.Popen[str]:
    """`ftthnoc demo` as test_cli.py runs it (500 ONUs, a free port, its own data directory)."""
    return subprocess.Popen([*prefix, *FTTHNOC, "demo", "--onus", "500", "--listen", "127.0.0.1:0",
                             "--interval", "3600"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, "FTTHNOC_DATA_DIR": str(tmp_path / "var")})


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:  # pragma: no cover - a hung demo must not hang the suite
        proc.kill()
        proc.wait()


@pytest.fixture
def demo_base(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The running demo's base URL and its "probes" line."""
    proc = _demo(tmp_path)
    try:
        assert proc.stdout is not None
        base = probes = None
        for line in proc.stdout:
            if m := re.search(r"(http://127\.0\.0\.1:\d+)/metrics", line):
                base = m.group(1)
            if line.strip().startswith("probes "):
                probes = line.strip()
            if line.startswith("Press Ctrl-C"):
                break
        assert base and probes, proc.stderr.read() if proc.stderr else "the demo printed no probes line"
        yield base, probes
    finally:
        _stop(proc)
    assert proc.returncode == 0


def _probe_samples(base: str) -> dict[str, list[Any]]:
    text = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
    return {f.name: f.samples for f in text_string_to_metric_families(text) if f.name.startswith("ftthnoc_probe_")}


@pytest.mark.skipif(raw_socket_refusal() is not None,
                    reason=f"probes need root or CAP_NET_RAW (raw sockets: {raw_socket_refusal()})")
def test_demo_as_root_probes_loopback_and_everything_answers(demo_base: tuple[str, str]) -> None:
    base, line = demo_base
    port = base.rsplit(":", 1)[1]
    assert "127.0.0.1 only" in line and f"tcp/{port}" in line, line

    def probed() -> dict[str, list[Any]] | None:
        fams = _probe_samples(base)
        icmp_done = len(fams.get("ftthnoc_probe_icmp_loss_ratio", [])) == 2
        return fams if icmp_done and fams.get("ftthnoc_probe_tcp_up") else None

    # the first ICMP cycle ends after about 12 of its 15 s
    fams = wait_until(probed, 40, "the first ICMP and TCP probe cycles of the demo")
    loss = {(s.labels["kind"], s.labels["target"]): s.value for s in fams["ftthnoc_probe_icmp_loss_ratio"]}
    assert loss == {("gateway", GATEWAY_NAME): 0.0, ("school", SCHOOL): 0.0}
    up = {(s.labels["target"], s.labels["port"]): s.value for s in fams["ftthnoc_probe_tcp_up"]}
    assert up == {(GATEWAY_NAME, port): 1.0}  # the exporter's own HTTP port: the demo's "VPN service"
    ok = {s.labels["probe"]: s.value for s in fams["ftthnoc_probe_success"]}
    assert ok == {"icmp": 1.0, "tcp": 1.0, "arp": 1.0, "http": 1.0, "dns": 1.0}
    # the simulated town services on loopback: the HTTPS portal and the DNS server answer as expected
    assert [s.value for s in fams["ftthnoc_probe_http_success"]] == [1.0]
    assert [s.value for s in fams["ftthnoc_probe_dns_success"]] == [1.0]
    [expiry] = fams["ftthnoc_probe_tls_cert_expiry_timestamp_seconds"]
    assert 89 < (expiry.value - time.time()) / 86400 <= 90
    assert not any(name.startswith("ftthnoc_probe_arp_") for name in fams), "the demo sweeps no subnet"


@pytest.mark.skipif(shutil.which("setpriv") is None or raw_socket_refusal() is not None,
                    reason="needs setpriv and root to drop CAP_NET_RAW (without root the demo is already non-root)")
def test_demo_without_raw_sockets_says_why_in_one_line(tmp_path: Path) -> None:
    proc = _demo(tmp_path, "setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw")
    try:
        assert proc.stderr is not None
        first = ""
        for line in proc.stderr:  # the reason comes before the agents start
            if "probes" in line or "starting" in line:
                first = line
                break
        assert first.startswith("ftthnoc demo: no probes: raw sockets are not permitted here"), first
        assert "as root or with CAP_NET_RAW" in first and first.count("\n") == 1
    finally:
        _stop(proc)


def test_the_demo_probe_section_is_loopback_only_and_valid() -> None:
    section = demo_probes("SCH-01", "chiyoda", 9469)
    loopback_only(section)
    config = ProbeConfig.model_validate(section)
    assert {t.address for _, t in config.icmp_targets()} == {"127.0.0.1"}
    assert [(k, t.address, p) for k, t, p in config.tcp_targets()] == [("gateway", "127.0.0.1", 9469)]
    assert config.arp.subnets == [] and config.cycle_seconds == 15 and config.icmp.packets == 5
    assert sorted(config.targets) == ["gateway", "school"]
    assert [t.name for t in config.targets["school"]] == ["SCH-01"]
    assert "ports" not in demo_probes("SCH-01", "chiyoda", None)["targets"]["gateway"][0]
    assert config.http.targets == [] and config.dns.targets == []


def test_the_demo_town_services_are_loopback_only_and_valid(tmp_path: Path) -> None:
    services = TownServices(tmp_path)
    try:
        section = demo_probes("SCH-01", "chiyoda", 9469, services)
        loopback_only(section)
        config = ProbeConfig.model_validate(section)
        assert [t.url for t in config.http.targets] == [services.url] and services.url.startswith("https://127.0.0.1:")
        assert [(t.server, t.port) for t in config.dns.targets] == [("127.0.0.1", services.dns_port)]
        for check, key, value in (("http", "url", "https://192.0.2.1/"), ("dns", "server", "192.0.2.53")):
            bad = copy.deepcopy(section)
            bad[check]["targets"][0][key] = value
            with pytest.raises(ConfigError, match=f"demo {check} target"):
                loopback_only(bad)
    finally:
        for server in (services.https, services.udp, services.tcp):
            server.server_close()


@pytest.mark.parametrize("change", [
    lambda s: s["targets"]["school"][0].update(address="10.30.1.1"),
    lambda s: s["targets"].setdefault("onu", []).append({"name": "x", "address": "127.0.0.2"}),
    lambda s: s["arp"].update(subnets=[{"school": "SCH-01", "subnet": "10.30.1.0/24", "interface": "eth0"}]),
    lambda s: s.update(from_inventory=["school"]),
])
def test_anything_but_127_0_0_1_is_refused(change: Any) -> None:
    section = demo_probes("SCH-01", "chiyoda", 9469)
    change(section)
    with pytest.raises(ConfigError):
        loopback_only(section)
