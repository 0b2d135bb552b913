"""The quarterly CSV (JST calendar quarters) and the ``ftthnoc incidents`` commands."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from app.cli.incidents import incidents
from ftthnoc.incidents.export import CAUSE_JA, COLUMNS, export_quarter, incident_row, quarter_bounds, quarter_of
from ftthnoc.incidents.models import CAUSE_OF_KIND, Incident, IncidentHousehold
from ftthnoc.inventory import db

from .conftest import T0, MakeIncidentEngine, down, up


def test_quarter_bounds_are_jst_calendar_quarters() -> None:
    start, end = quarter_bounds("2026Q3")
    assert start == datetime(2026, 6, 30, 15, 0, tzinfo=UTC)  # 1 July 00:00 JST
    assert end == datetime(2026, 9, 30, 15, 0, tzinfo=UTC)  # 1 October 00:00 JST
    assert quarter_bounds("2026q4") == (datetime(2026, 9, 30, 15, tzinfo=UTC), datetime(2026, 12, 31, 15, tzinfo=UTC))
    assert quarter_bounds("2027Q1")[0] == datetime(2026, 12, 31, 15, tzinfo=UTC)
    assert quarter_of(datetime(2026, 6, 30, 15, 0, tzinfo=UTC)) == "2026Q3"
    assert quarter_of(datetime(2026, 6, 30, 14, 59, 59, tzinfo=UTC)) == "2026Q2"
    for bad in ("2026Q5", "2026", "Q3 2026", ""):
        with pytest.raises(ValueError, match="not a quarter"):
            quarter_bounds(bad)


def add(engine: Engine, started: datetime, minutes: float | None, kind: str = "feeder_cut",
        households: int = 3) -> int:  # fmt: skip
    """An incident row as the engine writes it (closed after ``minutes``, or open)."""
    ended = None if minutes is None else started + timedelta(minutes=minutes)
    with db.session_scope(engine) as session:
        inc = Incident(
            kind=kind, status="open" if ended is None else "closed", district="chiyoda",
            olt="olt-a" if kind == "feeder_cut" else None, pon_port="0/1/0" if kind == "feeder_cut" else None,
            started_at=started, ended_at=ended,
            duration_seconds=None if ended is None else int((ended - started).total_seconds()),
            affected_count=households, onu_count=households, reportable=minutes is not None and minutes >= 120,
            cause="los" if kind == "feeder_cut" else "dying_gasp",
        )  # fmt: skip
        for n in range(households):
            inc.households.append(IncidentHousehold(olt="olt-a", pon_port="0/1/0", onu_id=str(n),
                                                    household=f"HH-0000{n:02d}", joined_at=started))  # fmt: skip
        session.add(inc)
        session.flush()
        return inc.id


@pytest.fixture
def quarter(network: Engine) -> dict[str, int]:
    """Incidents on both sides of 2026Q3's JST borders."""
    return {
        "q2_last_minute": add(network, datetime(2026, 6, 30, 14, 59, tzinfo=UTC), 30),
        "q3_first_second": add(network, datetime(2026, 6, 30, 15, 0, tzinfo=UTC), 120, "power_outage"),
        "q3_mid": add(network, datetime(2026, 8, 10, 1, 0, tzinfo=UTC), 119.99),
        "q3_open": add(network, datetime(2026, 9, 30, 14, 59, 59, tzinfo=UTC), None),
        "q4_first_second": add(network, datetime(2026, 9, 30, 15, 0, tzinfo=UTC), 200),
    }


def read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_holds_exactly_the_quarters_incidents(network: Engine, quarter: dict[str, int]) -> None:
    out = io.StringIO()
    with db.session(network) as session:
        assert export_quarter(session, "2026Q3", out) == 3
    text = out.getvalue()
    assert text.splitlines()[0] == ",".join(COLUMNS)
    got = read(text)
    assert [int(r["id"]) for r in got] == [quarter["q3_first_second"], quarter["q3_mid"], quarter["q3_open"]]
    first, mid, still_open = got
    assert first == {
        "id": str(quarter["q3_first_second"]), "kind": "power_outage", "district": "chiyoda", "olt": "",
        "pon_port": "", "started_at_jst": "2026-07-01T00:00:00+09:00", "started_at_utc": "2026-06-30T15:00:00+00:00",
        "ended_at_jst": "2026-07-01T02:00:00+09:00", "ended_at_utc": "2026-06-30T17:00:00+00:00",
        "duration_minutes": "120", "affected_households": "3", "cause": "dying_gasp",
        "cause_ja": "利用者宅の停電（事業者設備の故障ではない）", "equipment": "", "reportable": "false",
        "reportable_reason": "power_cut_at_homes",
    }  # fmt: skip
    assert (mid["duration_minutes"], mid["reportable"], mid["kind"], mid["pon_port"]) == ("119", "false",
                                                                                        "feeder_cut", "0/1/0")
    assert (mid["equipment"], mid["reportable_reason"]) == ("OLT olt-a PON 0/1/0", "below_thresholds")
    assert (still_open["ended_at_jst"], still_open["duration_minutes"]) == ("", "")
    assert still_open["started_at_jst"] == "2026-09-30T23:59:59+09:00"
    assert "HH-" not in text  # households are counted, never listed


def test_engine_timeline_to_csv(make_engine: MakeIncidentEngine, network: Engine) -> None:
    """A 2-hour outage and a 119-minute one replayed through the engine end up in the CSV as such."""
    eng = make_engine()
    eng.observe_many([down(T0, "olt-a", "0/1/0", n) for n in range(4)])
    eng.observe_many([up(T0 + timedelta(hours=2), "olt-a", "0/1/0", n) for n in range(4)])
    later = T0 + timedelta(days=1)
    eng.observe_many([down(later, "olt-b", "1/1/1", n, "dying_gasp") for n in range(5)])
    eng.observe_many([up(later + timedelta(minutes=119), "olt-b", "1/1/1", n) for n in range(5)])
    out = io.StringIO()
    with db.session(network) as session:
        export_quarter(session, "2026Q3", out)
    got = [(r["kind"], r["duration_minutes"], r["affected_households"], r["reportable"]) for r in read(out.getvalue())]
    assert got == [("feeder_cut", "120", "4", "true"), ("power_outage", "119", "5", "false")]


def test_cli_export_and_list(network: Engine, quarter: dict[str, int], tmp_path: Path) -> None:
    url = network.url.render_as_string(hide_password=False)
    runner = CliRunner()
    target = tmp_path / "q3.csv"
    result = runner.invoke(incidents, ["export", "--quarter", "2026Q3", "--output", str(target), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "exported 3 incident(s) of 2026Q3" in result.output
    assert "due by 2026-11-30" in result.output
    assert len(read(target.read_text(encoding="utf-8"))) == 3
    stdout = runner.invoke(incidents, ["export", "--quarter", "2026Q4", "--database-url", url])
    assert stdout.exit_code == 0 and [int(r["id"]) for r in read(stdout.stdout)] == [quarter["q4_first_second"]]
    assert "due by 2027-02-28" in stdout.stderr  # the CSV stays clean on standard output

    listed = runner.invoke(incidents, ["list", "--database-url", url])
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].split()[:3] == ["id", "kind", "status"] and len(lines) == 6
    assert lines[1].split()[0] == str(quarter["q4_first_second"])  # newest first
    only_open = runner.invoke(incidents, ["list", "--open", "--database-url", url])
    assert only_open.exit_code == 0
    [row] = only_open.output.splitlines()[1:]
    assert row.split()[:3] == [str(quarter["q3_open"]), "feeder_cut", "open"]
    assert "2026-09-30 23:59" in row


def test_cli_errors_are_one_line(tmp_path: Path, network: Engine) -> None:
    runner = CliRunner()
    url = network.url.render_as_string(hide_password=False)
    bad = runner.invoke(incidents, ["export", "--quarter", "2026Q9", "--database-url", url])
    assert bad.exit_code == 1 and "not a quarter" in bad.output
    unmigrated = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(incidents, ["list", "--database-url", unmigrated])
    assert result.exit_code == 1 and "inventory migrate" in result.output
    empty = f"sqlite:///{tmp_path / 'fresh.db'}"
    db.upgrade(empty)
    assert runner.invoke(incidents, ["list", "--open", "--database-url", empty]).output.strip() == "no open incidents"


@pytest.mark.parametrize(
    ("kind", "olt", "port", "cause", "equipment", "reason"),
    [
        ("board_down", "olt-a", "0/1", "board", "OLT olt-a board 0/1", "duration"),
        ("pon_port_down", "olt-a", "0/1/1", "pon_port", "OLT olt-a PON 0/1/1", "duration"),
        ("uplink_down", "olt-b", None, "uplink", "OLT olt-b uplink", "duration"),
        ("rogue_onu", "olt-a", "0/1/0", "rogue_onu", "OLT olt-a PON 0/1/0", "duration"),
        ("service_down", "e-application", None, "service", "service e-application", "not_telecommunications"),
    ],
)
def test_the_new_kinds_in_the_export(kind: str, olt: str, port: str | None, cause: str, equipment: str,
                                     reason: str) -> None:  # fmt: skip
    """Each kind names its cause in the report's words and the equipment at fault; a town service's outage
    is not the telecommunications service the ministry counts."""
    assert CAUSE_OF_KIND[kind] == cause  # type: ignore[index]
    inc = Incident(id=1, kind=kind, status="closed", district="chiyoda", olt=olt, pon_port=port, started_at=T0,
                   ended_at=T0 + timedelta(hours=3), duration_seconds=3 * 3600, affected_count=40, onu_count=40,
                   reportable=False, cause=cause)  # fmt: skip
    row = incident_row(inc, now=T0 + timedelta(hours=4))
    assert (row["cause"], row["equipment"], row["reportable_reason"]) == (cause, equipment, reason)
    assert row["cause_ja"] == CAUSE_JA[cause] and row["cause_ja"] != cause
