"""`ftthnoc serve` with FTTHNOC_INFLUX_URL set: one poll feeds /metrics and the time-series server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from ftthnoc.catalogue import INFLUX, names
from simulator.agents import TownAgents

from .conftest import VictoriaMetrics, wait_for


def test_serve_writes_every_poll_to_influx_and_reports_the_writer(
    small_agents: TownAgents, vm: VictoriaMetrics, tmp_path: Path
) -> None:
    cfg = tmp_path / "ftthnoc.yaml"
    cfg.write_text(yaml.safe_dump(small_agents.poller_config(interval_seconds=3600)))
    env = {**os.environ, "FTTHNOC_LISTEN_PORT": "0", "FTTHNOC_DATABASE_URL": f"sqlite:///{tmp_path}/none.db",
           "FTTHNOC_INFLUX_URL": vm.url, "FTTHNOC_INFLUX_SPOOL_DIR": str(tmp_path / "spool")}
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        m = re.search(r"(http://\S+/metrics)", proc.stdout.readline())
        assert m
        metrics_url = m.group(1)

        def writer_reports(name: str) -> float:
            text = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
            return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name)

        onus = sum(1 for _ in small_agents.town.onus())
        wait_for(lambda: len(vm.series('{__name__="ftth_onu_up"}')) == onus, timeout=60,
                 what="every ONU's up series in VictoriaMetrics")
        wait_for(lambda: writer_reports("ftthnoc_influx_up") == 1.0, timeout=30, what="ftthnoc_influx_up 1")
        assert writer_reports("ftthnoc_influx_written_points_total") > 0
        text = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
        exposed = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
        assert names(INFLUX) <= exposed, "the writer's catalogued metrics are all on /metrics"
        up = vm.series('{__name__="ftth_onu_up"}')
        online = {(dict(k[1])["olt"], dict(k[1])["pon_port"], dict(k[1])["onu_id"]): v[-1][1] for k, v in up.items()}
        want = {(o.olt, o.pon_port, str(o.onu_id)): 1.0 if o.online else 0.0 for o in small_agents.town.onus()}
        assert online == want
        assert all(dict(k[1])["district"] == "unknown" for k in up)  # no inventory given to this serve
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0
