"""Two shards' incident engines on one database (SQLite, and PostgreSQL with its advisory lock): a power cut
in a district served by OLTs of both shards is one incident row that both add their homes to and the last
one to see its homes back closes; a shard takes up only its own OLTs' open incidents after a restart."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from ftthnoc.incidents.engine import IncidentConfig, IncidentEngine
from ftthnoc.incidents.households import InventoryHouseholds
from ftthnoc.incidents.models import Incident
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document

from .conftest import T0, down, household, network_document, up


def shard_engine(engine: Engine, olt: str) -> IncidentEngine:
    factory = db.session_factory(engine)
    return IncidentEngine(factory, IncidentConfig(), InventoryHouseholds.from_sessions(factory),
                          owned_olts=frozenset({olt}))


def test_a_power_cut_over_two_shards_is_one_incident(engine: Engine) -> None:
    doc = network_document()
    moved = {household("olt-b", "1/1/1", i) for i in range(6)}  # Oasa's port 1/1/1 now serves Chiyoda homes
    for h in doc["households"]:
        if h["code"] in moved:
            h["district"] = "chiyoda"
    with db.session_scope(engine) as s:
        import_document(s, doc)
    a, b = shard_engine(engine, "olt-a"), shard_engine(engine, "olt-b")
    gasps_a = [down(T0 + timedelta(seconds=10 * i), "olt-a", "0/1/0", i, "dying_gasp") for i in range(6)]
    gasps_b = [down(T0 + timedelta(seconds=5 + 10 * i), "olt-b", "1/1/1", i, "dying_gasp") for i in range(6)]
    assert [c.change for c in b.observe_many(gasps_b)] == ["opened"]  # b first: its start is the later one
    assert [c.change for c in a.observe_many(gasps_a)] == ["opened"]  # a's view; the row is b's

    def power_rows() -> list[Incident]:
        with db.session(engine) as s:
            return list(s.scalars(select(Incident).where(Incident.kind == "power_outage")))

    [row] = power_rows()
    assert (row.status, row.district, row.affected_count, row.onu_count) == ("open", "chiyoda", 12, 12)
    assert row.started_at.replace(tzinfo=None) == T0.replace(tzinfo=None)  # the earliest shard's start

    # a shard restarted takes up its own part only; the other shard's homes stay the other's
    a = shard_engine(engine, "olt-a")
    [mine] = a.open_incidents()
    assert {k[0] for k in mine.onus} == {"olt-a"}

    later = T0 + timedelta(hours=1)
    assert [c.change for c in a.observe_many(up(later, "olt-a", "0/1/0", i) for i in range(6))] == ["closed"]
    [row] = power_rows()
    assert row.status == "open" and row.ended_at is None  # olt-b's homes are still dark
    b.observe_many(up(later + timedelta(minutes=5), "olt-b", "1/1/1", i) for i in range(6))
    [row] = power_rows()
    assert row.status == "closed" and row.onu_count == 12
    assert row.duration_seconds == int(timedelta(hours=1, minutes=5).total_seconds())


def test_a_shard_takes_up_only_its_own_olts_incidents(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        import_document(s, network_document())
    b = shard_engine(engine, "olt-b")
    cut = [down(T0 + timedelta(seconds=i), "olt-b", "1/1/1", i) for i in range(6)]
    assert [c.change for c in b.observe_many(cut)] == ["opened"]
    assert shard_engine(engine, "olt-a").open_incidents() == []
    assert [i.olt for i in shard_engine(engine, "olt-b").open_incidents()] == ["olt-b"]
