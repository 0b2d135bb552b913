"""Soak: ``ftthnoc serve`` polling the simulated town for an hour while things break, then what it cost.

Why it exists: a poller for a town runs for months. What a benchmark of one poll cannot show is
whether memory, open files or threads creep up poll after poll, whether a time-series outage loses
points, and whether the faults a town really has (a cut feeder, a power cut, an OLT that reboots, an
agent that answers forever, a scraper that gives up) leave anything behind. This runs the real
command for ``--minutes`` and measures that.

What runs (every process on loopback, in a temporary directory, all stopped at the end, also on
Ctrl-C or SIGTERM):

* the simulated town (``simulator.agents.TownAgents``, ``--onus`` ONUs), with an SQLite inventory
  loaded from it, so that the incident engine and the KPI recorder run as consumers;
* three hostile agents as extra ``if_mib`` targets: ``endless`` (always answers one step further
  inside the asked subtree: only the walk's bounds end it), ``oversized`` (a 401-octet Counter64
  among sane rows) and ``silent`` (never answers: a timeout each poll);
* VictoriaMetrics as the InfluxDB target (``/api/v2/write``);
* ``python -m app serve --config FILE`` with ``agents.poller_config(interval_seconds=--interval)``
  plus the hostile targets, ``FTTHNOC_INFLUX_URL`` at VictoriaMetrics, ``FTTHNOC_LISTEN_PORT=0``.

Faults, in cycles of about ten minutes (one cycle for a run of less than twenty), at fixed fractions of
each cycle: a feeder cut (``simulator.faults.cut_pon_port``), VictoriaMetrics stopped then started
again (SIGTERM: the writer spools), a power cut (30 % of a district), an OLT's agent restarted,
VictoriaMetrics hung (SIGSTOP: requests time out) then resumed, every fault repaired, another feeder
cut and its repair. Throughout, every ``--abandon-seconds`` a ``/snmp`` request that the caller
abandons after 0.3 s (to the endless agent, the silent one, or a whole OLT's GPON module), and every
fifth one waited for instead.

Every ``--sample-seconds`` (60) the serve process is sampled: RSS and threads (``/proc/PID/status``),
open file descriptors (``/proc/PID/fd``), CPU, and its ``ftthnoc_influx_*`` and ``ftthnoc_consumer_*``
metrics. Sampling starts once every target has been polled and the first points were acknowledged.

At the end, points are accounted without a race: every fault is repaired and the spool drained;
VictoriaMetrics is stopped (SIGTERM: it writes out what it acknowledged), so that the written counter
stops; that counter is read; ``serve`` is stopped (what it could not send is spooled on disk and
counted there); VictoriaMetrics is started again and its distinct (series, timestamp) points are
counted from ``/api/v1/export``. Lost = acknowledged - stored. Growth of RSS, file descriptors and
threads is the median of the last quarter of the samples against the first quarter.

Run: ``.venv/bin/python bench/soak.py --minutes 60 --onus 1000 --interval 15``. A benchmark, not a
test: it prints a report (Markdown tables, ``--json`` for one machine-readable line) and exits 0,
non-zero only when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families
from pyasn1.codec.ber import decoder as pyasn1_decoder
from pysnmp.proto import api as snmp_api

from collectors.snmp import ber
from exporters.influx.points import split_name
from exporters.influx.spool import Spool
from ftthnoc.inventory import db, io
from simulator import faults
from simulator.agents import TownAgents
from simulator.town import V2_AUTH_NAME, generate_town

# Run in the child before exec: die with this script (SIGTERM) even if it is killed with SIGKILL.
_BOOT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, int(signal.SIGTERM))\n"
    "os.getppid() == int(sys.argv[1]) or os._exit(70)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def guarded(cmd: list[str]) -> list[str]:
    return [sys.executable, "-c", _BOOT, str(os.getpid()), *cmd]


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a whole process (every thread), from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 30.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGCONT)  # a paused process cannot act on SIGTERM
        proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# --------------------------------------------------------------------------- VictoriaMetrics
@dataclass
class VictoriaMetrics:
    """One victoria-metrics process; stop/start keep its port and data (as after a reboot)."""

    binary: str
    data: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    paused: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [self.binary, f"-storageDataPath={self.data}", f"-httpListenAddr=127.0.0.1:{self.port}",
                "-retentionPeriod=100y", "-loggerLevel=ERROR"]
        with (self.data.parent / "victoria-metrics.log").open("ab") as out:
            self.proc = subprocess.Popen(guarded(args), stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"victoria-metrics exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("victoria-metrics did not answer /health")

    def stop(self) -> None:
        """SIGTERM: it stops taking writes and writes out everything it acknowledged."""
        stop_process(self.proc, 60)
        self.proc, self.paused = None, False

    def pause(self) -> None:
        """SIGSTOP: the kernel still accepts connections, nobody answers (a hung server)."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGCONT)
            self.paused = False

    def count_points(self) -> tuple[int, int]:
        """(distinct points, raw samples) stored: a point is one line protocol line, i.e. one (measurement,
        tags, timestamp); VictoriaMetrics keeps each of its fields as a series ``measurement_field``."""
        urllib.request.urlopen(self.url + "/internal/force_flush", timeout=60).read()
        data = urllib.parse.urlencode({"match[]": '{__name__!=""}'}).encode()
        points: dict[tuple[str, tuple[tuple[str, str], ...]], set[int]] = {}
        samples = 0
        req = urllib.request.Request(self.url + "/api/v1/export", data=data)
        with urllib.request.urlopen(req, timeout=600) as r:
            for line in r:
                row = json.loads(line)
                metric = dict(row["metric"])
                measurement, _ = split_name(metric.pop("__name__"))
                key = (measurement, tuple(sorted(metric.items())))
                points.setdefault(key, set()).update(row["timestamps"])
                samples += len(row["timestamps"])
        return sum(len(ts) for ts in points.values()), samples


# --------------------------------------------------------------------------- hostile agents
P = snmp_api.PROTOCOL_MODULES[snmp_api.SNMP_VERSION_2C]


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes((tag, n)) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + body


def _response(req_id: int, varbinds: list[tuple[tuple[int, ...], int, bytes]]) -> bytes:
    """A v2c response with these (OID, value tag, value content) varbinds, written octet by octet."""
    vbl = b"".join(_tlv(0x30, ber.encode_oid(o) + _tlv(tag, body)) for o, tag, body in varbinds)
    pdu = _tlv(0xA2, ber.encode_int(req_id) + b"\x02\x01\x00\x02\x01\x00" + _tlv(0x30, vbl))
    return _tlv(0x30, b"\x02\x01\x01" + _tlv(0x04, b"public") + pdu)


IF_MTU = (1, 3, 6, 1, 2, 1, 2, 2, 1, 4)
IF_HC_IN_OCTETS = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6)
END = (1, 3, 6, 1, 2, 1, 99)
Reply = Callable[[int, tuple[int, ...]], bytes]


def endless() -> Reply:
    """Always answers inside the asked subtree, one step further each time (after
    tests/collectors/snmp/misbehaving_agents.py): no walk of it ends by itself."""
    answered: set[tuple[int, ...]] = set()

    def reply(req_id: int, asked: tuple[int, ...]) -> bytes:
        base, last = (asked[:-1], asked[-1]) if asked in answered else (asked, 0)
        oids = [(*base, last + i) for i in range(1, 26)]
        answered.add(oids[-1])
        if len(answered) > 100_000:
            answered.clear()
        return _response(req_id, [(o, 0x02, b"\x05\xdc") for o in oids])

    return reply


def oversized(req_id: int, asked: tuple[int, ...]) -> bytes:
    """if_mib rows where interface 2's ifHCInOctets is a 401-octet Counter64; everything else is sane."""
    rows: list[tuple[tuple[int, ...], int, bytes]] = []
    for column in (IF_MTU, IF_HC_IN_OCTETS):
        for ifindex in (1, 2, 3):
            oid = (*column, ifindex)
            if oid > asked:
                big = column == IF_HC_IN_OCTETS and ifindex == 2
                rows.append((oid, 0x46 if column == IF_HC_IN_OCTETS else 0x02,
                             b"\x01" + b"\x00" * 400 if big else b"\x05\xdc"))
    rows.append((END, 0x82, b""))
    return _response(req_id, rows[:25])


class _Agent(asyncio.DatagramProtocol):
    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            msg, _ = pyasn1_decoder.decode(data, asn1Spec=P.Message())
            pdu = P.apiMessage.get_pdu(msg)
            req_id = int(P.apiPDU.get_request_id(pdu))
            asked = tuple(int(x) for x in P.apiPDU.get_varbinds(pdu)[0][0])
        except Exception:
            return
        self.transport.sendto(self.reply(req_id, asked), addr)


class HostileAgents:
    """``endless`` and ``oversized`` on a thread's event loop; ``silent`` is a socket nobody reads."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.addresses: dict[str, str] = {}
        self._silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._silent.bind(("127.0.0.1", 0))
        self.addresses["silent"] = f"127.0.0.1:{self._silent.getsockname()[1]}"
        self._thread = threading.Thread(target=self.loop.run_forever, name="hostile-agents", daemon=True)
        self._transports: list[Any] = []

    def start(self) -> None:
        self._thread.start()
        for name, reply in (("endless", endless()), ("oversized", oversized)):
            fut = asyncio.run_coroutine_threadsafe(self.loop.create_datagram_endpoint(
                lambda r=reply: _Agent(r), local_addr=("127.0.0.1", 0)), self.loop)  # type: ignore[misc]
            transport, _ = fut.result(10)
            self._transports.append(transport)
            self.addresses[name] = f"127.0.0.1:{transport.get_extra_info('sockname')[1]}"

    def stop(self) -> None:
        for t in self._transports:
            self.loop.call_soon_threadsafe(t.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self._silent.close()

    def targets(self) -> list[dict[str, Any]]:
        return [{"name": f"hostile-{name}", "address": addr, "modules": ["if_mib"], "auth": V2_AUTH_NAME,
                 "timeout": 2.0, "retries": 1, "concurrency": 1} for name, addr in sorted(self.addresses.items())]


# --------------------------------------------------------------------------- the serve process
Metrics = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_metrics(text: str) -> Metrics:
    out: Metrics = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = float(s.value)
    return out


def total(metrics: Metrics, name: str, **labels: str) -> float:
    return sum(v for (n, lab), v in metrics.items()
               if n == name and all(dict(lab).get(k) == want for k, want in labels.items()))


@dataclass
class Serve:
    proc: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def metrics(self, timeout: float = 30.0) -> Metrics:
        with urllib.request.urlopen(self.url + "/metrics", timeout=timeout) as r:
            return parse_metrics(r.read().decode("utf-8"))

    def proc_status(self) -> dict[str, float]:
        status = Path(f"/proc/{self.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return {
            "rss_mib": int(fields["VmRSS"].split()[0]) / 1024,
            "threads": int(fields["Threads"]),
            "fds": len(os.listdir(f"/proc/{self.pid}/fd")),
            "cpu_s": process_cpu_s(self.pid),
        }

    def stop(self) -> None:
        stop_process(self.proc, 60)


def start_serve(config: Path, workdir: Path, vm_url: str, db_url: str) -> Serve:
    env = {**os.environ, "FTTHNOC_INFLUX_URL": vm_url, "FTTHNOC_LISTEN_HOST": "127.0.0.1",
           "FTTHNOC_LISTEN_PORT": "0", "FTTHNOC_INFLUX_SPOOL_DIR": str(workdir / "spool"),
           "FTTHNOC_DATABASE_URL": db_url, "FTTHNOC_DATA_DIR": str(workdir / "var"), "FTTHNOC_LOG_LEVEL": "INFO"}
    log_path = workdir / "serve.log"
    with log_path.open("wb") as err:
        proc = subprocess.Popen(guarded([sys.executable, "-m", "app", "serve", "--config", str(config)]),
                                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                cwd=Path(__file__).resolve().parents[1], start_new_session=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()  # "ftthnoc: serving http://127.0.0.1:PORT/metrics"
    if "serving" not in line:
        proc.kill()
        raise RuntimeError(f"ftthnoc serve did not start: {line!r}\n{log_path.read_text()[-3000:]}")
    url = line.split("serving", 1)[1].strip().removesuffix("/metrics")
    threading.Thread(target=lambda: proc.stdout and proc.stdout.read(), daemon=True).start()  # drain
    return Serve(proc, url, log_path)


# --------------------------------------------------------------------------- abandoned /snmp requests
class Abandoner:
    """Every ``every`` seconds a ``/snmp`` request its caller drops after 0.3 s; every fifth is waited for."""

    def __init__(self, serve: Serve, targets: list[tuple[str, str]], every: float) -> None:
        self.serve, self.targets, self.every = serve, targets, every
        self.abandoned = 0
        self.completed: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="abandoner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)

    def _run(self) -> None:
        i = 0
        host, port = self.serve.url.removeprefix("http://").rsplit(":", 1)
        while not self._stop.wait(self.every):
            target, module = self.targets[i % len(self.targets)]
            query = urllib.parse.urlencode({"target": target, "module": module, "auth": V2_AUTH_NAME})
            i += 1
            try:
                if i % 5 == 0:
                    try:
                        with urllib.request.urlopen(f"{self.serve.url}/snmp?{query}", timeout=60) as r:
                            status = str(r.status)
                    except urllib.error.HTTPError as exc:
                        status = str(exc.code)
                    self.completed[status] = self.completed.get(status, 0) + 1
                    continue
                with socket.create_connection((host, int(port)), timeout=5) as s:
                    s.sendall(f"GET /snmp?{query} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                    time.sleep(0.3)
                self.abandoned += 1
            except OSError as exc:
                self.completed[type(exc).__name__] = self.completed.get(type(exc).__name__, 0) + 1


# --------------------------------------------------------------------------- samples and faults
@dataclass
class Sample:
    t: float
    rss_mib: float
    fds: int
    threads: int
    cpu_s: float
    metrics: dict[str, float]


SAMPLED = ("ftthnoc_influx_up", "ftthnoc_influx_queue_points", "ftthnoc_influx_spool_bytes",
           "ftthnoc_influx_written_points_total", "ftthnoc_influx_spool_dropped_points_total",
           "ftthnoc_influx_write_errors_total", "ftthnoc_consumer_queue", "ftthnoc_consumer_dropped_total",
           "ftthnoc_consumer_busy_seconds_total", "ftthnoc_scrape_errors_total")


def take_sample(serve: Serve, t: float) -> Sample:
    st = serve.proc_status()
    m = serve.metrics()
    flat = {name: total(m, name) for name in SAMPLED}
    for (name, lab), value in m.items():
        if name.startswith("ftthnoc_consumer_") or name == "ftthnoc_influx_write_errors_total":
            flat[name + "{" + ",".join(f"{k}={v}" for k, v in lab) + "}"] = value
    return Sample(t, st["rss_mib"], int(st["fds"]), int(st["threads"]), st["cpu_s"], flat)


@dataclass
class Fault:
    at: float
    name: str
    run: Callable[[], object]


def schedule(seconds: float, agents: TownAgents, vm: VictoriaMetrics) -> list[Fault]:
    town = agents.town
    olts = town.olts
    cycles = max(1, round(seconds / 600))
    length = seconds / cycles
    out: list[Fault] = []
    for c in range(cycles):
        a, b = olts[c % len(olts)], olts[(c + 1) % len(olts)]
        port_a = a.pon_ports[c % len(a.pon_ports)].name
        port_b = b.pon_ports[(c + 1) % len(b.pon_ports)].name
        restart = olts[(c + 2) % len(olts)].name
        start = c * length
        steps: list[tuple[float, str, Callable[[], object]]] = [
            (0.10, f"feeder cut {a.name} {port_a}", lambda a=a.name, p=port_a: faults.cut_pon_port(agents, a, p)),
            (0.20, "VictoriaMetrics stopped (SIGTERM)", vm.stop),
            (0.30, "VictoriaMetrics started", vm.start),
            (0.35, f"power cut 30% of {b.district}",
             lambda d=b.district, c=c: faults.power_cut(agents, d, 0.3, seed=c)),
            (0.45, f"OLT agent restarted {restart}", lambda r=restart: agents.restart(r)),
            (0.50, "VictoriaMetrics hung (SIGSTOP)", vm.pause),
            (0.58, "VictoriaMetrics resumed (SIGCONT)", vm.resume),
            (0.65, "every fault repaired", lambda: faults.restore(agents)),
            (0.75, f"feeder cut {b.name} {port_b}", lambda b=b.name, p=port_b: faults.cut_pon_port(agents, b, p)),
            (0.85, "every fault repaired", lambda: faults.restore(agents)),
        ]
        out += [Fault(start + f * length, name, fn) for f, name, fn in steps]
    return out


# --------------------------------------------------------------------------- the report
def quarter_growth(samples: list[Sample], attr: str) -> tuple[float, float, float]:
    n = len(samples)
    q = max(1, n // 4)
    first = statistics.median(getattr(s, attr) for s in samples[:q])
    last = statistics.median(getattr(s, attr) for s in samples[-q:])
    return first, last, last - first


def report(args: argparse.Namespace, samples: list[Sample], result: dict[str, Any]) -> str:
    lines = [f"soak: {args.minutes:g} min, {args.onus} ONUs on {result['olts']} OLTs, interval {args.interval:g} s, "
             f"{result['targets']} targets ({result['hostile']} hostile), {len(samples)} samples "
             f"every {args.sample_seconds:g} s", ""]
    lines += ["| min | RSS MiB | fds | threads | CPU s | influx up | queue pts | spool bytes | written pts | "
              "write errors | consumer queue | consumer dropped |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in samples:
        m = s.metrics
        lines.append(f"| {s.t / 60:.1f} | {s.rss_mib:.1f} | {s.fds} | {s.threads} | {s.cpu_s:.1f} | "
                     f"{m['ftthnoc_influx_up']:.0f} | {m['ftthnoc_influx_queue_points']:.0f} | "
                     f"{m['ftthnoc_influx_spool_bytes']:.0f} | {m['ftthnoc_influx_written_points_total']:.0f} | "
                     f"{m['ftthnoc_influx_write_errors_total']:.0f} | {m['ftthnoc_consumer_queue']:.0f} | "
                     f"{m['ftthnoc_consumer_dropped_total']:.0f} |")
    lines += ["", "| resource (median of the samples) | first quarter | last quarter | growth | peak |",
              "|---|---|---|---|---|"]
    for attr, label, fmt in (("rss_mib", "RSS (MiB)", ".1f"), ("fds", "open file descriptors", ".0f"),
                             ("threads", "threads", ".0f")):
        first, last, growth = quarter_growth(samples, attr)
        peak = max(getattr(s, attr) for s in samples)
        lines.append(f"| {label} | {first:{fmt}} | {last:{fmt}} | {growth:+{fmt}} | {peak:{fmt}} |")
    r = result
    lines += ["", "| points | count |", "|---|---|",
              f"| acknowledged by the server (`ftthnoc_influx_written_points_total`) | {r['written']:,} |",
              f"| stored in VictoriaMetrics (distinct series × timestamp) | {r['stored']:,} |",
              f"| **lost** (acknowledged − stored) | **{r['lost']:,}** |",
              f"| dropped at the spool bound (`ftthnoc_influx_spool_dropped_points_total`) | {r['dropped']:,} |",
              f"| spooled during outages, then replayed ({r['outages']} outages, from the serve log) | "
              f"{r['replayed']:,} |",
              f"| left in the spool at exit (replayed at the next start) | {r['spooled_at_exit']:,} |",
              f"| batches set aside as rejected | {r['rejected_batches']} |",
              f"| raw samples stored (every field; replays stored twice count twice) | {r['samples']:,} |", ""]
    errors = ", ".join(f"{k} {v:.0f}" for k, v in sorted(r["write_errors"].items())) or "none"
    lines += [f"write errors by kind: {errors}",
              f"faults: {len(r['faults'])} ({'; '.join(sorted(set(r['faults'])))})",
              f"/snmp requests abandoned: {r['abandoned']}, waited for: "
              + (", ".join(f"{k} x{v}" for k, v in sorted(r["completed"].items())) or "none"),
              "failed polls (serve log): " + (", ".join(f"{k} {v}" for k, v in sorted(r["failed_polls"].items()))
                                              or "none"),
              f"serve log: {r['log_warnings']} warnings, {r['log_errors']} errors, {r['tracebacks']} tracebacks; "
              f"exit status {r['exit_status']}; CPU {r['cpu_s']:.0f} s"]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def wait_until(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, KeyError, ValueError):
            if cond():
                return
        time.sleep(1)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def signals_as_interrupt() -> Iterator[None]:
    old = {s: signal.signal(s, _interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def run(args: argparse.Namespace, workdir: Path, stack: contextlib.ExitStack) -> tuple[list[Sample], dict[str, Any]]:
    binary = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"
    if not os.path.exists(binary):
        raise SystemExit("bench/soak.py: victoria-metrics not found (apt-get install victoria-metrics)")
    log(f"starting the simulated town ({args.onus} ONUs) in {workdir}")
    agents = TownAgents(generate_town(onus=args.onus), workdir=workdir / "agents")
    stack.callback(agents.stop)
    agents.start()
    db_url = f"sqlite:///{workdir / 'ftthnoc.db'}"
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    with db.session_scope(engine, actor="soak") as session:
        io.import_document(session, agents.inventory_document())
    engine.dispose()

    hostile = HostileAgents()
    stack.callback(hostile.stop)
    hostile.start()
    doc = agents.poller_config(interval_seconds=args.interval)
    doc["targets"] += hostile.targets()
    config = workdir / "config.yaml"
    config.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")

    vm = VictoriaMetrics(binary, workdir / "vm-data")
    stack.callback(vm.stop)
    vm.start()
    log(f"VictoriaMetrics on {vm.url}; starting ftthnoc serve")
    serve = start_serve(config, workdir, vm.url, db_url)
    stack.callback(serve.stop)
    names = [t["name"] for t in doc["targets"]]

    def all_polled() -> bool:
        m = serve.metrics()
        polled = {dict(lab).get("target") for n, lab in m if n == "ftthnoc_scrape_success"}
        return polled >= set(names) and total(m, "ftthnoc_influx_written_points_total") > 0

    wait_until(all_polled, max(120.0, 4 * args.interval), "the first poll of every target")
    log(f"serve on {serve.url} (pid {serve.pid}): every target polled once; soak of {args.minutes:g} min begins")

    olt = agents.town.olts[0]
    abandoner = Abandoner(serve, [(hostile.addresses["endless"], "if_mib"), (hostile.addresses["silent"], "if_mib"),
                                  (olt.address, "huawei_gpon" if "huawei_gpon" in olt.modules else olt.modules[-1])],
                          args.abandon_seconds)
    stack.callback(abandoner.stop)
    abandoner.start()

    seconds = args.minutes * 60
    plan = schedule(seconds, agents, vm)
    sample_at = [i * args.sample_seconds for i in range(int(seconds // args.sample_seconds) + 1)]
    events: list[tuple[float, int, Any]] = sorted([(t, 0, None) for t in sample_at] + [(f.at, 1, f) for f in plan],
                                                  key=lambda e: (e[0], e[1]))
    samples: list[Sample] = []
    done_faults: list[str] = []
    t0 = time.monotonic()
    for at, _order, fault in events:
        delay = t0 + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if serve.proc.poll() is not None:
            raise RuntimeError(f"ftthnoc serve exited with {serve.proc.returncode}; see {serve.log_path}")
        now = time.monotonic() - t0
        if fault is None:
            s = take_sample(serve, now)
            samples.append(s)
            log(f"sample {now / 60:5.1f} min: RSS {s.rss_mib:.1f} MiB, {s.fds} fds, {s.threads} threads, "
                f"written {s.metrics['ftthnoc_influx_written_points_total']:.0f}, "
                f"spool {s.metrics['ftthnoc_influx_spool_bytes']:.0f} B")
        else:
            log(f"fault at {now / 60:5.1f} min: {fault.name}")
            fault.run()
            done_faults.append(fault.name)

    # ---- accounting, without a race
    abandoner.stop()
    faults.restore(agents)
    if vm.proc is None:
        vm.start()
    vm.resume()
    log("run over: every fault repaired; waiting for the spool to drain")
    wait_until(lambda: (m := serve.metrics())[("ftthnoc_influx_spool_bytes", ())] == 0
               and m[("ftthnoc_influx_up", ())] == 1, 300, "the spool to drain")
    vm.stop()  # the written counter stops: nothing more can be acknowledged
    last = -1.0

    def settled() -> bool:
        nonlocal last
        now = total(serve.metrics(), "ftthnoc_influx_written_points_total")
        same, last = now == last, now
        return same

    wait_until(settled, 120, "the written counter to settle")
    final = serve.metrics()
    cpu_s = serve.proc_status()["cpu_s"]
    serve.stop()
    log(f"serve stopped (exit status {serve.proc.returncode}); counting what VictoriaMetrics holds")
    with Spool(workdir / "spool", 1 << 40, fsync=False) as spool:
        spooled = spool.points
        rejected = len(list(spool.rejected_dir.glob("*"))) if spool.rejected_dir.exists() else 0
    vm.start()
    stored, raw = vm.count_points()
    vm.stop()
    text = serve.log_path.read_text(errors="replace")
    replays = [int(n) for n in re.findall(r"answers again after \d+ failed attempts; (\d+) points spooled", text)]
    failed_polls: dict[str, int] = {}
    for target in re.findall(r"poll failed: ([^:]+):", text):
        failed_polls[target] = failed_polls.get(target, 0) + 1
    written = int(total(final, "ftthnoc_influx_written_points_total"))
    result = {
        "olts": len(agents.town.olts), "targets": len(names), "hostile": len(hostile.addresses),
        "written": written, "stored": stored, "lost": written - stored, "samples": raw,
        "dropped": int(total(final, "ftthnoc_influx_spool_dropped_points_total")),
        "spooled_at_exit": spooled, "rejected_batches": rejected, "replayed": sum(replays), "outages": len(replays),
        "failed_polls": failed_polls,
        "write_errors": {dict(lab)["kind"]: v for (n, lab), v in final.items()
                         if n == "ftthnoc_influx_write_errors_total"},
        "faults": done_faults, "abandoned": abandoner.abandoned, "completed": abandoner.completed,
        "log_warnings": text.count(" WARNING "), "log_errors": text.count(" ERROR "),
        "tracebacks": text.count("Traceback"), "exit_status": serve.proc.returncode, "cpu_s": cpu_s,
    }
    return samples, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--onus", type=int, default=1000)
    ap.add_argument("--interval", type=float, default=60.0, help="the poller's interval_seconds")
    ap.add_argument("--sample-seconds", type=float, default=60.0)
    ap.add_argument("--abandon-seconds", type=float, default=20.0, help="between /snmp requests")
    ap.add_argument("--keep", action="store_true", help="keep the working directory (logs, data)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="ftthnoc-soak-"))
    try:
        with signals_as_interrupt(), contextlib.ExitStack() as stack:
            samples, result = run(args, workdir, stack)
    except KeyboardInterrupt:
        log("interrupted: every process this run started is stopped")
        return 130
    finally:
        if args.keep:
            log(f"working directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(report(args, samples, result))
    if args.json:
        print(json.dumps({"args": vars(args), "result": result, "samples": [s.__dict__ for s in samples]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
