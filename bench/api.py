"""Benchmark: latency of ``/api/kpis`` and of a school page under concurrent load, against ``/api/health``.

Why it exists: the KPIs are computed on every request from the whole inventory (every household's status
history, every tablet's ``last_seen_at``, ...). With a town's full data loaded they must still answer about
as fast as the cheapest route. The goal is p99 of ``/api/kpis`` within 3x the p99 of ``/api/health``
measured in the same run, on the same server, with the same load generator.

What runs:

* an SQLite inventory in a temporary directory: the simulated town (``simulator.town``, ``--onus``
  ONUs and active households plus the pipeline households, schools chosen so that the tablets come
  closest to ``--tablets``) and ``--spares`` more ONUs in stock (no household) on the OLTs' PON ports, on
  unused ONU ids, to reach 10,000 ONUs. Untimed extras so that the KPIs have work to do: the households'
  status changes spread over ``--history-months`` months, tablets' ``last_seen_at`` (about 60 % in the last
  24 hours, 20 % in the last week, 10 % older, 10 % never), a month of availability per district and month;
  an admin user with an API token;
* the API in its own process (``python -m uvicorn --factory api.app:app_from_environment``, one worker,
  access log off), so that the load generator does not share its interpreter;
* the load generator in this process: ``httpx.AsyncClient`` with ``--concurrency`` workers, each sending
  one request after the other for ``--duration`` seconds per endpoint, after ``--warmup`` untimed requests.
  The endpoints are measured one after the other: ``/api/health`` (no token), ``/api/kpis`` (Bearer
  token) and a school's page: ``/schools/{code}`` (the web page, with the session cookie of
  ``POST /api/login``) when the server has it, else ``/api/tablets?school={code}&limit=500`` (said so
  in the output). The school is the one with the most tablets.

Every answer must be 200; anything else (or a transport error) is counted as an error and listed, and
left out of the latencies. Figures: requests/s, p50 and p99 latency (ms), server CPU per request (from
``/proc``, where there is one), and p50 and p99 as ratios to ``/api/health``'s, side by side.

On a small machine the load generator and the server compete for the same cores: both are Python. The
ratios are what to compare between machines and commits; the absolute figures are this machine's.

Run: ``python bench/api.py`` (``--help`` for the options). A benchmark, not a test: it exits 0 whatever
the figures, non-zero only when it could not run (no ``/api/kpis``, the server not starting).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, update

from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.inventory.models import (
    Household,
    Onu,
    School,
    Tablet,
    User,
)
from ftthnoc.kpi.models import AvailabilityMonth, HouseholdStatusChange
from ftthnoc.normalise import normalise_serial
from simulator.town import generate_town

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "bench-admin"
#: ONU ids given to spares: within every vendor's range (Huawei 0..127, ZTE 1..128)
SPARE_ONU_IDS = range(1, 128)
GOAL_P99_RATIO = 3.0
TABLETS_PER_SCHOOL = 155  # about, with the simulator's default pupils per school


class CannotRun(Exception):
    """The benchmark cannot run here (exit 2 with the message)."""


# ----------------------------------------------------------------------------------------------- data
@dataclass
class Loaded:
    households: int
    active: int
    onus: int
    spares: int
    schools: int
    tablets: int
    status_changes: int
    school: str  # the measured school's code
    school_tablets: int
    token: str
    password: str


def _pick_schools(seed: int, onus: int, tablets: int) -> int:
    """The number of schools whose tablets come closest to ``tablets`` (the generator is deterministic)."""
    guess = max(1, round(tablets / TABLETS_PER_SCHOOL))
    best = min(range(max(1, guess - 3), guess + 4),
               key=lambda n: abs(len(generate_town(seed, onus, schools=n).tablets) - tablets))  # fmt: skip
    return best


def _spares(doc: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """``count`` ONUs without household, round-robin over the PON ports on unused ONU ids, unique serials."""
    vendor = {o["name"]: o["vendor"] for o in doc["olts"]}
    used = {(o["olt"], o["pon_port"], o["onu_id"]) for o in doc["onus"]}
    serials = {normalise_serial(o["serial"]) for o in doc["onus"]}
    free: list[list[tuple[str, str, int]]] = [
        [(p["olt"], p["port"], i) for i in SPARE_ONU_IDS if (p["olt"], p["port"], i) not in used]
        for p in doc["pon_ports"]
    ]
    out: list[dict[str, Any]] = []
    n = 0
    while len(out) < count:
        if not any(free):
            raise CannotRun(f"no room for {count} spare ONUs on the town's {len(free)} PON ports")
        for slots in free:
            if slots and len(out) < count:
                olt, port, onu_id = slots.pop(0)
                prefix = "HWTC" if vendor[olt] == "huawei" else "ZTEG"
                while True:
                    n += 1
                    serial = f"{prefix}-F{n:07X}"
                    if serial not in serials:
                        serials.add(serial)
                        break
                out.append({"serial": serial, "olt": olt, "pon_port": port, "onu_id": onu_id, "household": None,
                            "mgmt_address": None})  # fmt: skip
    return out


def load(url: str, args: argparse.Namespace) -> Loaded:
    from api.security import hash_password, issue_token  # after _project_first_on_path()

    rng = random.Random(args.seed)
    schools = args.schools or _pick_schools(args.seed, args.onus, args.tablets)
    town = generate_town(args.seed, args.onus, schools=schools)
    doc = town.inventory_document()
    doc["onus"] = list(doc["onus"]) + _spares(doc, args.spares)
    db.upgrade(url)
    engine = db.make_engine(url)
    password = secrets.token_urlsafe(18)
    try:
        with db.session_scope(engine, actor="bench") as session:
            import_document(session, doc)
        now = datetime.now(UTC)
        with db.session_scope(engine, actor="bench") as session:
            # status history: the households went to their status over the last months
            ids = list(session.scalars(select(HouseholdStatusChange.id)))
            span = timedelta(days=30 * args.history_months).total_seconds()
            session.execute(update(HouseholdStatusChange), [
                {"id": i, "at": now - timedelta(seconds=span * rng.random() ** 1.5)} for i in ids
            ])  # fmt: skip
            # tablets last seen: recent, this week, older, never
            rows = []
            for tid in session.scalars(select(Tablet.id)):
                r = rng.random()
                if r < 0.6:
                    seen: datetime | None = now - timedelta(hours=24 * rng.random())
                elif r < 0.8:
                    seen = now - timedelta(days=1 + 6 * rng.random())
                elif r < 0.9:
                    seen = now - timedelta(days=7 + 200 * rng.random())
                else:
                    seen = None
                rows.append({"id": tid, "last_seen_at": seen})
            session.execute(update(Tablet), rows)
            # availability: one row per month and district
            districts = [d["code"] for d in doc["districts"]]
            for k in range(args.history_months):
                month = (now.replace(day=15) - timedelta(days=30 * k)).strftime("%Y-%m")
                for d in districts:
                    expected = 86400.0 * 30 * 1500
                    session.add(AvailabilityMonth(month=month, district=d, expected_seconds=expected,
                                                  up_seconds=expected * (1 - rng.random() * 1e-3)))  # fmt: skip
            user = User(name=ADMIN, role="admin", password_hash=hash_password(password))
            session.add(user)
            session.flush()
            token = issue_token(session, user, kind="api").token
        with db.session_scope(engine) as session:
            school, school_tablets = session.execute(
                select(School.code, func.count(Tablet.id)).join(Tablet, Tablet.school_id == School.id)
                .group_by(School.code).order_by(func.count(Tablet.id).desc(), School.code).limit(1)
            ).one()  # fmt: skip
            return Loaded(
                households=session.scalar(select(func.count(Household.id))) or 0,
                active=session.scalar(select(func.count(Household.id)).where(Household.status == "active")) or 0,
                onus=session.scalar(select(func.count(Onu.id))) or 0,
                spares=session.scalar(select(func.count(Onu.id)).where(Onu.household_id.is_(None))) or 0,
                schools=session.scalar(select(func.count(School.id))) or 0,
                tablets=session.scalar(select(func.count(Tablet.id))) or 0,
                status_changes=len(ids),
                school=school, school_tablets=school_tablets, token=token, password=password,
            )  # fmt: skip
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------- server
def _project_first_on_path() -> None:
    """Run as ``python bench/api.py``, Python puts ``bench/`` first on ``sys.path``, where ``api`` is this
    file: put the project root there instead, so that ``api`` is the project's package."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def api_server(url: str, port: int, log_path: Path) -> Iterator[tuple[str, int]]:
    """The API in a uvicorn process of its own; yields (base URL, pid); stops it on the way out."""
    env = dict(os.environ, FTTHNOC_DATABASE_URL=url, FTTHNOC_DATA_DIR=str(log_path.parent),  # its API secret
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))  # fmt: skip
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "api.app:app_from_environment", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning", "--no-access-log", "--no-proxy-headers"]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise CannotRun(f"the API server exited with {proc.returncode}:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise CannotRun("the API server did not answer /api/health with 200 within 60 s")
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process, from /proc (None where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------- load
@dataclass
class Endpoint:
    label: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    endpoint: Endpoint
    wall: float
    latencies: list[float]
    errors: Counter[str]
    cpu: float | None
    bytes_: int

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def pct(self, q: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1]

    @property
    def cpu_per_request(self) -> float | None:
        n = len(self.latencies) + sum(self.errors.values())
        return None if self.cpu is None or not n else self.cpu / n


async def measure(base: str, ep: Endpoint, concurrency: int, duration: float, warmup: int, pid: int) -> Result:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=ep.headers, cookies=ep.cookies, limits=limits,
                                 timeout=30.0) as client:  # fmt: skip
        errors: Counter[str] = Counter()
        latencies: list[float] = []
        size = 0

        async def one(record: bool) -> None:
            nonlocal size
            start = time.perf_counter()
            try:
                resp = await client.get(ep.path)
            except httpx.HTTPError as exc:
                if record:
                    errors[type(exc).__name__] += 1
                return
            elapsed = time.perf_counter() - start
            if not record:
                return
            if resp.status_code == 200:
                latencies.append(elapsed)
                size = len(resp.content)
            else:
                errors[f"HTTP {resp.status_code}"] += 1

        async def warm() -> None:
            for _ in range(warmup):
                await one(False)

        await asyncio.gather(*(warm() for _ in range(concurrency)))
        cpu0 = cpu_seconds(pid)
        t0 = time.perf_counter()
        deadline = t0 + duration

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await one(True)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
        cpu1 = cpu_seconds(pid)
    cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
    return Result(ep, wall, latencies, errors, cpu, size)


def school_endpoint(base: str, loaded: Loaded) -> tuple[Endpoint, str]:
    """The school page with a session cookie, or the tablets API when the server has no such page."""
    page = f"/schools/{loaded.school}"
    resp = httpx.post(f"{base}/api/login", json={"name": ADMIN, "password": loaded.password}, timeout=30)
    if resp.status_code == 200 and resp.cookies:
        cookies = dict(resp.cookies)
        got = httpx.get(f"{base}{page}", cookies=cookies, timeout=30)
        if got.status_code == 200 and got.headers.get("content-type", "").startswith("text/html"):
            return Endpoint("school page", page, cookies=cookies), f"the web page {page} (session cookie)"
        why = f"{page} answered {got.status_code}"
    else:
        why = f"POST /api/login answered {resp.status_code}"
    path = f"/api/tablets?school={loaded.school}&limit=500"
    return (Endpoint("school tablets", path, headers={"Authorization": f"Bearer {loaded.token}"}),
            f"{path} instead of the page ({why}; no school web page on this server)")  # fmt: skip


# --------------------------------------------------------------------------------------------- report
def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def report(results: list[Result], reference: Result) -> None:
    ref50, ref99 = reference.pct(50), reference.pct(99)
    head = (f"{'endpoint':<16} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'srv CPU ms/req':>14} "
            f"{'errors':>6} {'p50 ratio':>9} {'p99 ratio':>9}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for r in results:
        cpu = r.cpu_per_request
        cpu_text = f"{cpu * 1000:14.2f}" if cpu is not None else f"{'n/a':>14}"
        ratios = f"{r.pct(50) / ref50:8.2f}x {r.pct(99) / ref99:8.2f}x"
        print(f"{r.endpoint.label:<16} {len(r.latencies):>8} {r.rps:8.1f} {_ms(r.pct(50))} {_ms(r.pct(99))} "
              f"{cpu_text} {sum(r.errors.values()):>6} {ratios}")  # fmt: skip
    few = [r.endpoint.label for r in results if len(r.latencies) < 100]
    if few:
        print(f"  fewer than 100 answers for {', '.join(few)}: p99 is about the slowest one; raise --duration")
    for r in results:
        for what, n in sorted(r.errors.items()):
            print(f"  errors of {r.endpoint.label}: {n} x {what}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent workers (default 16)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per endpoint (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per worker first (default 3)")
    parser.add_argument("--onus", type=int, default=7000, help="ONUs with an active household (default 7000)")
    parser.add_argument("--spares", type=int, default=3000, help="more ONUs in stock, no household (default 3000)")
    parser.add_argument("--tablets", type=int, default=3000, help="about this many tablets (default 3000)")
    parser.add_argument("--schools", type=int, default=0, help="schools (default: closest to --tablets)")
    parser.add_argument("--history-months", type=int, default=36, help="months of status history (default 36)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--port", type=int, default=0, help="the API's port (default: a free one)")
    parser.add_argument("--json", action="store_true", help="one machine-readable line at the end")
    args = parser.parse_args(argv)

    _project_first_on_path()
    if importlib.util.find_spec("api.routers.kpis") is None:
        print("bench/api.py: api/routers/kpis.py is missing, so there is no /api/kpis to measure", file=sys.stderr)
        return 2
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}, httpx {httpx.__version__}")  # fmt: skip
    try:
        with tempfile.TemporaryDirectory(prefix="ftthnoc-bench-api-") as tmp:
            url = f"sqlite:///{tmp}/ftthnoc.db"
            t0 = time.perf_counter()
            loaded = load(url, args)
            print(f"data: {loaded.households:,} households ({loaded.active:,} active), {loaded.onus:,} ONUs "
                  f"({loaded.spares:,} spares), {loaded.schools} schools, {loaded.tablets:,} tablets, "
                  f"{loaded.status_changes:,} status changes over {args.history_months} months; "
                  f"loaded in {time.perf_counter() - t0:.1f} s (SQLite)")  # fmt: skip
            with api_server(url, args.port or _free_port(), Path(tmp) / "server.log") as (base, pid):
                auth = {"Authorization": f"Bearer {loaded.token}"}
                probe = httpx.get(f"{base}/api/kpis", headers=auth, timeout=60)
                if probe.status_code != 200:
                    raise CannotRun(
                        f"GET /api/kpis answered {probe.status_code}: {probe.text[:300]}"
                        + (" (is api.routers.kpis mounted?)" if probe.status_code == 404 else "")
                    )
                school_ep, school_what = school_endpoint(base, loaded)
                print(f"school measured: {loaded.school} ({loaded.school_tablets} tablets) via {school_what}")
                print(f"load: {args.concurrency} concurrent workers (httpx.AsyncClient, keep-alive), "
                      f"{args.duration:g} s per endpoint after {args.warmup * args.concurrency} warm-up requests; "
                      f"server: uvicorn, 1 process (pid {pid})")  # fmt: skip
                print()
                endpoints = [Endpoint("health", "/api/health"), Endpoint("kpis", "/api/kpis", headers=auth),
                             school_ep]  # fmt: skip
                results = [asyncio.run(measure(base, ep, args.concurrency, args.duration, args.warmup, pid))
                           for ep in endpoints]  # fmt: skip
    except CannotRun as exc:
        print(f"bench/api.py: {exc}", file=sys.stderr)
        return 2

    health, kpis = results[0], results[1]
    report(results, health)
    print(
        "(ratios: against /api/health of the same run; response sizes: "
        + ", ".join(f"{r.endpoint.label} {r.bytes_:,} B" for r in results)
        + ")"
    )
    ratio = kpis.pct(99) / health.pct(99)
    verdict = "MET" if ratio <= GOAL_P99_RATIO else "MISSED"
    print(f"goal: p99 /api/kpis / p99 /api/health <= {GOAL_P99_RATIO:g}: {ratio:.2f} -> {verdict}")
    if args.json:
        print(json.dumps({
            "cores": os.cpu_count(), "households": loaded.households, "onus": loaded.onus,
            "tablets": loaded.tablets, "concurrency": args.concurrency, "duration": args.duration,
            "endpoints": {r.endpoint.label: {"path": r.endpoint.path, "requests": len(r.latencies), "rps": r.rps,
                                             "p50_ms": r.pct(50) * 1000, "p99_ms": r.pct(99) * 1000,
                                             "errors": dict(r.errors)} for r in results},
            "p99_ratio_kpis": ratio, "goal": GOAL_P99_RATIO,
        }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
