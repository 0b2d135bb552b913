"""Benchmark: household enrolments per minute against a simulated OLT, and where their time goes.

Why it exists: an enrolment (``provisioning/enrol.py``) is mostly waiting: on the OLT's CLI over SSH,
then on its SNMP agent until the new ONU runs. ftthnoc's own work around that (the inventory in
SQLite, rendering the commands, parsing the answers with TextFSM, the run's bookkeeping and audit)
should be a small share of each enrolment. This benchmark measures that split, and compares the CLI
dialogue with the same commands sent by a bare netmiko script (no ftthnoc at all).

What runs: the simulated town (``--onus`` ONUs, seed ``--seed``) with its snmpsim agents (one process
per OLT) and asyncssh OLT simulators (threads of this process, sharing state with the agents: a CLI
change is republished to SNMP ``--publish-delay`` seconds later by rewriting and restarting that OLT's
agent), and an SQLite inventory in a temporary directory. For each ``--concurrency`` K (default 1 and
8), ``--n`` households are created ``installed`` in the OLT's district and as many ONUs plugged in,
spread over the OLT's PON ports (untimed, and published to SNMP before the run starts); then K
threads call ``Provisioner.enrol(code, serial)`` until all are enrolled. Every enrolment must end
``done``; failures are counted and printed.

Each enrolment's wall time (the ``enrol()`` call) is split into:

* **device CLI**: ``transcript.connect_seconds`` + the exchanges' ``seconds`` (SSH login and session
  preparation, and waiting for each answer), as the driver records them;
* **logout**: netmiko's ``disconnect()`` (the OLT's log-out dialogue), which the transcript does not
  record; timed here by wrapping ``CliSession.close``;
* **SNMP verification**: the time inside the verifier, ``wait_for_onu`` with the configured timeout
  and interval (``--verify-interval``, default 0.25 s), wrapped with a timer via
  ``Provisioner(verifier=...)``. In this simulator it is dominated by the agent restart that
  republishes the new ONU: the SNMP request in flight when the agent goes down is only retried after
  the verifier's 3 s request timeout;
* **ftthnoc's own**: the rest (database, rendering, parsing, bookkeeping, thread scheduling).

Reference run, side by side: the concurrency-1 run's CLI dialogues replayed by bare netmiko. The ONTs
that run added are removed from the simulated OLT (its state, not its CLI; untimed) so that each ONU
is back in autofind, then each transcript's exact commands are sent in one session per dialogue:
``ConnectHandler(device_type="huawei_olt")`` (for ZTE, the project's 30-line ``ZxanSSH`` netmiko
class, as netmiko has none for the C300), ``enable()``/``config_mode()`` as the driver does, the
commands, ``disconnect()``; no SNMP check. The commands go out with netmiko's lowest-overhead calls
(``write_channel`` + ``read_until_pattern`` up to the prompt after the echo: a 10 ms read loop), and
for ``--send-command-dialogues`` of them (default 10) again with the usual ``send_command(command,
expect_string=<prompt>)`` (echo first, then a 25 ms read loop). The figure compared is the CLI
dialogue of each enrolment (login + answers + logout) against the bare replay of the same dialogue.

Run: ``python bench/enroll.py`` (``--help`` for the options). A benchmark, not a test: it exits 0
whatever the figures, and non-zero only when it could not run (no snmpsim, a simulator failing).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import itertools
import json
import logging
import os
import platform
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftthnoc.config import Config
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.inventory.models import EnrolmentState
from provisioning.drivers import netmiko_session
from provisioning.enrol import Outcome, Provisioner
from provisioning.verify import OltSnmp, Verdict, wait_for_onu
from simulator.agents import TownAgents, snmpsim_executable
from simulator.cli.olt_state import OltState, PluggedOnu
from simulator.cli.town import CLI_PASSWORD, CLI_USER, TownCli, provisioning_section
from simulator.town import Olt, generate_town

VERSIONS = ("netmiko", "paramiko", "asyncssh", "sqlalchemy", "textfsm", "ntc-templates", "snmpsim")


# --------------------------------------------------------------------------- one enrolment's figures
@dataclass
class Enrolment:
    code: str
    serial: str
    wall: float = 0.0
    connect: float = 0.0  # transcript.connect_seconds
    answers: float = 0.0  # sum of the exchanges' seconds
    logout: float = 0.0  # CliSession.close, timed here
    verify: float = 0.0  # inside the verifier
    cpu: float = 0.0  # CPU time of the enrolling thread (ftthnoc, netmiko, paramiko, the SNMP client)
    verify_cpu: float = 0.0  # the part of ``cpu`` spent inside the verifier (SNMP client and decoding)
    state: str = ""
    message: str = ""
    commands: list[str] = field(default_factory=list)
    port: str = ""
    ont_id: int | None = None

    @property
    def cli(self) -> float:
        return self.connect + self.answers

    @property
    def own(self) -> float:
        return self.wall - self.cli - self.logout - self.verify

    @property
    def ok(self) -> bool:
        return self.state == EnrolmentState.DONE


@dataclass
class Run:
    concurrency: int
    wall: float
    enrolments: list[Enrolment]

    @property
    def done(self) -> list[Enrolment]:
        return [e for e in self.enrolments if e.ok]

    @property
    def failed(self) -> list[Enrolment]:
        return [e for e in self.enrolments if not e.ok]

    def per_minute(self) -> float:
        return len(self.done) / self.wall * 60

    def share(self, attr: str) -> float:
        """Summed over the finished enrolments, as a share of their summed wall time."""
        done = self.done
        total = sum(e.wall for e in done)
        return sum(getattr(e, attr) for e in done) / total if total else 0.0

    def mean(self, attr: str) -> float:
        done = self.done
        return statistics.fmean(getattr(e, attr) for e in done) if done else 0.0


_current = threading.local()  # the Enrolment the calling thread works on


@contextlib.contextmanager
def timed_logouts() -> Iterator[None]:
    """Time ``CliSession.close`` (netmiko's log-out dialogue) into the thread's current Enrolment."""
    original: Callable[[netmiko_session.CliSession], None] = netmiko_session.CliSession.close

    def close(self: netmiko_session.CliSession) -> None:
        t0 = time.perf_counter()
        try:
            original(self)
        finally:
            rec: Enrolment | None = getattr(_current, "enrolment", None)
            if rec is not None:
                rec.logout += time.perf_counter() - t0

    netmiko_session.CliSession.close = close  # type: ignore[method-assign]
    try:
        yield
    finally:
        netmiko_session.CliSession.close = original  # type: ignore[method-assign]


# --------------------------------------------------------------------------- the bench
class Bench:
    def __init__(self, args: argparse.Namespace, agents: TownAgents, cli: TownCli, engine: Any, olt: Olt) -> None:
        self.args = args
        self.agents = agents
        self.cli = cli
        self.engine = engine
        self.olt = olt
        self.config = Config.model_validate({**agents.poller_config(), "provisioning": provisioning_section(
            verify_timeout=args.verify_timeout, verify_interval=args.verify_interval)})
        self._homes = itertools.count(900001)
        self._serials = itertools.count(0x5EED0000)
        self._ports = itertools.cycle(p.name for p in olt.pon_ports)

    @property
    def state(self) -> OltState:
        return self.cli.olt_states[self.olt.name]

    def install(self, n: int) -> list[Enrolment]:
        """``n`` new installed households, each with a new ONU plugged into the next PON port (untimed)."""
        prefix = "HWTC" if self.olt.vendor == "huawei" else "ZTEG"
        homes = [Enrolment(f"HH-{next(self._homes):06d}", f"{prefix}-{next(self._serials):08X}", port=next(self._ports))
                 for _ in range(n)]
        with db.session_scope(self.engine) as s:
            import_document(s, {"households": [
                {"code": h.code, "district": self.olt.district, "plan": "home-1g", "status": "installed"}
                for h in homes]})
        self.state.plug_many(PluggedOnu(h.port, h.serial, rx_dbm=-20.5, olt_rx_dbm=-22.5) for h in homes)
        self.settle()
        return homes

    def settle(self) -> None:
        """Let the simulator serve every change so far to SNMP, so that no republication from an
        earlier step lands inside the next measurement."""
        if not self.cli.wait_published(120):
            raise RuntimeError("the simulator did not republish its SNMP data within 120 s")

    def enrol(self, rec: Enrolment) -> Enrolment:
        def verifier(config: Config, olt: OltSnmp, pon_port: str, ont_id: int) -> Verdict:
            # what Provisioner._verify does, timed
            cpu0, t0 = time.thread_time(), time.perf_counter()
            try:
                return wait_for_onu(config, olt, pon_port, ont_id, timeout=self.args.verify_timeout,
                                    interval=self.args.verify_interval)
            finally:
                rec.verify += time.perf_counter() - t0
                rec.verify_cpu += time.thread_time() - cpu0

        provisioner = Provisioner(self.engine, self.config, actor="bench", verifier=verifier)
        _current.enrolment = rec
        cpu0, t0 = time.thread_time(), time.perf_counter()
        try:
            out: Outcome = provisioner.enrol(rec.code, rec.serial)
        except Exception as exc:  # counted as a failure; the benchmark goes on
            rec.wall = time.perf_counter() - t0
            rec.state, rec.message = "error", f"{type(exc).__name__}: {exc}"
            return rec
        finally:
            _current.enrolment = None
        rec.wall, rec.cpu = time.perf_counter() - t0, time.thread_time() - cpu0
        rec.state, rec.message = str(out.state), out.message
        rec.connect = out.transcript.connect_seconds
        rec.answers = sum(e.seconds for e in out.transcript.exchanges)
        rec.commands = [e.command for e in out.transcript.exchanges]
        rec.ont_id = out.ont_id
        return rec

    def run(self, concurrency: int, n: int) -> Run:
        homes = self.install(n)
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="enrol") as pool:
            t0 = time.perf_counter()
            done = list(pool.map(self.enrol, homes))
            wall = time.perf_counter() - t0
        self.settle()
        return Run(concurrency, wall, done)

    # ------------------------------------------------------------------ reference: bare netmiko
    def reference(self, source: Run, style: str, limit: int | None = None) -> list[BareDialogue]:
        """Replay ``source``'s CLI dialogues with bare netmiko, each against its ONU back in autofind."""
        todo = [e for e in source.done if e.ont_id is not None][:limit]
        for e in todo:  # back to plugged-but-not-configured, as before ftthnoc's run (state, not CLI)
            assert e.ont_id is not None
            if self.state.ont(e.port, e.ont_id) is not None:
                self.state.delete_ont(e.port, e.ont_id, cascade=True)
        self.settle()
        server = self.cli.servers[self.olt.name]
        out = []
        for e in todo:
            assert e.ont_id is not None
            d = bare_dialogue(self.olt.vendor, server.host, server.port, e, style)
            ont = self.state.find_serial(e.serial)
            if d.error is None and (ont is None or (ont.pon_port, ont.ont_id) != (e.port, e.ont_id)
                                    or not self.state.services_of(e.port, e.ont_id)):
                d.error = f"{e.serial} is not configured at {e.port} id {e.ont_id} with a service port"
            out.append(d)
        self.settle()
        return out


@dataclass
class BareDialogue:
    source: Enrolment  # the enrolment whose commands were replayed
    login: float = 0.0  # ConnectHandler + enable + config mode
    answers: float = 0.0  # the send_command calls
    logout: float = 0.0  # disconnect()
    commands: int = 0
    error: str | None = None

    @property
    def wall(self) -> float:
        return self.login + self.answers + self.logout


def bare_dialogue(vendor: str, host: str, port: int, source: Enrolment, style: str) -> BareDialogue:
    """One session, the commands in order, as an operator's netmiko script would send them. ``style``:
    ``read_until_pattern`` (``write_channel`` + ``read_until_pattern(prompt)``: netmiko's lowest-overhead
    calls, a 10 ms read loop) or ``send_command`` (``send_command(command, expect_string=prompt)``: the
    usual call, which also waits for the echo and then polls every 25 ms)."""
    from netmiko import ConnectHandler

    params: dict[str, Any] = {"host": host, "port": port, "username": CLI_USER, "password": CLI_PASSWORD}
    d = BareDialogue(source, commands=len(source.commands))
    conn: Any = None
    t0 = time.perf_counter()
    try:
        if vendor == "huawei":
            conn = ConnectHandler(device_type="huawei_olt", **params)
            conn.enable()
        else:
            from provisioning.drivers.zte_c300 import ZxanSSH  # netmiko has no class for the ZXAN shell

            conn = ZxanSSH(**params)
        conn.config_mode()
        prompt = rf"{re.escape(conn.base_prompt)}(?:\([^)\n]*\))?[>#]"
        t1 = time.perf_counter()
        d.login = t1 - t0
        if style == "send_command":
            for command in source.commands:
                conn.send_command(command, expect_string=prompt, read_timeout=20)
        else:
            for command in source.commands:  # the answer ends with the prompt after the echoed command
                answered = rf"{re.escape(command)}\r?\n(?:[\s\S]*\n)?[ \t]*{prompt}[ \t]*$"
                conn.read_channel()  # nothing unsolicited is taken for the answer
                conn.write_channel(command + conn.RETURN)
                conn.read_until_pattern(pattern=answered, read_timeout=20)
        t2 = time.perf_counter()
        d.answers = t2 - t1
        conn.disconnect()
        conn = None
        d.logout = time.perf_counter() - t2
    except Exception as exc:
        d.error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.disconnect()
    return d


# --------------------------------------------------------------------------- report
def versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for name in VERSIONS:
        try:
            parts.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{name} ?")
    parts.append(f"SQLite {sqlite3.sqlite_version}")
    return ", ".join(parts)


def pct(x: float) -> str:
    return f"{x * 100:5.1f}%"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--n", type=int, default=40, help="enrolments per run (default 40)")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8],
                    help="enrolments in flight, one run each (default: 1 8)")
    ap.add_argument("--vendor", choices=("huawei", "zte"), default="huawei", help="which OLT (default huawei)")
    ap.add_argument("--verify-interval", type=float, default=0.25, help="SNMP check poll interval, s (default 0.25)")
    ap.add_argument("--verify-timeout", type=float, default=60.0, help="SNMP check timeout, s (default 60)")
    ap.add_argument("--publish-delay", type=float, default=0.2,
                    help="simulator: seconds from a CLI change to its SNMP republication (default 0.2)")
    ap.add_argument("--onus", type=int, default=300, help="ONUs in the simulated town (default 300)")
    ap.add_argument("--seed", type=int, default=11, help="simulated town seed (default 11)")
    ap.add_argument("--no-reference", action="store_true", help="skip the bare netmiko reference")
    ap.add_argument("--send-command-dialogues", type=int, default=10,
                    help="dialogues also replayed with netmiko's send_command (default 10; 0: none)")
    ap.add_argument("--json", action="store_true", help="also print one machine-readable JSON line")
    args = ap.parse_args(argv)
    if args.n < 1 or any(k < 1 for k in args.concurrency):
        ap.error("--n and --concurrency must be at least 1")
    try:
        snmpsim_executable()
    except Exception as exc:
        print(f"enroll bench: snmpsim is not installed: {exc}", file=sys.stderr)
        return 2

    # An agent restart (the simulator republishing SNMP) makes in-flight SNMP requests fail and be retried:
    # expected here, and counted in the SNMP check's time, so their warnings are not printed.
    for name in ("collectors.snmp.poll", "asyncio"):
        logging.getLogger(name).setLevel(logging.ERROR)

    t0 = time.perf_counter()
    town = generate_town(seed=args.seed, onus=args.onus, schools=1)
    olt = next(o for o in town.olts if o.vendor == args.vendor)  # the first of its district by name
    with tempfile.TemporaryDirectory(prefix="ftthnoc-bench-enroll-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'inventory.db'}"
        db.upgrade(url)
        engine = db.make_engine(url)
        try:
            with TownAgents(town) as agents, \
                    TownCli(agents, schools=False, publish_delay=args.publish_delay) as cli, timed_logouts():
                with db.session_scope(engine) as s:
                    import_document(s, cli.town().inventory_document())
                bench = Bench(args, agents, cli, engine, olt)
                return report(args, bench, time.perf_counter() - t0)
        finally:
            engine.dispose()


def report(args: argparse.Namespace, bench: Bench, startup: float) -> int:
    olt = bench.olt
    print(f"ftthnoc enrolment benchmark: {args.n} enrolments per run on {olt.name} ({olt.vendor}, "
          f"{len(olt.pon_ports)} PON ports), concurrency {', '.join(map(str, args.concurrency))}")
    print(f"machine: {os.cpu_count()} cores {platform.machine()}, {versions()}")
    print(f"simulator: town seed {args.seed}, {args.onus} ONUs; OLT CLI = asyncssh in this process, SNMP = "
          f"snmpsim processes, republished {args.publish_delay:g} s after a CLI change (agent restart); "
          f"SNMP check every {args.verify_interval:g} s (small on purpose), timeout {args.verify_timeout:g} s; "
          f"set up in {startup:.1f} s")

    warm = bench.enrol(bench.install(1)[0])  # imports, templates, first sessions: untimed
    bench.settle()
    if not warm.ok:
        print(f"warm-up enrolment failed: {warm.state}: {warm.message}", file=sys.stderr)
        return 1

    runs = [bench.run(k, args.n) for k in args.concurrency]
    print()
    print(f"{'':15}{'done':>5}{'failed':>7}{'wall s':>8}{'enrol/min':>10}{'s/enrol':>9}"
          f"{'device CLI':>12}{'logout':>8}{'SNMP check':>12}{'ftthnoc own':>13}")
    for r in runs:
        print(f"{'concurrency ' + str(r.concurrency):15}{len(r.done):>5}{len(r.failed):>7}{r.wall:>8.1f}"
              f"{r.per_minute():>10.1f}{r.mean('wall'):>9.2f}{pct(r.share('cli')):>12}{pct(r.share('logout')):>8}"
              f"{pct(r.share('verify')):>12}{pct(r.share('own')):>13}")
    print("  per enrolment, mean s:")
    for r in runs:
        print(f"  {'concurrency ' + str(r.concurrency):15}device CLI {r.mean('cli'):.3f} (login {r.mean('connect'):.3f}"
              f" + answers {r.mean('answers'):.3f}), logout {r.mean('logout'):.3f}, SNMP check "
              f"{r.mean('verify'):.3f}, ftthnoc own {r.mean('own'):.3f}")
    print("  shares are of the summed wall time of the enrolments that ended done; ftthnoc own = wall - device "
          "CLI - logout - SNMP check")
    print("  CPU of the enrolling thread per enrolment (ftthnoc + netmiko/paramiko + the SNMP client; the simulator "
          "runs on other threads and processes): " + ", ".join(
              f"{r.mean('cpu'):.3f} s at concurrency {r.concurrency} ({r.mean('verify_cpu'):.3f} s of it in the SNMP "
              "check)" for r in runs))
    print(f"  {os.cpu_count()} cores are shared with the simulator: with more enrolments in flight than cores, the "
          "waits and ftthnoc own also hold waiting for a CPU")
    for r in runs:
        for e in r.failed:
            print(f"  FAILED (concurrency {r.concurrency}) {e.code} {e.serial}: {e.state}: {e.message}")

    refs: dict[str, list[BareDialogue]] = {}
    base = next((r for r in runs if r.concurrency == 1), runs[0])
    if not args.no_reference and base.done:
        refs["read_until_pattern"] = bench.reference(base, "read_until_pattern")
        if args.send_command_dialogues > 0:
            refs["send_command"] = bench.reference(base, "send_command", args.send_command_dialogues)
    summary: dict[str, Any] = {}
    if refs:
        print()
        print(f"reference: the concurrency-{base.concurrency} run's CLI dialogues ("
              f"{statistics.fmean(len(e.commands) for e in base.done):.0f} commands each, taken from the enrolments' "
              "transcripts) replayed one after another by bare netmiko, no SNMP check:")
        print(f"{'per dialogue, mean s':34}{'n':>4}{'login':>8}{'answers':>9}{'logout':>8}{'dialogue':>10}"
              f"{'dialogues/min':>15}")
        parts = ("login", "answers", "logout", "wall")
        ratios: list[tuple[str, dict[str, float]]] = []
        for style, dialogues in refs.items():
            ok = [d for d in dialogues if d.error is None]
            if not ok:
                continue
            bare = {k: statistics.fmean(getattr(d, k) for d in ok) for k in parts}
            ours = {"login": statistics.fmean(d.source.connect for d in ok),
                    "answers": statistics.fmean(d.source.answers for d in ok),
                    "logout": statistics.fmean(d.source.logout for d in ok)}
            ours["wall"] = ours["login"] + ours["answers"] + ours["logout"]
            print(f"{'bare netmiko, ' + style:34}{len(ok):>4}" + "".join(
                f"{bare[k]:>{w}.3f}" for k, w in zip(parts, (8, 9, 8, 10), strict=True))
                + f"{60 / bare['wall']:>15.1f}")
            ratios.append((style, {k: ours[k] / bare[k] for k in parts}))
            summary[style] = {"dialogues": len(ok), "failed": len(dialogues) - len(ok), "mean_s": bare,
                              "ftthnoc_mean_s": ours, "ratio": ratios[-1][1]}
        ours_all = {"login": base.mean("connect"), "answers": base.mean("answers"), "logout": base.mean("logout")}
        ours_all["wall"] = ours_all["login"] + ours_all["answers"] + ours_all["logout"]
        print(f"{'ftthnoc, in its enrolments':34}{len(base.done):>4}" + "".join(
            f"{ours_all[k]:>{w}.3f}" for k, w in zip(parts, (8, 9, 8, 10), strict=True)))
        for style, ratio in ratios:
            print(f"{'ratio ftthnoc / ' + style:34}{'':>4}" + "".join(
                f"{ratio[k]:>{w - 1}.2f}×" for k, w in zip(parts, (8, 9, 8, 10), strict=True)))
        print("  (ratios pair each bare dialogue with the ftthnoc enrolment whose commands it replayed; "
              "login = SSH + session preparation + config mode)")
        if "read_until_pattern" in summary:
            bare_wall = summary["read_until_pattern"]["mean_s"]["wall"]
            print(f"bare netmiko: {60 / bare_wall:.1f} dialogues/minute; ftthnoc: " + ", ".join(
                f"{r.per_minute():.1f} enrolments/minute at concurrency {r.concurrency}" for r in runs)
                + f"; an enrolment at concurrency {base.concurrency} takes {base.mean('wall') / bare_wall:.1f}× "
                "a bare dialogue, the difference being mostly the SNMP check")
        for style, dialogues in refs.items():
            for d in dialogues:
                if d.error is not None:
                    print(f"  bare netmiko dialogue FAILED ({style}, {d.source.serial}): {d.error}")

    if args.json:
        print(json.dumps({
            "olt": olt.name, "vendor": olt.vendor, "n": args.n, "cores": os.cpu_count(),
            "verify_interval": args.verify_interval, "publish_delay": args.publish_delay,
            "runs": [{"concurrency": r.concurrency, "done": len(r.done), "failed": len(r.failed), "wall_s": r.wall,
                      "per_minute": r.per_minute(),
                      "share": {k: r.share(k) for k in ("cli", "logout", "verify", "own")},
                      "mean_s": {k: r.mean(k) for k in ("wall", "connect", "answers", "logout", "verify", "own",
                                                         "cpu", "verify_cpu")}}
                     for r in runs],
            "bare_netmiko": summary,
        }, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
