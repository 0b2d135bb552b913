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

Run: ``python bench/freshness.py --towns 10 --interval 120``. A benchmark, not a test: it exits 0
whatever the figures, non-zero when something broke.
"""

from __future__ import annotations

import argparse
import json
import os
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

from bench.soak import guarded, stop_process
from simulator.agents import TownAgents
from simulator.faults import cut_pon_port
from simulator.generate.prefecture import generate_prefecture

_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    olt: str
    pon_port: str
    onus_cut: int
    restart_s: float
    freshness_s: float
    scrapes: int
    scrape_s: float


class Serve:
    """``python -m app serve`` on a config, listening on a free loopback port."""

    def __init__(self, config: Path, workdir: Path) -> None:
        env = {**os.environ, "FTTHNOC_LISTEN_HOST": "127.0.0.1", "FTTHNOC_LISTEN_PORT": "0",
               "FTTHNOC_DATABASE_URL": f"sqlite:///{workdir / 'none.db'}", "FTTHNOC_DATA_DIR": str(workdir / "var")}
        env.pop("FTTHNOC_INFLUX_URL", None)
        self.log_path = workdir / "serve.log"
        with self.log_path.open("wb") as err:
            self.proc = subprocess.Popen(guarded([sys.executable, "-m", "app", "serve", "--config", str(config)]),
                                         stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                         cwd=Path(__file__).resolve().parents[1], start_new_session=True)
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
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK

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
    ap.add_argument("--json", action="store_true", help="also print one machine-readable JSON line")
    args = ap.parse_args(argv)

    load0 = os.getloadavg()
    town = generate_prefecture(args.towns, args.onus_per_town, args.seed)
    with tempfile.TemporaryDirectory(prefix="ftthnoc-fresh-") as tmp, \
            TownAgents(town, olt_processes=min(args.agent_processes, len(town.olts))) as agents:
        workdir = Path(tmp)
        config = workdir / "config.yaml"
        doc = agents.poller_config(interval_seconds=args.interval)
        for target in doc["targets"]:  # a few agent processes serving many OLTs answer slower than one each
            target["timeout"] = args.timeout
        config.write_text(yaml.safe_dump(doc, sort_keys=False))
        onus = sum(1 for _ in agents.town.onus())
        print(f"freshness: {onus:,} ONUs on {len(town.olts)} OLTs ({len(agents.processes)} snmpsim processes, up "
              f"in {agents.startup_seconds:.0f} s), serve interval {args.interval:g} s, load average "
              f"{load0[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
        serve = Serve(config, workdir)
        try:
            t0 = time.monotonic()
            all_olts = {o.name for o in town.olts}
            while True:  # every OLT's ONUs in /metrics: the first polls are done
                body = serve.scrape()
                if olts_seen(body) >= all_olts:
                    break
                if time.monotonic() - t0 > 30 * 60:
                    raise RuntimeError(f"OLTs never in /metrics: {sorted(all_olts - olts_seen(body))}")
                time.sleep(1)  # the bench waits for the poller, it is not a test
            first = time.monotonic() - t0
            cpu0, wall0 = serve.cpu_s(), time.monotonic()
            print(f"first polls of every OLT done in {first:.0f} s; /metrics {len(body) / 1e6:.1f} MB", flush=True)
            samples: list[Sample] = []
            for k in range(args.samples):
                olt = town.olts[(k * 7 + 3) % len(town.olts)]  # different towns and vendors
                port = next(p for p in olt.pon_ports if sum(u.online for u in p.onus) >= 8)
                onu = next(u for u in port.onus if u.online)
                if onu_up(serve.scrape(), olt.name, port.name, onu.onu_id) != 1:
                    raise RuntimeError(f"{olt.name} {port.name} ONU {onu.onu_id} is not up in /metrics")
                r0 = time.monotonic()
                fault = cut_pon_port(agents, olt.name, port.name)
                changed = time.monotonic()
                scrapes, scrape_total = 0, 0.0
                while True:
                    s0 = time.monotonic()
                    body = serve.scrape()
                    scrapes, scrape_total = scrapes + 1, scrape_total + time.monotonic() - s0
                    if onu_up(body, olt.name, port.name, onu.onu_id) == 0:
                        break
                    if time.monotonic() - changed > 3 * args.interval + 600:
                        raise RuntimeError(f"{olt.name} {port.name}: the cut never showed in /metrics")
                    time.sleep(args.scrape_gap)  # a 70k-ONU exposition is large: do not scrape it without end
                sample = Sample(olt.name, port.name, len(fault.before), changed - r0, time.monotonic() - changed,
                                scrapes, scrape_total / scrapes)
                samples.append(sample)
                print(f"  {sample.olt} {sample.pon_port} ({sample.onus_cut} ONUs cut; agent restart "
                      f"{sample.restart_s:.1f} s): in /metrics after {sample.freshness_s:.1f} s ({scrapes} scrapes "
                      f"of {sample.scrape_s:.1f} s)", flush=True)
            cpu, wall = serve.cpu_s() - cpu0, time.monotonic() - wall0
        finally:
            serve.stop()
    worst = max(s.freshness_s for s in samples)
    print(f"freshness: worst {worst:.1f} s, bound interval + poll + scrape ({args.interval:g} s + ...); serve "
          f"process while polling and scraped: {cpu / wall:.2f} core ({cpu:.0f} CPU s in {wall:.0f} s); "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        print(json.dumps({"onus": onus, "olts": len(town.olts), "interval": args.interval, "first_polls_s": first,
                          "samples": [asdict(s) for s in samples], "serve_cores": cpu / wall}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
