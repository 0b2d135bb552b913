"""The dashboards as files: generated from grafana/dashboards_src/, loadable by the SDK's model, self-consistent."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.cog.runtime import UnknownDataquery
from grafana_foundation_sdk.models import dashboard as dm

from ftthnoc.catalogue import CATALOGUE
from tests.grafana.grafana_json import (
    BUILTIN_VARIABLES,
    DASHBOARDS,
    GRAFANA,
    PROMETHEUS_UID,
    ROOT,
    RULES,
    dashboard_files,
    load,
    load_builder,
    metric_names,
    panels,
    provisioned_uids,
    queries,
    referenced,
    target_uid,
    variables,
)

FILES = dashboard_files()
IDS = [p.stem for p in FILES]
SELECTION = ("district", "olt", "pon_port")
#: Dashboards of devices that are not on the FTTH, with their own first variable instead of the shared three:
#: BWA stations (in Geihoku and Oasa, but their series carry no district, OLT or PON port label) and VPN
#: gateways (one per organisation), schools (their series carry the school's code only). The shared variables
#: would select nothing there.
OWN_SELECTION = {"ftthnoc-bwa": "station", "ftthnoc-telework": "gateway", "ftthnoc-schools": "school"}
_KPI = "the telework KPI is the organisation's, over every VPN gateway: no gateway label"
#: Panels that use no template variable, on purpose.
TOWN_WIDE = {
    ("ftthnoc-kpi", "加入 ONU（目標 7,000） / Subscribed ONUs vs 7,000"): "the 7,000 target is town-wide",
    ("ftthnoc-kpi", "稼働中の ONU（目標 7,000） / ONUs up vs 7,000"): "the 7,000 target is town-wide",
    ("ftthnoc-health", "Prometheus からの取得 / Prometheus scrapes ftthnoc"): "the ftthnoc process, not an OLT",
    ("ftthnoc-health", "取得所要時間 / Scrape duration"): "the ftthnoc process, not an OLT",
    ("ftthnoc-health", "プローブの実行 / Probe cycles"): "the prober as a whole: a cycle has no target",
    ("ftthnoc-health", "プローブ所要時間 / Probe cycle duration"): "the prober as a whole: a cycle has no target",
    ("ftthnoc-health", "受信トラップ / Traps received"): "traps come from any device, not only the OLTs",
    ("ftthnoc-health", "破棄されたトラップ / Traps dropped"): "a dropped trap names no device, only the reason",
    ("ftthnoc-probes", "プローブの実行 / Probe cycles"): "the prober as a whole: a cycle has no target",
    ("ftthnoc-probes", "プローブ所要時間 / Probe cycle duration"): "the prober as a whole: a cycle has no target",
    ("ftthnoc-telework", "在宅勤務率（今日） / Remote share today vs 30 %"): _KPI,
    ("ftthnoc-telework", "在宅勤務率（今月） / Remote share this month vs 30 %"): _KPI,
    ("ftthnoc-telework", "目標達成率 / Target attainment"): _KPI,
    ("ftthnoc-telework", "集計カバー率（今日） / Coverage today"): _KPI,
    ("ftthnoc-telework", "目標 / Target"): _KPI,
    ("ftthnoc-telework", "職員数 / Staff"): _KPI,
    ("ftthnoc-telework", "集計日数（今月） / Working days counted this month"): _KPI,
    ("ftthnoc-telework", "出勤削減率の推移（月別） / Office attendance reduction per month vs 30 %"): _KPI,
    ("ftthnoc-kpi", "加入世帯数の推移（開始から） / Subscribing households since the service start vs 7,000"):
        "the 7,000 target is town-wide (the API's rows)",
    ("ftthnoc-kpi", "月別稼働率（24 時間 365 日） / Monthly availability vs 24/365"):
        "the town's 24/365 availability target (the API's town-wide rows)",
    ("ftthnoc-schools", "児童生徒の端末の日次確認率（町全体） / Pupils' tablets seen each day, town-wide vs 100 %"):
        "the town's pupils-online target: the API's daily rows are town-wide",
}
#: InfluxDB writer metrics (being built alongside; no OLT label: one writer per ftthnoc process).
INFLUX_METRICS = {"ftthnoc_influx_spool_bytes", "ftthnoc_influx_spool_dropped_points_total",
                  "ftthnoc_influx_written_points_total", "ftthnoc_influx_write_errors_total",
                  "ftthnoc_influx_queue_points", "ftthnoc_influx_up"}


def test_checked_in_json_is_what_the_dashboard_modules_produce() -> None:
    built = load_builder().rendered()
    assert sorted(built) == FILES, "a dashboard file without a builder, or a builder without a file"
    stale = [p.name for p, text in built.items() if p.read_text(encoding="utf-8") != text]
    assert not stale, f"run `python grafana/build.py`: {stale} differ from what it builds"


def test_every_dashboard_module_is_registered_once() -> None:
    """One module per dashboard, each in the registry (the other modules are the shared ones)."""
    render = load_builder()
    shared = {"__init__", "common", "infinity", "registry", "render"}
    modules = {p.stem for p in (GRAFANA / "dashboards_src").glob("*.py")} - shared
    registered = [build.__module__.rpartition(".")[2] for build in render.DASHBOARDS.values()]
    assert sorted(registered) == sorted(modules), "a dashboard module without a registry line, or one twice"


def test_build_script_checks_from_any_directory(tmp_path: Any) -> None:
    """`python grafana/build.py --check` (lint's command) finds its package wherever it is run from."""
    done = subprocess.run([sys.executable, str(GRAFANA / "build.py"), "--check"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_loads_through_the_sdk_model_unchanged(path: Any) -> None:
    """The SDK's typed model reads every panel's options and every target (Prometheus, and Infinity through our
    model of it), and writes the same JSON."""
    register_default_plugins()
    importlib.import_module(load_builder().__name__.rpartition(".")[0] + ".infinity").register()
    data = load(path)
    model = dm.Dashboard.from_json(data)
    for p in model.panels or []:
        if isinstance(p, dm.Panel):
            assert not isinstance(p.options, dict), f"{p.title}: options not understood by the SDK"
            assert not any(isinstance(t, UnknownDataquery) for t in p.targets or []), p.title
    assert json.loads(json.dumps(model, cls=JSONEncoder)) == data


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_panel_ids_are_unique_and_every_panel_has_a_bilingual_title(path: Any) -> None:
    d = load(path)
    ids = [p["id"] for p in panels(d)]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) and i > 0 for i in ids), ids
    for title in [d["title"], *(p["title"] for p in panels(d))]:
        ja, sep, en = title.partition(" / ")
        assert sep and re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", ja) and en.isascii(), title


def test_dashboards_have_unique_uids_and_link_to_each_other() -> None:
    docs = [load(p) for p in FILES]
    assert len({d["uid"] for d in docs}) == len(docs)
    for d in docs:
        assert "ftthnoc" in d["tags"]
        assert any(link["type"] == "dashboards" and "ftthnoc" in link["tags"] and link["includeVars"]
                   for link in d["links"]), f"{d['uid']}: no links to the other dashboards"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_data_source_is_provisioned(path: Any) -> None:
    uids = provisioned_uids()
    d = load(path)
    refs = [(p["title"], p.get("datasource")) for p in panels(d) if p["type"] != "row"]
    refs += [(f"{p['title']} {t['refId']}", t.get("datasource")) for p in panels(d) for t in p.get("targets") or []]
    refs += [(f"${v['name']}", v.get("datasource")) for v in variables(d) if v["type"] == "query"]
    for where, ref in refs:
        assert ref and ref["uid"] in uids and ref["type"] == uids[ref["uid"]], f"{where}: {ref}"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_variables_are_chained_and_every_referenced_variable_is_defined(path: Any) -> None:
    d = load(path)
    defined = [v["name"] for v in variables(d)]
    chain = {v["name"]: v for v in variables(d)}
    if d["uid"] in OWN_SELECTION:
        own = OWN_SELECTION[d["uid"]]
        assert defined[:1] == [own] and not set(SELECTION) & set(defined), defined
        assert chain[own]["query"].startswith("label_values(") and not referenced(chain[own]["query"])
        first: tuple[str, ...] = (own,)
    else:
        assert defined[:3] == list(SELECTION), defined
        assert chain["district"]["query"].startswith("label_values(")
        assert referenced(chain["olt"]["query"]) == {"district"}
        assert referenced(chain["pon_port"]["query"]) == {"district", "olt"}
        first = SELECTION
    for name in first:
        assert chain[name]["multi"] and chain[name]["includeAll"] and "allValue" not in chain[name]
    for i, v in enumerate(variables(d)):  # a variable may only use those defined before it
        assert referenced(str(v.get("query", ""))) <= set(defined[:i]), v["name"]
    for q in queries(d):
        unknown = referenced(q.expr) - set(defined) - BUILTIN_VARIABLES
        assert not unknown, f"{q.panel} [{q.ref}] uses undefined {unknown}"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_panel_follows_the_selection(path: Any) -> None:
    """Each panel uses a template variable, except the few listed as town-wide with a reason."""
    d = load(path)
    defined = {v["name"] for v in variables(d)}
    for p in panels(d):
        if p["type"] == "row":
            continue
        if (d["uid"], p["title"]) in TOWN_WIDE:
            continue
        used = set().union(*(referenced(t["expr"]) for t in p["targets"])) & defined
        if all(target_uid(p, t) == PROMETHEUS_UID and metric_names(t["expr"]) <= INFLUX_METRICS for t in p["targets"]):
            continue
        assert used, f"{p['title']} ignores the dashboard's variables"


def test_queries_read_only_catalogued_metrics_recording_rules_and_if_mib() -> None:
    if_mib = yaml.safe_load((ROOT / "ftthnoc/vendors/ietf/snmp/if_mib.yaml").read_text(encoding="utf-8"))
    records = {r["record"] for f in RULES.glob("*.rules.yml")
               for g in yaml.safe_load(f.read_text(encoding="utf-8"))["groups"] for r in g["rules"] if "record" in r}
    histograms = {f"{e.name}{suffix}" for e in CATALOGUE if e.type == "histogram" for suffix in ("_bucket", "_sum",
                                                                                                 "_count")}
    known = ({e.name for e in CATALOGUE} | histograms | {m["name"] for m in if_mib["metrics"]} | records
             | INFLUX_METRICS | {"up", "scrape_duration_seconds"})
    used = {n for p in FILES for q in queries(load(p)) for n in metric_names(q.expr)}
    assert used - known == set()


def test_no_personal_data_in_dashboards() -> None:
    from ftthnoc.personal import FORBIDDEN_LABELS

    for p in FILES:
        text = p.read_text(encoding="utf-8")
        for field in FORBIDDEN_LABELS:
            assert not re.search(rf"\b{field}\s*[=!]~?\s*\"|\{{\{{\s*{field}\s*\}}\}}", text), (p.name, field)


def test_provisioning_files() -> None:
    ds = yaml.safe_load((GRAFANA / "provisioning/datasources/ftthnoc.yaml").read_text(encoding="utf-8"))
    by_uid = {d["uid"]: d for d in ds["datasources"]}
    assert by_uid["prometheus"]["type"] == "prometheus"
    influx = by_uid["influxdb"]
    assert influx["type"] == "influxdb" and influx["jsonData"]["version"] == "Flux"
    assert influx["url"] == "${FTTHNOC_INFLUX_URL}" and influx["secureJsonData"]["token"] == "${FTTHNOC_INFLUX_TOKEN}"
    assert {influx["jsonData"]["organization"], influx["jsonData"]["defaultBucket"]} == {
        "${FTTHNOC_INFLUX_ORG}", "${FTTHNOC_INFLUX_BUCKET}"}
    api = by_uid["ftthnoc-api"]
    assert api["type"] == "yesoreyeram-infinity-datasource" and api["url"] == "${FTTHNOC_API_URL}"
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/ftthnoc.yaml").read_text(encoding="utf-8"))
    (provider,) = providers["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("${")
    assert DASHBOARDS.is_dir()


def test_noc_overview_maps_the_dark_homes_by_district_from_the_exporters_coordinates() -> None:
    """The Geomap panel: markers placed by the lat/lon labels of ftthnoc_district_info (served by the exporter,
    so no gazetteer file and no geocoder), sized and coloured by the households open incidents hold."""
    d = load(ROOT / "grafana/dashboards/noc-overview.json")
    (geo,) = [p for p in panels(d) if p["type"] == "geomap"]
    catalogued = {e.name: e for e in CATALOGUE}
    for t in geo["targets"]:
        assert "ftthnoc_district_info" in metric_names(t["expr"]) and metric_names(t["expr"]) <= set(catalogued)
        assert t["instant"] and t["format"] == "table"
    assert set(catalogued["ftthnoc_district_info"].labels) == {"district", "lat", "lon"}
    assert "ftthnoc_incident_affected_households" in metric_names(geo["targets"][0]["expr"])
    (layer,) = geo["options"]["layers"]
    assert layer["type"] == "markers"
    assert layer["location"] == {"mode": "coords", "latitude": "lat", "longitude": "lon"}
    conversions = {c["targetField"] for t in geo["transformations"] if t["id"] == "convertFieldType"
                   for c in t["options"]["conversions"]}
    assert conversions == {"lat", "lon"}  # labels are strings: Geomap's coords mode needs numbers
    households = next(t for t in geo["transformations"] if t["id"] == "organize")["options"]["renameByName"]["Value #A"]
    assert layer["config"]["style"]["size"]["field"] == households == layer["config"]["style"]["color"]["field"]
