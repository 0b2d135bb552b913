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
from tests.ports import free_port
from tests.waiting import wait_until


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


def _prom_query(base: str, expr: str, **params: str) -> list[dict[str, object]]:
    import json
    import urllib.parse

    path = "query_range" if "start" in params else "query"
    url = f"{base}/api/v1/{path}?{urllib.parse.urlencode({'query': expr, **params})}"
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", body
    result: list[dict[str, object]] = body["data"]["result"]
    return result


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus not installed (Debian package prometheus)")
def test_a_dead_shards_targets_show_as_unpolled_and_the_other_shard_goes_on(small_agents: TownAgents,
                                                                           tmp_path: Path) -> None:
    """Two `serve --shard i/2` pollers scraped by a Prometheus server with the project's rules: killing one
    shows its targets as unknown (target:ftthnoc_shard_target:unpolled), and the other shard's polls and
    scrapes go on as before. That the rule shows them at the first evaluation after the first failed scrape
    (so within two scrape intervals) is promtool's case in grafana/rules/tests, on a clock no load can bend."""
    from ftthnoc.shard import Shard

    doc = small_agents.poller_config(interval_seconds=5)
    addresses = {t["name"]: t["address"] for t in doc["targets"]}
    held = {i: {n for n, _ in Shard(i, 2).select(addresses.items(), lambda kv: kv[1])} for i in (0, 1)}
    assert held[0] and held[1], addresses
    cfg = tmp_path / "ftthnoc.yaml"
    cfg.write_text(yaml.safe_dump(doc, allow_unicode=True))
    pollers: dict[int, subprocess.Popen[str]] = {}
    urls: dict[int, str] = {}
    prom: subprocess.Popen[bytes] | None = None
    try:
        for i in (0, 1):
            env = {**os.environ, "FTTHNOC_LISTEN_PORT": "0", "FTTHNOC_DATABASE_URL": f"sqlite:///{tmp_path}/x{i}.db"}
            pollers[i] = subprocess.Popen([sys.executable, "-m", "app", "serve", "--config", str(cfg), "--shard",
                                           f"{i}/2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                          env=env)
            out = pollers[i].stdout
            assert out is not None
            out.readline()  # the shard's own line
            m = re.search(r"http://(\S+)/metrics", out.readline())
            assert m, pollers[i].stderr.read() if pollers[i].stderr else ""
            urls[i] = m.group(1)
        scrape = 3  # seconds; rules evaluated as often (a loaded machine needs a second or two per /metrics)
        rules = Path(__file__).resolve().parents[2] / "grafana" / "rules" / "ftthnoc.rules.yml"
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
            "global": {"scrape_interval": f"{scrape}s", "evaluation_interval": f"{scrape}s"},
            "rule_files": [str(rules)],
            "scrape_configs": [{"job_name": "ftthnoc", "static_configs": [
                {"targets": [urls[i]], "labels": {"shard": str(i)}} for i in (0, 1)]}],
        }))
        port = free_port(socket.SOCK_STREAM)
        base = f"http://127.0.0.1:{port}"
        with (tmp_path / "prometheus.log").open("w") as log:
            prom = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                                     f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                     f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                                    stdout=log, stderr=subprocess.STDOUT)

        def polled(i: int) -> set[str] | None:
            """The targets of shard i's polls that Prometheus scraped (whether the poll succeeded is the
            other test's business: on a loaded machine a 5 s poll bound may fail a poll now and then)."""
            try:
                got = {str(r["metric"]["target"]) for r in  # type: ignore[index]
                       _prom_query(base, f'ftthnoc_scrape_success{{shard="{i}"}}')}
            except OSError:
                return None
            return got if got == held[i] else None

        for i in (0, 1):
            wait_until(lambda i=i: polled(i), 60, f"Prometheus holding shard {i}'s polls",
                       detail=lambda: (tmp_path / "prometheus.log").read_text()[-2000:])
        wait_until(lambda: _prom_query(base, "target:ftthnoc_shard_target:unpolled") == [], 60,
                   "both shards scraped: nothing unpolled")
        pollers[1].kill()
        pollers[1].wait(timeout=30)

        def unpolled() -> set[str] | None:
            rows = _prom_query(base, "target:ftthnoc_shard_target:unpolled")
            got = {str(r["metric"]["target"]) for r in rows}  # type: ignore[index]
            return got or None

        assert wait_until(unpolled, 30, "shard 1's targets shown as unpolled") == held[1]
        # the rest goes on: shard 0's poller is still scraped, with all its targets' polls, after the kill
        assert polled(0) == held[0]
        wait_until(lambda: [float(r["value"][1]) for r in _prom_query(base, 'up{shard="0"}')] == [1.0],  # type: ignore[index]
                   30, "shard 0's poller scraped after the kill")
        assert pollers[0].poll() is None
    finally:
        for p in pollers.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
        if prom is not None:
            prom.terminate()
            prom.wait(timeout=30)


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus not installed (Debian package prometheus)")
def test_a_shards_prometheus_sends_the_shard_to_victoriametrics(small_agents: TownAgents, tmp_path: Path) -> None:
    """The prefecture's long-term store: a shard's Prometheus server, with the remote_write of
    grafana/prometheus/prometheus.prefecture.yml pointed at a VictoriaMetrics on loopback, lands the shard's
    polls there, under the server's external `shard` label."""
    import json
    import urllib.parse

    from tests.exporters.influx.conftest import VictoriaMetrics

    binary = shutil.which("victoria-metrics")
    if binary is None:
        pytest.skip("victoria-metrics not installed (Debian package victoria-metrics)")

    prefecture = yaml.safe_load((Path(__file__).resolve().parents[2] / "grafana" / "prometheus" /
                                 "prometheus.prefecture.yml").read_text())
    [remote] = prefecture["remote_write"]
    vm = VictoriaMetrics(binary, tmp_path / "vm")
    (tmp_path / "vm").mkdir()
    vm.start()
    doc = small_agents.poller_config(interval_seconds=3600)
    cfg = tmp_path / "ftthnoc.yaml"
    cfg.write_text(yaml.safe_dump(doc, allow_unicode=True))
    env = {**os.environ, "FTTHNOC_LISTEN_PORT": "0", "FTTHNOC_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    poller = subprocess.Popen([sys.executable, "-m", "app", "serve", "--config", str(cfg), "--shard", "0/2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    prom: subprocess.Popen[bytes] | None = None
    try:
        assert poller.stdout is not None
        poller.stdout.readline()
        m = re.search(r"http://(\S+)/metrics", poller.stdout.readline())
        assert m, poller.stderr.read() if poller.stderr else ""
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
            "global": {"scrape_interval": "2s", "external_labels": prefecture["global"]["external_labels"]},
            "remote_write": [{**remote, "url": f"{vm.url}/api/v1/write"}],
            "scrape_configs": [{"job_name": "ftthnoc", "static_configs": [
                {"targets": [m.group(1)], "labels": {"shard": "0"}}]}],
        }))
        port = free_port(socket.SOCK_STREAM)
        with (tmp_path / "prometheus.log").open("w") as log:
            prom = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                                     f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                     f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                                    stdout=log, stderr=subprocess.STDOUT)
        from ftthnoc.shard import Shard

        held = {t["name"] for t in Shard(0, 2).select(doc["targets"], lambda t: t["address"])}

        def landed() -> set[str] | None:
            query = urllib.parse.urlencode({"query": 'ftthnoc_scrape_success{shard="0"}'})
            with urllib.request.urlopen(f"{vm.url}/api/v1/query?{query}", timeout=10) as r:
                rows = json.loads(r.read())["data"]["result"]
            got = {row["metric"]["target"] for row in rows}
            return got if got == held else None

        wait_until(landed, 60, "the shard's polls in VictoriaMetrics", retry_on=(OSError,),
                   detail=lambda: (tmp_path / "prometheus.log").read_text()[-2000:])
    finally:
        poller.send_signal(signal.SIGTERM)
        poller.wait(timeout=30)
        if prom is not None:
            prom.terminate()
            prom.wait(timeout=30)
        vm.stop()
