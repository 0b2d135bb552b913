"""The issue's promises against hostile agents, as a user meets them: a real ``ftthnoc`` process, a real
agent on loopback that answers without end or with absurd readings, real signals and HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from collectors.snmp.module import get_module
from tests.collectors.snmp import misbehaving_agents as agents
from tests.waiting import scaled

FTTHNOC = [sys.executable, "-m", "app"]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FTTHNOC, *args], capture_output=True, text=True, timeout=timeout)


def test_a_poll_of_an_endless_agent_ends_at_its_bound_with_one_line_and_exit_1() -> None:
    with agents.InThread(agents.endless()) as agent:
        r = run("poll", "--once", "-m", "if_mib", "-t", agent.address, "--community", "public",
                "--max-rows", "2000")
        requests = agent.requests
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("ftthnoc: ") and "bound of 2000 rows" in lines[0]
    # it stopped: at most every subtree (walked side by side) reached its 2,000 rows, 25 an answer
    assert requests <= len(get_module("if_mib").roots()) * (2000 // 25 + 2)


def test_a_poll_of_an_endless_slow_agent_ends_at_its_time_bound() -> None:
    with agents.InThread(agents.slow(agents.endless(), 0.02)) as agent:
        start = time.monotonic()
        r = run("poll", "--once", "-m", "if_mib", "-t", agent.address, "--community", "public",
                "--poll-timeout", "2")
        elapsed = time.monotonic() - start
    assert r.returncode == 1
    assert "did not finish within its bound of 2 s" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert elapsed < 60  # interpreter start-up included; the point is that it ends


def test_a_poll_of_an_agent_with_oversized_readings_prints_no_traceback() -> None:
    with agents.InThread(agents.oversized) as agent:
        r = run("poll", "--once", "-m", "if_mib", "-t", agent.address, "--community", "public")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert 'ftthnoc_scrape_rejected_readings{module="if_mib",target="' in r.stdout
    rejected = [line for line in r.stdout.splitlines() if line.startswith("ftthnoc_scrape_rejected_readings{")]
    assert rejected and rejected[0].endswith(" 1.0")


def _serve(tmp_path: Path, address: str, interval: float = 3600) -> subprocess.Popen[str]:
    cfg = tmp_path / "ftthnoc.yaml"
    cfg.write_text(yaml.safe_dump({
        "targets": [{"name": "olt-hostile", "address": address, "modules": ["if_mib"], "timeout": 5}],
        "interval_seconds": interval,
    }))
    env = {**os.environ, "FTTHNOC_LISTEN_PORT": "0", "FTTHNOC_DATABASE_URL": f"sqlite:///{tmp_path}/none.db"}
    return subprocess.Popen([*FTTHNOC, "serve", "--config", str(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _wait_for(predicate: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"waited {timeout:g} s for {what}")


def test_serve_stops_within_2_s_of_sigterm_in_the_middle_of_a_walk(tmp_path: Path) -> None:
    with agents.InThread(agents.slow(agents.endless(), 0.05)) as agent:
        proc = _serve(tmp_path, agent.address)
        try:
            assert proc.stdout is not None
            assert "serving" in proc.stdout.readline()
            _wait_for(lambda: agent.requests >= 5, "the walk to be under way")
            proc.send_signal(signal.SIGTERM)
            start = time.monotonic()
            proc.wait(timeout=30)
            stopped_in = time.monotonic() - start
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert stopped_in < scaled(2.0), f"serve took {stopped_in:.2f} s to stop"  # 2 s on an idle machine


def test_a_snmp_probe_of_an_endless_agent_ends_with_its_scrape_and_stops_walking(tmp_path: Path) -> None:
    with agents.InThread(agents.slow(agents.endless(), 0.02)) as agent:
        proc = _serve(tmp_path, "127.0.0.1:9")  # the scheduled target is elsewhere: only /snmp asks the agent
        try:
            assert proc.stdout is not None
            base = proc.stdout.readline().split()[-1].removesuffix("/metrics")
            req = urllib.request.Request(f"{base}/snmp?target={agent.address}&module=if_mib&auth=public_v2",
                                         headers={"X-Prometheus-Scrape-Timeout-Seconds": "2"})
            start = time.monotonic()
            body = urllib.request.urlopen(req, timeout=30).read().decode()
            elapsed = time.monotonic() - start
            assert 'ftthnoc_scrape_success{module="if_mib",target="' in body
            success = next(line for line in body.splitlines() if line.startswith("ftthnoc_scrape_success{"))
            assert success.endswith(" 0.0")
            assert elapsed < 10
            # the walk really stopped: the agent hears nothing more once the answer is out
            settled = agent.requests
            time.sleep(1.0)  # about time itself: "no more requests during this second"
            assert agent.requests - settled <= 2
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
