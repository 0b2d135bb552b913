"""Benchmark: a full poll of the simulated town, ftthnoc's v2c client against net-snmp's ``snmpbulkwalk``.

Why it exists: the project walks SNMP with its own asyncio v2c client and BER codec
(``collectors/snmp/client.py``, ``ber.py``) instead of pysnmp's high-level API, on the claim that a
pure-Python poller can keep up with the C tool operators already trust. This benchmark checks that
claim on the default 7,000-ONU town, against the same running snmpsim agents, and keeps the goals
in front of whoever changes the client:

* **wall time ratio** (ftthnoc / net-snmp) ≤ 1.5×: a town poll must not take much longer than the
  same walks done by ``snmpbulkwalk`` with the same max-repetitions, at the same concurrency
  (per OLT at most ``target.concurrency`` walks in flight, all OLTs in parallel);
* **CPU per 10,000 varbinds ratio** (ftthnoc / net-snmp) ≤ 10×: Python may cost more CPU than C,
  but within an order of magnitude, so that one core polls a town many times over per interval.

How to read it: both sides walk the per-ONU columns of the ``huawei_gpon`` / ``zte_gpon`` modules
(8 per Huawei ONU, 6 per ZTE ONU); ftthnoc also decodes them into metric families and runs the
module's PON-port rollup, as the poller does, so its CPU figure is the whole per-poll cost, while
net-snmp's is that of walking and printing (``-On -Oq``) including each process's start-up. Each
side runs ``--rounds`` times, in alternating order after one untimed warm-up poll each; the
medians are compared. The varbind counts of both sides must be equal (asserted), so the ratios
compare the same work.

The wall times say as much about the agents as about the pollers: each snmpsim agent is one
single-threaded Python process that answers a few thousand varbinds a second, far slower than
either poller, so both sides mostly wait for the agents (the "snmpsim limit" line estimates that
floor from a solo walk). The CPU ratio is the figure that measures the pollers themselves.

A reference line measures stock pysnmp's ``bulk_walk_cmd`` (v2c, ``lookupMib=False``) on one OLT's
Rx column: that cost is why the project has its own v2c codec (skip it with ``--no-pysnmp``).

Run: ``./run bench`` (or ``python bench/poll.py --help``). A benchmark, not a test: it exits 0
whatever the figures, and non-zero only when something broke (an agent, a walk, a count mismatch).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import resource
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

from pydantic import SecretStr

from collectors.snmp.ber import Oid, format_oid, parse_oid
from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.module import Module, get_module
from collectors.snmp.poll import poll_device
from ftthnoc.config import Auth, Config
from simulator.agents import TownAgents
from simulator.town import generate_town

GPON_MODULES = ("huawei_gpon", "zte_gpon")
WALL_GOAL = 1.5  # ftthnoc / net-snmp, at most
CPU_GOAL = 10.0  # ftthnoc / net-snmp CPU per 10,000 varbinds, at most
HW_RX = "1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4"  # the reference column of the solo walks


class BenchError(RuntimeError):
    """Something broke: a walk failed, an agent died, or the two sides fetched different data."""


# --------------------------------------------------------------------------- what to poll
def onu_module(name: str) -> Module:
    """The module restricted to its ONU-indexed metrics. A copy of the whole module (indexes,
    postprocess) with fewer metrics, so decoding and the PON-port rollup run as in the poller."""
    mod = get_module(name)
    return mod.model_copy(update={
        "metrics": [m for m in mod.metrics if m.index.startswith("onu")],  # onu, onu_optics (ZTE)
        "lookups": [lk for lk in mod.lookups if lk.index.startswith("onu")],
    })


@dataclass(frozen=True)
class OltPlan:
    """One OLT: the device both sides talk to and the columns they walk."""

    device: Device
    module: Module
    roots: tuple[Oid, ...]

    @property
    def name(self) -> str:
        return self.device.name


def plan_town(agents: TownAgents, max_repetitions: int, concurrency: int | None) -> list[OltPlan]:
    """Every OLT of the running town, each with its GPON module, spoken to in v2c.

    The town's configuration gives the Huawei OLTs SNMPv3 auths; every agent also answers v2c
    community ``public``, and v2c is what both pollers use here (our v3 path goes through pysnmp,
    which is not what this benchmark measures).
    """
    config = Config.model_validate(agents.poller_config())
    auth = Auth(version=2, community=SecretStr(agents.town.community))
    modules = {name: onu_module(name) for name in GPON_MODULES}
    plans = []
    for target in config.targets:
        names = [m for m in target.modules if m in modules]
        if len(names) != 1:
            raise BenchError(f"{target.name}: expected one GPON module among {target.modules}")
        mod = modules[names[0]]
        device = dataclasses.replace(
            Device.from_target(target, auth),
            max_repetitions=max_repetitions,
            concurrency=concurrency if concurrency is not None else target.concurrency,
        )
        plans.append(OltPlan(device, mod, tuple(mod.roots())))
    return plans


@dataclass
class RoundResult:
    wall: float
    cpu: float
    varbinds: int
    per_olt: dict[str, int]
    agents_cpu: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def cpu_per_10k(self) -> float:
        return self.cpu / self.varbinds * 10_000


# --------------------------------------------------------------------------- agents' own CPU
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def agents_cpu(agents: TownAgents) -> float:
    """CPU seconds the snmpsim agent processes used so far (Linux /proc; 0 elsewhere). Each process
    once, also when it serves several agents (the small devices; ``olt_processes``)."""
    total = 0.0
    for pid in {a.process.pid for a in agents.agents.values() if a.process is not None}:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        total += (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime, stime
    return total


def check_agents_alive(agents: TownAgents) -> None:
    """A dead agent would be a failed walk, and (once reaped) its CPU would land in RUSAGE_CHILDREN."""
    dead = [n for n, a in agents.agents.items() if a.process is None or a.process.poll() is not None]
    if dead:
        raise BenchError(f"snmpsim agents died: {', '.join(dead)}")


# --------------------------------------------------------------------------- ftthnoc
async def _ftthnoc_poll(plans: Sequence[OltPlan]) -> RoundResult:
    client = SnmpClient()  # one per round: its per-device semaphores belong to this event loop
    if threading.active_count() != 1:
        raise BenchError("another thread runs in this process: its CPU would be counted as the poller's")
    wall0, cpu0 = time.perf_counter(), time.process_time()
    results = await asyncio.gather(*(poll_device(client, p.device, [p.module]) for p in plans))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    client.close()
    per_olt: dict[str, int] = {}
    for plan, mod_results in zip(plans, results, strict=True):
        for r in mod_results:
            if not r.success or not r.families:
                raise BenchError(f"ftthnoc poll of {plan.name} ({r.module}) failed: {r.error}")
            per_olt[plan.name] = per_olt.get(plan.name, 0) + r.varbinds
    return RoundResult(wall, cpu, sum(per_olt.values()), per_olt)


def ftthnoc_round(plans: Sequence[OltPlan]) -> RoundResult:
    """One town poll in this process. process_time() counts this process only: the snmpsim agents
    are separate processes, and the clock is read inside the event loop, around the poll alone."""
    return asyncio.run(_ftthnoc_poll(plans))


# --------------------------------------------------------------------------- net-snmp
@dataclass
class _Walk:
    plan: OltPlan
    root: Oid
    proc: subprocess.Popen[bytes]
    chunks: list[bytes] = field(default_factory=list)


#: how ``-Oq`` prints an exception varbind; our client drops those, so they are not counted
_EXCEPTIONS = (b" No more variables left in this MIB View", b" No Such Object available",
               b" No Such Instance currently exists")


def count_varbinds(out: bytes) -> int:
    """Value lines of ``snmpbulkwalk -On -Oq`` output: lines that start with ``.`` (a wrapped
    Hex-STRING continuation does not), less exception lines. snmpsim answers the end of its data
    with endOfMibView varbinds named after the last OID, inside the walked subtree, and
    snmpbulkwalk prints each one; they are not values, and our client does not keep them."""
    lines = out.count(b"\n.") + out.startswith(b".")
    return lines - sum(out.count(e) for e in _EXCEPTIONS)


def _bulkwalk_cmd(exe: str, device: Device, root: Oid) -> list[str]:
    community = device.auth.community.get_secret_value()
    return [exe, "-v2c", "-c", community, "-On", "-Oq", f"-Cr{device.max_repetitions}",
            "-t", f"{device.timeout:g}", "-r", str(device.retries),
            f"{device.host}:{device.port}", format_oid(root)]  # fmt: skip


def netsnmp_round(exe: str, plans: Sequence[OltPlan],
                  command: Callable[[str, Device, Oid], list[str]] | None = None) -> RoundResult:
    """The same column walks with ``snmpbulkwalk``: one process per column, per OLT at most
    ``device.concurrency`` in flight (the bound our client applies per device), all OLTs at once.
    Output goes to a pipe this process drains; ``count_varbinds`` counts it at the end of each walk.
    ``command``: the snmpbulkwalk command line of one walk (default v2c; ``bench/v3.py`` passes v3's).

    CPU is the children's user+sys from ``os.wait4`` on each snmpbulkwalk. Cross-check: the
    ``RUSAGE_CHILDREN`` delta over the round must agree. RUSAGE_CHILDREN only accumulates children
    that have *terminated and been waited for*; the snmpsim agents are children of this process
    too, but they run throughout the measurement and are reaped only by ``TownAgents.stop()``
    after the last round (``check_agents_alive`` runs after every round), so neither figure
    includes them. Were an agent counted, the two figures would differ by its whole CPU time.
    """
    queues = {p.name: deque(p.roots) for p in plans}
    in_flight = {p.name: 0 for p in plans}
    per_olt = {p.name: 0 for p in plans}
    sel = selectors.DefaultSelector()
    cpu_wait4 = 0.0
    with tempfile.TemporaryFile() as errors:

        def start(plan: OltPlan) -> None:
            root = queues[plan.name].popleft()
            proc = subprocess.Popen((command or _bulkwalk_cmd)(exe, plan.device, root), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=errors, bufsize=0)
            assert proc.stdout is not None
            sel.register(proc.stdout, selectors.EVENT_READ, _Walk(plan, root, proc))
            in_flight[plan.name] += 1

        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall0 = time.perf_counter()
        try:
            for plan in plans:
                while queues[plan.name] and in_flight[plan.name] < plan.device.concurrency:
                    start(plan)
            while sel.get_map():
                for key, _ in sel.select():
                    walk: _Walk = key.data
                    chunk = os.read(key.fd, 1 << 16)
                    if chunk:
                        walk.chunks.append(chunk)
                        continue
                    sel.unregister(key.fileobj)
                    stdout: IO[bytes] = key.fileobj  # type: ignore[assignment]
                    stdout.close()
                    _, status, ru = os.wait4(walk.proc.pid, 0)
                    walk.proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
                    cpu_wait4 += ru.ru_utime + ru.ru_stime
                    name = walk.plan.name
                    if walk.proc.returncode != 0:
                        errors.seek(0)
                        tail = errors.read().decode(errors="replace")[-600:]
                        raise BenchError(f"snmpbulkwalk of {format_oid(walk.root)} on {name} exited "
                                         f"with {walk.proc.returncode}: {tail}")
                    per_olt[name] += count_varbinds(b"".join(walk.chunks))
                    in_flight[name] -= 1
                    if queues[name]:
                        start(walk.plan)
        finally:  # after a failure: stop and reap the walks still running (ours, by pid)
            for key in list(sel.get_map().values()):
                left: _Walk = key.data
                left.proc.kill()
                left.proc.wait()
                key.fileobj.close()  # type: ignore[union-attr]
            sel.close()
        wall = time.perf_counter() - wall0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_children = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    if abs(cpu_children - cpu_wait4) > 0.05 + 0.05 * cpu_wait4:
        raise BenchError(f"RUSAGE_CHILDREN delta {cpu_children:.3f} s differs from the walks' own "
                         f"{cpu_wait4:.3f} s: something else was reaped during the round")
    return RoundResult(wall, cpu_wait4, sum(per_olt.values()), per_olt,
                       extra={"rusage_children_cpu": cpu_children})


def netsnmp_solo(exe: str, plan: OltPlan, oid: str) -> RoundResult:
    """One snmpbulkwalk of one column, nothing else running: the agent's own rate, and net-snmp's
    CPU on that column (the reference for the pysnmp line)."""
    return netsnmp_round(exe, [dataclasses.replace(plan, roots=(parse_oid(oid),))])


# --------------------------------------------------------------------------- stock pysnmp, reference
async def _pysnmp_walk(device: Device, oid: str, auth_data: object | None = None) -> RoundResult:
    """Stock pysnmp's ``bulk_walk_cmd`` of one column: v2c with the device's community, or the given
    ``auth_data`` (``bench/v3.py`` passes a ``UsmUserData``)."""
    from pysnmp.hlapi.v3arch.asyncio import (  # lazy: the v2c poller never imports pysnmp
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        bulk_walk_cmd,
        get_cmd,
    )

    engine = SnmpEngine()
    community = auth_data if auth_data is not None else CommunityData(device.auth.community.get_secret_value(),
                                                                         mpModel=1)
    target = await UdpTransportTarget.create((device.host, device.port), timeout=device.timeout,
                                             retries=device.retries)
    # warm up (lazy MIB and engine set-up is a one-off, not a per-poll, cost)
    await get_cmd(engine, community, target, ContextData(), ObjectType(ObjectIdentity("1.3.6.1.2.1.1.5.0")),
                  lookupMib=False)
    n = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    async for err_ind, err_stat, _idx, vbs in bulk_walk_cmd(
        engine, community, target, ContextData(), 0, device.max_repetitions,
        ObjectType(ObjectIdentity(oid)), lexicographicMode=False, lookupMib=False,
    ):
        if err_ind or err_stat:
            raise BenchError(f"pysnmp {'v3 ' if auth_data is not None else ''}walk of {oid} on {device.name}: "
                             f"{err_ind or err_stat}")
        n += len(vbs)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    engine.close_dispatcher()
    return RoundResult(wall, cpu, n, {device.name: n})


async def _ftthnoc_walk(device: Device, oid: str) -> RoundResult:
    client = SnmpClient()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    res = await client.walk(device, [parse_oid(oid)])
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return RoundResult(wall, cpu, res.varbinds, {device.name: res.varbinds})


# --------------------------------------------------------------------------- report
def median(rs: Sequence[RoundResult], attr: str) -> float:
    return statistics.median(float(getattr(r, attr)) for r in rs)


def verdict(ratio: float, goal: float) -> str:
    return "PASS" if ratio <= goal else "MISS"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--onus", type=int, default=7000, help="ONUs in the simulated town (default 7000)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per side (default 3)")
    ap.add_argument("--max-repetitions", type=int, default=25, help="GETBULK max-repetitions (default 25)")
    ap.add_argument("--concurrency", type=int, default=None,
                    help="walks in flight per OLT (default: each target's own)")
    ap.add_argument("--json", action="store_true", help="also print one machine-readable JSON line")
    ap.add_argument("--no-pysnmp", action="store_true", help="skip the stock pysnmp reference line")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")

    exe = shutil.which("snmpbulkwalk")
    if exe is None:
        print("snmpbulkwalk not found: install net-snmp's tools (Debian: apt-get install snmp)",
              file=sys.stderr)
        return 2
    netsnmp_version = subprocess.run([exe, "-V"], capture_output=True, text=True).stderr.strip()

    t0 = time.perf_counter()
    # the OLTs only: this measures ONU polling, and BWA/VPN agents would only add start-up time
    town = generate_town(onus=args.onus, bwa_stations=(), vpn_gateways=())
    agents = TownAgents(town)
    agents.start()
    try:
        return _run(args, exe, netsnmp_version, agents, time.perf_counter() - t0)
    finally:
        agents.stop()


def _run(args: argparse.Namespace, exe: str, netsnmp_version: str, agents: TownAgents,
         startup: float) -> int:
    plans = plan_town(agents, args.max_repetitions, args.concurrency)
    n_onus = sum(1 for _ in agents.town.onus())
    walks = sum(len(p.roots) for p in plans)
    conc = sorted({p.device.concurrency for p in plans})
    try:
        import snmpsim

        snmpsim_version = getattr(snmpsim, "__version__", "?")
    except ImportError:
        snmpsim_version = "?"

    print(f"ftthnoc poll benchmark: {n_onus:,} ONUs on {len(plans)} OLTs, {walks} column walks "
          f"({', '.join(f'{p.name} {len(p.roots)}' for p in plans)}), v2c, max-repetitions "
          f"{args.max_repetitions}, {'/'.join(map(str, conc))} walks in flight per OLT")
    print(f"machine: {os.cpu_count()} cores {platform.machine()}, Python {platform.python_version()} "
          f"({platform.python_implementation()}), {netsnmp_version}, snmpsim {snmpsim_version}; "
          f"agents up in {startup:.1f} s")

    # Solo walk of the Rx column on the largest Huawei OLT: the agent's own rate (nothing else
    # running), and the reference column for pysnmp. Also a warm-up for that agent.
    solo_plan = max((p for p in plans if p.module.name == "huawei_gpon"),
                    key=lambda p: sum(1 for _ in agents.town.olt(p.name).onus()))
    solo_dev = solo_plan.device
    solo = [netsnmp_solo(exe, solo_plan, HW_RX) for _ in range(3)]
    check_agents_alive(agents)

    # Warm-up: one untimed town poll per side (first reads of each agent's data are slower).
    ftthnoc_round(plans)
    netsnmp_round(exe, plans)
    check_agents_alive(agents)

    ours: list[RoundResult] = []
    theirs: list[RoundResult] = []
    for i in range(args.rounds):
        order = ("ftthnoc", "net-snmp") if i % 2 == 0 else ("net-snmp", "ftthnoc")
        for side in order:
            a0 = agents_cpu(agents)
            r = ftthnoc_round(plans) if side == "ftthnoc" else netsnmp_round(exe, plans)
            r.agents_cpu = agents_cpu(agents) - a0
            check_agents_alive(agents)
            (ours if side == "ftthnoc" else theirs).append(r)
    vb_ours, vb_theirs = ours[0].varbinds, theirs[0].varbinds
    print(f"varbinds fetched: ftthnoc {vb_ours:,}, net-snmp {vb_theirs:,} (per OLT: "
          f"{', '.join(f'{k} {v:,}' for k, v in ours[0].per_olt.items())})")
    if vb_ours != vb_theirs or any(r.per_olt != ours[0].per_olt for r in ours + theirs):
        raise BenchError("the two sides (or two rounds) fetched different numbers of varbinds: "
                         + "; ".join(str(r.per_olt) for r in ours + theirs))

    print()
    print(f"{args.rounds} rounds in alternating order, after one untimed warm-up poll per side:")
    print(f"{'':10}{'round':>7}{'wall s':>9}{'CPU s':>8}{'CPU ms/10k vb':>15}{'agents CPU s':>14}")
    for name, rs in (("ftthnoc", ours), ("net-snmp", theirs)):
        for i, r in enumerate(rs, 1):
            print(f"{name:10}{i:>7}{r.wall:>9.2f}{r.cpu:>8.3f}{r.cpu_per_10k * 1000:>15.1f}"
                  f"{r.agents_cpu:>14.1f}")
        print(f"{name:10}{'median':>7}{median(rs, 'wall'):>9.2f}{median(rs, 'cpu'):>8.3f}"
              f"{median(rs, 'cpu_per_10k') * 1000:>15.1f}{median(rs, 'agents_cpu'):>14.1f}")
    rusage = statistics.median(r.extra["rusage_children_cpu"] for r in theirs)
    print(f"CPU: ftthnoc = process_time() of this process around the poll (decode and rollup "
          f"included); net-snmp = user+sys of its {walks} snmpbulkwalk processes per round "
          f"(os.wait4; RUSAGE_CHILDREN delta agrees: {rusage:.3f} s); the agents' CPU (last column, "
          f"from /proc) is counted on neither side.")
    print()

    wall_o, wall_t = median(ours, "wall"), median(theirs, "wall")
    cpu_o, cpu_t = median(ours, "cpu_per_10k"), median(theirs, "cpu_per_10k")
    wall_ratio, cpu_ratio = wall_o / wall_t, cpu_o / cpu_t
    print(f"wall time ratio (ftthnoc / net-snmp):               {wall_ratio:5.2f}×  "
          f"({wall_o:.2f} s vs {wall_t:.2f} s)   goal ≤ {WALL_GOAL:g}×  {verdict(wall_ratio, WALL_GOAL)}")
    print(f"CPU per 10,000 varbinds ratio (ftthnoc / net-snmp): {cpu_ratio:5.2f}×  "
          f"({cpu_o * 1000:.0f} ms vs {cpu_t * 1000:.0f} ms)   goal ≤ {CPU_GOAL:g}×  "
          f"{verdict(cpu_ratio, CPU_GOAL)}")

    # Reference: one column, one OLT, walked alone by net-snmp, ftthnoc's client and stock pysnmp.
    solo_cpu = statistics.median(r.cpu_per_10k for r in solo)
    solo_vb = solo[0].varbinds
    pysnmp_out: dict[str, float] | None = None
    if not args.no_pysnmp:
        try:
            py = [asyncio.run(_pysnmp_walk(solo_dev, HW_RX)) for _ in range(3)]
        except ImportError:
            print("pysnmp bulk_walk_cmd: pysnmp not installed, skipped")
        else:
            own = [asyncio.run(_ftthnoc_walk(solo_dev, HW_RX)) for _ in range(3)]
            if any(r.varbinds != solo_vb for r in py + own):
                raise BenchError(f"solo walks differ: net-snmp {solo_vb}, pysnmp {py[0].varbinds}, "
                                 f"ftthnoc {own[0].varbinds}")
            py_cpu = statistics.median(r.cpu_per_10k for r in py)
            own_cpu = statistics.median(r.cpu_per_10k for r in own)
            print(f"pysnmp bulk_walk_cmd (v2c, lookupMib=False), {solo_plan.name} Rx column, "
                  f"{solo_vb:,} varbinds: CPU per 10k varbinds {py_cpu / solo_cpu:.1f}× net-snmp "
                  f"({py_cpu * 1000:.0f} ms vs {solo_cpu * 1000:.0f} ms; ftthnoc's client: "
                  f"{own_cpu / solo_cpu:.1f}×, {own_cpu * 1000:.0f} ms)")
            pysnmp_out = {"cpu_per_10k_s": py_cpu, "ratio": py_cpu / solo_cpu,
                          "ftthnoc_client_ratio": own_cpu / solo_cpu, "netsnmp_cpu_per_10k_s": solo_cpu}

    rate = solo_vb / median(solo, "wall")
    largest = max(ours[0].per_olt.values())
    cores = os.cpu_count() or 1
    agents_cpu_t = median(theirs, "agents_cpu")
    print(f"snmpsim limit: the agents, not the pollers, bound the wall time. One agent is one "
          f"single-threaded Python process: ≈ {rate:,.0f} varbinds/s in a solo walk "
          f"({solo_vb:,} in {median(solo, 'wall'):.2f} s, net-snmp at max-repetitions "
          f"{args.max_repetitions}); the largest OLT ({largest:,} varbinds) alone needs ≥ "
          f"{largest / rate:.1f} s, and the agents burn ≈ {agents_cpu_t:.1f} CPU-s per town poll "
          f"on {cores} cores (≥ {agents_cpu_t / cores:.1f} s).")

    if args.json:
        print(json.dumps({
            "onus": n_onus, "olts": len(plans), "walks": walks, "rounds": args.rounds,
            "max_repetitions": args.max_repetitions, "concurrency": conc,
            "cores": os.cpu_count(), "python": platform.python_version(),
            "varbinds": vb_ours,
            "ftthnoc": {"wall_s": wall_o, "cpu_s": median(ours, "cpu"), "cpu_per_10k_s": cpu_o},
            "netsnmp": {"wall_s": wall_t, "cpu_s": median(theirs, "cpu"), "cpu_per_10k_s": cpu_t},
            "wall_ratio": wall_ratio, "wall_goal": WALL_GOAL, "wall_pass": wall_ratio <= WALL_GOAL,
            "cpu_ratio": cpu_ratio, "cpu_goal": CPU_GOAL, "cpu_pass": cpu_ratio <= CPU_GOAL,
            "pysnmp": pysnmp_out,
            "agent_rate_vb_s": rate,
        }, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
