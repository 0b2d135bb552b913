"""``ftthnoc telework report``: each working day's figure and the month's, as a table or CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from app.cli.telework import CSV_COLUMNS, parse_month, telework
from ftthnoc.telework.kpi import TeleworkKpi

from .conftest import MOSTLY_OUTAGE_DAY, Clock, MakeKpi, jst, synthetic_samples
from .test_kpi import MONTH, ORDINARY, PARTIAL


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(telework, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_report_prints_every_working_day_and_the_month(fed_month: TeleworkKpi, database_url: str) -> None:
    code, out, err = run("report", "--month", "2026-11", "--database-url", database_url)
    assert code == 0, err
    source, *lines = out.splitlines()
    assert source.startswith("source: vpn_sessions (VPN sessions: time-weighted mean")  # no source with people
    assert lines[0] == "telework 2026-11 (JST working hours; staff 100, target 30.0%)"
    assert lines[1].split() == ["date", "day", "working", "covered", "coverage", "sessions", "remote", "reduction",
                                "attainment", "note"]  # fmt: skip
    days = lines[2:-1]
    assert len(days) == 19
    assert days[0].split() == ["2026-11-02", "Mon", "8:45", "8:45", "100.0%", "26.40", "26.4%", "26.4%", "0.88"]
    assert not any(line.startswith(("2026-11-03", "2026-11-23", "2026-11-07")) for line in days)
    partial = next(line for line in days if line.startswith("2026-11-11"))
    assert partial.split()[2:7] == ["8:45", "6:55", "79.0%", f"{PARTIAL * 100:.2f}", f"{PARTIAL * 100:.1f}%"]
    mostly = next(line for line in days if line.startswith(MOSTLY_OUTAGE_DAY.isoformat()))
    assert mostly.split()[2:] == ["8:45", "3:15", "37.1%", "24.00", "-", "-", "-", "no", "figure:", "coverage", "too",
                                  "low"]  # fmt: skip
    half = next(line for line in days if line.startswith("2026-11-30"))
    assert half.split()[2:7] == ["3:30", "3:30", "100.0%", "30.00", "30.0%"]
    assert lines[-1] == (
        f"month 2026-11: 18 of 19 finished working days with a figure; remote share {MONTH * 100:.1f}%, "
        f"office reduction {MONTH * 100:.1f}%, target 30.0%, attainment {MONTH / 0.3:.2f}"
    )


def test_report_csv(fed_month: TeleworkKpi, database_url: str) -> None:
    code, out, err = run("report", "--month", "2026-11", "--csv", "--database-url", database_url)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    days, month = rows[:-1], rows[-1]
    assert len(days) == 19 and all(r["period"] == "day" and r["final"] == "yes" for r in days)
    first = days[0]
    assert first["date"] == "2026-11-02" and first["working_seconds"] == "31500"
    assert float(first["remote_share"]) == pytest.approx(ORDINARY)
    assert float(first["target_attainment"]) == pytest.approx(ORDINARY / 0.3, abs=1e-6)
    mostly = next(r for r in days if r["date"] == MOSTLY_OUTAGE_DAY.isoformat())
    assert mostly["covered_seconds"] == "11700" and mostly["remote_share"] == ""
    assert month["period"] == "month" and month["date"] == "2026-11" and month["days_with_figure"] == "18"
    assert float(month["remote_share"]) == pytest.approx(MONTH, abs=1e-6)
    assert float(month["target_reduction"]) == 0.3


def test_today_is_marked_so_far(make_kpi: MakeKpi, clock: Clock, database_url: str) -> None:
    kpi = make_kpi()
    thursday = date(2026, 11, 26)
    clock.now = jst(thursday, 12)
    kpi.observe_many(synthetic_samples(jst(thursday, 0), clock.now))
    code, out, _ = run("report", "--month", "2026-11", "--database-url", database_url)
    assert code == 0
    lines = out.splitlines()
    assert lines[-2].startswith("2026-11-26") and lines[-2].endswith("so far")
    # 2–25 November passed without a single sample: listed, without a figure, and not averaged.
    assert lines[0].startswith("source: vpn_sessions") and lines[3].endswith("no figure: no samples")
    assert lines[-1].startswith("month 2026-11: 0 of 16 finished working days with a figure; remote share -")


def test_a_month_without_figures(engine: Engine, database_url: str) -> None:
    code, out, _ = run("report", "--month", "2026-10", "--database-url", database_url)
    assert (code, out) == (0, "no telework figures for 2026-10\n")
    code, out, _ = run("report", "--month", "2026-10", "--csv", "--database-url", database_url)
    assert code == 0 and out.splitlines() == [",".join(CSV_COLUMNS), "month,2026-10,,,,,,,0.300000,,,,0"]


@pytest.mark.parametrize("bad", ["2026-13", "2026/10", "October", "26-10"])
def test_bad_month_is_one_line(bad: str, tmp_path: Path) -> None:
    code, out, err = run("report", "--month", bad, "--database-url", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 1 and out == ""
    assert err == f"ftthnoc: --month must be YYYY-MM, e.g. 2026-10 (got {bad!r})\n"
    with pytest.raises(ValueError):
        parse_month(bad)
    assert parse_month(" 2026-10 ") == (2026, 10)


def test_unmigrated_database_is_one_line(tmp_path: Path) -> None:
    code, _, err = run("report", "--month", "2026-10", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}")
    assert code == 1
    assert err == "ftthnoc: the database has no inventory schema; run `ftthnoc inventory migrate` first\n"
