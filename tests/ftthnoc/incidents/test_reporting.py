"""The ministry's rule (``ftthnoc.incidents.reporting``) case by case, in the engine, and the quarterly export
of a test quarter against a hand-written file (``tests/fixtures/incidents/2026Q3.csv``)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.cli.incidents import incidents
from ftthnoc.incidents.export import export_quarter, quarter_due
from ftthnoc.incidents.models import CAUSE_OF_KIND, Incident, IncidentHousehold
from ftthnoc.incidents.reporting import Verdict, due_date, verdict
from ftthnoc.inventory import db

from .conftest import T0, MakeIncidentEngine, down, up
from .test_level import los, poll

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "incidents" / "2026Q3.csv"
H = 3600.0


# ----------------------------------------------------------------------------------- the rule
@pytest.mark.parametrize(
    ("cause", "scope", "seconds", "users", "expected"),
    [
        ("los", "pon_port", 5 * H, 2, Verdict(True, "duration")),  # 2 homes, 5 h: reportable
        ("los", "pon_port", 2 * H, 4, Verdict(True, "duration")),  # exactly 2 h counts
        ("los", "pon_port", 2 * H - 1, 4, Verdict(False, "below_thresholds")),
        ("unreachable", "olt", 600, 30_000, Verdict(True, "users")),  # 30,000 users: at once
        ("unreachable", "olt", 600, 29_999, Verdict(False, "below_thresholds")),
        ("dying_gasp", "district", 8 * H, 400, Verdict(False, "power_cut_at_homes")),  # the homes' own power
        ("dying_gasp", "district", 60, 40_000, Verdict(False, "power_cut_at_homes")),
        ("los", "premises", 24 * H, 1, Verdict(False, "premises")),  # one customer's premises: exempt
        ("service", "service", 24 * H, 0, Verdict(False, "not_telecommunications")),  # the town's web portal
        ("board", "board", 2 * H, 40, Verdict(True, "duration")),
        ("uplink", "olt", 600, 30_000, Verdict(True, "users")),
    ],
)
def test_the_rule(cause: str, scope: str, seconds: float, users: int, expected: Verdict) -> None:
    assert verdict(cause=cause, scope=scope, duration_seconds=seconds, users_affected=users) == expected


@pytest.mark.parametrize(
    ("quarter", "due"),
    [("2026Q1", date(2026, 5, 31)), ("2026Q2", date(2026, 8, 31)), ("2026Q3", date(2026, 11, 30)),
     ("2026Q4", date(2027, 2, 28)), ("2027Q4", date(2028, 2, 29))],
)
def test_the_report_is_due_two_months_after_the_quarter(quarter: str, due: date) -> None:
    assert quarter_due(quarter) == due


def test_due_date_of_a_day() -> None:
    assert due_date(date(2026, 10, 1)) == date(2026, 11, 30)


# ----------------------------------------------------------------------------------- the engine applies it
def test_the_engine_never_flags_a_power_cut_at_the_homes(make_engine: MakeIncidentEngine, network: Engine) -> None:
    eng = make_engine()
    eng.observe_many([down(T0, "olt-b", "1/1/1", n, "dying_gasp") for n in range(5)])
    changes = eng.observe_many([up(T0 + timedelta(hours=3), "olt-b", "1/1/1", n) for n in range(5)])
    assert [c.change for c in changes] == ["closed"]
    with db.session(network) as session:
        [inc] = session.scalars(select(Incident))
        assert (inc.kind, inc.duration_seconds, inc.reportable) == ("power_outage", 3 * 3600, False)


def test_the_engine_flags_a_two_home_fault_of_five_hours(make_engine: MakeIncidentEngine, network: Engine) -> None:
    """The 2-hour rule does not depend on the count: with thresholds that open an incident for 2 homes
    (port 0/1/2 has 3), a 5-hour fault of 2 homes is reportable."""
    eng = make_engine(feeder_min_onus=2)
    eng.observe_many([down(T0, "olt-a", "0/1/2", n) for n in range(2)])
    changes = eng.observe_many([up(T0 + timedelta(hours=5), "olt-a", "0/1/2", n) for n in range(2)])
    assert [c.change for c in changes] == ["reportable", "closed"]
    assert changes[0].affected_count == 2


def test_the_start_is_the_devices_own_time(make_engine: MakeIncidentEngine, network: Engine) -> None:
    """A fault the OLT dates 5 hours back, first seen by this poll: it started then, and is reportable now."""
    eng = make_engine(feeder_min_onus=2)
    went = T0 - timedelta(hours=5)
    changes = eng.observe_readings("olt-a", poll("olt-a", los("0/1/2", [0, 1], went)), T0)
    assert [c.change for c in changes] == ["opened", "reportable"]
    with db.session(network) as session:
        [inc] = session.scalars(select(Incident))
        started = inc.started_at if inc.started_at.tzinfo else inc.started_at.replace(tzinfo=UTC)
        assert (started, inc.reportable, inc.affected_count) == (went, True, 2)


def test_the_engine_flags_the_user_threshold_at_once(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine(reportable_users=4)  # the town cannot reach 30,000: the threshold is configuration
    changes = eng.observe_many([down(T0, "olt-a", "0/1/0", n) for n in range(4)])
    assert [c.change for c in changes] == ["opened", "reportable"]


# ----------------------------------------------------------------------------------- the quarterly export
def _add(session: Session, id_: int, kind: str, district: str, olt: str | None, port: str | None,
         started: datetime, seconds: int | None, users: int) -> None:  # fmt: skip
    ended = None if seconds is None else started + timedelta(seconds=seconds)
    inc = Incident(id=id_, kind=kind, status="open" if ended is None else "closed", district=district, olt=olt,
                   pon_port=port, started_at=started, ended_at=ended, duration_seconds=seconds,
                   affected_count=users, onu_count=users, reportable=False, cause=CAUSE_OF_KIND[kind])  # type: ignore[index]  # fmt: skip
    for n in range(min(users, 3)):  # a few member rows: their codes must never reach the CSV
        inc.households.append(IncidentHousehold(olt=olt or "olt-a", pon_port=port or "0/1/0", onu_id=str(n),
                                                household=f"HH-{id_}{n:03d}", joined_at=started))  # fmt: skip
    session.add(inc)


@pytest.fixture
def q3(network: Engine) -> Engine:
    """2026Q3's incidents as the hand-written file expects them, and one on each side of the quarter."""
    u = UTC
    with db.session_scope(network) as s:
        _add(s, 101, "feeder_cut", "chiyoda", "olt-a", "0/1/0", datetime(2026, 6, 30, 14, 59, tzinfo=u), 3 * 3600, 4)
        _add(s, 102, "line_fault", "chiyoda", "olt-a", "0/1/2", datetime(2026, 7, 3, 22, 15, tzinfo=u), 5 * 3600, 2)
        _add(s, 103, "power_outage", "oasa", None, None, datetime(2026, 7, 20, 1, 0, tzinfo=u), 3 * 3600, 40)
        _add(s, 104, "olt_unreachable", "oasa", "olt-b", None, datetime(2026, 7, 31, 18, 0, tzinfo=u), 1800, 500)
        _add(s, 105, "feeder_cut", "chiyoda", "olt-a", "0/1/0", datetime(2026, 8, 10, 1, 0, tzinfo=u), 7199, 4)
        _add(s, 106, "olt_unreachable", "toyohira", "olt-c", None, datetime(2026, 9, 1, 0, 0, tzinfo=u), 600, 30_000)
        _add(s, 107, "feeder_cut", "oasa", "olt-b", "1/1/1", datetime(2026, 9, 30, 11, 0, tzinfo=u), None, 6)
        _add(s, 108, "feeder_cut", "oasa", "olt-b", "1/1/2", datetime(2026, 9, 30, 15, 0, tzinfo=u), 9000, 6)
    return network


def test_the_quarterly_export_matches_the_hand_written_file(q3: Engine) -> None:
    out = io.StringIO()
    now = datetime(2026, 9, 30, 15, 30, tzinfo=UTC)  # the open cut (107) is 4 h 30 min old
    with db.session(q3) as session:
        assert export_quarter(session, "2026Q3", out, now=now) == 6
    assert out.getvalue() == FIXTURE.read_text(encoding="utf-8")
    assert "HH-" not in out.getvalue()


def test_the_cli_writes_the_file_and_says_when_it_is_due(q3: Engine, tmp_path: Path) -> None:
    target = tmp_path / "2026Q3.csv"
    url = q3.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(incidents, ["export", "--quarter", "2026Q3", "-o", str(target), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == FIXTURE.read_text(encoding="utf-8")
    assert "exported 6 incident(s) of 2026Q3" in result.output
    assert "due by 2026-11-30" in result.output and "第7条の3" in result.output
