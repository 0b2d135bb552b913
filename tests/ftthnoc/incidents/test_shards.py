"""Two shards' incident engines on one database (SQLite, and PostgreSQL with its advisory lock): a power cut
in a district served by OLTs of both shards is one incident row that both add their homes to and the last
one to see its homes back closes; a shard takes up only its own OLTs' open incidents after a restart; the
dying gasps are counted over both shards (3 + 3 is a power cut, 2 + 2 is none), from events and from the
polls' state."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from ftthnoc.incidents.engine import IncidentConfig, IncidentEngine
from ftthnoc.incidents.households import InventoryHouseholds
from ftthnoc.incidents.models import Incident, IncidentHousehold, ShardGasp
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document

from .conftest import T0, down, household, network_document, up
from .test_level import gasps, poll


def shard_engine(engine: Engine, olt: str) -> IncidentEngine:
    factory = db.session_factory(engine)
    return IncidentEngine(factory, IncidentConfig(), InventoryHouseholds.from_sessions(factory),
                          owned_olts=frozenset({olt}), shard=f"{'ab'.index(olt[-1])}/2")


def chiyoda_on_both(engine: Engine) -> None:
    """The network, with olt-b's port 1/1/1 serving Chiyoda homes: a Chiyoda power cut spans both shards."""
    doc = network_document()
    moved = {household("olt-b", "1/1/1", i) for i in range(6)}
    for h in doc["households"]:
        if h["code"] in moved:
            h["district"] = "chiyoda"
    with db.session_scope(engine) as s:
        import_document(s, doc)


def power_rows(engine: Engine) -> list[Incident]:
    with db.session(engine) as s:
        return list(s.scalars(select(Incident).where(Incident.kind == "power_outage")))


def shared_gasps(engine: Engine) -> set[tuple[str, str, str, str]]:
    with db.session(engine) as s:
        return {(g.olt, g.pon_port, g.onu_id, g.district) for g in s.scalars(select(ShardGasp))}


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


def test_three_gasps_on_each_of_two_shards_are_one_power_cut(engine: Engine) -> None:
    chiyoda_on_both(engine)
    a, b = shard_engine(engine, "olt-a"), shard_engine(engine, "olt-b")
    assert a.observe_many(down(T0 + timedelta(seconds=i), "olt-a", "0/1/0", i, "dying_gasp") for i in range(3)) == []
    assert power_rows(engine) == []
    assert shared_gasps(engine) == {("olt-a", "0/1/0", str(i), "chiyoda") for i in range(3)}
    later = T0 + timedelta(seconds=60)
    got = b.observe_many(down(later + timedelta(seconds=i), "olt-b", "1/1/1", i, "dying_gasp") for i in range(3))
    assert [(c.change, c.district, c.onu_count) for c in got] == [("opened", "chiyoda", 3)]  # b counts a's three
    [row] = power_rows(engine)
    assert row.started_at.replace(tzinfo=None) == later.replace(tzinfo=None)  # a has not written its part yet
    # a learns it at its next poll (here: a tick) and writes its homes into the same row
    assert [c.change for c in a.tick(later + timedelta(seconds=30))] == ["opened"]
    [row] = power_rows(engine)
    assert (row.status, row.affected_count, row.onu_count) == ("open", 6, 6)
    assert row.started_at.replace(tzinfo=None) == T0.replace(tzinfo=None)  # the earliest gasp, a's
    with db.session(engine) as s:
        members = {(h.olt, h.onu_id) for h in s.scalars(select(IncidentHousehold))}
    assert members == {(o, str(i)) for o in ("olt-a", "olt-b") for i in range(3)}

    back = T0 + timedelta(hours=1)
    a.observe_many(up(back, "olt-a", "0/1/0", i) for i in range(3))
    assert power_rows(engine)[0].status == "open"  # b's homes are still dark
    assert [c.change for c in b.observe_many(up(back, "olt-b", "1/1/1", i) for i in range(3))] == ["closed"]
    [row] = power_rows(engine)
    assert row.status == "closed" and row.onu_count == 6
    assert shared_gasps(engine) == set()  # homes with power again are no gasps


def test_four_gasps_over_two_shards_or_spread_over_time_are_no_power_cut(engine: Engine) -> None:
    chiyoda_on_both(engine)
    a, b = shard_engine(engine, "olt-a"), shard_engine(engine, "olt-b")
    assert a.observe_many(down(T0 + timedelta(seconds=i), "olt-a", "0/1/0", i, "dying_gasp") for i in range(2)) == []
    assert b.observe_many(down(T0 + timedelta(seconds=i), "olt-b", "1/1/1", i, "dying_gasp") for i in range(2)) == []
    assert a.tick(T0 + timedelta(seconds=30)) == [] and b.tick(T0 + timedelta(seconds=30)) == []
    assert len(shared_gasps(engine)) == 4 and power_rows(engine) == []
    # a fifth gasp an hour later is no burst with them: still nothing
    late = T0 + timedelta(hours=1)
    assert b.observe(down(late, "olt-b", "1/1/1", 5, "dying_gasp")) == []
    assert a.tick(late) == [] and power_rows(engine) == []
    # gasps in another district do not count toward Chiyoda's
    assert b.observe_many(down(late + timedelta(seconds=i), "olt-b", "1/1/3", i, "dying_gasp") for i in range(3)) == []
    assert a.tick(late) == [] and power_rows(engine) == []


def test_the_polls_state_counts_across_shards_and_a_restart_clears_a_shards_gasps(engine: Engine) -> None:
    chiyoda_on_both(engine)
    a, b = shard_engine(engine, "olt-a"), shard_engine(engine, "olt-b")
    at = T0 + timedelta(minutes=5)
    assert a.observe_readings("olt-a", poll("olt-a", {}), T0) == []
    assert b.observe_readings("olt-b", poll("olt-b", {}), T0) == []
    # the OLTs' own times date the gasps (Huawei's last-down time): 3 + 3 within the window
    assert a.observe_readings("olt-a", poll("olt-a", gasps("0/1/1", range(3), at)), at) == []
    got = b.observe_readings("olt-b", poll("olt-b", gasps("1/1/1", range(3), at)), at + timedelta(seconds=20))
    assert [c.change for c in got] == ["opened"]
    a.observe_readings("olt-a", poll("olt-a", gasps("0/1/1", range(3), at)), at + timedelta(seconds=40))
    [row] = power_rows(engine)
    assert (row.district, row.onu_count) == ("chiyoda", 6)

    # a restarted shard clears its OLTs' rows and writes them again from its next poll
    a = shard_engine(engine, "olt-a")
    assert {g[0] for g in shared_gasps(engine)} == {"olt-b"}
    a.observe_readings("olt-a", poll("olt-a", gasps("0/1/1", range(3), at)), at + timedelta(minutes=1))
    assert {g[0] for g in shared_gasps(engine)} == {"olt-a", "olt-b"}
    assert len(power_rows(engine)) == 1


def test_without_shards_the_gasps_stay_in_the_process(engine: Engine) -> None:
    chiyoda_on_both(engine)
    factory = db.session_factory(engine)
    one = IncidentEngine(factory, IncidentConfig(), InventoryHouseholds.from_sessions(factory))
    assert one.observe_many(down(T0 + timedelta(seconds=i), "olt-a", "0/1/0", i, "dying_gasp") for i in range(4)) == []
    assert shared_gasps(engine) == set() and power_rows(engine) == []
    assert [c.change for c in one.observe(down(T0 + timedelta(seconds=9), "olt-b", "1/1/1", 0, "dying_gasp"))] == [
        "opened"]
