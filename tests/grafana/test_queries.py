"""Every dashboard query, run against a real Prometheus scraping `ftthnoc demo` on the simulated town.

One Prometheus (3 s scrapes, longer on a loaded machine, 1 s rule evaluation, the recording rules loaded) and
one demo (500 ONUs, polling every ``POLL_SECONDS``) serve the whole module. Each dashboard's variables are
resolved the way Grafana resolves them (``label_values`` through the label-values API, chained), then every
target is run with them substituted and must return data — once with every variable on "All" and once with the
first value of each. Only the targets on the Prometheus data source (uid ``prometheus``) run here: a target is
routed by its data source's uid, the API's KPI rows (uid ``ftthnoc-api``, Grafana's Infinity) to
``test_infinity.py``, and a target of any other uid fails ``test_every_target_is_routed_by_its_data_source``.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.cli.demo import raw_socket_refusal
from tests.grafana.grafana_json import (
    API_UID,
    PROMETHEUS_UID,
    RULES,
    Query,
    dashboard_files,
    infinity_targets,
    load,
    load_builder,
    metric_names,
    panels,
    queries,
    target_uid,
    variables,
)
from tests.ports import free_port
from tests.waiting import scaled, wait_until

PROMETHEUS = shutil.which("prometheus")
pytestmark = pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed (Debian package prometheus)")

#: The poll interval is also each poll's bound: 5 s left a Huawei OLT's ~80 sequential requests to one
#: single-threaded snmpsim agent no slack on a loaded 2-core machine (a failed poll is a pending
#: FtthOltNotAnswering, which the rule test below rightly refuses), and 10 s failed a poll at load 7 (three
#: xdist workers beside other work), so the demo here polls every 15 s.
POLL_SECONDS = 15
#: What Grafana would put for its interval variables here: rate windows span four polls.
INTERVALS = {"__rate_interval": f"{4 * POLL_SECONDS}s", "__interval": "2s", "__range": "5m"}
#: Text-box variables have no query: the test takes a real value, the label of the first series of this query
#: (a running ONU's serial: a down ONU has no optics to show).
TEXTBOX_SOURCES = {
    "serial": ('ftth_onu_info{district=~"$district", olt=~"$olt", pon_port=~"$pon_port"} '
               "and on (olt, pon_port, onu_id) ftth_onu_up == 1", "serial"),
}
#: Panels that cannot return data in the demo, matched by the metric-name prefix of every metric in the query.
NO_DATA_YET = {
    "ftthnoc_influx_": "the InfluxDB writer's metrics: the demo runs without an InfluxDB writer configured",
    "ftthnoc_traps_": "the trap receiver's counters: the demo runs no trap receiver and no device sends it traps",
}
#: Panels that may have no data depending on the time of day, by (dashboard uid, panel title): the telework KPI
#: publishes a period only when it has a figure (none on a day off, before 08:30 or with too little coverage for
#: period="day"; none on a month's first working day for period="month"), and coverage only on a working day.
PERIOD_MAY_BE_ABSENT = "the telework KPI reports period=\"day\"/\"month\" only when the period has a figure"
NO_DATA_PANELS = {
    ("ftthnoc-telework", "在宅勤務率（今日） / Remote share today vs 30 %"): PERIOD_MAY_BE_ABSENT,
    ("ftthnoc-telework", "在宅勤務率（今月） / Remote share this month vs 30 %"): PERIOD_MAY_BE_ABSENT,
    ("ftthnoc-telework", "目標達成率 / Target attainment"): PERIOD_MAY_BE_ABSENT,
    ("ftthnoc-telework", "集計カバー率（今日） / Coverage today"): PERIOD_MAY_BE_ABSENT,
}
#: The demo probes loopback when it may open raw sockets (root or CAP_NET_RAW); without, its probe panels are empty.
RAW_SOCKETS_REFUSED = raw_socket_refusal()
PROBES_NEED_ROOT = "probes need root: the demo probes loopback only when it may open raw sockets"
if RAW_SOCKETS_REFUSED is not None:
    NO_DATA_YET["ftthnoc_probe_"] = PROBES_NEED_ROOT
#: When the demo probes: its first ICMP cycle ends about 12 s after the start, and rate() of the RTT histogram
#: (p50/p95 panels) has something to say once a second cycle has counted more replies (about 27 s).
PROBE_CHECKS = {
    "count(ftthnoc_probe_icmp_loss_ratio)": 2,  # the simulated VPN gateway and one school, both 127.0.0.1
    "count(ftthnoc_probe_tcp_up == 1)": 1,  # the gateway's "service port": the demo exporter's own
    "count(ftthnoc_probe_success == 1)": 5,  # icmp, tcp, arp, and http, dns of the simulated town services
    "count(histogram_quantile(0.5, sum by (le, target) (rate(ftthnoc_probe_icmp_response_duration_seconds_bucket"
    f"[{INTERVALS['__rate_interval']}]))) >= 0)": 2,
}


def _get(url: str, timeout: float = 10) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode())


class PromAPI:
    """The few Prometheus HTTP API calls Grafana makes for these dashboards."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, path: str, **params: str | list[str]) -> Any:
        body = _get(f"{self.base}{path}?{urllib.parse.urlencode(params, doseq=True)}")
        assert body["status"] == "success", body
        return body["data"]

    def instant(self, expr: str) -> list[Any]:
        result: list[Any] = self.call("/api/v1/query", query=expr)["result"]
        return result

    def range(self, expr: str, seconds: int = 60, step: int = 2) -> list[Any]:
        now = time.time()
        result: list[Any] = self.call("/api/v1/query_range", query=expr, start=str(now - seconds), end=str(now),
                                      step=str(step))["result"]
        return result

    def label_values(self, label: str, selector: str) -> list[str]:
        now = time.time()
        values: list[str] = self.call(f"/api/v1/label/{label}/values", **{"match[]": [selector]},
                                      start=str(now - 3600), end=str(now))
        return sorted(values)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`ftthnoc demo --onus 500` on free ports; yields HOST:PORT of its exporter and the web pages' base URL."""
    tmp = tmp_path_factory.mktemp("demo")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "demo", "--onus", "500", "--listen", "127.0.0.1:0",
         "--interval", str(POLL_SECONDS)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp,
        env={**os.environ, "FTTHNOC_DATA_DIR": str(tmp / "var")})
    try:
        assert proc.stdout is not None
        target = web = None
        for line in proc.stdout:
            if m := re.search(r"http://(127\.0\.0\.1:\d+)/metrics", line):
                target = m.group(1)
            if m := re.search(r"web pages\s+(http://127\.0\.0\.1:\d+)/login", line):
                web = m.group(1)
            if line.startswith("Press Ctrl-C"):
                break
        assert target and web, proc.stderr.read() if proc.stderr else "demo printed no metrics or web URL"
        yield target, web
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung demo must not hang the suite
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def demo_target(demo: tuple[str, str]) -> str:
    return demo[0]


@pytest.fixture(scope="module")
def prom(demo_target: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromAPI]:
    """Prometheus scraping the demo every 3 s (more under load) with ftthnoc's rules; ready once every panel
    could have data."""
    assert PROMETHEUS is not None
    tmp = tmp_path_factory.mktemp("prometheus")
    config = tmp / "prometheus.yml"
    # A failed scrape makes every series stale at once (panels without data, FtthnocDown pending): 1 s scrapes
    # timed out beside three test workers, 3 s ones at a load of 16 on two cores. So 3 s stretched by the load,
    # up to 15 s (the panels' 60 s rate windows still hold four scrapes).
    scrape = f"{min(15, max(3, round(scaled(3))))}s"
    config.write_text(yaml.safe_dump({
        "global": {"scrape_interval": scrape, "scrape_timeout": scrape, "evaluation_interval": "1s"},
        "rule_files": [str(RULES / "ftthnoc.rules.yml")],
        "scrape_configs": [{"job_name": "ftthnoc", "static_configs": [{"targets": [demo_target]}]}],
    }))
    port = free_port()
    log = (tmp / "prometheus.log").open("w")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                            stdout=log, stderr=subprocess.STDOUT)
    api = PromAPI(f"http://127.0.0.1:{port}")
    # Ready when every OLT has been polled, the rules have run and counters have two polls for rate().
    checks = {
        "count(ftthnoc_scrape_success == 1)": 10,  # 5 OLTs x (if_mib + a GPON module)
        'count(up{job="ftthnoc"} == 1)': 1,
        "count(district:ftth_onus:count)": 4,
        "count(ftth_bwa_s1_up)": 6,  # the six simulated BWA stations
        "count(ftth_bwa_rrc_success_ratio)": 1,
        "count(ftth_vpn_sessions_capacity_ratio)": 1,  # the simulated telework VPN gateway
        "count(ftthnoc_telework_staff)": 1,
        'count(pon_port:ftth_onu_rx_power_dbm:bucket{le="+Inf"})': 1,
        f"count(changes(ifHCInOctets[{INTERVALS['__rate_interval']}]) > 0)": 1,
        **(PROBE_CHECKS if RAW_SOCKETS_REFUSED is None else {}),
    }
    try:
        pending = dict(checks)

        def ready() -> bool:
            if proc.poll() is not None:
                return True  # it exited: the assertion below shows its log
            for expr, least in list(pending.items()):
                result = api.instant(expr)  # OSError while it is not listening yet
                if result and float(result[0]["value"][1]) >= least:
                    del pending[expr]
            return not pending

        def why() -> str:
            log.flush()
            return f"no data for {list(pending)}: {(tmp / 'prometheus.log').read_text()[-2000:]}"

        wait_until(ready, 6 * POLL_SECONDS, "Prometheus to have data for every panel", detail=why,
                   retry_on=(OSError,))
        log.flush()
        assert not pending, why()
        yield api
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
        log.close()


def _regex_escape(value: str) -> str:
    """Grafana's escaping of a value inside a Prometheus regex matcher (its ``prometheusRegularEscape``): a
    backslash before each regex metacharacter, doubled because the regex sits in a PromQL string."""
    value = value.replace("\\", "\\\\\\\\")
    return re.sub(r"([$^*{}\[\]'+?.()|])", r"\\\\\1", value)


def _format(values: list[str]) -> str:
    """A multi-value variable as Grafana writes it into a Prometheus query."""
    escaped = [_regex_escape(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def _substitute(text: str, chosen: dict[str, str]) -> str:
    for name in sorted(chosen, key=len, reverse=True):
        text = text.replace("${" + name + "}", chosen[name]).replace("$" + name, chosen[name])
    return text


def resolve(api: PromAPI, dashboard: dict[str, Any], mode: str) -> dict[str, str]:
    """Each variable's value as Grafana would substitute it: "all" values or the "first" one, chained."""
    chosen = dict(INTERVALS)
    for var in variables(dashboard):
        name, kind = var["name"], var["type"]
        if kind == "constant":
            chosen[name] = var["query"]
            continue
        if kind == "textbox":
            source, label = TEXTBOX_SOURCES[name]
            expr = _substitute(source, chosen)
            values = sorted(s["metric"][label] for s in api.instant(expr))
            assert values, f"{dashboard['uid']}: no value for text box ${name} from {expr}"
            chosen[name] = values[0]
            continue
        assert kind == "query", f"{dashboard['uid']}: variable ${name} of type {kind} has no test resolution"
        m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", var["query"])
        assert m, f"{dashboard['uid']}: ${name} is not a label_values(selector, label) query"
        selector = _substitute(m.group(1), chosen)
        values = api.label_values(m.group(2), selector)
        if not values and _exempt_names(_selector_names(selector)):
            chosen[name] = "no-data-in-the-demo"  # as Grafana with an empty variable: the panels are exempt
            continue
        assert values, f"{dashboard['uid']}: ${name} resolves to nothing ({selector})"
        chosen[name] = _format(values if mode == "all" else values[:1])
    return chosen


def _selector_names(selector: str) -> set[str]:
    """Metric names a variable's series selector reads, ``{__name__=~"a|b", ...}`` included."""
    named = re.findall(r'__name__=~?"([\w:|]+)"', selector)
    return metric_names(selector) | {n for alt in named for n in alt.split("|")}


def _exempt_names(names: set[str]) -> str | None:
    for prefix, reason in NO_DATA_YET.items():
        if names and all(n.startswith(prefix) for n in names):
            return reason
    return None


def exempt(query: Query) -> str | None:
    """The reason a query may return nothing in the demo, or None."""
    return _exempt_names(metric_names(query.expr))


@pytest.mark.parametrize("mode", ["all", "first"])
@pytest.mark.parametrize("path", dashboard_files(), ids=lambda p: p.stem)
def test_every_panel_query_returns_data(prom: PromAPI, path: Path, mode: str) -> None:
    dashboard = load(path)
    chosen = resolve(prom, dashboard, mode)
    empty, errors = [], []
    for query in queries(dashboard):
        expr = _substitute(query.expr, chosen)
        assert "$" not in expr, f"unsubstituted variable in {query.panel} {query.ref}: {expr}"
        try:
            result = prom.instant(expr) if query.instant else prom.range(expr)
        except urllib.error.HTTPError as exc:
            errors.append(f"{query.panel} [{query.ref}]: {exc} {exc.read().decode()[:300]}\n    {expr}")
            continue
        if (query.dashboard, query.panel) in NO_DATA_PANELS:
            continue  # may or may not have data now: no warning either way
        reason = exempt(query)
        if reason is not None:
            if result and reason != PROBES_NEED_ROOT:  # `or vector(0)` has data without probes too
                warnings.warn(f"{query.panel} [{query.ref}] has data now: drop it from NO_DATA_YET", stacklevel=1)
            continue
        if not result:
            empty.append(f"{query.panel} [{query.ref}]: {expr}")
    assert not errors, "queries Prometheus refused:\n" + "\n".join(errors)
    assert not empty, f"queries with no data ({mode}: {chosen}):\n" + "\n".join(empty)


def test_the_rules_flag_the_simulated_feeder_cut_and_no_dead_olt(prom: PromAPI) -> None:
    """The town has one feeder-cut port, cut before the first poll: the engine opens its incident from the first
    poll's state and the alert, reading the incident, fires for that port and only that one (no `for`)."""
    cuts: list[Any] = wait_until(lambda: prom.instant('ALERTS{alertname="FtthPonPortFeederCut",alertstate="firing"}'),
                                 20, "the feeder-cut alert")
    assert len(cuts) == 1, cuts
    port = f'olt="{cuts[0]["metric"]["olt"]}", pon_port="{cuts[0]["metric"]["pon_port"]}"'
    # what the gauges say of that port (waited for: a poll of the OLT that timed out leaves none for a moment,
    # while the incident, rightly, stays open)
    [down] = wait_until(lambda: prom.instant(f'sum(ftth_pon_port_onus_down{{cause="los", {port}}})'), 20,
                        "the cut port's LOS count")
    [known] = wait_until(lambda: prom.instant(f"sum(ftth_pon_port_onus_known{{{port}}})"), 20,
                         "the cut port's ONU count")
    assert float(down["value"][1]) >= max(4.0, 0.5 * float(known["value"][1]))
    opened = [o["metric"] for o in prom.instant("ftthnoc_incident_open")]
    assert [(o["kind"], o.get("olt"), o.get("pon_port")) for o in opened] == [
        ("feeder_cut", cuts[0]["metric"]["olt"], cuts[0]["metric"]["pon_port"])], opened
    assert prom.instant('ALERTS{alertname=~"FtthOltNotAnswering|FtthnocPollFailing|FtthnocDown"}') == []
    # the demo's probes (loopback) lose nothing, its town services answer, and its scattered dying gasps are days
    # apart: no power cut
    assert prom.instant('ALERTS{alertname=~"FtthProbe.*|FtthServicePortDown|FtthTown.*|Ftth.*IncidentOpen"}') == []


def test_every_target_is_routed_by_its_data_source() -> None:
    """Each target runs in exactly one test: PromQL here, the API's rows in test_infinity.py; no other uid."""
    for path in dashboard_files():
        d = load(path)
        uids = [target_uid(p, t) for p in panels(d) for t in p.get("targets") or []]
        assert set(uids) <= {PROMETHEUS_UID, API_UID}, f"{d['uid']}: targets of {set(uids)}"
        assert len(list(queries(d))) == uids.count(PROMETHEUS_UID)
        assert len(list(infinity_targets(d))) == uids.count(API_UID)


def test_the_no_data_panels_exist_and_read_only_a_telework_period() -> None:
    """Exactly the panels whose every query reads a telework KPI period that may be absent, and nothing else."""
    everything = [q for p in dashboard_files() for q in queries(load(p))]
    listed = [q for q in everything if (q.dashboard, q.panel) in NO_DATA_PANELS]
    assert {(q.dashboard, q.panel) for q in listed} == set(NO_DATA_PANELS)
    for query in listed:
        assert re.search(r'period="(day|month)"', query.expr), query
        assert all(n.startswith("ftthnoc_telework_") for n in metric_names(query.expr)), query
    may_be_absent = {(q.dashboard, q.panel) for q in everything
                     if re.search(r'ftthnoc_telework_\w+\{period="(day|month)"', q.expr)
                     and "figures_counted" not in q.expr}
    assert may_be_absent == set(NO_DATA_PANELS)


def test_the_exception_list_is_short_and_only_covers_metrics_the_demo_cannot_have() -> None:
    always = {prefix for prefix, reason in NO_DATA_YET.items() if reason != PROBES_NEED_ROOT}
    assert always == {"ftthnoc_influx_", "ftthnoc_traps_"}
    everything = [q for p in dashboard_files() for q in queries(load(p))]
    exempted = [q for q in everything if exempt(q) is not None and exempt(q) != PROBES_NEED_ROOT]
    assert {q.dashboard for q in exempted} == {"ftthnoc-health"}, "only the health dashboard's InfluxDB and trap rows"
    assert len(exempted) <= 8
    probe_queries = [q for q in everything if any(n.startswith("ftthnoc_probe_") for n in metric_names(q.expr))]
    assert {q.dashboard for q in probe_queries} == {"ftthnoc-probes", "ftthnoc-health"}
    if RAW_SOCKETS_REFUSED is None:  # root: the demo probes, so every probe panel must have had data
        assert "ftthnoc_probe_" not in NO_DATA_YET
    else:
        assert all(exempt(q) == PROBES_NEED_ROOT for q in probe_queries)


def test_the_school_dashboard_joins_every_school_to_its_routers_uplink(prom: PromAPI) -> None:
    """Every demo school has a router: its uplink's busier direction runs at 40-120 % of the school's MEXT
    figure (simulator.generate.schools), and 70-90 % of its tablets are in the router's ARP table (the KPI
    recorder marks them seen: the share of 24 hours is at least that)."""
    load_builder()  # puts the dashboards_src package (beside build.py, not installed) on the path
    schools = importlib.import_module("dashboards_src.schools")
    everyone = {"$school": ".*", "$__rate_interval": INTERVALS["__rate_interval"]}

    def expr(text: str) -> str:
        for name, value in everyone.items():
            text = text.replace(name, value)
        return text

    codes = set(prom.label_values("school", "ftthnoc_school_tablets"))
    assert codes, "no school in the demo"

    def measured() -> list[Any] | None:
        got = prom.instant(expr(f"({schools.BUSIER}) / on (school) {schools.RECOMMENDED}"))
        moved = {r["metric"]["school"] for r in got if float(r["value"][1]) > 0}  # two polls in the window
        return got if moved == codes else None

    # a rate over four polls of a counter that steps once a poll (and polls late on a busy machine) is
    # rough: the bounds only say that the series joined is the school's uplink, on its MEXT figure's scale
    for r in wait_until(measured, 6 * POLL_SECONDS, "every school's uplink rate"):
        assert 0.1 <= float(r["value"][1]) <= 2.0, r

    def seen() -> list[Any] | None:
        got = prom.instant('ftthnoc_school_tablets_seen{period="24h"} / ignoring (period) ftthnoc_school_tablets')
        return got if {r["metric"]["school"] for r in got if float(r["value"][1]) > 0} == codes else None

    for r in wait_until(seen, 60, "tablets seen at every school"):
        assert 0.6 <= float(r["value"][1]) <= 1.0, r


def test_the_demo_household_page_shows_the_seeded_week(demo: tuple[str, str]) -> None:
    """The demo seeds the household page's in-process week (``simulator.linehistory``): an active household's
    page shows a sparkline of more than one hourly point although every real poll so far falls in this hour or
    the last (polls of one hour are one point), read over real HTTP with the demo's support login."""
    import http.cookiejar

    web = demo[1]
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    login = urllib.request.Request(f"{web}/api/login", data=json.dumps(
        {"name": "support", "password": "support-demo"}).encode(), headers={"Content-Type": "application/json"})
    opener.open(login, timeout=30).close()
    with opener.open(f"{web}/api/households?status=active&limit=5", timeout=30) as r:
        codes = [h["code"] for h in json.loads(r.read().decode())["items"]]
    assert codes
    bands = {}
    for code in codes:
        with opener.open(f"{web}/support/households/{code}?lang=en", timeout=30) as r:
            page = r.read().decode()
        if 'data-state="shown"' in page:
            bands[code] = page.count('<rect class="band"')
    assert bands and max(bands.values()) > 2, bands
