"""Helpers of ``bench/freshness.py``: a scraper, a Prometheus remote-writing to VictoriaMetrics, the reference.

Kept apart so that the freshness benchmark reads as its steps. Why each exists:

* :class:`Scraper`: scrapes a URL every N seconds with Prometheus' own ``Accept`` and ``Accept-Encoding``
  headers (OpenMetrics, gzip), when no real Prometheus is asked for.
* :class:`PromVm`: a real Prometheus (Debian ``prometheus``) scraping ``serve`` and ``remote_write``-ing
  to a VictoriaMetrics single node (Debian ``victoria-metrics``): the path a deployment's dashboards
  read, whose freshness is what an operator sees.
* :class:`Reference`: a plain prometheus_client registry (gauges with labels, the same number of samples
  as ``serve``'s ``/metrics``) on prometheus_client's own HTTP server: what a stock Python exporter costs
  per scrape, the named yardstick for ``serve``'s CPU.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from bench.soak import free_port, guarded, process_cpu_s, stop_process

#: Prometheus 2.42's scrape headers: OpenMetrics first, gzip
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


def _wait_http(url: str, proc: subprocess.Popen[bytes], what: str, seconds: float = 120) -> None:
    t0 = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() - t0 > seconds:
            raise RuntimeError(f"{what} did not answer {url} in {seconds:.0f} s")
        time.sleep(0.5)  # a benchmark waiting for a server to start, not a test


class Scraper:
    """Scrapes ``url`` every ``interval`` seconds from a thread, as Prometheus would (headers, gzip)."""

    def __init__(self, url: str, interval: float) -> None:
        self.url, self.interval = url, interval
        self.scrapes, self.seconds, self.errors = 0, 0.0, 0
        self.last_error = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="scraper")
        self._thread.start()

    def _run(self) -> None:
        tick = time.monotonic()
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                req = urllib.request.Request(self.url, headers={"Accept": PROMETHEUS_ACCEPT,
                                                                "Accept-Encoding": "gzip"})
                with urllib.request.urlopen(req, timeout=max(self.interval, 60)) as r:
                    r.read()
                self.scrapes += 1
                self.seconds += time.monotonic() - t0
            except OSError as exc:
                self.errors += 1
                self.last_error = str(exc)
            tick += self.interval
            self._stop.wait(max(0.0, tick - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(120)


class PromVm:
    """VictoriaMetrics, then a Prometheus scraping the given targets every ``interval`` seconds and
    remote-writing every sample to it."""

    def __init__(self, workdir: Path, interval: float) -> None:
        prometheus, vm = shutil.which("prometheus"), shutil.which("victoria-metrics")
        if prometheus is None or vm is None:
            raise RuntimeError("--victoria needs Debian's prometheus and victoria-metrics on PATH")
        self.workdir, self.interval = workdir, interval
        self.vm_url = f"http://127.0.0.1:{free_port()}"
        vm_log = (workdir / "vm.log").open("wb")
        self.vm = subprocess.Popen(guarded([vm, f"-storageDataPath={workdir / 'vm'}",
                                            f"-httpListenAddr={self.vm_url.removeprefix('http://')}",
                                            "-loggerLevel=ERROR"]), stdout=vm_log, stderr=vm_log,
                                   start_new_session=True)
        self.prom: subprocess.Popen[bytes] | None = None
        _wait_http(self.vm_url + "/health", self.vm, "victoria-metrics")
        self.prom_url = f"http://127.0.0.1:{free_port()}"
        self.config = workdir / "prometheus.yml"
        self.set_targets("ftthnoc", [])
        prom_log = (workdir / "prometheus.log").open("wb")
        self.prom = subprocess.Popen(guarded([prometheus, f"--config.file={self.config}",
                                              f"--storage.tsdb.path={workdir / 'tsdb'}",
                                              f"--web.listen-address={self.prom_url.removeprefix('http://')}",
                                              "--log.level=warn"]),
                                     stdout=prom_log, stderr=prom_log, start_new_session=True)
        _wait_http(self.prom_url + "/-/ready", self.prom, "prometheus")

    def set_targets(self, job: str, urls: list[str]) -> None:
        """Scrape these ``http://host:port/metrics`` URLs (only these); Prometheus reloads on SIGHUP."""
        hosts = [urllib.parse.urlsplit(u).netloc for u in urls]
        doc: dict[str, Any] = {
            "global": {"scrape_interval": f"{self.interval:g}s", "scrape_timeout": f"{min(self.interval, 60):g}s"},
            "scrape_configs": [{"job_name": job, "static_configs": [{"targets": hosts}]}],
            "remote_write": [{"url": f"{self.vm_url}/api/v1/write"}],
        }
        self.config.write_text(yaml.safe_dump(doc))
        if self.prom is not None:
            self.prom.send_signal(signal.SIGHUP)

    def query(self, base: str, promql: str) -> list[dict[str, Any]]:
        url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=30) as r:
            doc = json.load(r)
        if doc.get("status") != "success":
            raise RuntimeError(f"query {promql!r} failed: {doc}")
        result: list[dict[str, Any]] = doc["data"]["result"]
        return result

    def vm_value(self, promql: str) -> float | None:
        """The value of a one-series query in VictoriaMetrics, or None when it shows nothing."""
        result = self.query(self.vm_url, promql)
        return float(result[0]["value"][1]) if result else None

    def scrape_stats(self, job: str) -> str:
        """Prometheus' own view of the last scrape of ``job``: duration and samples."""
        dur = self.query(self.prom_url, f'scrape_duration_seconds{{job="{job}"}}')
        n = self.query(self.prom_url, f'scrape_samples_scraped{{job="{job}"}}')
        if not dur or not n:
            return "no scrape recorded"
        return f"last scrape {float(dur[0]['value'][1]):.2f} s, {int(float(n[0]['value'][1])):,} samples"

    def cpu_s(self) -> tuple[float, float]:
        """(Prometheus, VictoriaMetrics) CPU seconds so far."""
        assert self.prom is not None
        return process_cpu_s(self.prom.pid), process_cpu_s(self.vm.pid)

    def stop(self) -> None:
        stop_process(self.prom, 60)
        stop_process(self.vm, 60)


_REFERENCE = r"""
import sys, time
from prometheus_client import CollectorRegistry, Gauge, start_http_server
n, families = int(sys.argv[1]), 14
registry = CollectorRegistry()
per = -(-n // families)
made = 0
for k in range(families):
    g = Gauge(f"ftth_reference_{k}", "A reference gauge.", ["olt", "pon_port", "onu_id", "district"], registry=registry)
    for i in range(min(per, n - made)):
        g.labels(f"olt{i // 1400}", f"0/1/{(i % 1400) // 64}", str(i % 64), "district").set(-20.5 + i % 97)
    made += min(per, n - made)
server, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
print(f"http://127.0.0.1:{server.server_port}/metrics", flush=True)
while True:
    time.sleep(3600)
"""


class Reference:
    """A plain prometheus_client registry of ``samples`` labelled gauges on its own HTTP server."""

    def __init__(self, samples: int) -> None:
        self.proc = subprocess.Popen(guarded([sys.executable, "-c", _REFERENCE, str(samples)]),
                                     stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().decode().strip()
        if not self.url.startswith("http://"):
            self.stop()
            raise RuntimeError("the reference exporter did not start")

    def cpu_s(self) -> float:
        return process_cpu_s(self.proc.pid)

    def stop(self) -> None:
        stop_process(self.proc, 30)
