"""The demo town's history (``simulator.history``): built the way ``ftthnoc demo`` builds its database
(``app.cli.demo.load_demo_inventory``: migrate, import the generated town, seed), then read back through the
API's service layer, so the KPI code itself computes each trend from the seeded tables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from api.security import Principal
from api.services import kpis
from app.cli.demo import load_demo_inventory
from ftthnoc.incidents.models import Incident
from ftthnoc.inventory import db
from ftthnoc.inventory.models import TabletAddress
from ftthnoc.kpi.models import AvailabilityMonth, HouseholdStatusChange
from ftthnoc.targets import FTTH_SUBSCRIBERS, TELEWORK_OFFICE_REDUCTION
from ftthnoc.telework.models import TeleworkSourceDay
from ftthnoc.timezone import JST
from simulator.history import seed_history, service_start
from simulator.town import generate_town

NOW = datetime.now(UTC)
THIS_MONTH = NOW.astimezone(JST).strftime("%Y-%m")
TODAY = NOW.astimezone(JST).date().isoformat()
ADMIN = Principal(name="t", role="admin")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    town = generate_town(onus=400, school_routers=True)
    path: Path = tmp_path_factory.mktemp("history") / "demo.db"
    engine = load_demo_inventory(f"sqlite:///{path}", town.inventory_document(), NOW)
    try:
        yield engine
    finally:
        engine.dispose()


def _counts(engine: Engine) -> tuple[int, ...]:
    with db.session_scope(engine) as s:
        return tuple(int(s.scalar(select(func.count()).select_from(t)) or 0)
                     for t in (HouseholdStatusChange, TabletAddress, TeleworkSourceDay, Incident, AvailabilityMonth))


def test_each_kpi_has_a_trend_ending_at_todays_figure(demo_db: Engine) -> None:
    with db.session_scope(demo_db) as s:
        data = kpis.overview(s, ADMIN, NOW, None)
    subs = data["subscriptions"]
    monthly = subs["monthly"]
    assert len(monthly) >= 12 and monthly[0]["month"] == service_start(NOW).strftime("%Y-%m")
    assert monthly[-1]["month"] == THIS_MONTH and monthly[-1]["active"] == subs["active"] > 0
    actives = [m["active"] for m in monthly]
    assert actives == sorted(actives) and actives[0] < subs["active"] / 10  # growing from a few
    assert monthly[-1]["target"] == subs["target"] == FTTH_SUBSCRIBERS
    # S-shaped: the middle third of the months adds more than either outer third
    third = len(actives) // 3
    gains = [actives[third] - actives[0], actives[2 * third] - actives[third], actives[-1] - actives[2 * third]]
    assert gains[1] > gains[0] and gains[1] > gains[2], gains

    days = data["tablets_daily"]
    assert len(days) >= 14 and days[-1]["day"] == TODAY
    assert days[-1]["tablets"] == data["tablets"]["town"]["tablets"] > 0
    assert all(0 < d["share"] <= 1 for d in days)
    assert data["tablets"]["town"]["share_24h"] > 0.8  # last_seen_at follows the syncs

    tele = data["telework_monthly"]
    assert len(tele) >= 12 and all(m["source"] == "attendance" for m in tele)
    assert tele[-1]["month"] == data["telework"]["month"] == THIS_MONTH
    assert tele[-1]["reduction"] == data["telework"]["reduction"] is not None
    assert tele[0]["reduction"] < tele[-1]["reduction"] and tele[-1]["target"] == TELEWORK_OFFICE_REDUCTION
    assert data["telework"]["source"] == "attendance"

    avail = data["availability"]
    last_month = (NOW.astimezone(JST).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert len(avail) >= 12 and avail[-1]["month"] == last_month  # this month is the recorder's
    assert all(0.99 < m["ratio"] < 1 for m in avail)
    with db.session_scope(demo_db) as s:
        closed = list(s.scalars(select(Incident).where(Incident.status == "closed")))
    assert len(closed) >= 4 and all(i.duration_seconds and i.ended_at for i in closed)
    assert {i.kind for i in closed} == {"feeder_cut", "power_outage", "olt_unreachable", "line_fault"}
    for inc in closed:  # each where its kind says: a PON port, an OLT, a district
        assert (inc.pon_port is not None) == (inc.kind in ("feeder_cut", "line_fault")), inc.kind
        assert (inc.olt is None) == (inc.kind == "power_outage"), inc.kind
    # a power cut at the homes is never reportable (the engine's rule); a 5-hour feeder cut is
    assert not any(i.reportable for i in closed if i.kind == "power_outage")
    assert all(i.reportable for i in closed if i.kind == "feeder_cut")
    worst = min(avail, key=lambda m: m["ratio"])["month"]
    assert worst in {_aware(i.started_at).astimezone(JST).strftime("%Y-%m") for i in closed}


def test_a_second_seeding_adds_nothing(demo_db: Engine) -> None:
    before = _counts(demo_db)
    assert all(before), before
    with db.session_scope(demo_db) as s:
        again = seed_history(s, NOW)
    assert (again.status_changes, again.tablet_syncs, again.telework_days, again.incidents,
            again.availability_months) == (0, 0, 0, 0, 0)
    assert _counts(demo_db) == before


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_the_seeding_is_deterministic(tmp_path: Path) -> None:
    town = generate_town(onus=120, school_routers=True)
    dumps = []
    for name in ("a", "b"):
        engine = load_demo_inventory(f"sqlite:///{tmp_path / name}.db", town.inventory_document(), NOW)
        with db.session_scope(engine) as s:
            seeded = sorted((h, _aware(at)) for h, at in s.execute(
                select(HouseholdStatusChange.household_id, HouseholdStatusChange.at)) if _aware(at) < NOW)
            months = sorted(s.execute(select(AvailabilityMonth.month, AvailabilityMonth.district,
                                             AvailabilityMonth.up_seconds)).all())
            dumps.append((seeded, months))
        engine.dispose()
    assert dumps[0][0] and dumps[0][1]
    assert dumps[0] == dumps[1]
