"""Benchmark: end-to-end freshness. An ONU goes down in a simulated agent; how long until ``/metrics`` says so?

It starts the simulated prefecture (``simulator.generate.prefecture``; default 10 towns of 7,000 ONUs,
the OLTs served by ``--agent-processes`` snmpsim processes), runs the real ``python -m app serve`` on
its poller configuration (every module of every OLT, SNMPv3 on the Huawei OLTs as configured, every
``--interval`` seconds, no InfluxDB, no inventory), waits until every OLT's ONUs are in ``/metrics``,
then ``--samples`` times: cuts a PON port's feeder (``simulator.faults.cut_pon_port``: the OLT's data
rewritten, its agent process restarted; the clock starts when the agent answers again) and scrapes
``/metrics`` every ``--scrape-gap`` seconds until that port's first ONU reads ``ftth_onu_up 0``. The
freshness is the time from the change to the end of the first scrape that shows it; its resolution is
one scrape and one gap.

What bounds it: the OLT's next poll (its own clock: up to one interval later), that poll's duration,
and one scrape. The agents' restart makes a poll in flight on that process's OLTs fail (as an OLT
reboot would); the next one sees the change. It also prints the serve process's CPU per second while
it polls (its core use at that interval, with every module and SNMPv3, unlike ``bench/scale.py``'s
v2c ONU columns).

Serve's CPU (``--cpu-intervals N``): after the first polls, ``serve``'s whole-process CPU over N poll
intervals while it is scraped every ``--scrape-interval`` seconds (15 s, Prometheus' default) and nothing
else asks it anything, in cores; with ``--reference``, side by side with a plain prometheus_client
registry serving the same number of samples on its own HTTP server, scraped the same way for
``--reference-seconds`` (``bench/exposition.py``).

VictoriaMetrics (``--victoria``): a real Prometheus scrapes ``serve`` every ``--scrape-interval`` seconds
and ``remote_write``s to a VictoriaMetrics single node; each change is then also timed until VM's
``/api/v1/query`` shows the ONU's ``ftth_onu_up 0`` (VM's default ``-search.latencyOffset`` of 30 s,
which hides the newest points from queries, is left as a deployment has it). The scraper of the CPU
measurement is then that Prometheus.

Run: ``python bench/freshness.py --towns 10 --interval 120``; at 70,000 ONUs with everything:
``--towns 10 --interval 300 --samples 1 --cpu-intervals 2 --reference --victoria``. A benchmark, not a
test: it exits 0 whatever the figures, non-zero when something broke.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from bench.exposition import PromVm, Reference, Scraper
from bench.soak import guarded, process_cpu_s, stop_process
from simulator.agents import TownAgents
from simulator.faults import cut_pon_port
from simulator.generate.prefecture import generate_prefecture


@dataclass
class Sample:
    olt: str
    pon_port: str
    onus_cut: int
    restart_s: float
    freshness_s: float
    scrapes: int
    scrape_s: float
    vm_freshness_s: float | None = None


class Serve:
    """``python -m app serve`` on a config, listening on a free loopback port."""

    def __init__(self, config: Path, workdir: Path, tree: Path | None = None) -> None:
        """``tree``: another checkout's source tree to run ``serve`` from (a before/after comparison)."""
        tree = tree or Path(__file__).resolve().parents[1]
        env = {**os.environ, "PYTHONPATH": str(tree), "FTTHNOC_LISTEN_HOST": "127.0.0.1", "FTTHNOC_LISTEN_PORT": "0",
               "FTTHNOC_DATABASE_URL": f"sqlite:///{workdir / 'none.db'}", "FTTHNOC_DATA_DIR": str(workdir / "var")}
        env.pop("FTTHNOC_INFLUX_URL", None)
        self.log_path = workdir / "serve.log"
        with self.log_path.open("wb") as err:
            self.proc = subprocess.Popen(guarded([sys.executable, "-m", "app", "serve", "--config", str(config)]),
                                         stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                         cwd=tree, start_new_session=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()  # "ftthnoc: serving http://127.0.0.1:PORT/metrics"
        if "serving" not in line:
            self.stop()
            raise RuntimeError(f"ftthnoc serve did not start: {line!r}\n{self.log_path.read_text()[-3000:]}")
        self.url = line.split("serving", 1)[1].strip()
        out = self.proc.stdout
        threading.Thread(target=out.read, daemon=True).start()  # drain

    def scrape(self) -> bytes:
        if self.proc.poll() is not None:
            raise RuntimeError(f"ftthnoc serve exited: {self.log_path.read_text()[-3000:]}")
        with urllib.request.urlopen(self.url, timeout=120) as r:
            body: bytes = r.read()
            return body

    def cpu_s(self) -> float:
        return process_cpu_s(self.proc.pid)

    def stop(self) -> None:
        stop_process(self.proc, 60)


def onu_up(text: bytes, olt: str, port: str, onu_id: int) -> float | None:
    """The value of ``ftth_onu_up`` for one ONU in an exposition, or None when it is not there."""
    want = (f'olt="{olt}"'.encode(), f'pon_port="{port}"'.encode(), f'onu_id="{onu_id}"'.encode())
    for line in text.splitlines():
        if line.startswith(b"ftth_onu_up{") and all(w in line for w in want):
            return float(line.rsplit(b" ", 1)[1])
    return None


def olts_seen(text: bytes) -> set[str]:
    seen = set()
    for line in text.splitlines():
        if line.startswith(b"ftth_onu_up{"):
            seen.add(line.split(b'olt="', 1)[1].split(b'"', 1)[0].decode())
    return seen


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--towns", type=int, default=10, help="towns in the prefecture (default 10)")
    ap.add_argument("--onus-per-town", type=int, default=7000, help="ONUs per town (default 7000)")
    ap.add_argument("--agent-processes", type=int, default=4, help="snmpsim processes for the OLTs (default 4)")
    ap.add_argument("--interval", type=float, default=120, help="the poller's interval_seconds (default 120)")
    ap.add_argument("--samples", type=int, default=2, help="changes to time (default 2)")
    ap.add_argument("--scrape-gap", type=float, default=2.0,
                    help="seconds between two scrapes while waiting for the change (default 2)")
    ap.add_argument("--timeout", type=float, default=10.0, help="the targets' request timeout (default 10 s)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--poll-timeout", type=float, default=None,
                    help="each target's poll_timeout (default: the interval bounds a poll); above the interval "
                         "when the simulators cannot answer a whole poll within it")
    ap.add_argument("--cpu-intervals", type=float, default=0,
                    help="measure serve's CPU over this many intervals after the first polls (default 0: not)")
    ap.add_argument("--scrape-interval", type=float, default=15.0,
                    help="the scraper's (or Prometheus') interval for the CPU measure and VM (default 15 s)")
    ap.add_argument("--reference", action="store_true",
                    help="also measure a plain prometheus_client registry of the same number of samples")
    ap.add_argument("--reference-seconds", type=float, default=180.0,
                    help="how long the reference is scraped (default 180 s)")
    ap.add_argument("--serve-tree", type=Path, default=None,
                    help="run serve from this source tree (e.g. `git archive main` unpacked: the before figure)")
    ap.add_argument("--victoria", action="store_true",
                    help="Prometheus scraping serve, remote_write to VictoriaMetrics; time the change there too")
    ap.add_argument("--json", action="store_true", help="also print one machine-readable JSON line")
    args = ap.parse_args(argv)

    # stopped with SIGTERM (a background run ignores SIGINT): still stop serve, Prometheus and the agents
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load0 = os.getloadavg()
    town = generate_prefecture(args.towns, args.onus_per_town, args.seed)
    with tempfile.TemporaryDirectory(prefix="ftthnoc-fresh-") as tmp, \
            TownAgents(town, olt_processes=min(args.agent_processes, len(town.olts))) as agents:
        workdir = Path(tmp)
        config = workdir / "config.yaml"
        doc = agents.poller_config(interval_seconds=args.interval)
        for target in doc["targets"]:  # a few agent processes serving many OLTs answer slower than one each
            target["timeout"] = args.timeout
            if args.poll_timeout:
                target["poll_timeout"] = args.poll_timeout
        config.write_text(yaml.safe_dump(doc, sort_keys=False))
        onus = sum(1 for _ in agents.town.onus())
        print(f"freshness: {onus:,} ONUs on {len(town.olts)} OLTs ({len(agents.processes)} snmpsim processes, up "
              f"in {agents.startup_seconds:.0f} s), serve interval {args.interval:g} s, load average "
              f"{load0[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
        promvm = PromVm(workdir, args.scrape_interval) if args.victoria else None
        serve = Serve(config, workdir, args.serve_tree)
        cpu_line, ref_line, vm_line = "", "", ""
        result: dict[str, object] = {}
        try:
            if promvm is not None:
                promvm.set_targets("ftthnoc", [serve.url])
            t0 = time.monotonic()
            all_olts = {o.name for o in town.olts}
            while True:  # every OLT's ONUs in /metrics: the first polls are done
                body = serve.scrape()
                if olts_seen(body) >= all_olts:
                    break
                if time.monotonic() - t0 > 30 * 60:
                    raise RuntimeError(f"OLTs never in /metrics: {sorted(all_olts - olts_seen(body))}")
                time.sleep(max(1.0, args.scrape_gap))  # the bench waits for the poller, it is not a test
            first = time.monotonic() - t0
            n_samples = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
            print(f"first polls of every OLT done in {first:.0f} s; /metrics {len(body) / 1e6:.1f} MB, "
                  f"{n_samples:,} samples", flush=True)
            if args.cpu_intervals > 0:
                cpu_line, serve_cores = measure_serve(serve, promvm, args)
                result["serve_cores_scraped"] = serve_cores
            if args.reference:  # before the changes: a 70k change may take longer than the time at hand
                ref_line, ref_cores = measure_reference(n_samples, promvm, args)
                result["reference_cores"] = ref_cores
                if "serve_cores_scraped" in result:
                    ref_line += f"; serve / reference {serve_cores / ref_cores:.3f}×"
                print(ref_line, flush=True)
                if promvm is not None:
                    promvm.set_targets("ftthnoc", [serve.url])
            cpu0, wall0 = serve.cpu_s(), time.monotonic()
            samples: list[Sample] = []
            for k in range(args.samples):
                olt = town.olts[(k * 7 + 3) % len(town.olts)]  # different towns and vendors
                port = next(p for p in olt.pon_ports if sum(u.online for u in p.onus) >= 8)
                onu = next(u for u in port.onus if u.online)
                if onu_up(serve.scrape(), olt.name, port.name, onu.onu_id) != 1:
                    raise RuntimeError(f"{olt.name} {port.name} ONU {onu.onu_id} is not up in /metrics")
                promql = f'ftth_onu_up{{olt="{olt.name}",pon_port="{port.name}",onu_id="{onu.onu_id}"}}'
                if promvm is not None:
                    wait_vm(promvm, promql, 1.0, 10 * args.scrape_interval + 120)
                r0 = time.monotonic()
                fault = cut_pon_port(agents, olt.name, port.name)
                changed = time.monotonic()
                scrapes, scrape_total = 0, 0.0
                seen: float | None = None
                vm_seen: float | None = None if promvm is not None else 0.0
                while seen is None or vm_seen is None:
                    if seen is None:
                        s0 = time.monotonic()
                        body = serve.scrape()
                        scrapes, scrape_total = scrapes + 1, scrape_total + time.monotonic() - s0
                        if onu_up(body, olt.name, port.name, onu.onu_id) == 0:
                            seen = time.monotonic() - changed
                    if vm_seen is None and promvm is not None and promvm.vm_value(promql) == 0:
                        vm_seen = time.monotonic() - changed
                    if time.monotonic() - changed > 3 * args.interval + 600:
                        raise RuntimeError(f"{olt.name} {port.name}: the cut never showed "
                                           f"({'in VictoriaMetrics' if seen is not None else 'in /metrics'})")
                    time.sleep(args.scrape_gap)  # a 70k-ONU exposition is large: do not scrape it without end
                assert seen is not None
                sample = Sample(olt.name, port.name, len(fault.before), changed - r0, seen, scrapes,
                                scrape_total / scrapes, vm_seen if promvm is not None else None)
                samples.append(sample)
                in_vm = f"; in VictoriaMetrics after {sample.vm_freshness_s:.1f} s" if promvm is not None else ""
                print(f"  {sample.olt} {sample.pon_port} ({sample.onus_cut} ONUs cut; agent restart "
                      f"{sample.restart_s:.1f} s): in /metrics after {sample.freshness_s:.1f} s ({scrapes} scrapes "
                      f"of {sample.scrape_s:.1f} s){in_vm}", flush=True)
            cpu, wall = serve.cpu_s() - cpu0, time.monotonic() - wall0
        finally:
            serve.stop()
            if promvm is not None:
                promvm.stop()
    worst = max((s.freshness_s for s in samples), default=0.0)
    if promvm is not None and samples:
        vm_line = f"; in VictoriaMetrics worst {max(s.vm_freshness_s or 0 for s in samples):.1f} s"
    print(f"freshness: worst {worst:.1f} s{vm_line}, bound interval + poll + scrape ({args.interval:g} s + ...); serve "
          f"process while polling and scraped by the bench: {cpu / wall:.2f} core ({cpu:.0f} CPU s in {wall:.0f} s); "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    for line in (cpu_line, ref_line):
        if line:
            print(line)
    if args.json:
        print(json.dumps({"onus": onus, "olts": len(town.olts), "interval": args.interval, "first_polls_s": first,
                          "samples_in_metrics": n_samples, "samples": [asdict(s) for s in samples],
                          "serve_cores": cpu / wall, **result}))
    return 0


def wait_vm(promvm: PromVm, promql: str, want: float, seconds: float) -> None:
    """Until VictoriaMetrics shows ``want`` for the query (the pipeline works before a change is timed)."""
    t0 = time.monotonic()
    while promvm.vm_value(promql) != want:
        if time.monotonic() - t0 > seconds:
            raise RuntimeError(f"VictoriaMetrics never showed {promql} = {want:g}")
        time.sleep(2)  # the bench waits for Prometheus and VM, it is not a test


def measure_serve(serve: Serve, promvm: PromVm | None, args: argparse.Namespace) -> tuple[str, float]:
    """serve's cores over ``--cpu-intervals`` intervals, polled and scraped every ``--scrape-interval``."""
    scraper = None if promvm is not None else Scraper(serve.url, args.scrape_interval)
    load0 = os.getloadavg()[0]
    side0 = promvm.cpu_s() if promvm is not None else (0.0, 0.0)
    cpu0, wall0 = serve.cpu_s(), time.monotonic()
    deadline = wall0 + args.cpu_intervals * args.interval
    while time.monotonic() < deadline:
        if serve.proc.poll() is not None:
            raise RuntimeError(f"ftthnoc serve exited: {serve.log_path.read_text()[-3000:]}")
        time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))  # the measurement window itself
    cpu, wall = serve.cpu_s() - cpu0, time.monotonic() - wall0
    if scraper is not None:
        scraper.stop()
        if scraper.errors:
            raise RuntimeError(f"{scraper.errors} scrapes of serve failed: {scraper.last_error}")
        how = f"{scraper.scrapes} scrapes by the bench, {scraper.seconds / max(1, scraper.scrapes):.2f} s each"
    else:
        assert promvm is not None
        prom, vm = (a - b for a, b in zip(promvm.cpu_s(), side0, strict=True))
        how = (f"scraped by Prometheus ({promvm.scrape_stats('ftthnoc')}); Prometheus {prom / wall:.2f} core, "
               f"VictoriaMetrics {vm / wall:.2f} core")
    line = (f"serve CPU: {cpu / wall:.3f} core ({cpu:.0f} CPU s in {wall:.0f} s = {args.cpu_intervals:g} intervals of "
            f"{args.interval:g} s), scraped every {args.scrape_interval:g} s: {how}; load average "
            f"{load0:.1f} → {os.getloadavg()[0]:.1f}")
    print(line, flush=True)
    return line, cpu / wall


def measure_reference(n_samples: int, promvm: PromVm | None, args: argparse.Namespace) -> tuple[str, float]:
    """A plain prometheus_client registry of the same number of samples, scraped the same way."""
    ref = Reference(n_samples)
    try:
        if promvm is not None:
            promvm.set_targets("reference", [ref.url])
        scraper = None if promvm is not None else Scraper(ref.url, args.scrape_interval)
        time.sleep(args.scrape_interval)  # one scrape interval of warm-up: the first scrape may be partial
        cpu0, wall0 = ref.cpu_s(), time.monotonic()
        time.sleep(args.reference_seconds)  # the measurement window itself
        cpu, wall = ref.cpu_s() - cpu0, time.monotonic() - wall0
        if scraper is not None:
            scraper.stop()
            how = f"{scraper.scrapes} scrapes by the bench, {scraper.seconds / max(1, scraper.scrapes):.2f} s each"
        else:
            assert promvm is not None
            how = f"scraped by Prometheus ({promvm.scrape_stats('reference')})"
    finally:
        ref.stop()
    line = (f"reference (plain prometheus_client registry, {n_samples:,} samples, its own HTTP server): "
            f"{cpu / wall:.3f} core over {wall:.0f} s, {how}; load average {os.getloadavg()[0]:.1f}")
    print(line, flush=True)
    return line, cpu / wall


if __name__ == "__main__":
    sys.exit(main())
