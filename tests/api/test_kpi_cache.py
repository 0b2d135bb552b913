"""The town's KPI figures are computed once per cache period, whoever asks, and a school's view of them
never changes what the next caller sees."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from api.app import create_app
from api.services.kpis import KpiCache
from ftthnoc.inventory import db
from ftthnoc.inventory.models import Household
from tests.api.conftest import Seeded, bearer, settings_for
from tests.waiting import wait_until


def _active(client: TestClient, token: str) -> tuple[int, str]:
    body = client.get("/api/kpis", headers=bearer(token)).json()
    return body["subscriptions"]["active"], body["generated_at"]


def _activate_one(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        h = s.scalar(select(Household).where(Household.status != "active", Household.status != "cancelled")
                     .order_by(Household.id).limit(1))
        assert h is not None
        h.status = "active"  # type: ignore[assignment]


def test_figures_are_reused_within_the_period_and_recomputed_after(engine: Engine, seeded: Seeded,
                                                                   tmp_path: Path) -> None:
    with TestClient(create_app(engine, settings=settings_for(tmp_path, api_kpi_cache_seconds=3600))) as client:
        first = _active(client, seeded.tokens["admin"])
        _activate_one(engine)
        assert _active(client, seeded.tokens["viewer"]) == first  # the same figures, the same time stamp
    with TestClient(create_app(engine, settings=settings_for(tmp_path, api_kpi_cache_seconds=0))) as client:
        fresh = _active(client, seeded.tokens["admin"])
        assert fresh[0] == first[0] + 1


def test_a_school_users_view_does_not_trim_the_cached_figures(engine: Engine, seeded: Seeded, tmp_path: Path) -> None:
    with TestClient(create_app(engine, settings=settings_for(tmp_path, api_kpi_cache_seconds=3600))) as client:
        everyone = client.get("/api/kpis", headers=bearer(seeded.tokens["admin"])).json()
        mine = client.get("/api/kpis", headers=bearer(seeded.tokens["school"])).json()
        again = client.get("/api/kpis", headers=bearer(seeded.tokens["admin"])).json()
    assert len(mine["school_bandwidth"]) == 1 < len(everyone["school_bandwidth"])
    assert again == everyone


def test_concurrent_callers_share_one_computation() -> None:
    import threading

    calls: list[float] = []
    arrived: list[int] = []

    def compute() -> dict[str, Any]:
        calls.append(time.monotonic())
        # the first caller computes until every other caller has come for the figures too
        wait_until(lambda: len(arrived) == 8, 10, "all eight callers")
        return {"n": len(calls)}

    def call() -> None:
        arrived.append(1)
        results.append(cache.get(compute))

    cache = KpiCache(ttl=60)
    results: list[dict[str, Any]] = []
    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results == [{"n": 1}] * 8
