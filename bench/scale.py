"""Benchmark: does a poll's cost per ONU stay flat from one town to a prefecture? ftthnoc against net-snmp.

Why it exists: one ftthnoc poller is meant to poll a whole prefecture (ten towns, 70,000 ONUs) every
five minutes on one core. This measures the CPU and the memory of one full poll of the per-ONU columns
(the same poll as ``bench/poll.py``, whose functions it uses) at growing sizes of the simulated
prefecture (``simulator.generate.prefecture``), default 1,000, 7,000, 35,000 and 70,000 ONUs (1, 1, 5
and 10 towns), side by side with net-snmp's ``snmpbulkwalk`` walking the same columns of the same
agents. Goals:

* **flatness**: ftthnoc's CPU per 1,000 ONUs, largest over smallest across the sizes, ≤ 1.3× (nothing
  in a poll may grow faster than the ONUs it fetches);
* **core use**: the CPU of one poll of the largest size divided by 300 s (a poll every five minutes)
  below one core.

Rounds: per size, one untimed first poll by ftthnoc (it warms the agents, whose first reads of their
data are slower, and measures memory under ``tracemalloc``), then ``--rounds`` timed polls per side in
alternating order.

Memory: the growth of this process's resident set during a timed poll (peak RSS during the poll minus
RSS before it; Linux: the peak is reset through ``/proc/self/clear_refs`` before each poll) and, in
the untimed first poll, the peak of Python's own allocations made during it (``tracemalloc``, which
slows the poll: that is why this poll is not timed).

Agents: the prefecture's OLTs are served by ``--agent-processes`` snmpsim processes (default 4), each
answering a few thousand varbinds a second on one core; both pollers wait for them, so the wall times
measure the agents more than the pollers, and on a shared 2-core machine the agents compete with the
poller for the cores. The CPU figures measure the pollers; the load average is printed beside them.

Run: ``python bench/scale.py`` (≈ 20 min on 2 cores), ``--sizes 1x1000,1x7000`` (towns × ONUs per
town), ``--rounds 3``. A benchmark, not a test: it exits 0 whatever the figures, and non-zero only
when something broke (an agent, a walk, a count mismatch).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from bench.poll import (
    BenchError,
    OltPlan,
    RoundResult,
    agents_cpu,
    check_agents_alive,
    ftthnoc_round,
    netsnmp_round,
    plan_town,
)
from simulator.agents import TownAgents
from simulator.generate.prefecture import generate_prefecture

FLAT_GOAL = 1.3  # largest / smallest ftthnoc CPU per 1,000 ONUs across the sizes, at most
INTERVAL = 300.0  # seconds between two polls of the prefecture
CORE_GOAL = 1.0  # CPU per poll / INTERVAL at the largest size, below
DEFAULT_SIZES = "1x1000,1x7000,5x7000,10x7000"


# --------------------------------------------------------------------------- memory of this process
def _status_kib(name: str) -> int | None:
    """A ``kB`` line of ``/proc/self/status`` (``VmRSS``, ``VmHWM``), or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset the process's peak RSS (``VmHWM``) to its current RSS (Linux ≥ 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


@dataclass
class Measured:
    """One round of ftthnoc with its memory, or one of net-snmp."""

    result: RoundResult
    rss_growth_kib: float | None = None


def ftthnoc_measured(plans: Sequence[OltPlan]) -> Measured:
    """``ftthnoc_round`` with the RSS growth during the poll: peak RSS during it minus RSS before it."""
    gc.collect()
    if _reset_peak_rss():
        before = _status_kib("VmRSS")
        r = ftthnoc_round(plans)
        peak = _status_kib("VmHWM")
        growth = None if before is None or peak is None else float(peak - before)
    else:  # the lifetime peak only: growth shows only where this poll set a new peak
        before_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        r = ftthnoc_round(plans)
        growth = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_max)
    return Measured(r, growth)


def tracemalloc_peak_kib(plans: Sequence[OltPlan]) -> float:
    """Peak of Python's allocations made during one (untimed) poll, KiB."""
    gc.collect()
    tracemalloc.start()
    try:
        ftthnoc_round(plans)
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------- one size
@dataclass
class SizeResult:
    towns: int
    onus: int
    olts: int
    agent_processes: int
    varbinds: int
    startup_s: float
    ftthnoc_cpu_s: float
    ftthnoc_wall_s: float
    netsnmp_cpu_s: float
    netsnmp_wall_s: float
    agents_cpu_s: float
    rss_growth_kib: float | None
    tracemalloc_peak_kib: float | None
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]

    def per_1k(self, value: float) -> float:
        return value / self.onus * 1000


def run_size(exe: str, towns: int, onus_per_town: int, args: argparse.Namespace) -> SizeResult:
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    town = generate_prefecture(towns=towns, onus_per_town=onus_per_town, seed=args.seed)
    processes = min(args.agent_processes, len(town.olts))
    agents = TownAgents(town, olt_processes=processes)
    agents.start()
    try:
        startup = time.perf_counter() - t0
        plans = [dataclasses.replace(p, device=dataclasses.replace(p.device, timeout=args.timeout))
                 for p in plan_town(agents, args.max_repetitions, None)]
        onus = sum(1 for _ in agents.town.onus())
        print(f"  {onus:,} ONUs on {len(plans)} OLTs in {processes} snmpsim processes, up in {startup:.0f} s; "
              f"load {load_before[0]:.1f}", flush=True)
        # the first poll is untimed (first reads of each agent's data are slower): under tracemalloc
        peak = tracemalloc_peak_kib(plans) if args.tracemalloc else None
        if peak is None:
            ftthnoc_round(plans)
        check_agents_alive(agents)
        ours: list[Measured] = []
        theirs: list[RoundResult] = []
        agents_per_poll: list[float] = []
        for i in range(args.rounds):
            for side in (("ftthnoc", "net-snmp") if i % 2 == 0 else ("net-snmp", "ftthnoc")):
                a0 = agents_cpu(agents)
                if side == "ftthnoc":
                    ours.append(ftthnoc_measured(plans))
                    agents_per_poll.append(agents_cpu(agents) - a0)
                else:
                    theirs.append(netsnmp_round(exe, plans))
                check_agents_alive(agents)
        counts = [m.result.per_olt for m in ours] + [r.per_olt for r in theirs]
        if any(c != counts[0] for c in counts):
            raise BenchError(f"{onus} ONUs: the two sides (or two rounds) fetched different varbinds")
    finally:
        agents.stop()
    growths = [m.rss_growth_kib for m in ours if m.rss_growth_kib is not None]
    return SizeResult(
        towns=towns, onus=onus, olts=len(plans), agent_processes=processes,
        varbinds=ours[0].result.varbinds, startup_s=startup,
        ftthnoc_cpu_s=statistics.median(m.result.cpu for m in ours),
        ftthnoc_wall_s=statistics.median(m.result.wall for m in ours),
        netsnmp_cpu_s=statistics.median(r.cpu for r in theirs),
        netsnmp_wall_s=statistics.median(r.wall for r in theirs),
        agents_cpu_s=statistics.median(agents_per_poll),
        rss_growth_kib=statistics.median(growths) if growths else None,
        tracemalloc_peak_kib=peak, load_before=load_before, load_after=os.getloadavg(),
    )  # fmt: skip


# --------------------------------------------------------------------------- report
def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``"1x1000,5x7000"`` -> ``[(1, 1000), (5, 7000)]`` (towns, ONUs per town)."""
    sizes = []
    for item in text.split(","):
        towns, _, onus = item.strip().partition("x")
        if not towns.isdigit() or not onus.isdigit() or int(towns) < 1 or int(onus) < 1:
            raise ValueError(f"size {item!r} is not TOWNSxONUS, e.g. 5x7000")
        sizes.append((int(towns), int(onus)))
    return sizes


def _opt(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def print_table(results: Sequence[SizeResult]) -> None:
    print("| ONUs | towns | OLTs | varbinds | ftthnoc CPU s | ftthnoc ms / 1k ONUs | net-snmp ms / 1k ONUs "
          "| ratio | RSS growth KiB / 1k ONUs | tracemalloc peak KiB / 1k ONUs | wall s ftthnoc / net-snmp "
          "| agents CPU s | load 1 min |")
    print("|" + "---|" * 13)
    for r in results:
        rss = None if r.rss_growth_kib is None else r.per_1k(r.rss_growth_kib)
        tm = None if r.tracemalloc_peak_kib is None else r.per_1k(r.tracemalloc_peak_kib)
        print(f"| {r.onus:,} | {r.towns} | {r.olts} | {r.varbinds:,} | {r.ftthnoc_cpu_s:.2f} "
              f"| {r.per_1k(r.ftthnoc_cpu_s) * 1000:.0f} | {r.per_1k(r.netsnmp_cpu_s) * 1000:.0f} "
              f"| {r.ftthnoc_cpu_s / r.netsnmp_cpu_s:.2f}× | {_opt(rss, '.0f')} | {_opt(tm, '.0f')} "
              f"| {r.ftthnoc_wall_s:.1f} / {r.netsnmp_wall_s:.1f} | {r.agents_cpu_s:.1f} "
              f"| {r.load_before[0]:.1f}–{r.load_after[0]:.1f} |")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--sizes", default=DEFAULT_SIZES,
                    help=f"towns x ONUs per town, comma-separated (default {DEFAULT_SIZES})")
    ap.add_argument("--rounds", type=int, default=1, help="timed rounds per side and size (default 1)")
    ap.add_argument("--no-tracemalloc", dest="tracemalloc", action="store_false",
                    help="make the untimed first poll of each size without tracemalloc")
    ap.add_argument("--agent-processes", type=int, default=4,
                    help="snmpsim processes serving the OLTs (default 4)")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="seconds per request, both sides (default 10: four agent processes serving 50 OLTs "
                         "on a busy machine answer slower than the town's 2 s)")
    ap.add_argument("--max-repetitions", type=int, default=25, help="GETBULK max-repetitions (default 25)")
    ap.add_argument("--seed", type=int, default=2026, help="the prefecture's seed (default 2026)")
    ap.add_argument("--json", action="store_true", help="also print one machine-readable JSON line")
    args = ap.parse_args(argv)
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as exc:
        ap.error(str(exc))
    if args.rounds < 1 or args.agent_processes < 1:
        ap.error("--rounds and --agent-processes must be at least 1")
    exe = shutil.which("snmpbulkwalk")
    if exe is None:
        print("snmpbulkwalk not found: install net-snmp's tools (Debian: apt-get install snmp)", file=sys.stderr)
        return 2
    netsnmp_version = subprocess.run([exe, "-V"], capture_output=True, text=True).stderr.strip()

    print(f"ftthnoc scale benchmark: sizes {args.sizes} (towns x ONUs per town), {args.rounds} timed round(s) "
          f"per side after an untimed first poll (ftthnoc{', under tracemalloc' if args.tracemalloc else ''}), "
          f"v2c, max-repetitions {args.max_repetitions}")
    print(f"machine: {os.cpu_count()} cores {platform.machine()}, Python {platform.python_version()}, "
          f"{netsnmp_version}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
    results: list[SizeResult] = []
    failed: list[str] = []
    for towns, onus in sizes:
        print(f"size {towns} x {onus:,}:", flush=True)
        try:
            r = run_size(exe, towns, onus, args)
        except (BenchError, OSError, RuntimeError) as exc:  # report it, measure the other sizes
            failed.append(f"{towns}x{onus}: {exc}")
            print(f"  FAILED: {exc}", flush=True)
            continue
        results.append(r)
        print(f"  ftthnoc {r.ftthnoc_cpu_s:.2f} CPU s ({r.per_1k(r.ftthnoc_cpu_s) * 1000:.0f} ms / 1k ONUs), "
              f"net-snmp {r.netsnmp_cpu_s:.2f} s; wall {r.ftthnoc_wall_s:.1f} / {r.netsnmp_wall_s:.1f} s; "
              f"load {r.load_after[0]:.1f}", flush=True)
    if not results:
        return 1
    print()
    print_table(results)
    print()
    per_1k = [r.per_1k(r.ftthnoc_cpu_s) for r in results]
    flat = max(per_1k) / min(per_1k)
    largest = max(results, key=lambda r: r.onus)
    cores = largest.ftthnoc_cpu_s / INTERVAL
    print(f"flatness (ftthnoc CPU per 1,000 ONUs, largest / smallest over the sizes): {flat:.2f}×  "
          f"goal ≤ {FLAT_GOAL:g}×  {'PASS' if flat <= FLAT_GOAL else 'MISS'}")
    print(f"core use of a {largest.onus:,}-ONU poll every {INTERVAL:.0f} s: {largest.ftthnoc_cpu_s:.2f} s / "
          f"{INTERVAL:.0f} s = {cores:.3f} core  goal < {CORE_GOAL:g}  {'PASS' if cores < CORE_GOAL else 'MISS'}")
    print("CPU: ftthnoc = process_time() around the poll (decode and rollup included); net-snmp = user+sys "
          "of its snmpbulkwalk processes; the agents' CPU (from /proc) is counted on neither side. "
          f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        print(json.dumps({"sizes": [asdict(r) for r in results], "flatness": flat, "flat_goal": FLAT_GOAL,
                          "core_use": cores, "core_goal": CORE_GOAL, "cores": os.cpu_count()},
                         separators=(",", ":")))
    if failed:
        print("failed sizes: " + "; ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
