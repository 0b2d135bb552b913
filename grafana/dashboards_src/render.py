"""Writes every registered dashboard to ``grafana/dashboards/*.json``, or checks that the files are current."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from .registry import DASHBOARDS

OUT = Path(__file__).resolve().parent.parent / "dashboards"


def _number_panels(panels: list[Any]) -> None:
    """Grafana needs panel ids unique within a dashboard: number them in order, rows included."""
    n = 0
    for p in panels:
        n += 1
        p.id_val = n
        for child in getattr(p, "panels", None) or []:
            n += 1
            child.id_val = n


def render(build: Callable[[], db.Dashboard]) -> str:
    """The dashboard as the JSON text checked in (stable key order, UTF-8 kept readable)."""
    model = build().build()
    _number_panels(model.panels or [])
    return json.dumps(model, cls=JSONEncoder, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def rendered() -> dict[Path, str]:
    return {OUT / f"{name}.json": render(build) for name, build in DASHBOARDS.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--check", action="store_true", help="exit 1 if the checked-in JSON is not what this builds")
    args = ap.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'} {path.relative_to(OUT.parent.parent)}")
    return 1 if args.check and stale else 0
