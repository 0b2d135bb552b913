"""The correlator on synthetic timelines: time comes from the events, so hours pass in milliseconds.

Every test runs on SQLite and, with FTTHNOC_TEST_POSTGRES_URL, on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ftthnoc.incidents.engine import IncidentConfig, IncidentEngine
from ftthnoc.incidents.households import InventoryHouseholds
from ftthnoc.incidents.models import Incident, IncidentHousehold
from ftthnoc.inventory import db
from ftthnoc.samples import MetricFamily

from .conftest import T0, MakeIncidentEngine, down, household, up


def rows(engine: Engine) -> list[Incident]:
    with db.session(engine) as session:
        found = list(session.scalars(select(Incident).order_by(Incident.id)))
        for inc in found:
            inc.households  # noqa: B018 - load before the session closes
        return found


def codes(inc: Incident) -> set[str]:
    return {h.household for h in inc.households if h.household}


def sample(families: list[MetricFamily], name: str, **labels: str) -> float:
    fam = next(f for f in families if f.name == name)
    return next(s.value for s in fam.samples if dict(s.labels) == labels)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


# ----------------------------------------------------------------------------------- feeder cuts
def test_feeder_cut_is_one_incident_with_the_ports_households(make_engine: MakeIncidentEngine, network: Engine) -> None:
    eng = make_engine()
    changes = []
    for i, onu in enumerate(range(6)):  # 6 of the 8 ONUs on 0/1/0, within 50 s
        changes += eng.observe(down(T0 + s(10 * i), "olt-a", "0/1/0", onu))
    assert [c.change for c in changes] == ["opened", "grown", "grown"]
    opened = changes[0]
    assert (opened.kind, opened.olt, opened.pon_port, opened.district) == ("feeder_cut", "olt-a", "0/1/0", "chiyoda")
    assert opened.at == T0 + s(30) and opened.affected_count == 4 and opened.incident_id is not None
    assert set(opened.households) == {household("olt-a", "0/1/0", n) for n in range(4)}
    [inc] = rows(network)
    assert inc.id == opened.incident_id
    assert (inc.kind, inc.status, inc.cause, inc.olt, inc.pon_port) == ("feeder_cut", "open", "los", "olt-a", "0/1/0")
    assert inc.affected_count == inc.onu_count == 6
    assert codes(inc) == {household("olt-a", "0/1/0", n) for n in range(6)}
    assert db_time(inc.started_at) == T0 and inc.ended_at is None and not inc.reportable
    [snap] = eng.open_incidents()
    assert len(snap.down) == 6 and snap.id == inc.id


def db_time(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def test_three_onus_down_is_below_the_threshold(make_engine: MakeIncidentEngine, network: Engine) -> None:
    eng = make_engine()
    for onu in range(3):
        assert eng.observe(down(T0, "olt-a", "0/1/0", onu)) == []
    assert rows(network) == [] and eng.open_incidents() == []
    fams = eng.families()
    assert sample(fams, "ftthnoc_onu_down_events_total", cause="los", district="chiyoda") == 3
    assert sample(fams, "ftthnoc_incidents_open", kind="feeder_cut", district="chiyoda") == 0


def test_a_small_port_needs_four_onus_even_when_all_are_down(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine()
    assert eng.observe_many([down(T0, "olt-a", "0/1/2", n) for n in range(3)]) == []  # 3 of 3: 100 %, too few


def test_four_of_eleven_is_below_half_of_the_port(make_engine: MakeIncidentEngine) -> None:
    """0/1/1 knows 11 ONUs (10 homes and a spare): 4 or 5 in LOS is a coincidence, 6 is a cut."""
    eng = make_engine()
    assert eng.observe_many([down(T0, "olt-a", "0/1/1", n) for n in range(5)]) == []
    [change] = eng.observe(down(T0 + s(20), "olt-a", "0/1/1", 5))
    assert change.change == "opened" and change.onu_count == 6


def test_losses_spread_over_more_than_the_window_are_no_cut(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine()
    for i in range(6):  # one every 30 s: never 4 within 60 s
        assert eng.observe(down(T0 + s(30 * i), "olt-a", "0/1/0", i)) == []


def test_single_los_is_the_households_own_ticket(make_engine: MakeIncidentEngine, network: Engine) -> None:
    eng = make_engine()
    assert eng.observe(down(T0, "olt-b", "1/1/1", 3)) == []
    assert eng.observe(up(T0 + s(600), "olt-b", "1/1/1", 3)) == []
    assert rows(network) == []
    assert sample(eng.families(), "ftthnoc_onu_down_events_total", cause="los", district="oasa") == 1


def test_late_onus_join_the_open_incident(make_engine: MakeIncidentEngine, network: Engine) -> None:
    eng = make_engine()
    eng.observe_many([down(T0, "olt-a", "0/1/0", n) for n in range(5)])
    [grown] = eng.observe(down(T0 + s(900), "olt-a", "0/1/0", 7))  # 15 minutes later, outside the window
    assert grown.change == "grown" and grown.households == (household("olt-a", "0/1/0", 7),)
    assert grown.affected_count == 6
    [inc] = rows(network)
    assert inc.affected_count == 6


def test_other_ports_and_causes_do_not_join(make_engine: MakeIncidentEngine, network: Engine) -> None:
    eng = make_engine()
    eng.observe_many([down(T0, "olt-a", "0/1/0", n) for n in range(5)])
    assert eng.observe(down(T0 + s(5), "olt-a", "0/1/1", 0)) == []  # LOS on another port
    assert eng.observe(down(T0 + s(5), "olt-a", "0/1/0", 6, "dying_gasp")) == []  # a home without power
    assert len(rows(network)) == 1


def test_a_trap_and_the_next_poll_count_once(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine()
    for n in range(3):
        eng.observe(down(T0, "olt-a", "0/1/0", n))
        eng.observe(down(T0 + s(30), "olt-a", "0/1/0", n, via="poll"))
    assert eng.open_incidents() == []
    assert sample(eng.families(), "ftthnoc_onu_down_events_total", cause="los", district="chiyoda") == 3


# ----------------------------------------------------------------------------------- power cuts
def power_events(at: datetime, n: int) -> list[Any]:
    """``n`` dying gasps in Oasa over two ports, one every 40 s."""
    ports = [("1/1/1", i) for i in range(6)] + [("1/1/2", i) for i in range(6)]
    return [down(at + s(40 * k), "olt-b", port, onu, "dying_gasp") for k, (port, onu) in enumerate(ports[:n])]


def test_power_cut_in_a_district_is_one_incident(make_engine: MakeIncidentEngine, network: Engine) -> None:
    eng = make_engine()
    changes = eng.observe_many(power_events(T0, 8))
    assert [c.change for c in changes] == ["opened"]
    assert (changes[0].kind, changes[0].district, changes[0].olt, changes[0].pon_port) == (
        "power_outage", "oasa", None, None)  # fmt: skip
    [inc] = rows(network)
    assert (inc.kind, inc.cause, inc.affected_count, db_time(inc.started_at)) == ("power_outage", "dying_gasp", 8, T0)
    # LOS in the same district is a different fault; a gasp in Toyohira a different district
    assert eng.observe(down(T0 + s(400), "olt-b", "1/1/2", 5)) == []
    assert eng.observe(down(T0 + s(400), "olt-b", "1/1/3", 0, "dying_gasp")) == []
    fams = eng.families()
    assert sample(fams, "ftthnoc_incidents_open", kind="power_outage", district="oasa") == 1
    assert sample(fams, "ftthnoc_incident_affected_households", kind="power_outage", district="oasa") == 8
    assert sample(fams, "ftthnoc_incidents_total", kind="power_outage") == 1


def test_four_gasps_or_gasps_spread_over_hours_are_no_power_cut(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine()
    assert eng.observe_many(power_events(T0, 4)) == []
    later = [down(T0 + timedelta(hours=h), "olt-b", "1/1/2", h, "dying_gasp") for h in range(1, 6)]
    assert eng.observe_many(later) == []


def test_the_district_is_the_households_not_the_olts(make_engine: MakeIncidentEngine) -> None:
    """olt-b stands in Oasa but port 1/1/3 serves Toyohira homes."""
    eng = make_engine(power_min_onus=4)
    [c] = eng.observe_many([down(T0, "olt-b", "1/1/3", n, "dying_gasp") for n in range(4)])
    assert c.district == "toyohira"


# ----------------------------------------------------------------------------------- closing
def test_both_close_when_their_onus_return(make_engine: MakeIncidentEngine, network: Engine) -> None:
    eng = make_engine()
    eng.observe_many([down(T0, "olt-a", "0/1/0", n) for n in range(5)] + power_events(T0, 6))
    assert len(eng.open_incidents()) == 2
    back = T0 + timedelta(minutes=45)
    assert eng.observe_many([up(back, "olt-a", "0/1/0", n) for n in range(4)]) == []  # partly back: no change yet
    assert len(eng.open_incidents()) == 2  # one ONU of the cut still dark
    [closed] = [c for c in eng.observe(up(back + s(60), "olt-a", "0/1/0", 4)) if c.change == "closed"]
    assert closed.kind == "feeder_cut"
    closing = eng.observe_many([up(back + s(120), "olt-b", p, n) for p, n in (("1/1/1", i) for i in range(6))])
    assert [c.change for c in closing if c.change == "closed"] == ["closed"]
    assert eng.open_incidents() == []
    feeder, power = rows(network)
    assert (feeder.status, power.status) == ("closed", "closed")
    assert feeder.duration_seconds == 46 * 60 and db_time(feeder.ended_at) == back + s(60)  # type: ignore[arg-type]
    assert power.duration_seconds == 47 * 60 and not feeder.reportable and not power.reportable
    with db.session(network) as session:
        stmt = select(IncidentHousehold.returned_at).where(IncidentHousehold.incident_id == feeder.id)
        assert all(r is not None for r in session.scalars(stmt))
    fams = eng.families()
    assert sample(fams, "ftthnoc_incidents_open", kind="feeder_cut", district="chiyoda") == 0
    assert sample(fams, "ftthnoc_incidents_total", kind="feeder_cut") == 1


def test_close_share_is_configurable(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine(close_share=0.8)
    eng.observe_many([down(T0, "olt-a", "0/1/0", n) for n in range(5)])
    changes = eng.observe_many([up(T0 + s(600), "olt-a", "0/1/0", n) for n in range(4)])
    assert "closed" in [c.change for c in changes]


def test_an_onu_down_again_reopens_its_membership(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine()
    eng.observe_many([down(T0, "olt-a", "0/1/0", n) for n in range(4)])
    eng.observe_many([up(T0 + s(60), "olt-a", "0/1/0", n) for n in range(3)])
    eng.observe(down(T0 + s(90), "olt-a", "0/1/0", 0))  # flaps back into the cut
    assert [c.change for c in eng.observe(up(T0 + s(120), "olt-a", "0/1/0", 3))] == []
    assert [c.change for c in eng.observe(up(T0 + s(150), "olt-a", "0/1/0", 0))] == ["closed"]


@pytest.mark.parametrize(("minutes", "reportable"), [(120, True), (119, False), (119.99, False), (240, True)])
def test_two_hours_is_reportable(make_engine: MakeIncidentEngine, network: Engine, minutes: float,
                                 reportable: bool) -> None:  # fmt: skip
    eng = make_engine()
    eng.observe_many([down(T0, "olt-a", "0/1/0", n) for n in range(4)])
    end = T0 + timedelta(minutes=minutes)
    changes = eng.observe_many([up(end, "olt-a", "0/1/0", n) for n in range(4)])
    assert [c.change for c in changes] == (["reportable", "closed"] if reportable else ["closed"])
    [inc] = rows(network)
    assert inc.reportable is reportable
    assert inc.duration_seconds == int(minutes * 60)


def test_an_open_incident_becomes_reportable_at_two_hours(make_engine: MakeIncidentEngine, network: Engine) -> None:
    eng = make_engine()
    eng.observe_many([down(T0, "olt-a", "0/1/0", n) for n in range(4)])
    assert eng.tick(T0 + timedelta(minutes=119)) == []
    [flag] = eng.tick(T0 + timedelta(hours=2))
    assert flag.change == "reportable"
    [inc] = rows(network)
    assert inc.status == "open" and inc.reportable


# ----------------------------------------------------------------------------------- restart
def test_a_restart_keeps_open_incidents_open_and_closes_them_later(
    make_engine: MakeIncidentEngine, network: Engine
) -> None:
    first = make_engine()
    first.observe_many([down(T0, "olt-a", "0/1/0", n) for n in range(5)] + power_events(T0, 5))
    first.observe_many([up(T0 + s(300), "olt-a", "0/1/0", 0)])  # one came back before the restart
    del first
    second = make_engine()
    open_now = {i.kind: i for i in second.open_incidents()}
    assert set(open_now) == {"feeder_cut", "power_outage"}
    assert len(open_now["feeder_cut"].down) == 4 and open_now["feeder_cut"].affected_count == 5
    assert sample(second.families(), "ftthnoc_incidents_total", kind="feeder_cut") == 1
    # a late ONU still joins the loaded incident rather than opening a new one
    assert [c.change for c in second.observe(down(T0 + s(900), "olt-a", "0/1/0", 6))] == ["grown"]
    end = T0 + timedelta(hours=3)
    changes = second.observe_many(
        [up(end, "olt-a", "0/1/0", n) for n in (1, 2, 3, 4, 6)] + [up(end, "olt-b", "1/1/1", n) for n in range(5)]
    )
    assert sorted(c.kind for c in changes if c.change == "closed") == ["feeder_cut", "power_outage"]
    feeder, power = rows(network)
    assert feeder.status == power.status == "closed" and feeder.reportable
    assert not power.reportable  # a power cut at the homes is not the operator's failure (reporting.verdict)
    assert feeder.affected_count == 6 and feeder.duration_seconds == 3 * 3600
    assert make_engine().open_incidents() == []


def test_a_restart_during_a_burst_forgets_only_the_unfinished_burst(make_engine: MakeIncidentEngine) -> None:
    make_engine().observe_many([down(T0, "olt-a", "0/1/0", n) for n in range(3)])
    later = make_engine()
    assert later.observe(down(T0 + s(10), "olt-a", "0/1/0", 3)) == []  # three of four were before the restart


# ----------------------------------------------------------------------------------- the database
def test_a_failed_write_is_kept_and_retried(network: Engine) -> None:
    real = db.session_factory(network)
    failing = {"on": False}

    def flaky() -> Session:
        session = real()
        if failing["on"]:
            def boom(*_a: Any, **_k: Any) -> None:
                raise OperationalError("INSERT", {}, Exception("database is locked"))

            session.flush = boom  # type: ignore[method-assign]
        return session

    eng = IncidentEngine(flaky, IncidentConfig(), InventoryHouseholds.from_sessions(real))
    failing["on"] = True
    [opened] = eng.observe_many([down(T0, "olt-a", "0/1/0", n) for n in range(4)])
    assert opened.change == "opened" and opened.incident_id is None
    assert rows(network) == [] and len(eng.open_incidents()) == 1
    failing["on"] = False
    [grown] = eng.observe(down(T0 + s(10), "olt-a", "0/1/0", 4))
    assert grown.incident_id is not None
    [inc] = rows(network)
    assert inc.affected_count == 5 and len(inc.households) == 5


def test_household_rows_hold_codes_only(make_engine: MakeIncidentEngine, network: Engine) -> None:
    make_engine().observe_many([down(T0, "olt-a", "0/1/1", n) for n in (0, 1, 2, 3, 4, 10)])
    [inc] = rows(network)
    assert inc.onu_count == 6 and inc.affected_count == 5  # the spare ONU has no household
    assert {h.household for h in inc.households} == {household("olt-a", "0/1/1", n) for n in range(5)} | {None}
    columns = set(IncidentHousehold.__table__.columns.keys())
    assert not columns & {"name", "address", "phone", "contact"}


def test_events_without_an_onu_or_other_kinds_are_ignored(make_engine: MakeIncidentEngine) -> None:
    from ftthnoc.events import DeviceEvent

    eng = make_engine()
    assert eng.observe(DeviceEvent(T0, "olt-a", "link_down", if_index=4194304000)) == []
    assert eng.observe(DeviceEvent(T0, "olt-a", "onu_down", olt="olt-a", pon_port="0/1/0")) == []
    assert eng.families()  # still well-formed


def test_naive_times_are_utc(make_engine: MakeIncidentEngine, network: Engine) -> None:
    eng = make_engine()
    naive = T0.replace(tzinfo=None)
    eng.observe_many([down(naive, "olt-a", "0/1/0", n) for n in range(4)])
    [inc] = rows(network)
    assert db_time(inc.started_at) == T0


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        IncidentConfig(feeder_min_share=1.5)
    with pytest.raises(ValueError):
        IncidentConfig(close_share=0)
    with pytest.raises(ValueError):
        IncidentConfig(unknown=1)  # type: ignore[call-arg]


def count(network: Engine) -> int:
    with network.connect() as conn:
        return conn.execute(select(func.count()).select_from(Incident.__table__)).scalar_one()


def test_observe_poll_diffs_and_reconciles(make_engine: MakeIncidentEngine, network: Engine) -> None:
    def fams(state: Callable[[int], tuple[int, str]]) -> list[MetricFamily]:
        up_f, cause_f = MetricFamily("ftth_onu_up", ""), MetricFamily("ftth_onu_last_down_cause", "", "info")
        for n in range(8):
            value, label = state(n)
            lab = {"olt": "olt-a", "pon_port": "0/1/0", "onu_id": str(n)}
            up_f.add(lab, value)
            cause_f.add({**lab, "cause": label}, 1)
        return [up_f, cause_f]

    eng = make_engine()
    assert eng.observe_readings("olt-a", fams(lambda n: (1, "dying_gasp")), T0) == []  # baseline
    cut = eng.observe_readings("olt-a", fams(lambda n: (0, "losi_lobi") if n < 5 else (1, "dying_gasp")), T0 + s(300))
    assert [(c.change, c.onu_count) for c in cut] == [("opened", 5)]
    assert eng.observe_readings("olt-a", [], T0 + s(600)) == []  # a failed poll changes nothing
    # a restarted engine sees the ONUs back in its first (baseline) poll and still closes the incident
    again = make_engine()
    [closed] = again.observe_readings("olt-a", fams(lambda n: (1, "losi_lobi")), T0 + s(900))
    assert closed.change == "closed" and count(network) == 1
