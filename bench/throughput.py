"""Benchmark: the schools' throughput test (``collectors/throughput``) against bare iperf3, over links
shaped with ``tc tbf`` to known rates.

Why it exists: the MEXT verdict reads this figure, so it must be iperf3's own (ftthnoc only starts iperf3
and reads its ``--json``), and it must read close to what the link can carry. For each rate and stream
count, both directions, ftthnoc's ``run_iperf3`` and a bare ``iperf3 --client … --json`` take turns on the
same link to the same server (an ``iperf3 -s`` in a network namespace this script makes and removes, on
the project's test range 10.213.0.0/16; nothing else is ever sent to). Printed per case: each side's
median Mbit/s, their ratio (goal 0.97–1.03: the same measurement), ftthnoc's wall time over bare iperf3's
(goal ≤ 1.1: nothing added but a subprocess), and the measured share of the shaped rate (what a school
on such a link reads; TCP over tbf loses a few per cent to headers and the bucket).

Run as root: ``python bench/throughput.py`` (``--help`` for the options). A benchmark, not a test: exit 0
whatever the figures, non-zero only when it could not run (no root, no iperf3, namespaces refused).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.throughput import Iperf3Run, run_iperf3
from ftthnoc.kpi.throughput import DIRECTIONS, Direction
from tests.collectors.probes.netns import Lab, NetnsRefused, remove_leftovers
from tests.collectors.throughput.lab import shaped_server


def bare(run: Iperf3Run, direction: Direction) -> float:
    """The reference: iperf3 itself, its JSON's received total (bit/s)."""
    proc = subprocess.run(run.argv(direction), capture_output=True, text=True, timeout=run.timeout, check=False)
    return float(json.loads(proc.stdout)["end"]["sum_received"]["bits_per_second"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", default="50,200,500", help="Mbit/s the link is shaped to (comma-separated).")
    ap.add_argument("--streams", default="1,4", help="Parallel streams to try (comma-separated).")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    if shutil.which("iperf3") is None:
        print("bench/throughput.py: iperf3 is not installed (Debian package iperf3)", file=sys.stderr)
        return 2
    remove_leftovers()
    print(f"{'rate':>5} {'streams':>7} {'direction':>9} {'ftthnoc':>9} {'iperf3':>9} {'ratio':>6} "
          f"{'wall':>6} {'of rate':>8}")
    try:
        with Lab() as lab:
            for rate in (int(r) for r in args.rates.split(",")):
                server = shaped_server(lab, rate)
                for streams in (int(s) for s in args.streams.split(",")):
                    run = Iperf3Run(server.address, server.port, streams=streams, seconds=args.seconds,
                                    omit_seconds=1.0)
                    for direction in DIRECTIONS:
                        ours, theirs, our_wall, their_wall = [], [], [], []
                        for i in range(args.rounds):
                            for side in ((0, 1) if i % 2 == 0 else (1, 0)):  # alternate who goes first
                                t0 = time.monotonic()
                                if side == 0:
                                    r = asyncio.run(run_iperf3(run, "bench", direction))
                                    if r.bits_per_second is None:
                                        print(f"ftthnoc's run failed: {r.error}", file=sys.stderr)
                                        return 1
                                    ours.append(r.bits_per_second / 1e6)
                                    our_wall.append(time.monotonic() - t0)
                                else:
                                    theirs.append(bare(run, direction) / 1e6)
                                    their_wall.append(time.monotonic() - t0)
                        o, t = statistics.median(ours), statistics.median(theirs)
                        wall = statistics.median(our_wall) / statistics.median(their_wall)
                        print(f"{rate:>5} {streams:>7} {direction:>9} {o:>9.1f} {t:>9.1f} {o / t:>6.3f} "
                              f"{wall:>6.3f} {o / rate:>8.3f}")
                server.process.terminate()
                server.process.wait(10)
    except NetnsRefused as exc:
        print(f"bench/throughput.py: network namespaces refused: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
