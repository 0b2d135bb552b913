"""Every Infinity target of every dashboard, requested from a demo-like ftthnoc API over real HTTP.

The API runs on the database ``ftthnoc demo`` builds (``app.cli.demo.load_demo_inventory``: the simulated town
and its seeded history), with a viewer's token as Grafana's ``ftthnoc-api`` data source has. For each target the
answer must be rows (after its root selector), every column the panel names must be a field of every row, its
time column must parse with the panel's layout, and the trend must have more than one point in time. A
target naming a column the API does not send fails (``test_a_panel_naming_an_unknown_column_fails``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.security import issue_token
from api.service import add_demo_users
from app.cli.demo import load_demo_inventory
from ftthnoc.inventory import db
from ftthnoc.inventory.models import User
from simulator.town import generate_town
from tests.api.conftest import settings_for
from tests.api.served import served
from tests.grafana.grafana_json import ApiTarget, dashboard_files, infinity_targets, load

#: Go layout elements (Infinity's backend parser's ``timestampFormat``) and their strptime equivalents.
GO_LAYOUT = {"2006": "%Y", "01": "%m", "02": "%d", "15": "%H", "04": "%M", "05": "%S"}
TARGETS = [t for p in dashboard_files() for t in infinity_targets(load(p))]


def strptime_of(layout: str) -> str:
    out = layout
    for go, py in GO_LAYOUT.items():
        out = out.replace(go, py)
    return out


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, a viewer's API token) of the API on a freshly seeded demo database."""
    from sqlalchemy import select

    directory = tmp_path_factory.mktemp("infinity")
    town = generate_town(onus=300, school_routers=True)
    engine = load_demo_inventory(f"sqlite:///{directory / 'demo.db'}", town.inventory_document(), datetime.now(UTC))
    add_demo_users(engine, town.schools[0].code if town.schools else None)
    with db.session_scope(engine, actor="test") as s:
        viewer = s.scalars(select(User).where(User.role == "viewer")).first()
        assert viewer is not None
        token = issue_token(s, viewer).token
    try:
        with served(create_app(engine, settings=settings_for(directory)), "uvicorn-infinity") as base:
            yield base, token
    finally:
        engine.dispose()


def fetch(api: tuple[str, str], url: str) -> Any:
    """What Grafana's Infinity plugin gets: GET on the data source's base URL + the target's URL, bearer token."""
    base, token = api
    assert url.startswith("/api/"), f"{url}: not a path relative to the data source's base URL"
    request = urllib.request.Request(base + url, headers={"Authorization": f"Bearer {token}",
                                                          "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read().decode())


def select_root(body: Any, root_selector: str) -> Any:
    """The root selector as both Infinity parsers read a plain path: empty is the whole answer, ``a.b`` a
    nested field; anything else is refused here (this test could not check what it selects)."""
    if not root_selector:
        return body
    for part in root_selector.split("."):
        assert part.isidentifier(), f"root selector {root_selector!r}: only plain paths are checked here"
        assert isinstance(body, dict) and part in body, f"root selector {root_selector!r}: no field {part!r}"
        body = body[part]
    return body


def problems(target: ApiTarget, body: Any) -> list[str]:
    """What a panel would show wrongly or not at all from this answer (empty: it plots a trend)."""
    rows = select_root(body, target.root_selector)
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        return [f"{target.url}: no rows ({str(rows)[:200]})"]
    found: list[str] = []
    times: set[datetime] = set()
    if not target.columns:
        found.append("the panel names no column")
    if not any(kind == "timestamp" for _, kind, _ in target.columns):
        found.append("no time column: not a trend")
    for selector, kind, layout in target.columns:
        missing = [i for i, r in enumerate(rows) if selector not in r]
        if missing:
            found.append(f"column {selector!r} is not in {len(missing)} of {len(rows)} rows "
                         f"(fields: {sorted(rows[missing[0]])})")
            continue
        values = [r[selector] for r in rows]
        if kind == "timestamp":
            if layout is None:
                found.append(f"time column {selector!r} without a timestampFormat")
                continue
            try:
                times |= {datetime.strptime(str(v), strptime_of(layout)) for v in values}
            except ValueError as exc:
                found.append(f"time column {selector!r} does not parse with {layout!r}: {exc}")
        elif kind == "number":
            if not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values):
                found.append(f"column {selector!r} is not numeric: {values[:5]}")
            elif all(v is None for v in values):
                found.append(f"column {selector!r} has no value in any row")
    if len(times) < 2 and not any("time column" in f for f in found):
        found.append(f"one point in time only ({sorted(times)}): no trend")
    return found


def test_the_dashboards_have_the_four_trends() -> None:
    """The town's four targets, each as a trend from the API: take-up, tablets, telework, availability."""
    assert sorted(t.url for t in TARGETS) == ["/api/kpis/availability/monthly", "/api/kpis/subscriptions/monthly",
                                              "/api/kpis/tablets/daily", "/api/kpis/telework/monthly"]
    for t in TARGETS:
        assert "target" in [c[0] for c in t.columns], f"{t.panel}: no target column to compare with"


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t.dashboard}-{t.url.rsplit('/api/kpis/', 1)[-1]}")
def test_every_infinity_target_gets_rows_with_its_columns_and_a_trend(api: tuple[str, str], target: ApiTarget
                                                                      ) -> None:
    body = fetch(api, target.url)
    assert not problems(target, body), f"{target.dashboard} / {target.panel}: {problems(target, body)}"


def test_a_panel_naming_an_unknown_column_fails(api: tuple[str, str]) -> None:
    """The check above is not vacuous: a column the API does not send, a root selector that selects nothing and a
    time layout that does not fit are each found, on the real answer."""
    real = TARGETS[0]
    body = fetch(api, real.url)
    assert not problems(real, body)
    unknown = ApiTarget(real.dashboard, real.panel, real.ref, real.url, real.root_selector,
                        (*real.columns, ("no_such_field", "number", None)), real.target)
    assert any("'no_such_field'" in p for p in problems(unknown, body))
    wrong_time = ApiTarget(real.dashboard, real.panel, real.ref, real.url, real.root_selector,
                           tuple((s, k, "2006-01-02T15:04" if k == "timestamp" else f) for s, k, f in real.columns),
                           real.target)
    assert any("does not parse" in p for p in problems(wrong_time, body))
    with pytest.raises(AssertionError, match="no field"):
        problems(ApiTarget(real.dashboard, real.panel, real.ref, real.url, "rows", real.columns, real.target), body)


def test_the_viewer_token_is_what_the_data_source_needs(api: tuple[str, str]) -> None:
    """Without the token the API refuses (so the test above really used the viewer's)."""
    base, _ = api
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(base + TARGETS[0].url, timeout=30)
    assert refused.value.code == 401


def test_the_provisioned_data_source_is_the_one_the_targets_name() -> None:
    import yaml

    from tests.grafana.grafana_json import DATASOURCES

    doc = yaml.safe_load(Path(DATASOURCES).read_text(encoding="utf-8"))
    (api_ds,) = [d for d in doc["datasources"] if d["uid"] == "ftthnoc-api"]
    for t in TARGETS:
        assert t.target["datasource"] == {"type": api_ds["type"], "uid": "ftthnoc-api"}
        assert t.target["type"] == "json" and t.target["source"] == "url" and t.target["parser"] in ("backend", "")
