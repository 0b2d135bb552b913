"""Prometheus rules and example configurations: promtool accepts them, and every alert is tested both ways."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ftthnoc.catalogue import CATALOGUE
from ftthnoc.personal import FORBIDDEN_LABELS
from tests.grafana.grafana_json import GRAFANA, ROOT, RULES, metric_names

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package prometheus)")

RULE_FILES = sorted(RULES.glob("*.rules.yml"))
TEST_FILES = sorted((RULES / "tests").glob("*.yml"))
CONFIGS = sorted((GRAFANA / "prometheus").glob("prometheus.*.yml"))
SEVERITIES = {"critical", "warning", "info"}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def alerts() -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for f in RULE_FILES for g in _yaml(f)["groups"] for r in g["rules"] if "alert" in r}


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_the_files_are_there() -> None:
    assert [p.name for p in RULE_FILES] == ["ftthnoc.rules.yml", "later.rules.yml"]
    assert {p.name for p in CONFIGS} == {"prometheus.town.yml", "prometheus.prefecture.yml"}
    assert TEST_FILES


@needs_promtool
@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_promtool_check_rules(path: Path) -> None:
    r = promtool("check", "rules", str(path))
    assert r.returncode == 0, r.stdout + r.stderr


@needs_promtool
@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_promtool_test_rules(path: Path) -> None:
    r = promtool("test", "rules", path.name, cwd=path.parent)
    assert r.returncode == 0, r.stdout + r.stderr


@needs_promtool
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_promtool_check_config(path: Path) -> None:
    r = promtool("check", "config", path.name, cwd=path.parent)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "rule files found" in r.stdout  # the relative rule paths resolved


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for path in TEST_FILES:
        doc = _yaml(path)
        for rule_file in doc["rule_files"]:
            assert (path.parent / rule_file).resolve().parent == RULES.resolve(), rule_file
        for test in doc["tests"]:
            for case in test.get("alert_rule_test") or []:
                (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = set(alerts())
    assert fires <= names and quiet <= names, "tests for alerts that do not exist"
    assert not names - fires, f"alerts never tested firing: {sorted(names - fires)}"
    assert not names - quiet, f"alerts never tested staying quiet: {sorted(names - quiet)}"


@pytest.mark.parametrize("name", sorted(alerts()))
def test_every_alert_has_severity_summary_and_one_line_runbooks(name: str) -> None:
    rule = alerts()[name]
    assert rule["labels"]["severity"] in SEVERITIES
    notes = rule["annotations"]
    assert set(notes) == {"summary", "runbook_ja", "runbook_en"}
    for key, text in notes.items():
        assert text.strip() and "\n" not in text.strip(), f"{key} must be one line"
    assert JAPANESE.search(notes["runbook_ja"])
    assert notes["runbook_en"].isascii() and notes["summary"].isascii()
    templated = " ".join(str(v) for v in (rule["expr"], *notes.values()))
    used = set(re.findall(r"\$labels\.(\w+)", templated))
    assert not used & FORBIDDEN_LABELS, f"{name} templates personal fields {used & FORBIDDEN_LABELS}"


def test_later_alerts_are_kept_apart() -> None:
    later = {r["alert"] for g in _yaml(RULES / "later.rules.yml")["groups"] for r in g["rules"]}
    assert later == {"FtthBwaCellDown", "FtthVpnSessionsAtCapacity", "FtthSchoolUplinkSaturated"}
    main = (RULES / "ftthnoc.rules.yml").read_text(encoding="utf-8")
    assert not re.search(r"ftth_(bwa|vpn|school)_", main)


def test_recording_rules_follow_level_metric_operations() -> None:
    records = [r["record"] for f in RULE_FILES for g in _yaml(f)["groups"] for r in g["rules"] if "record" in r]
    assert records
    for name in records:
        assert re.fullmatch(r"[a-z_]+:[a-z_]+:[a-z_]+", name), name
    assert {"district:ftth_onu_up:sum", "district:ftth_onus:count", "olt:ftth_onus:count"} <= set(records)


def test_the_prefecture_example_shards_targets_with_hashmod() -> None:
    doc = _yaml(GRAFANA / "prometheus" / "prometheus.prefecture.yml")
    (snmp,) = [j for j in doc["scrape_configs"] if j.get("metrics_path") == "/snmp"]
    actions = [r.get("action", "replace") for r in snmp["relabel_configs"]]
    assert "hashmod" in actions and "keep" in actions
    hashmod = next(r for r in snmp["relabel_configs"] if r.get("action") == "hashmod")
    assert hashmod["source_labels"] == ["__param_target"] and hashmod["modulus"] > 1
    for group in snmp["static_configs"]:
        assert {"__param_module", "__param_auth"} <= set(group["labels"])


#: Prometheus' own series: scrape bookkeeping and the alerts' state.
PROMETHEUS_OWN = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added",
                            "scrape_samples_post_metric_relabeling", "ALERTS", "ALERTS_FOR_STATE"})


def loaded_rule_files() -> set[Path]:
    """The rule files some example Prometheus configuration loads (paths relative to the configuration)."""
    return {(path.parent / f).resolve() for path in CONFIGS for f in _yaml(path).get("rule_files") or []}


def module_metric_names() -> set[str]:
    """Every metric a device module of a vendor pack names (if_mib's snmp_exporter names among them)."""
    return {m["name"] for path in sorted((ROOT / "ftthnoc" / "vendors").glob("*/snmp/*.yaml"))
            for m in _yaml(path).get("metrics") or []}


def test_every_rule_file_is_loaded_by_the_example_configurations() -> None:
    """A rule file no configuration loads would be checked here for nothing: none is left aside today."""
    assert {p.resolve() for p in RULE_FILES} == loaded_rule_files()


def test_every_metric_a_rule_reads_is_exported() -> None:
    """Each rule's expression reads only what ftthnoc exports (the catalogue, a histogram's series, a device
    module's metric), a recording rule of these files, or Prometheus' own series."""
    rules = [(path.name, r) for path in RULE_FILES if path.resolve() in loaded_rule_files()
             for g in _yaml(path)["groups"] for r in g["rules"]]
    records = {r["record"] for _, r in rules if "record" in r}
    histograms = {f"{e.name}{s}" for e in CATALOGUE if e.type == "histogram" for s in ("_bucket", "_sum", "_count")}
    known = {e.name for e in CATALOGUE} | histograms | module_metric_names() | records | PROMETHEUS_OWN
    unknown = {f"{file}: {r.get('alert') or r.get('record')} reads {sorted(metric_names(r['expr']) - known)}"
               for file, r in rules if metric_names(r["expr"]) - known}
    assert not unknown, sorted(unknown)
    assert all(metric_names(r["expr"]) for _, r in rules), "the parser found no metric in some rule"


def test_the_school_uplink_alert_reads_the_routers_if_mib_through_the_schools_uplink() -> None:
    expr = alerts()["FtthSchoolUplinkSaturated"]["expr"]
    assert metric_names(expr) == {"ifHCInOctets", "ifHCOutOctets", "ifHighSpeed", "ftthnoc_school_uplink_info"}
