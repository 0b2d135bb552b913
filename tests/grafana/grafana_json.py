"""Shared helpers for the Grafana tests: the dashboards as code, the checked-in dashboards and what is in them."""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
RULES = GRAFANA / "rules"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "ftthnoc.yaml"

#: Grafana's own variables: filled in by Grafana, never defined in a dashboard.
BUILTIN_VARIABLES = frozenset({"__rate_interval", "__interval", "__interval_ms", "__range", "__range_s",
                               "__range_ms", "__from", "__to", "__dashboard", "__org", "__user", "__all"})
VARIABLE_RE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")


def load_builder() -> ModuleType:
    """grafana/dashboards_src/render.py: the package sits beside the build.py script, not installed."""
    if str(GRAFANA) not in sys.path:
        sys.path.append(str(GRAFANA))
    return importlib.import_module("dashboards_src.render")


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows and the panels inside collapsed rows included."""
    for p in dashboard.get("panels") or []:
        yield p
        yield from p.get("panels") or []


@dataclass(frozen=True)
class Query:
    dashboard: str  # uid
    panel: str  # title
    ref: str
    expr: str
    instant: bool


#: The data sources' uids (grafana/provisioning/datasources/ftthnoc.yaml): PromQL, and the API's KPI rows.
PROMETHEUS_UID = "prometheus"
API_UID = "ftthnoc-api"


def target_uid(panel: dict[str, Any], target: dict[str, Any]) -> str:
    """The uid of the data source a target queries (its own, else its panel's)."""
    ref = target.get("datasource") or panel.get("datasource") or {}
    return str(ref.get("uid", ""))


def queries(dashboard: dict[str, Any]) -> Iterator[Query]:
    """Every PromQL target (data source uid ``prometheus``); a target of another data source is routed by its uid
    (``infinity_targets``), and one of an unknown uid is an error, never skipped."""
    for p in panels(dashboard):
        for t in p.get("targets") or []:
            uid = target_uid(p, t)
            if uid == API_UID:
                continue
            assert uid == PROMETHEUS_UID, f"{dashboard['uid']} {p['title']}: a target of data source {uid!r}"
            yield Query(dashboard["uid"], p["title"], t.get("refId", ""), t["expr"], bool(t.get("instant")))


@dataclass(frozen=True)
class ApiTarget:
    """An Infinity target on the ftthnoc API: the panel, its URL and root selector, and its columns
    (selector, type, timestamp layout)."""

    dashboard: str  # uid
    panel: str  # title
    ref: str
    url: str
    root_selector: str
    columns: tuple[tuple[str, str, str | None], ...]
    target: dict[str, Any]


def infinity_targets(dashboard: dict[str, Any]) -> Iterator[ApiTarget]:
    for p in panels(dashboard):
        for t in p.get("targets") or []:
            if target_uid(p, t) == API_UID:
                cols = tuple((c["selector"], c["type"], c.get("timestampFormat")) for c in t.get("columns") or [])
                yield ApiTarget(dashboard["uid"], p["title"], t.get("refId", ""), t["url"],
                                t.get("root_selector", ""), cols, t)


def variables(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (dashboard.get("templating") or {}).get("list") or []
    return found


def referenced(text: str) -> set[str]:
    """Names of the $variables a query or variable query uses."""
    return {a or b for a, b in VARIABLE_RE.findall(text)}


_KEYWORDS = frozenset({"by", "on", "without", "ignoring", "group_left", "group_right", "and", "or", "unless",
                       "bool", "offset"})


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression reads (selectors, functions and label lists stripped)."""
    e = re.sub(r'"[^"]*"', '""', expr)
    e = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(?:by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\$\w+", " ", e)
    return {n for n in re.findall(r"(?<![\w$.])([a-zA-Z_:][\w:]*)\b(?!\s*\()", e) if n not in _KEYWORDS}


def provisioned_uids() -> dict[str, str]:
    """uid -> type of every data source the provisioning file declares."""
    doc = yaml.safe_load(DATASOURCES.read_text(encoding="utf-8"))
    return {d["uid"]: d["type"] for d in doc["datasources"]}
