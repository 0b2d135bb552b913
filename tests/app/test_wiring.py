"""The composition root's wiring: one database engine, consumers off the poll loop, every deployment shape.

The slow-database test is the issue's: a PostgreSQL (here SQLite) that takes its time must show up as a
consumer queue, never as OLT timeouts, because the poll loop times every OLT request."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from app.wiring import build
from ftthnoc.config import Config
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.settings import Settings
from simulator.agents import TownAgents
from tests.ports import free_port


def _inventory(agents: TownAgents, directory: Path) -> Any:
    url = f"sqlite:///{directory / 'inventory.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        import_document(s, agents.inventory_document())
    return engine


def _poll_once(deployment: Any) -> tuple[float, dict[str, float]]:
    """One cycle of every target through the deployment's poller; (wall seconds, poll duration by target)."""
    start = time.monotonic()
    asyncio.run(deployment.poller.run(asyncio.Event(), cycles=1))
    wall = time.monotonic() - start
    durations = {s.labels["target"]: s.value for f in deployment.snapshot.families()
                 if f.name == "ftthnoc_scrape_duration_seconds" for s in f.samples}
    return wall, durations


def test_a_slow_database_never_runs_on_the_poll_loop_nor_slows_the_polls(
    small_agents: TownAgents, tmp_path: Path
) -> None:
    config = Config.model_validate(small_agents.poller_config(interval_seconds=3600))
    settings = Settings(influx_url=None)

    fast = build(config, settings, _inventory(small_agents, tmp_path / "fast"))
    try:
        baseline_wall, _ = _poll_once(fast)
        for consumer in fast.off_loop:
            assert consumer.drain(120)
    finally:
        fast.close()

    engine = _inventory(small_agents, tmp_path / "slow")
    statements: list[int] = []  # the thread of every statement the consumers ran
    # each statement takes a quarter of a whole poll cycle: on the loop, a handful would double it. Slow
    # until three cycles and 2 s have been slept (on the loop that would outlast the bound below whatever the
    # cycle); the rest of the queue runs at the database's speed, or draining it took 50 s on a loaded machine
    delay = max(0.05, baseline_wall / 4)
    slept = [0.0]

    @event.listens_for(engine, "before_cursor_execute")
    def slow(*_: object) -> None:
        statements.append(threading.get_ident())
        if slept[0] < 3 * baseline_wall + 2.0:
            slept[0] += delay
            time.sleep(delay)

    slow_db = build(config, settings, engine)
    try:
        statements.clear()  # building read the inventory (the labeler): that is start-up, not the loop
        loop_thread = threading.get_ident()  # asyncio.run runs the loop on this thread
        slow_wall, durations = _poll_once(slow_db)
        for consumer in slow_db.off_loop:
            assert consumer.drain(300)
        queued_work = slept[0]
    finally:
        slow_db.close()
    assert statements, "the consumers did not touch the database: the test proves nothing"
    assert loop_thread not in statements, "a consumer ran SQL on the poll loop"
    assert queued_work > baseline_wall, "the slow database was not slow enough to matter"
    # the polls took what they take without the database: not a statement's delay more per OLT
    assert slow_wall < baseline_wall * 2 + 1.0, (slow_wall, baseline_wall, queued_work)
    assert set(durations) == {t.name for t in config.targets}


def test_consumers_see_every_poll_and_a_failing_one_does_not_stop_the_others(
    small_agents: TownAgents, tmp_path: Path
) -> None:
    from ftthnoc.consumers import Fanout, Poll

    seen: list[tuple[str, str]] = []

    class Broken:
        def observe_poll(self, poll: Poll) -> None:
            raise RuntimeError("a bug in one consumer")

    class Recorder:
        def observe_poll(self, poll: Poll) -> None:
            seen.append((poll.target, poll.module))

    fanout = Fanout([Broken(), Recorder()])
    from collectors.runner import Poller

    config = Config.model_validate(small_agents.poller_config(interval_seconds=3600))
    asyncio.run(Poller(config, fanout.publish).run(asyncio.Event(), cycles=1))
    want = {(t.name, m) for t in config.targets for m in [*t.modules, "_scrape"]} | {("_config", "_thresholds")}
    assert set(seen) == want


@pytest.mark.parametrize("section", ["traps", "api"])
def test_a_deployment_of_only_traps_or_only_the_api_runs_until_stopped(section: str, tmp_path: Path) -> None:
    import os
    import signal
    import sys
    import urllib.request

    import yaml

    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    db.upgrade(url)
    trap_port = free_port(socket.SOCK_DGRAM)
    doc: dict[str, Any] = ({"traps": {"host": "127.0.0.1", "port": trap_port, "communities": ["public_v2"]}}
                           if section == "traps" else {})
    cfg = tmp_path / "ftthnoc.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    args = [sys.executable, "-m", "app", "serve", "--config", str(cfg)]
    if section == "api":
        args += ["--api", "127.0.0.1:0"]
    env = {**os.environ, "FTTHNOC_LISTEN_PORT": "0", "FTTHNOC_DATABASE_URL": url}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2 if section == "api" else 1)]
        metrics = next(line.split()[-1] for line in lines if "/metrics" in line)
        time.sleep(1.0)  # about time itself: it must still be running a moment later
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert urllib.request.urlopen(metrics, timeout=10).status == 200
        if section == "api":
            api = next(line.split()[-1] for line in lines if "API" in line)
            assert urllib.request.urlopen(f"{api}/api/health", timeout=10).status == 200
        elif shutil.which("snmptrap"):  # net-snmp sends a linkDown; it must be counted
            subprocess.run(["snmptrap", "-v", "2c", "-c", "public", f"127.0.0.1:{trap_port}", "", "1.3.6.1.6.3.1.1.5.3",
                            "1.3.6.1.2.1.2.2.1.1.7", "i", "7"], check=True, timeout=30)
            deadline = time.monotonic() + 30
            while "ftthnoc_traps_received_total{" not in (body := urllib.request.urlopen(metrics, timeout=10)
                                                           .read().decode()):
                assert time.monotonic() < deadline, body
                time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0
