"""Fixtures: a real VictoriaMetrics process per test (or per session), and small HTTP servers that
misbehave in the ways the writer must survive (answer 400, hang, drop the connection).

VictoriaMetrics is the server under test because it speaks InfluxDB's ``/api/v2/write`` and is a
single static binary from Debian (``victoria-metrics``); without it these tests skip with the reason.
How it maps what we write: measurement ``m`` + field ``f`` → metric ``m_f``, tags → labels, timestamps
kept to the millisecond; ``/api/v1/export`` returns raw samples, but only after ``/internal/force_flush``.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ftthnoc.samples import MetricFamily
from tests.ports import free_port
from tests.waiting import wait_until

VM_BINARY = "victoria-metrics"


def wait_for(cond: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """``tests.waiting.wait_until`` (its deadline stretched by the machine's load), for these tests."""
    wait_until(cond, timeout, what)


Series = dict[tuple[str, frozenset[tuple[str, str]]], list[tuple[int, float]]]


@dataclass
class VictoriaMetrics:
    """One victoria-metrics process on loopback; ``kill()`` and ``start()`` keep port and data path."""

    binary: str
    data: Path
    port: int = field(default_factory=free_port)
    dedup: bool = False
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [self.binary, f"-storageDataPath={self.data}", f"-httpListenAddr=127.0.0.1:{self.port}",
                "-retentionPeriod=100y", "-loggerLevel=ERROR"]
        if self.dedup:
            args.append("-dedup.minScrapeInterval=1ms")
        log = (self.data.parent / f"vm-{self.port}.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=log)
        log.close()
        proc = self.proc

        def healthy() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"victoria-metrics exited with {proc.returncode}")
            with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                return r.status == 200

        wait_until(healthy, 15, "victoria-metrics to answer /health", retry_on=(OSError,))

    def kill(self) -> None:
        """SIGKILL: no flush, no goodbye (data not yet flushed by VictoriaMetrics itself is lost)."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def flush(self) -> None:
        urllib.request.urlopen(self.url + "/internal/force_flush", timeout=10).read()

    def persist(self) -> None:
        """Make what was acknowledged survive a SIGKILL: VictoriaMetrics 1.79 keeps about the last 5 s
        in memory (``force_flush`` makes it searchable, not durable); creating a snapshot writes it out."""
        self.flush()
        urllib.request.urlopen(self.url + "/snapshot/create", timeout=10).read()

    def export(self, match: str = '{__name__!=""}') -> list[dict[str, object]]:
        """Raw samples (``/api/v1/export``) after a force flush, one dict per series."""
        self.flush()
        data = urllib.parse.urlencode({"match[]": match}).encode()
        with urllib.request.urlopen(urllib.request.Request(self.url + "/api/v1/export", data=data), timeout=30) as r:
            return [json.loads(line) for line in r.read().decode("utf-8").splitlines() if line.strip()]

    def series(self, match: str = '{__name__!=""}') -> Series:
        """``(name, labels) -> [(timestamp_ms, value), ...]`` as stored, in VictoriaMetrics' order."""
        out: Series = {}
        for row in self.export(match):
            metric = dict(row["metric"])  # type: ignore[call-overload]
            name = metric.pop("__name__")
            key = (name, frozenset(metric.items()))
            out[key] = list(zip(row["timestamps"], row["values"], strict=True))  # type: ignore[call-overload]
        return out


@pytest.fixture(scope="session")
def vm_binary() -> str:
    path = shutil.which(VM_BINARY) or ("/usr/bin/victoria-metrics" if os.path.exists("/usr/bin/victoria-metrics")
                                       else None)
    if path is None:
        pytest.skip("victoria-metrics not installed (apt-get install victoria-metrics): the InfluxDB writer is "
                    "tested against a real server only")
    return path


StartVM = Callable[..., VictoriaMetrics]


@pytest.fixture
def start_vm(vm_binary: str, tmp_path: Path) -> Iterator[StartVM]:
    """Start VictoriaMetrics processes with their own data paths in tmp; all are stopped afterwards."""
    running: list[VictoriaMetrics] = []

    def start(dedup: bool = False) -> VictoriaMetrics:
        vm = VictoriaMetrics(vm_binary, tmp_path / f"vm-data-{len(running)}", dedup=dedup)
        vm.start()
        running.append(vm)
        return vm

    yield start
    for vm in running:
        vm.stop()


@pytest.fixture
def vm(start_vm: StartVM) -> VictoriaMetrics:
    """A fresh VictoriaMetrics without deduplication: any sample sent twice shows up twice."""
    return start_vm()


# --------------------------------------------------------------------------- families
BASE_NS = (time.time_ns() // 1_000_000_000 - 3600) * 1_000_000_000  # an hour ago, whole seconds


def poll_ns(i: int) -> int:
    """Timestamp of the i-th test poll: one second apart, in the past (export stops at now)."""
    return BASE_NS + i * 1_000_000_000


def onu_families(olt: str, n_onus: int, poll: int, district: str = "千代田",
                 prefix: str = "ftth") -> list[MetricFamily]:
    """A GPON module's families for one OLT; values vary with the poll so each point is recognisable."""
    up = MetricFamily(f"{prefix}_onu_up", "1 if the ONU runs.")
    rx = MetricFamily(f"{prefix}_onu_rx_power_dbm", "ONU Rx.", unit="dbm")
    info = MetricFamily(f"{prefix}_onu_info", "ONU serial.", "info")
    for onu in range(n_onus):
        lab = {"olt": olt, "pon_port": "0/1/0", "onu_id": str(onu), "district": district}
        up.add(lab, 1.0)
        rx.add(lab, round(-20.0 - onu * 0.01 - poll * 0.001, 3))
        info.add({**lab, "serial": f"HWTC-{onu:08X}"}, 1)
    return [up, rx, info]


# --------------------------------------------------------------------------- misbehaving servers
@dataclass
class Recorded:
    status: int
    body: bytes  # decompressed line protocol


class _LoopbackHttp:
    """An HTTP test server on a free loopback port, in a daemon thread."""

    server: ThreadingHTTPServer

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class MiniInflux(_LoopbackHttp):
    """A tiny HTTP server with a settable answer per request, standing in for the server only where no
    real server can be made to answer that way (VictoriaMetrics skips malformed lines with 204)."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.answer: Callable[[bytes], int] = lambda body: 204
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                status = owner.answer(body)
                owner.requests.append(Recorded(status, body))
                payload = b"" if status == 204 else json.dumps(
                    {"code": "invalid", "message": f"partial write: field type conflict (test {status})"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._serve(Handler)

    def accepted(self) -> list[bytes]:
        return [r.body for r in self.requests if r.status == 204]


@pytest.fixture
def mini_influx() -> Iterator[MiniInflux]:
    server = MiniInflux()
    yield server
    server.close()


class HangingServer:
    """Accepts TCP connections and never answers: a wedged server or a black-holed proxy."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.conns: list[socket.socket] = []
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.conns.append(conn)
            except OSError:
                continue

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self._stop = True
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.fixture
def hanging_server() -> Iterator[HangingServer]:
    server = HangingServer()
    yield server
    server.close()


class RecordingProxy(_LoopbackHttp):
    """Forwards every write to the real server and records the ones it acknowledged, in arrival order,
    so a test can check the *order* of delivery (the stored data cannot tell). When the server is down
    it drops the client's connection without an answer, which the writer sees as a connection error."""

    def __init__(self, upstream: Callable[[], str]) -> None:
        self.acked: list[bytes] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-encoding", "content-type",
                                                                                  "authorization")}
                req = urllib.request.Request(upstream() + self.path, data=raw, headers=headers)
                try:
                    with urllib.request.urlopen(req, timeout=5) as resp:
                        status, payload = resp.status, resp.read()
                except urllib.error.HTTPError as err:
                    status, payload = err.code, err.read()
                except OSError:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if 200 <= status < 300:
                    body = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                    owner.acked.append(body)
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._serve(Handler)


def timestamps_of(body: bytes) -> list[int]:
    return [int(line.rsplit(b" ", 1)[1]) for line in body.splitlines() if line.strip()]
