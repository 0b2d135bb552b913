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


def queries(dashboard: dict[str, Any]) -> Iterator[Query]:
    for p in panels(dashboard):
        for t in p.get("targets") or []:
            yield Query(dashboard["uid"], p["title"], t.get("refId", ""), t["expr"], bool(t.get("instant")))


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
