"""Benchmark: an SNMPv3 (authPriv) poll of the simulated town, ftthnoc against ``snmpbulkwalk -v3``.

Why it exists: v3 polling went through pysnmp at ~45× net-snmp's CPU per varbind; the project now
speaks SNMPv3 itself (``collectors/snmp/v3.py``, ``ber_v3.py``, ``usm.py`` on ``cryptography``). Issue
16's goal: a v3 poll of the 7,000-ONU town within 1.5× net-snmp's wall time and 5× its CPU, the whole
process counted on both sides.

What is measured: every OLT of the town, the per-ONU columns of its GPON module (as ``bench/poll.py``),
walked with GETBULK at the same max-repetitions and the same walks in flight per OLT, as the same
SNMPv3 user (default the town's ``olt_v3``: SHA-256 + AES-256, authPriv) on the same snmpsim agents.

- **ftthnoc**: one fresh ``python`` process per round (``--child``) that polls the whole town with
  ``SnmpClient`` and ``poll_device`` (decode and PON-port rollup included) and exits. Its CPU is the
  child's user+sys from ``os.wait4``: interpreter start-up, imports, password-to-key, engine discovery
  and the poll, all of it. The in-poll CPU (``process_time`` around the poll alone) is printed beside.
- **net-snmp**: ``snmpbulkwalk -v3`` processes, one per column (``bench/poll.py``'s ``netsnmp_round``):
  each does its own discovery and password-to-key, as a script driving net-snmp's tools would.

Rounds alternate sides after one untimed warm-up each; medians are compared. The varbind counts of both
sides must be equal (asserted). As in ``bench/poll.py``, the single-threaded snmpsim agents bound the
wall time; CPU is the figure that measures the pollers. A reference line walks one OLT's Rx column with
stock pysnmp v3 (``bulk_walk_cmd``) and with ftthnoc's client, against net-snmp's solo walk.

Run: ``python bench/v3.py`` (``--onus``, ``--rounds``, ``--auth olt_v3_aes128``, ``--json``). A benchmark,
not a test: it exits 0 whatever the figures, non-zero only when something broke.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.poll import (
    HW_RX,
    BenchError,
    OltPlan,
    RoundResult,
    _pysnmp_walk,
    agents_cpu,
    check_agents_alive,
    median,
    netsnmp_round,
    onu_module,
    verdict,
)
from collectors.snmp.ber import Oid, format_oid, parse_oid
from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.poll import poll_device
from ftthnoc.config import Auth, Config
from simulator.agents import TownAgents
from simulator.town import generate_town

WALL_GOAL = 1.5  # ftthnoc / net-snmp, at most
CPU_GOAL = 5.0  # ftthnoc / net-snmp, whole process, at most
GPON_MODULES = ("huawei_gpon", "zte_gpon")

#: the configuration's protocol names → ``snmpbulkwalk -a`` / ``-x``
NET_SNMP_AUTH = {"MD5": "MD5", "SHA": "SHA", "SHA224": "SHA-224", "SHA256": "SHA-256", "SHA384": "SHA-384",
                 "SHA512": "SHA-512"}
NET_SNMP_PRIV = {"DES": "DES", "AES": "AES", "AES192": "AES-192", "AES256": "AES-256"}


def plan_town(agents: TownAgents, auth_name: str, max_repetitions: int) -> list[OltPlan]:
    config = Config.model_validate(agents.poller_config())
    auth = config.auths[auth_name]
    if auth.version != 3:
        raise BenchError(f"auth {auth_name} is not SNMPv3")
    modules = {name: onu_module(name) for name in GPON_MODULES}
    plans = []
    for target in config.targets:
        names = [m for m in target.modules if m in modules]
        if len(names) != 1:
            raise BenchError(f"{target.name}: expected one GPON module among {target.modules}")
        device = dataclasses.replace(Device.from_target(target, auth), max_repetitions=max_repetitions)
        plans.append(OltPlan(device, modules[names[0]], tuple(modules[names[0]].roots())))
    return plans


def v3_command(exe: str, device: Device, root: Oid) -> list[str]:
    """``snmpbulkwalk -v3`` as the device's user (loopback demo passwords on a command line: a bench only)."""
    a = device.auth
    if a.priv_protocol not in NET_SNMP_PRIV and a.security_level == "authPriv":
        raise BenchError(f"net-snmp's tools have no {a.priv_protocol}")
    cmd = [exe, "-v3", "-u", a.username, "-l", a.security_level]
    if a.security_level != "noAuthNoPriv":
        cmd += ["-a", NET_SNMP_AUTH[a.auth_protocol], "-A", a.password.get_secret_value()]
    if a.security_level == "authPriv":
        cmd += ["-x", NET_SNMP_PRIV[a.priv_protocol], "-X", a.priv_password.get_secret_value()]
    if a.context_name:
        cmd += ["-n", a.context_name]
    return [*cmd, "-On", "-Oq", f"-Cr{device.max_repetitions}", "-t", f"{device.timeout:g}", "-r",
            str(device.retries), f"{device.host}:{device.port}", format_oid(root)]


# --------------------------------------------------------------------------- ftthnoc, in a child process
def _child(spec: str) -> int:
    """Poll the plans described by ``spec`` (JSON) and print the varbinds per OLT and the in-poll CPU."""
    data = json.loads(spec)
    auth = Auth.model_validate(data["auth"])
    plans = [OltPlan(Device(d["name"], d["host"], d["port"], auth, max_repetitions=d["max_repetitions"],
                            timeout=d["timeout"], retries=d["retries"], concurrency=d["concurrency"]),
                     onu_module(d["module"]), ()) for d in data["devices"]]

    async def run() -> tuple[dict[str, int], float]:
        client = SnmpClient()
        cpu0 = time.process_time()
        results = await asyncio.gather(*(poll_device(client, p.device, [p.module]) for p in plans))
        cpu = time.process_time() - cpu0
        client.close()
        per_olt: dict[str, int] = {}
        for plan, rs in zip(plans, results, strict=True):
            for r in rs:
                if not r.success or not r.families:
                    raise BenchError(f"ftthnoc v3 poll of {plan.name} ({r.module}) failed: {r.error}")
                per_olt[plan.name] = per_olt.get(plan.name, 0) + r.varbinds
        return per_olt, cpu

    per_olt, cpu = asyncio.run(run())
    print(json.dumps({"per_olt": per_olt, "poll_cpu": cpu}))
    return 0


def _spec(plans: Sequence[OltPlan]) -> str:
    auth = plans[0].device.auth
    secrets = {"password": auth.password.get_secret_value(), "priv_password": auth.priv_password.get_secret_value()}
    return json.dumps({
        "auth": {**auth.model_dump(exclude={"password", "priv_password", "community"}), **secrets},
        "devices": [{"name": p.name, "host": p.device.host, "port": p.device.port, "module": p.module.name,
                     "max_repetitions": p.device.max_repetitions, "timeout": p.device.timeout,
                     "retries": p.device.retries, "concurrency": p.device.concurrency} for p in plans],
    })


def ftthnoc_round(plans: Sequence[OltPlan]) -> RoundResult:
    """One town poll in a fresh interpreter; CPU from ``os.wait4`` (the whole process). The spec goes in
    on stdin, so that no password is on a command line."""
    wall0 = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(_spec(plans).encode())
        proc.stdin.close()
        out = proc.stdout.read()
        proc.stdout.close()
        _, status, ru = os.wait4(proc.pid, 0)  # reaped here (not by Popen): its rusage is the figure
        wall = time.perf_counter() - wall0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            raise BenchError(f"the ftthnoc child exited with {proc.returncode}: "
                             f"{errors.read().decode(errors='replace')[-800:]}")
    data = json.loads(out)
    per_olt = {k: int(v) for k, v in data["per_olt"].items()}
    return RoundResult(wall, ru.ru_utime + ru.ru_stime, sum(per_olt.values()), per_olt,
                       extra={"poll_cpu": float(data["poll_cpu"])})


# --------------------------------------------------------------------------- reference: one column
async def _pysnmp_v3_walk(device: Device, oid: str) -> RoundResult:
    from pysnmp.hlapi.v3arch import asyncio as hl

    from collectors.traps.receiver import AUTH_PROTOCOLS, PRIV_PROTOCOLS

    a = device.auth
    user = hl.UsmUserData(a.username, a.password.get_secret_value(), a.priv_password.get_secret_value(),
                          authProtocol=AUTH_PROTOCOLS[a.auth_protocol], privProtocol=PRIV_PROTOCOLS[a.priv_protocol])
    return await _pysnmp_walk(device, oid, user)  # the same walk as bench/poll.py's, over v3


async def _ftthnoc_walk(device: Device, oid: str) -> RoundResult:
    client = SnmpClient()
    await client.get(device, [(1, 3, 6, 1, 2, 1, 1, 5, 0)])  # discovery and keys: a one-off, as for pysnmp
    wall0, cpu0 = time.perf_counter(), time.process_time()
    res = await client.walk(device, [parse_oid(oid)])
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return RoundResult(wall, cpu, res.varbinds, {device.name: res.varbinds})


# --------------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--onus", type=int, default=7000, help="ONUs in the simulated town (default 7000)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per side (default 3)")
    ap.add_argument("--max-repetitions", type=int, default=25, help="GETBULK max-repetitions (default 25)")
    ap.add_argument("--auth", default="olt_v3", help="the town's v3 auth (olt_v3: SHA256+AES256; olt_v3_aes128)")
    ap.add_argument("--json", action="store_true", help="also print one machine-readable JSON line")
    ap.add_argument("--no-pysnmp", action="store_true", help="skip the stock pysnmp v3 reference line")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child(sys.stdin.read())
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    exe = shutil.which("snmpbulkwalk")
    if exe is None:
        print("snmpbulkwalk not found: install net-snmp's tools (Debian: apt-get install snmp)", file=sys.stderr)
        return 2
    version = subprocess.run([exe, "-V"], capture_output=True, text=True).stderr.strip()
    t0 = time.perf_counter()
    agents = TownAgents(generate_town(onus=args.onus, bwa_stations=(), vpn_gateways=()))
    agents.start()
    try:
        return _run(args, exe, version, agents, time.perf_counter() - t0)
    finally:
        agents.stop()


def _run(args: argparse.Namespace, exe: str, version: str, agents: TownAgents, startup: float) -> int:
    plans = plan_town(agents, args.auth, args.max_repetitions)
    auth = plans[0].device.auth
    walks = sum(len(p.roots) for p in plans)
    n_onus = sum(1 for _ in agents.town.onus())
    print(f"ftthnoc SNMPv3 poll benchmark: {n_onus:,} ONUs on {len(plans)} OLTs, {walks} column walks, "
          f"{auth.security_level} {auth.auth_protocol}+{auth.priv_protocol} (auth {args.auth}), "
          f"max-repetitions {args.max_repetitions}")
    print(f"machine: {os.cpu_count()} cores {platform.machine()}, Python {platform.python_version()}, {version}; "
          f"agents up in {startup:.1f} s")

    command = v3_command
    ftthnoc_round(plans)  # warm-up, untimed
    netsnmp_round(exe, plans, command)
    check_agents_alive(agents)
    ours: list[RoundResult] = []
    theirs: list[RoundResult] = []
    for i in range(args.rounds):
        for side in (("ftthnoc", "net-snmp") if i % 2 == 0 else ("net-snmp", "ftthnoc")):
            a0 = agents_cpu(agents)
            r = ftthnoc_round(plans) if side == "ftthnoc" else netsnmp_round(exe, plans, command)
            r.agents_cpu = agents_cpu(agents) - a0
            check_agents_alive(agents)
            (ours if side == "ftthnoc" else theirs).append(r)
    if any(r.per_olt != ours[0].per_olt for r in ours + theirs):
        raise BenchError("the two sides (or two rounds) fetched different numbers of varbinds: "
                         + "; ".join(str(r.per_olt) for r in ours + theirs))
    print(f"varbinds per poll: {ours[0].varbinds:,} on both sides")
    print()
    print(f"{'':10}{'round':>7}{'wall s':>9}{'CPU s':>8}{'in-poll CPU s':>15}{'agents CPU s':>14}")
    for name, rs in (("ftthnoc", ours), ("net-snmp", theirs)):
        for i, r in enumerate(rs, 1):
            inpoll = f"{r.extra['poll_cpu']:.3f}" if "poll_cpu" in r.extra else "-"
            print(f"{name:10}{i:>7}{r.wall:>9.2f}{r.cpu:>8.3f}{inpoll:>15}{r.agents_cpu:>14.1f}")
    wall_o, wall_t = median(ours, "wall"), median(theirs, "wall")
    cpu_o, cpu_t = median(ours, "cpu"), median(theirs, "cpu")
    poll_cpu = statistics.median(r.extra["poll_cpu"] for r in ours)
    print("CPU: ftthnoc = user+sys of its whole child process (start-up, imports, keys, discovery, poll, "
          f"decode); net-snmp = user+sys of its {walks} snmpbulkwalk -v3 processes; agents on neither side.")
    print()
    wall_ratio, cpu_ratio = wall_o / wall_t, cpu_o / cpu_t
    print(f"wall time ratio (ftthnoc / net-snmp):      {wall_ratio:5.2f}×  ({wall_o:.2f} s vs {wall_t:.2f} s)  "
          f"goal ≤ {WALL_GOAL:g}×  {verdict(wall_ratio, WALL_GOAL)}")
    print(f"CPU ratio, whole process (ftthnoc / net-snmp): {cpu_ratio:5.2f}×  ({cpu_o:.3f} s vs {cpu_t:.3f} s)  "
          f"goal ≤ {CPU_GOAL:g}×  {verdict(cpu_ratio, CPU_GOAL)}")
    print(f"CPU ratio, poll only (in-poll / net-snmp):     {poll_cpu / cpu_t:5.2f}×  ({poll_cpu:.3f} s)")

    pysnmp_out = None
    if not args.no_pysnmp:
        solo_plan = max((p for p in plans if p.module.name == "huawei_gpon"),
                        key=lambda p: sum(1 for _ in agents.town.olt(p.name).onus()))
        dev = solo_plan.device
        solo = [netsnmp_round(exe, [dataclasses.replace(solo_plan, roots=(parse_oid(HW_RX),))], command)
                for _ in range(3)]
        own = [asyncio.run(_ftthnoc_walk(dev, HW_RX)) for _ in range(3)]
        py = [asyncio.run(_pysnmp_v3_walk(dev, HW_RX)) for _ in range(3)]
        n = solo[0].varbinds
        if any(r.varbinds != n for r in own + py):
            raise BenchError(f"solo walks differ: net-snmp {n}, ftthnoc {own[0].varbinds}, pysnmp {py[0].varbinds}")
        ns, ow, pc = (statistics.median(r.cpu_per_10k for r in rs) for rs in (solo, own, py))
        print(f"one column ({solo_plan.name} Rx, {n:,} varbinds), CPU per 10k varbinds: net-snmp process "
              f"{ns * 1000:.0f} ms; ftthnoc walk {ow * 1000:.0f} ms ({ow / ns:.1f}×); stock pysnmp v3 bulk_walk_cmd "
              f"{pc * 1000:.0f} ms ({pc / ns:.1f}×)")
        pysnmp_out = {"netsnmp_cpu_per_10k_s": ns, "ftthnoc_walk_ratio": ow / ns, "pysnmp_ratio": pc / ns}
    if args.json:
        print(json.dumps({
            "onus": n_onus, "olts": len(plans), "walks": walks, "rounds": args.rounds, "auth": args.auth,
            "varbinds": ours[0].varbinds, "cores": os.cpu_count(),
            "ftthnoc": {"wall_s": wall_o, "cpu_s": cpu_o, "poll_cpu_s": poll_cpu},
            "netsnmp": {"wall_s": wall_t, "cpu_s": cpu_t},
            "wall_ratio": wall_ratio, "wall_pass": wall_ratio <= WALL_GOAL,
            "cpu_ratio": cpu_ratio, "cpu_pass": cpu_ratio <= CPU_GOAL, "column": pysnmp_out,
        }, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
