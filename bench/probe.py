"""Benchmark: an ICMP sweep of thousands of hosts, ftthnoc's raw-socket engine against fping.

Why it exists: the probes send and receive ICMP on one asyncio raw socket, with packets built from a
scapy template (``collectors/probes/engine.py``), on the claim that a Python prober keeps up with the C
tool operators already trust for smokeping-style sweeps. This benchmark checks that claim on a sweep of
5,000 addresses, and keeps the goals in front of whoever changes the engine:

* **wall time ratio** (ftthnoc / fping) ≤ 1.5×: the same packets at the same pacing must not take
  much longer (both are paced, so this mostly says "the engine keeps the schedule");
* **CPU ratio** (ftthnoc / fping) ≤ 5×: Python may cost more CPU than C, but within a small factor.

The hosts: one network namespace (created here and removed at the end) on a veth pair from the root
namespace, holding ``--targets`` /32 addresses in 10.213.128.0/19 (a private block of the project's
test range), routed from the root namespace through the namespace's link address; ``--absent`` of the
addresses asked are not assigned, so both tools also spend their timeouts. No other address is ever
sent to. Both sides send ``--packets`` echoes per target with 56 data bytes, one packet every
``--interval-ms`` across all targets and ``--period-ms`` between packets to one target (fping's ``-i``
and ``-p``; the engine's ``spread`` and ``period``), and count a reply lost after ``--timeout-ms``
(fping ``-t``). Rounds alternate the order; the medians are compared.

CPU: ours is ``time.process_time()`` of this process around the sweep (engine set-up included); fping's
is user + sys of the child from ``resource.getrusage(RUSAGE_CHILDREN)``. Each side's figure includes the
kernel work its own ``sendto`` calls trigger (the veth delivers synchronously), so both carry the same
kernel cost. The replies each side counted per target are compared and printed.

Run as root: ``python bench/probe.py`` (``--help`` for the options). A benchmark, not a test: it exits 0
whatever the figures, and non-zero only when it could not run (no root, no fping, namespaces refused).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collectors.probes.engine import IcmpEngine, ProbeError
from tests.collectors.probes.netns import Lab, NetnsRefused, alloc_lock, free_subnet, ip, remove_leftovers

WALL_GOAL = 1.5
CPU_GOAL = 5.0
HOST_BLOCKS = (128, 160, 192, 224)  # 10.213.x.0/19 candidates for the target addresses


@dataclass
class Side:
    wall: float
    cpu: float
    replies: dict[str, int]
    user: float = 0.0  # the user-space part of ``cpu``


def build_hosts(lab: Lab, targets: int, absent: int) -> list[str]:
    """One namespace with ``targets - absent`` addresses; returns the ``targets`` addresses to ask."""
    host, link = lab.veth_host()
    with alloc_lock():
        block = free_subnet(19, HOST_BLOCKS)
        ip("route", "add", str(block), "via", host.address, "dev", link.root_if)
    hosts = list(block.hosts())[:targets]
    if len(hosts) < targets:
        raise SystemExit(f"at most {len(hosts)} targets fit in {block}")
    # the absent ones are spread through the list, so that the tools meet them all along the sweep
    step = max(1, targets // absent) if absent else 0
    missing = {hosts[i] for i in range(0, targets, step)} if absent else set()
    while len(missing) > absent:
        missing.pop()
    present = [h for h in hosts if h not in missing]
    batch = "".join(f"address add {h}/32 dev eth0\n" for h in present)
    ip("-batch", "-", ns=host.ns, input=batch)
    return [str(h) for h in hosts]


async def _ours(addresses: list[str], packets: int, period: float, interval: float, timeout: float) -> Side:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    user0 = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    async with IcmpEngine(payload_bytes=56) as engine:
        result = await engine.burst(addresses, packets, period, timeout, spread=interval * len(addresses))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    user = resource.getrusage(resource.RUSAGE_SELF).ru_utime - user0
    replies = {a: sum(r is not None for r in rtts) for a, rtts in zip(result.addresses, result.rtts, strict=True)}
    return Side(wall, cpu, replies, user)


def run_ours(addresses: list[str], packets: int, period: float, interval: float, timeout: float) -> Side:
    return asyncio.run(_ours(addresses, packets, period, interval, timeout))


def run_fping(fping: str, target_file: str, packets: int, period: float, interval: float, timeout: float) -> Side:
    argv = [fping, "-C", str(packets), "-q", "-t", f"{timeout * 1000:g}", "-i", f"{interval * 1000:g}",
            "-p", f"{period * 1000:g}", "-b", "56", "-f", target_file]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):  # 1: some hosts unreachable, which the absent ones are
        raise SystemExit(f"fping failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
    replies: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        addr, sep, rest = line.partition(" : ")
        if sep:
            replies[addr.strip()] = sum(1 for tok in rest.split() if tok != "-")
    user = after.ru_utime - before.ru_utime
    cpu = user + (after.ru_stime - before.ru_stime)
    return Side(wall, cpu, replies, user)


def verdict(ratio: float, goal: float) -> str:
    return "PASS" if ratio <= goal else "MISS"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--targets", type=int, default=5000)
    ap.add_argument("--absent", type=int, default=50, help="addresses asked that no host holds")
    ap.add_argument("--packets", type=int, default=5)
    ap.add_argument("--period-ms", type=float, default=1000.0, help="between two packets to one target")
    ap.add_argument("--interval-ms", type=float, default=0.2, help="between two packets to any targets")
    ap.add_argument("--timeout-ms", type=float, default=500.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="one machine-readable line at the end")
    args = ap.parse_args(argv)

    if os.geteuid() != 0:
        print("probe bench: needs root (raw sockets and network namespaces)", file=sys.stderr)
        return 2
    fping = shutil.which("fping")
    if fping is None:
        print("probe bench: fping is not installed (apt-get install fping)", file=sys.stderr)
        return 2
    period, interval, timeout = args.period_ms / 1000, args.interval_ms / 1000, args.timeout_ms / 1000
    if interval * args.targets > period:
        print(f"note: {args.targets} targets × {args.interval_ms} ms exceed the {args.period_ms} ms period; "
              "both tools will run behind their schedule", file=sys.stderr)

    remove_leftovers()
    ours: list[Side] = []
    theirs: list[Side] = []
    try:
        with Lab() as lab, tempfile.NamedTemporaryFile("w", suffix=".txt") as tf:
            t0 = time.perf_counter()
            addresses = build_hosts(lab, args.targets, args.absent)
            tf.write("\n".join(addresses) + "\n")
            tf.flush()
            setup = time.perf_counter() - t0
            print(f"probe bench: {len(addresses)} targets ({args.absent} absent) in namespace {lab.namespaces[0]}, "
                  f"{addresses[0]}…{addresses[-1]}; set up in {setup:.1f} s")
            print(f"  {args.packets} packets per target, {args.period_ms:g} ms period, {args.interval_ms:g} ms "
                  f"between sends, {args.timeout_ms:g} ms timeout, 56 data bytes, {args.rounds} rounds\n")
            print(f"{'round':>5}  {'side':8} {'wall s':>8} {'CPU s':>8} {'(user':>7} {'sys)':>7} {'replies':>8}")
            for r in range(args.rounds):
                order = ("ftthnoc", "fping") if r % 2 == 0 else ("fping", "ftthnoc")
                for side in order:
                    if side == "ftthnoc":
                        res = run_ours(addresses, args.packets, period, interval, timeout)
                        ours.append(res)
                    else:
                        res = run_fping(fping, tf.name, args.packets, period, interval, timeout)
                        theirs.append(res)
                    print(f"{r + 1:>5}  {side:8} {res.wall:8.2f} {res.cpu:8.3f} {res.user:7.3f} "
                          f"{res.cpu - res.user:7.3f} {sum(res.replies.values()):>8}")
    except (NetnsRefused, ProbeError) as exc:
        print(f"probe bench: cannot run here: {exc}", file=sys.stderr)
        return 2

    wall_o, wall_f = statistics.median(s.wall for s in ours), statistics.median(s.wall for s in theirs)
    cpu_o, cpu_f = statistics.median(s.cpu for s in ours), statistics.median(s.cpu for s in theirs)
    wall_ratio, cpu_ratio = wall_o / wall_f, cpu_o / max(cpu_f, 1e-6)
    expected = (len(ours[0].replies) - args.absent) * args.packets
    same = sum(1 for a, n in ours[-1].replies.items() if theirs[-1].replies.get(a) == n)
    print()
    print(f"{'median':14} {'ftthnoc':>9} {'fping':>9} {'ratio':>7} {'goal':>7}")
    print(f"{'wall time s':14} {wall_o:9.2f} {wall_f:9.2f} {wall_ratio:6.2f}× {'≤' + str(WALL_GOAL) + '×':>7}  "
          f"{verdict(wall_ratio, WALL_GOAL)}")
    print(f"{'CPU s':14} {cpu_o:9.3f} {cpu_f:9.3f} {cpu_ratio:6.2f}× {'≤' + str(CPU_GOAL) + '×':>7}  "
          f"{verdict(cpu_ratio, CPU_GOAL)}")
    print(f"{'replies':14} {sum(ours[-1].replies.values()):9d} {sum(theirs[-1].replies.values()):9d}   "
          f"(expected {expected}; same count per target in the last round: {same}/{len(ours[-1].replies)})")
    print(f"CPU per 10,000 packets: ftthnoc {cpu_o / (len(ours[0].replies) * args.packets) * 1e4 * 1000:.0f} ms, "
          f"fping {cpu_f / (len(ours[0].replies) * args.packets) * 1e4 * 1000:.0f} ms")
    if args.json:
        print(json.dumps({"targets": args.targets, "packets": args.packets, "wall_ftthnoc": wall_o,
                          "wall_fping": wall_f, "cpu_ftthnoc": cpu_o, "cpu_fping": cpu_f,
                          "wall_ratio": wall_ratio, "cpu_ratio": cpu_ratio}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
