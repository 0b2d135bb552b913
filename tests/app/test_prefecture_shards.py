"""A prefecture's shards sharing one PostgreSQL: `serve --shard I/N` pollers (real processes) against the
simulated town's agents, one API over the shared database (in this process, as a separate API process
would be).

With every shard alive, a power cut in a district whose OLTs two shards poll opens one incident (and the
last shard whose homes return closes it). Then the shard that holds the OLT with a cut feeder is killed:
within two poll intervals (waited for by asking) the API answers its OLTs as ``unknown``, the open feeder
cut on it says that nobody polls it, the residents' page names its districts as unknown, and the other
shards' OLTs stay ``polled``, their pollers' heartbeats going on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from api.deps import SESSION_COOKIE
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.inventory.models import PollerShard, User
from ftthnoc.settings import Settings
from ftthnoc.shard import hashmod
from simulator import faults
from simulator.agents import TownAgents
from simulator.town import generate_town
from tests.ports import free_port
from tests.towns import running
from tests.waiting import scaled, wait_until

with warnings.catch_warnings():  # starlette nags about httpx; TestClient still runs on it
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgres

#: ONUs of this module's town: every shard polls its OLTs every few seconds for minutes, and an agent's
#: answers cost it more than the pollers; 240 homes still give each district's OLTs a power cut's dozens
TOWN_ONUS = 240


@pytest.fixture(scope="module")
def town_agents() -> Iterator[TownAgents]:
    """This module's own town (its faults are restored by each test): smaller than the session's."""
    with running(generate_town(seed=2026, onus=TOWN_ONUS)) as agents:
        yield agents


#: seconds between two polls of a target, and each poll's bound: stretched on a loaded machine, where a 5 s
#: bound fails polls (then OLTs read unreachable, which is not what this test is about)
INTERVAL = round(max(5.0, scaled(5.0)))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database migrated to head, dropped after the test."""
    admin_url = os.environ.get("FTTHNOC_TEST_POSTGRES_URL")
    if not admin_url:
        pytest.skip('FTTHNOC_TEST_POSTGRES_URL is not set; run `eval "$(scripts/start-postgres)"`')
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"ftthnoc_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        db.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _split(agents: TownAgents, district: str) -> tuple[int, dict[str, int]]:
    """The smallest N that puts the district's OLTs in at least two shards (addresses are free ports, so
    the split is only known once the agents run), with each OLT's shard."""
    olts = [o.name for o in agents.town.olts if o.district == district]
    assert len(olts) >= 2, f"{district} needs two OLTs for a split power cut"
    for n in range(2, 12):
        shard_of = {o.name: hashmod(agents.address(o.name), n) for o in agents.town.olts}
        if len({shard_of[o] for o in olts}) >= 2:
            return n, shard_of
    pytest.fail(f"no N up to 11 splits {olts} over two shards")


def _metrics_url(proc: subprocess.Popen[str], log: Path) -> str:
    assert proc.stdout is not None
    proc.stdout.readline()  # "ftthnoc: shard I/N: polling ..."
    m = re.search(r"(http://\S+/metrics)", proc.stdout.readline())
    assert m, log.read_text()[-3000:]
    return m.group(1)


def _polled_targets(url: str) -> set[str]:
    body = urllib.request.urlopen(url, timeout=30).read().decode()
    return {s.labels["target"] for f in text_string_to_metric_families(body) if f.name == "ftthnoc_scrape_success"
            for s in f.samples if s.value == 1}


def test_shards_share_incidents_and_a_dead_shards_olts_read_unknown(town_agents: TownAgents, postgres_url: str,
                                                                      tmp_path: Path) -> None:
    district = "chiyoda"
    n, shard_of = _split(town_agents, district)
    [(cut_olt, cut_port)] = [(o.name, p.name) for o in town_agents.town.olts for p in o.pon_ports if p.feeder_cut]
    victim = shard_of[cut_olt]
    running = sorted(set(shard_of.values()))
    assert len(running) >= 2, shard_of
    engine = db.make_engine(postgres_url)
    with db.session_scope(engine) as s:
        import_document(s, town_agents.inventory_document())
        from api.security import issue_token

        user = User(name="oscar", role="operator")
        s.add(user)
        s.flush()
        token = issue_token(s, user, lifetime=timedelta(days=1)).token
    from api.app import create_app

    app = create_app(engine, settings=Settings(data_dir=tmp_path, api_secret=SecretStr("t" * 40)))
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})

    def get(path: str) -> Any:
        r = client.get(path)
        assert r.status_code == 200, r.text
        return r.json()

    def olts() -> dict[str, dict[str, Any]]:
        return {o["name"]: o for o in get("/api/olts?limit=100")["items"]}

    def incidents(**query: str) -> list[dict[str, Any]]:
        qs = "&".join(f"{k}={v}" for k, v in {"limit": "100", **query}.items())
        return list(get(f"/api/incidents?{qs}")["items"])

    cfg = tmp_path / "ftthnoc.yaml"
    cfg.write_text(yaml.safe_dump(town_agents.poller_config(interval_seconds=INTERVAL), allow_unicode=True))
    env = {**os.environ, "FTTHNOC_LISTEN_PORT": "0", "FTTHNOC_DATABASE_URL": postgres_url,
           "FTTHNOC_DATA_DIR": str(tmp_path / "data")}
    pollers: dict[int, subprocess.Popen[str]] = {}
    fault: faults.Fault | None = None
    try:
        for i in running:
            pollers[i] = subprocess.Popen([sys.executable, "-m", "app", "serve", "--config", str(cfg), "--shard",
                                           f"{i}/{n}"], stdout=subprocess.PIPE,
                                          stderr=(tmp_path / f"shard{i}.log").open("w"), text=True, env=env)
        urls = {i: _metrics_url(p, tmp_path / f"shard{i}.log") for i, p in pollers.items()}
        for i, url in urls.items():  # every shard has polled each of its OLTs once
            mine = {o for o, k in shard_of.items() if k == i}
            wait_until(lambda url=url, mine=mine: mine <= _polled_targets(url), 120, f"shard {i}/{n}'s first polls",
                       retry_on=(OSError,))
        wait_until(lambda: {o["polling"] for o in olts().values()} == {"polled"}, 60, "every OLT polled")
        wait_until(lambda: [i for i in incidents(open="true") if i["kind"] == "feeder_cut"], 60, "the feeder cut")

        # a power cut over OLTs of two shards: one incident, with both shards' homes in it
        fault = faults.power_cut(town_agents, district, 0.5, seed=7)
        victims = len(fault.before)

        def power() -> list[dict[str, Any]] | None:
            got = [i for i in incidents(kind="power_outage") if i["district"] == district]
            return got if got and sum(i["onu_count"] for i in got) >= victims else None

        opened = wait_until(power, 120, "the power cut's incident with every shard's homes")
        assert len(opened) == 1, opened
        assert opened[0]["onu_count"] == victims and opened[0]["status"] == "open"
        with db.session(engine) as s:  # each shard wrote its own OLTs' homes into the one row
            from ftthnoc.incidents.models import IncidentHousehold

            writers = set(s.scalars(select(IncidentHousehold.olt).where(
                IncidentHousehold.incident_id == opened[0]["id"])))
        assert len({shard_of[o] for o in writers}) >= 2, writers
        faults.restore(town_agents, fault)
        fault = None
        closed = wait_until(lambda: [i for i in incidents(kind="power_outage") if i["status"] == "closed"] or None,
                            120, "the power cut closed once every shard's homes are back")
        assert len(closed) == 1 and closed[0]["id"] == opened[0]["id"]
        assert len(incidents(kind="power_outage")) == 1

        # kill the shard of the cut feeder's OLT
        pollers[victim].kill()
        pollers[victim].wait(timeout=30)
        killed_at = datetime.now(UTC)
        theirs = {o for o, k in shard_of.items() if k == victim}
        ours = set(shard_of) - theirs

        def unknown() -> dict[str, dict[str, Any]] | None:
            got = olts()
            return got if {o for o, v in got.items() if v["polling"] == "unknown"} == theirs else None

        got = wait_until(unknown, 2 * INTERVAL + 5, f"shard {victim}/{n}'s OLTs read unknown")
        for name in theirs:
            assert got[name]["polled_by"] == f"{victim}/{n}"
            assert got[name]["unpolled"].startswith(f"nobody polls it (shard {victim}/{n} silent since ")
        assert {got[o]["polling"] for o in ours} == {"polled"}
        [cut] = [i for i in incidents(open="true") if i["kind"] == "feeder_cut"]
        assert (cut["olt"], cut["pon_port"]) == (cut_olt, cut_port)
        assert cut["unpolled"].startswith(f"nobody polls it (shard {victim}/{n} silent since ")
        assert get(f"/api/incidents/{cut['id']}")["unpolled"] == cut["unpolled"]
        page = client.get("/outages?lang=en").text
        cut_district = next(o.district for o in town_agents.town.olts if o.name == cut_olt)
        assert f'id="unknown-{cut_district}"' in page and "cannot be checked now" in page

        def alive_after_kill() -> bool:
            with db.session(engine) as s:
                beats = {r.shard: r.last_poll_at for r in s.scalars(select(PollerShard))}
            return all(beats[f"{i}/{n}"] > killed_at for i in running if i != victim)

        wait_until(alive_after_kill, 3 * INTERVAL, "the live shards' heartbeats after the kill")
        assert {o["polling"] for name, o in olts().items() if name in ours} == {"polled"}
        assert all(p.poll() is None for i, p in pollers.items() if i != victim)
    finally:
        for p in pollers.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=60)
        if fault is not None:
            faults.restore(town_agents, fault)
        client.close()
        engine.dispose()


def _start_shards(shards: list[int], n: int, cfg: Path, env: dict[str, str], tmp_path: Path,
                  extra: tuple[str, ...] = ()) -> dict[int, subprocess.Popen[str]]:
    return {i: subprocess.Popen([sys.executable, "-m", "app", "serve", "--config", str(cfg), "--shard", f"{i}/{n}",
                                 *extra], stdout=subprocess.PIPE, stderr=(tmp_path / f"shard{i}.log").open("w"),
                                text=True, env=env)
            for i in shards}


def _stop(pollers: dict[int, subprocess.Popen[str]]) -> None:
    for p in pollers.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=60)


def _gasp_events(url: str, district: str) -> float:
    """The shard engine's count of dying-gasp down events in ``district``: read under the engine's lock, so a
    poll it counts has been correlated to the end (its shared gasps written and counted)."""
    body = urllib.request.urlopen(url, timeout=30).read().decode()
    return sum(s.value for f in text_string_to_metric_families(body) if f.name == "ftthnoc_onu_down_events"
               for s in f.samples if s.name == "ftthnoc_onu_down_events_total"
               and s.labels == {"cause": "dying_gasp", "district": district})


def test_dying_gasps_are_counted_across_shards(town_agents: TownAgents, postgres_url: str, tmp_path: Path) -> None:
    """Two `serve --shard` processes, each polling one of a district's OLTs: 2 + 2 gasps open nothing, 3 + 3
    open exactly one power cut, with both shards' homes, closed once when they are all back."""
    from ftthnoc.incidents.models import Incident, IncidentHousehold, ShardGasp

    district = "chiyoda"
    n, shard_of = _split(town_agents, district)
    by_shard: dict[int, str] = {}
    for o in town_agents.town.olts:
        if o.district == district:
            by_shard.setdefault(shard_of[o.name], o.name)
    (sa, olt_a), (sb, olt_b) = sorted(by_shard.items())[:2]
    home_district = {h.code: h.district for h in town_agents.town.households}

    def homes(olt: str) -> list[tuple[str, str, int]]:
        return [(u.olt, u.pon_port, u.onu_id) for u in faults.current_olt(town_agents, olt).onus()
                if u.online and home_district.get(u.household) == district]

    a_homes, b_homes = homes(olt_a), homes(olt_b)
    assert len(a_homes) >= 5 and len(b_homes) >= 5, (olt_a, olt_b)
    engine = db.make_engine(postgres_url)
    with db.session_scope(engine) as s:
        import_document(s, town_agents.inventory_document())
    cfg = tmp_path / "ftthnoc.yaml"
    cfg.write_text(yaml.safe_dump(town_agents.poller_config(interval_seconds=INTERVAL), allow_unicode=True))
    env = {**os.environ, "FTTHNOC_LISTEN_PORT": "0", "FTTHNOC_DATABASE_URL": postgres_url,
           "FTTHNOC_DATA_DIR": str(tmp_path / "data")}

    def power() -> list[Incident]:
        with db.session(engine) as s:
            return list(s.scalars(select(Incident).where(Incident.kind == "power_outage",
                                                         Incident.district == district)))

    def shared() -> set[tuple[str, str, int]]:
        with db.session(engine) as s:
            return {(g.olt, g.pon_port, int(g.onu_id)) for g in s.scalars(select(ShardGasp))}

    pollers = _start_shards([sa, sb], n, cfg, env, tmp_path)
    fault: faults.Fault | None = None
    try:
        urls = {i: _metrics_url(p, tmp_path / f"shard{i}.log") for i, p in pollers.items()}
        for i, olt in ((sa, olt_a), (sb, olt_b)):
            wait_until(lambda i=i, olt=olt: olt in _polled_targets(urls[i]), 120, f"shard {i}/{n}'s first poll",
                       retry_on=(OSError,))
        counted = {i: _gasp_events(u, district) for i, u in urls.items()}

        # 2 + 2: four gasps in the district, none of the shards opens anything
        four = [*a_homes[:2], *b_homes[:2]]
        fault = faults.power_cut_at(town_agents, four)
        wait_until(lambda: set(four) <= shared(), 120, "both shards' gasps in shard_gasps")
        # each shard has correlated the poll that saw its gasps; the later of the two counted all four
        wait_until(lambda: all(_gasp_events(u, district) >= counted[i] + 2 for i, u in urls.items()), 60,
                   "both shards counted their gasps")
        assert power() == []
        faults.restore(town_agents, fault)
        fault = None
        wait_until(lambda: not set(four) & shared(), 120, "the four homes' power back")
        assert power() == []

        # 3 + 3: one power cut, both shards' homes in its one row
        six = [*a_homes[2:5], *b_homes[2:5]]
        fault = faults.power_cut_at(town_agents, six)
        opened = wait_until(lambda: [r for r in power() if r.onu_count >= 6] or None, 120,
                            "one power cut with both shards' homes")
        assert len(power()) == 1 and opened[0].status == "open" and opened[0].onu_count == 6
        with db.session(engine) as s:
            members = {(h.olt, h.pon_port, int(h.onu_id)) for h in s.scalars(select(IncidentHousehold).where(
                IncidentHousehold.incident_id == opened[0].id))}
        assert members == set(six)
        faults.restore(town_agents, fault)
        fault = None
        closed = wait_until(lambda: [r for r in power() if r.status == "closed"] or None, 120,
                            "the power cut closed once both shards' homes are back")
        assert [r.id for r in closed] == [opened[0].id] and len(power()) == 1
        assert all(p.poll() is None for p in pollers.values())
    finally:
        _stop(pollers)
        if fault is not None:
            faults.restore(town_agents, fault)
        engine.dispose()


def _start_prometheus(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    with (tmp_path / "prometheus.log").open("a") as log:
        return subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                                 f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}",
                                 "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT)


def _query_count(base: str) -> float:
    """How many instant queries Prometheus has answered (its own counter)."""
    body = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
    return sum(s.value for f in text_string_to_metric_families(body) if f.name == "prometheus_http_requests"
               for s in f.samples if s.name == "prometheus_http_requests_total"
               and s.labels.get("handler") == "/api/v1/query")


def _onu_readings(url: str) -> dict[tuple[str, str, int], tuple[bool, float | None]]:
    """A shard's own view of its ONUs on ``/metrics``: up, and Rx where it reads one."""
    body = urllib.request.urlopen(url, timeout=30).read().decode()
    up: dict[tuple[str, str, int], bool] = {}
    rx: dict[tuple[str, str, int], float] = {}
    for f in text_string_to_metric_families(body):
        for s in f.samples:
            if s.name in ("ftth_onu_up", "ftth_onu_rx_power_dbm"):
                key = (s.labels["olt"], s.labels["pon_port"], int(s.labels["onu_id"]))
                if s.name == "ftth_onu_up":
                    up[key] = s.value == 1.0
                else:
                    rx[key] = s.value
    return {k: (v, rx.get(k)) for k, v in up.items()}


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus not installed (Debian package prometheus)")
def test_api_onus_reads_other_shards_onus_from_the_store(town_agents: TownAgents, postgres_url: str,
                                                         tmp_path: Path) -> None:
    """The API served by shard A (`serve --shard --api`, FTTHNOC_PROMETHEUS_URL set) answers shard B's ONUs
    from a real Prometheus scraping both shards, with the reading's age and the values B polled; with the
    store stopped they read unknown and why (200, not 500); with shard B dead they read unknown because
    nobody polls them, although Prometheus still holds B's last samples. The support clerk's household page
    on shard A says the same of a household on B's OLT (issue #16), in Japanese and English."""
    n, shard_of = 2, {}
    for n in range(2, 12):
        shard_of = {o.name: hashmod(town_agents.address(o.name), n) for o in town_agents.town.olts}
        if len(set(shard_of.values())) >= 2:
            break
    sa, sb = sorted(set(shard_of.values()))[:2]
    olts_a = sorted(o for o, k in shard_of.items() if k == sa)
    olts_b = sorted(o for o, k in shard_of.items() if k == sb)
    engine = db.make_engine(postgres_url)
    with db.session_scope(engine) as s:
        import_document(s, town_agents.inventory_document())
        from api.security import issue_token

        user = User(name="oscar", role="operator")
        clerk = User(name="sally", role="support")
        s.add_all([user, clerk])
        s.flush()
        token = issue_token(s, user, lifetime=timedelta(days=1)).token
        session_token = issue_token(s, clerk, kind="session", lifetime=timedelta(days=1)).token
    engine.dispose()
    cfg = tmp_path / "ftthnoc.yaml"
    cfg.write_text(yaml.safe_dump(town_agents.poller_config(interval_seconds=INTERVAL), allow_unicode=True))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "FTTHNOC_LISTEN_PORT": "0", "FTTHNOC_DATABASE_URL": postgres_url,
           "FTTHNOC_DATA_DIR": str(tmp_path / "data"), "FTTHNOC_API_SECRET": "s" * 40,
           "FTTHNOC_PROMETHEUS_URL": base}
    pollers = _start_shards([sb], n, cfg, env, tmp_path)
    pollers.update(_start_shards([sa], n, cfg, env, tmp_path, ("--api", "127.0.0.1:0")))
    prom: subprocess.Popen[bytes] | None = None
    try:
        url_b = _metrics_url(pollers[sb], tmp_path / f"shard{sb}.log")
        out = pollers[sa].stdout
        assert out is not None
        out.readline()  # "ftthnoc: shard I/N: polling ..."
        m = re.search(r"API and web pages on (http://\S+)", out.readline())
        assert m, (tmp_path / f"shard{sa}.log").read_text()[-3000:]
        api = m.group(1).rstrip("/")
        url_a = re.search(r"(http://\S+/metrics)", out.readline())
        assert url_a, (tmp_path / f"shard{sa}.log").read_text()[-3000:]
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
            "global": {"scrape_interval": "2s"},
            "scrape_configs": [{"job_name": "ftthnoc", "static_configs": [
                {"targets": [u.removeprefix("http://").removesuffix("/metrics")], "labels": {"shard": str(i)}}
                for i, u in ((sa, url_a.group(1)), (sb, url_b))]}],
        }))
        prom = _start_prometheus(tmp_path, port)

        def onus(olt: str | None = None) -> list[dict[str, Any]]:
            qs = f"?limit=500&olt={olt}" if olt else "?limit=500"
            req = urllib.request.Request(f"{api}/api/onus{qs}", headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(req, timeout=60) as r:
                assert r.status == 200
                return list(json.loads(r.read())["items"])

        def household_page(code: str, lang: str) -> str:
            """The support clerk's household page over HTTP (a web session's cookie): always 200."""
            req = urllib.request.Request(f"{api}/support/households/{code}?lang={lang}",
                                         headers={"Cookie": f"{SESSION_COOKIE}={session_token}"})  # fmt: skip
            with urllib.request.urlopen(req, timeout=60) as r:
                assert r.status == 200
                return str(r.read().decode())

        olt_b = olts_b[0]
        theirs = wait_until(lambda: {k: v for k, v in _onu_readings(url_b).items() if k[0] == olt_b} or None, 120,
                            f"shard {sb}/{n}'s first poll of {olt_b}", retry_on=(OSError,))
        owner = {(u.olt, u.pon_port, u.onu_id): u.household for u in faults.current_olt(town_agents, olt_b).onus()}
        home = sorted((not v[0], v[1] is None, k) for k, v in theirs.items() if owner.get(k))[0][2]  # up, with Rx
        home_code = owner[home]

        def from_store() -> list[dict[str, Any]] | None:
            got = [o for o in onus(olt_b) if (o["olt"], o["pon_port"], o["onu_id"]) in theirs]
            return got if got and all(o["live"] == "store" for o in got) else None

        got = wait_until(from_store, 120, f"{olt_b}'s ONUs from Prometheus",
                         detail=lambda: (tmp_path / "prometheus.log").read_text()[-2000:])
        assert len(got) == len(theirs)
        for o in got:
            up, rx = theirs[(o["olt"], o["pon_port"], o["onu_id"])]
            assert o["up"] is up and o["live_reason"] is None
            assert (o["rx_dbm"] is None) == (rx is None or not up), o
            if o["rx_dbm"] is not None and rx is not None:
                assert abs(o["rx_dbm"] - rx) < 0.5, (o, rx)
            assert 0 <= o["live_age_seconds"] < 300
        # shard A's own OLT: from its own polls, never the store (once its first poll is in its snapshot)
        mine = wait_until(lambda: [o for o in onus(olts_a[0]) if o["live"] == "poll"] or None, 120,
                          f"shard {sa}/{n}'s own poll of {olts_a[0]}")
        assert {o["live"] for o in onus(olts_a[0])} <= {"poll", None}
        assert all(o["live_age_seconds"] is None and o["live_reason"] is None for o in mine)
        # every OLT of the page in one query to the store
        before = _query_count(base)
        everything = onus()
        assert _query_count(base) == before + 1
        assert {o["live"] for o in everything if o["olt"] in olts_b} <= {"store", "unknown"}

        # the clerk's household page on shard A for a household on B's OLT: B's state from the store, its age
        page = household_page(home_code, "en")
        up, rx = theirs[home]
        assert ('<span class="good">up</span>' if up else '<span class="bad">down</span>') in page, page
        age = re.search(r'id="line-age" data-age="([0-9.]+)"', page)
        assert age and 0 <= float(age.group(1)) < 300, page
        assert f"as of {float(age.group(1)):.0f} s ago" in page
        shown = re.search(r'id="rx-1">(-?[0-9.]+) dBm<', page)
        assert (shown is None) == (rx is None or not up), page
        if shown is not None and rx is not None:
            assert abs(float(shown.group(1)) - rx) < 0.5, (shown.group(1), rx)
        assert "秒前の値" in household_page(home_code, "ja")

        # the store stopped: B's ONUs are unknown and say why; A's own polls still answer
        prom.terminate()
        prom.wait(timeout=30)
        prom = None
        down = [o for o in onus(olt_b) if (o["olt"], o["pon_port"], o["onu_id"]) in theirs]
        assert {o["live"] for o in down} == {"unknown"}
        assert all(o["up"] is None and o["rx_dbm"] is None and o["live_age_seconds"] is None for o in down)
        assert all(o["live_reason"].startswith("the time-series store did not answer") for o in down), down[0]
        assert "poll" in {o["live"] for o in onus(olts_a[0])}
        page = household_page(home_code, "en")
        assert "Line state unknown now" in page and "The time-series store does not answer" in page
        assert 'id="line-age"' not in page and 'id="rx-1"' not in page  # never B's last value as current
        assert "時系列データベースが応答しないため" in household_page(home_code, "ja")

        # the store back, shard B killed: Prometheus keeps B's last samples, the API says nobody polls them
        prom = _start_prometheus(tmp_path, port)
        wait_until(from_store, 60, f"{olt_b}'s ONUs from Prometheus again")
        pollers[sb].kill()
        pollers[sb].wait(timeout=30)

        def silent() -> list[dict[str, Any]] | None:
            got = onus(olt_b)
            return got if {o["live"] for o in got} == {"unknown"} else None

        for o in wait_until(silent, 2 * INTERVAL + 30, f"shard {sb}/{n}'s ONUs unknown"):
            assert o["up"] is None and o["rx_dbm"] is None
            assert o["live_reason"].startswith(f"nobody polls it (shard {sb}/{n} silent since "), o
        page = household_page(home_code, "en")
        assert f"Nobody polls it (shard {sb}/{n} silent since " in page and 'id="rx-1"' not in page
        assert f"シャード {sb}/{n} が " in household_page(home_code, "ja")
    finally:
        if prom is not None:
            prom.terminate()
            prom.wait(timeout=30)
        _stop(pollers)
