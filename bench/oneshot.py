"""Benchmark: one-shot polls as processes — ``ftthnoc poll --once`` against net-snmp's ``snmpbulkwalk``.

Why it exists: a one-shot command is what an operator runs by hand and what a cron job or a Nagios-style
check runs every few minutes, and there the whole process counts: interpreter, imports, module loading,
the walk, the decoding and the printed exposition. The goal (issue "The house") is ≤ 5× net-snmp's CPU
for a one-shot poll of the 7,000-ONU town.

What it runs, against the same running snmpsim agents of the simulated town (v2c, max-repetitions 25):

* **ftthnoc**: one ``ftthnoc poll --once -m <gpon module> -t <olt>`` process per OLT, stdout to a pipe;
* **net-snmp**: one ``snmpbulkwalk -v2c -Cr25 -On -Oq`` process per subtree the same module walks (its
  ``roots()``), one after another, stdout to a pipe.

CPU is user + sys of the child processes (``RUSAGE_CHILDREN``), so each side's whole process is counted,
start-up included; the agents are not children of the measured calls. Each side runs ``--rounds`` times
per OLT, alternating; medians are compared per OLT and summed over the town. Also printed: the start-up
floor (``ftthnoc poll --help``, median of 5), so that one can see what is import and what is work.

Run: ``python bench/oneshot.py`` (``--onus``, ``--rounds``). A benchmark, not a test: it exits 0 whatever
the figures, non-zero only when a poll fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from collectors.snmp.ber import format_oid
from collectors.snmp.module import get_module
from simulator.agents import TownAgents
from simulator.town import generate_town

GOAL = 5.0
FTTHNOC = [str(Path(sys.executable).with_name("ftthnoc"))]


def children_cpu(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    """CPU seconds (user + sys) of one child process, and how it ended."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), proc


def ftthnoc_once(address: str, module: str) -> float:
    cpu, proc = children_cpu([*FTTHNOC, "poll", "--once", "-m", module, "-t", address, "--community", "public"])
    if proc.returncode != 0:
        raise SystemExit(f"ftthnoc poll failed on {address}: {proc.stderr.decode().strip()}")
    return cpu


def netsnmp_walks(address: str, module: str, snmpbulkwalk: str) -> float:
    total = 0.0
    for root in get_module(module).roots():
        cpu, proc = children_cpu([snmpbulkwalk, "-v2c", "-c", "public", "-Cr25", "-On", "-Oq", "-t", "5", "-r", "1",
                                  address, format_oid(root)])
        if proc.returncode != 0:
            raise SystemExit(f"snmpbulkwalk failed on {address}: {proc.stderr.decode().strip()}")
        total += cpu
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onus", type=int, default=7000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    snmpbulkwalk = shutil.which("snmpbulkwalk")
    if snmpbulkwalk is None:
        raise SystemExit("net-snmp's snmpbulkwalk is needed (Debian package snmp)")
    startup = statistics.median(children_cpu([*FTTHNOC, "poll", "--help"])[0] for _ in range(5))
    town = generate_town(onus=args.onus)
    town = dataclasses.replace(town, bwa_stations=(), vpn_gateways=())  # only the OLTs are polled
    print(f"one-shot polls of the {args.onus:,}-ONU town, {args.rounds} rounds, medians of CPU (user + sys)")
    print(f"ftthnoc start-up floor (poll --help): {startup:.3f} s\n")
    print(f"{'OLT':<16}{'module':<13}{'ftthnoc':>9}{'net-snmp':>10}{'ratio':>8}")
    totals = [0.0, 0.0]
    with TownAgents(town) as agents:
        for olt in agents.town.olts:
            module = "huawei_gpon" if olt.vendor == "huawei" else "zte_gpon"
            ours, theirs = [], []
            for _ in range(args.rounds):
                ours.append(ftthnoc_once(olt.address, module))
                theirs.append(netsnmp_walks(olt.address, module, snmpbulkwalk))
            o, n = statistics.median(ours), statistics.median(theirs)
            totals[0] += o
            totals[1] += n
            print(f"{olt.name:<16}{module:<13}{o:>8.3f}s{n:>9.3f}s{o / n:>7.2f}×")
    ratio = totals[0] / totals[1]
    print(f"{'town':<29}{totals[0]:>8.3f}s{totals[1]:>9.3f}s{ratio:>7.2f}×  goal ≤ {GOAL:g}×: "
          f"{'PASS' if ratio <= GOAL else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
