"""``line_fault`` (``incidents: {line_fault_min_onus: 2}``): a few homes of one PON port dark together, below
the feeder-cut thresholds, become an incident once the feeder window has passed, so that the ministry's
2-hour rule, which does not depend on the number of users, reaches them in the quarterly export."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from ftthnoc.incidents.export import export_quarter
from ftthnoc.incidents.models import Incident
from ftthnoc.inventory import db

from .conftest import T0, MakeIncidentEngine, down, household, up
from .test_level import los, poll

S = timedelta(seconds=1)
H = timedelta(hours=1)


def stored(engine: Engine) -> list[tuple[str, str, str | None, datetime, int, bool]]:
    with db.session(engine) as session:
        rows = session.scalars(select(Incident).order_by(Incident.id))
        return [(i.kind, i.status, i.pon_port, utc(i.started_at), i.affected_count, i.reportable) for i in rows]


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_two_homes_dark_together_for_five_hours_are_a_reportable_incident(
    make_engine: MakeIncidentEngine, network: Engine
) -> None:
    eng = make_engine(line_fault_min_onus=2)
    # 2 of the 11 ONUs of 0/1/1, ten seconds apart: no feeder cut, and not yet a group (it may still grow)
    assert eng.observe_many([down(T0, "olt-a", "0/1/1", 3), down(T0 + 10 * S, "olt-a", "0/1/1", 4)]) == []
    [opened] = eng.tick(T0 + 5 * 60 * S)  # the window has passed, both still dark
    assert (opened.change, opened.kind, opened.pon_port, opened.at) == ("opened", "line_fault", "0/1/1", T0 + 10 * S)
    assert set(opened.households) == {household("olt-a", "0/1/1", 3), household("olt-a", "0/1/1", 4)}
    assert [c.change for c in eng.tick(T0 + 2 * H)] == ["reportable"]
    closing = eng.observe_many([up(T0 + 5 * H, "olt-a", "0/1/1", n) for n in (3, 4)])
    assert [c.change for c in closing] == ["closed"]
    assert stored(network) == [("line_fault", "closed", "0/1/1", T0, 2, True)]
    out = io.StringIO()
    with db.session(network) as session:
        export_quarter(session, "2026Q3", out)
    [row] = out.getvalue().splitlines()[1:]
    assert ",line_fault,chiyoda,olt-a,0/1/1," in row and ",300,2,los," in row
    assert row.endswith(",OLT olt-a PON 0/1/1,true,duration")


def test_a_short_flap_a_single_home_and_the_default_open_nothing(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine(line_fault_min_onus=2)
    eng.observe_many([down(T0, "olt-a", "0/1/1", 3), down(T0 + 5 * S, "olt-a", "0/1/1", 4)])
    eng.observe_many([up(T0 + 30 * S, "olt-a", "0/1/1", n) for n in (3, 4)])  # back within the window
    eng.observe(down(T0 + H, "olt-a", "0/1/1", 5))  # one home: its own ticket
    assert eng.tick(T0 + 2 * H) == [] and eng.open_incidents() == []
    default = make_engine()  # off unless configured
    default.observe_many([down(T0 + 3 * H, "olt-a", "0/1/2", n) for n in (0, 1)])
    assert default.tick(T0 + 4 * H) == [] and default.open_incidents() == []


def test_a_burst_big_enough_is_still_a_feeder_cut(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine(line_fault_min_onus=2)
    changes = eng.observe_many([down(T0 + n * S, "olt-a", "0/1/0", n) for n in range(4)])  # 4 of 8
    assert [(c.change, c.kind) for c in changes] == [("opened", "feeder_cut")]
    assert eng.tick(T0 + H) == []


def test_two_homes_dark_since_the_olts_own_time_at_the_first_poll(
    make_engine: MakeIncidentEngine, network: Engine
) -> None:
    eng = make_engine(line_fault_min_onus=2)
    went = T0 - 5 * H
    changes = eng.observe_readings("olt-a", poll("olt-a", los("0/1/1", [3, 4], went)), T0)
    assert [(c.change, c.kind) for c in changes] == [("opened", "line_fault"), ("reportable", "line_fault")]
    assert stored(network) == [("line_fault", "open", "0/1/1", went, 2, True)]
    # a ZTE OLT gives no time: homes dark at the first poll since unknown times are no group
    assert eng.observe_readings("olt-b", poll("olt-b", los("1/1/1", [0, 1])), T0) == []
    # a restart reloads the open line fault and closes it when the homes are back
    again = make_engine(line_fault_min_onus=2)
    assert [i.kind for i in again.open_incidents()] == ["line_fault"]
    again.observe_readings("olt-a", poll("olt-a", los("0/1/1", [3, 4], went)), T0 + H)
    [closed] = again.observe_readings("olt-a", poll("olt-a", {}), T0 + 2 * H)
    assert (closed.change, closed.kind) == ("closed", "line_fault")
