"""``ftthnoc telework report --month YYYY-MM`` and ``ftthnoc telework import --source lgwan|attendance FILE``.

``report``: each working day's telework figure and the month's, from the source the month uses
(``ftthnoc.telework.sources``: attendance, then the LGWAN log, then VPN users, then VPN sessions; or
``--source``). ``import``: an LGWAN telework usage CSV or an attendance CSV, all or nothing (every bad row
named by its line number, nothing written), replacing that source's figures for the days the file covers.

Kept apart from ``app.cli`` so that the main CLI only has to ``add_command(telework)``. Reads the
figures the running poller stored in the inventory database (``--database-url`` or
``FTTHNOC_DATABASE_URL``); each day carries the headcount and target it was computed with, so no
configuration is needed here. Failures are one line and exit 1.
"""

from __future__ import annotations

import csv
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from app.cli.common import engine_for, fail, resolve_url
from ftthnoc.config import load_config, validate_section
from ftthnoc.errors import ConfigError
from ftthnoc.inventory import db
from ftthnoc.telework.calendar import TeleworkConfig, jst_date
from ftthnoc.telework.kpi import DayFigure, MonthFigure, load_month
from ftthnoc.telework.sources import (
    PREFERENCE,
    TITLES,
    ImportRejected,
    ImportSummary,
    SourceMonth,
    month_figure,
    parse_attendance,
    parse_lgwan,
    store_import,
)

_MONTH = re.compile(r"^\s*(\d{4})-(\d{2})\s*$")
#: The target a month with no stored day falls back to (the configuration's default).
DEFAULT_TARGET: float = TeleworkConfig.model_fields["target_reduction"].default
CSV_COLUMNS: tuple[str, ...] = (
    "period",
    "date",
    "working_seconds",
    "covered_seconds",
    "coverage",
    "mean_sessions",
    "remote_share",
    "office_reduction",
    "target_reduction",
    "target_attainment",
    "staff",
    "final",
    "days_with_figure",
)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")





def parse_month(value: str) -> tuple[int, int]:
    """``2026-10`` → (2026, 10); anything else is a ValueError naming the expected form."""
    m = _MONTH.match(value)
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"--month must be YYYY-MM, e.g. 2026-10 (got {value!r})")
    return int(m.group(1)), int(m.group(2))


@click.group("telework")
def telework() -> None:
    """The telework KPI: share of staff working remotely, against the plan's office attendance target."""


@telework.command("report")
@click.option("--month", "month_text", required=True, metavar="YYYY-MM", help="Calendar month in JST, e.g. 2026-10.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: one row per working day, then one for the month.")
@click.option("--source", type=click.Choice(PREFERENCE), default=None,
              help="The figures of this source (default: the first with figures that month, in this order).")
@click.option(
    "--database-url",
    default=None,
    metavar="URL",
    help="SQLAlchemy URL (default: FTTHNOC_DATABASE_URL or sqlite:///var/ftthnoc.db).",
)
def report_cmd(month_text: str, as_csv: bool, source: str | None, database_url: str | None) -> None:
    """Each working day's remote share, office reduction and target attainment, and the month's."""
    try:
        year, month = parse_month(month_text)
    except ValueError as exc:
        fail(str(exc))
    with engine_for(resolve_url(database_url)) as engine, db.session(engine) as session:
        chosen = month_figure(session, year, month, DEFAULT_TARGET, source)  # type: ignore[arg-type]
        figure = load_month(session, year, month, DEFAULT_TARGET) if chosen.source == "vpn_sessions" else None
    if figure is not None:  # the VPN session mean: its own report, as before
        if as_csv:
            write_csv(figure)
        else:
            if figure.days:
                click.echo(f"source: vpn_sessions ({TITLES['vpn_sessions']})")
            click.echo(render_text(figure))
    elif as_csv:
        write_people_csv(chosen)
    else:
        click.echo(render_people(chosen))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _hm(seconds: int) -> str:
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}"


def _note(day: DayFigure) -> str:
    notes = []
    if not day.final:
        notes.append("so far")
    if day.remote_share is None:
        notes.append("no figure: no samples" if day.covered_seconds == 0 else "no figure: coverage too low")
    return ", ".join(notes)


def render_text(figure: MonthFigure) -> str:
    """The report as a table (times as h:mm, shares as percentages) and one summary line."""
    label = f"{figure.year:04d}-{figure.month:02d}"
    if not figure.days:
        return f"no telework figures for {label}"
    staff = figure.days[-1].staff
    lines = [f"telework {label} (JST working hours; staff {staff}, target {_pct(figure.target_reduction)})"]
    table = [("date", "day", "working", "covered", "coverage", "sessions", "remote", "reduction", "attainment",
              "note")]  # fmt: skip
    for d in figure.days:
        table.append((
            d.day.isoformat(), _WEEKDAYS[d.day.weekday()], _hm(d.working_seconds), _hm(d.covered_seconds),
            _pct(d.coverage), "-" if d.mean_sessions is None else f"{d.mean_sessions:.2f}", _pct(d.remote_share),
            _pct(d.office_reduction), "-" if d.target_attainment is None else f"{d.target_attainment:.2f}", _note(d),
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    finished = sum(1 for d in figure.days if d.final)
    attainment = "-" if figure.target_attainment is None else f"{figure.target_attainment:.2f}"
    lines.append(
        f"month {label}: {figure.days_with_figure} of {finished} finished working days with a figure; "
        f"remote share {_pct(figure.remote_share)}, office reduction {_pct(figure.office_reduction)}, "
        f"target {_pct(figure.target_reduction)}, attainment {attainment}"
    )
    return "\n".join(lines)


PEOPLE_CSV_COLUMNS: tuple[str, ...] = (
    "period", "date", "source", "teleworkers", "staff_days", "in_office", "on_leave", "remote_share",
    "office_reduction", "target_reduction", "target_attainment", "final", "days_with_figure",
)  # fmt: skip


def render_people(figure: SourceMonth) -> str:
    """A month of a source that counts people: each working day's staff-days and the month's sums."""
    if not figure.days:
        return f"no telework figures for {figure.label} from {figure.source}"
    lines = [f"telework {figure.label} from {figure.source} ({TITLES[figure.source]}; "
             f"target {_pct(figure.target_reduction)})"]
    table = [("date", "day", "teleworkers", "staff-days", "in office", "leave", "remote", "reduction", "attainment",
              "note")]  # fmt: skip
    for d in figure.days:
        table.append((
            d.day.isoformat(), _WEEKDAYS[d.day.weekday()], str(d.teleworkers), str(d.staff),
            "-" if d.in_office is None else str(d.in_office), "-" if d.on_leave is None else str(d.on_leave),
            _pct(d.remote_share), _pct(d.office_reduction),
            "-" if d.target_attainment is None else f"{d.target_attainment:.2f}", "" if d.final else "so far",
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    attainment = "-" if figure.target_attainment is None else f"{figure.target_attainment:.2f}"
    lines.append(
        f"month {figure.label}: {figure.days_with_figure} finished working days; {figure.teleworkers} telework "
        f"staff-days of {figure.staff_days}: remote share {_pct(figure.remote_share)}, office reduction "
        f"{_pct(figure.office_reduction)}, target {_pct(figure.target_reduction)}, attainment {attainment}"
    )
    return "\n".join(lines)


def write_people_csv(figure: SourceMonth) -> None:
    """Day rows, then the month (staff-day sums); ratios as fractions."""
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(PEOPLE_CSV_COLUMNS)
    for d in figure.days:
        out.writerow((
            "day", d.day.isoformat(), d.source, d.teleworkers, d.staff, "" if d.in_office is None else d.in_office,
            "" if d.on_leave is None else d.on_leave, _num(d.remote_share), _num(d.office_reduction),
            _num(d.target_reduction), _num(d.target_attainment), "yes" if d.final else "no", "",
        ))  # fmt: skip
    out.writerow((
        "month", figure.label, figure.source, figure.teleworkers, figure.staff_days, "", "",
        _num(figure.remote_share), _num(figure.office_reduction), _num(figure.target_reduction),
        _num(figure.target_attainment), "", figure.days_with_figure,
    ))  # fmt: skip


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def write_csv(figure: MonthFigure) -> None:
    """Day rows (``period=day``), then the month (``period=month``); ratios as fractions, not percent.

    The month row averages the final days only (``days_with_figure`` of them), as the gauge does.
    """
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(CSV_COLUMNS)
    for d in figure.days:
        out.writerow((
            "day", d.day.isoformat(), d.working_seconds, d.covered_seconds, _num(d.coverage), _num(d.mean_sessions),
            _num(d.remote_share), _num(d.office_reduction), _num(d.target_reduction), _num(d.target_attainment),
            d.staff, "yes" if d.final else "no", "",
        ))  # fmt: skip
    out.writerow((
        "month", f"{figure.year:04d}-{figure.month:02d}", "", "", "", "", _num(figure.remote_share),
        _num(figure.office_reduction), _num(figure.target_reduction), _num(figure.target_attainment),
        figure.days[-1].staff if figure.days else "", "", figure.days_with_figure,
    ))  # fmt: skip


#: ``--source`` of ``import``: the file's kind, and the source its figures are stored as.
IMPORT_SOURCES = {"lgwan": "lgwan_csv", "attendance": "attendance"}


def import_config(config_path: Path | None, staff: int | None) -> TeleworkConfig:
    """The ``telework:`` section of ``--config`` (calendar, headcount, baseline, target), ``--staff`` over it."""
    raw: dict[str, Any] = {}
    if config_path is not None:
        section = load_config(config_path).telework
        if section is None:
            raise ConfigError(f"configuration {config_path} has no telework: section")
        raw.update(section)
    if staff is not None:
        raw["staff"] = staff
    if "staff" not in raw:
        raw["staff"] = 1  # attendance does not need the headcount; lgwan is refused below without one
    return validate_section("telework", TeleworkConfig, raw)  # type: ignore[no-any-return]


@telework.command("import")
@click.option("--source", "kind", type=click.Choice(sorted(IMPORT_SOURCES)), required=True,
              help="lgwan: the LGWAN telework system's logins; attendance: attendance records.")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--staff", type=click.IntRange(min=1), default=None,
              help="Headcount (lgwan: the staff-days of each working day); default: the configuration's.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML configuration whose telework: section gives the calendar, headcount, baseline, target.")
@click.option("--dry-run", is_flag=True, help="Check the file and print what would be stored; write nothing.")
@click.option("--database-url", default=None, metavar="URL",
              help="SQLAlchemy URL (default: FTTHNOC_DATABASE_URL or sqlite:///var/ftthnoc.db).")
def import_cmd(kind: str, path: Path, staff: int | None, config_path: Path | None, dry_run: bool,
               database_url: str | None) -> None:
    """Import FILE: all or nothing; a bad row is named by its line number and nothing is written.

    \b
    lgwan       CSV with a header: date,user_id,start,end  (YYYY-MM-DD, any id, HH:MM JST, HH:MM JST)
    attendance  CSV with a header: date,staff_id,status    (YYYY-MM-DD, any id, in_office|telework|leave)
    """
    try:
        config = import_config(config_path, staff)
    except ConfigError as exc:
        fail(str(exc))
    if kind == "lgwan" and staff is None and config_path is None:
        fail("telework import --source lgwan needs the headcount: --staff N or --config FILE with telework.staff")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text")
    now = datetime.now(UTC)
    parse = parse_lgwan if kind == "lgwan" else parse_attendance
    try:
        summary = parse(text, config, final_before=jst_date(now))
    except ImportRejected as exc:
        for problem in exc.problems:
            click.echo(f"ftthnoc: {path.name}: {problem}", err=True)
        fail(f"{path.name}: {exc}")
    if not dry_run:
        with engine_for(resolve_url(database_url)) as engine, db.session(engine) as session:
            store_import(session, summary, now)
            session.commit()
    click.echo(describe_import(summary, dry_run=dry_run))


def describe_import(summary: ImportSummary, *, dry_run: bool = False) -> str:
    """One line: what was (or would be) stored."""
    verb = "would store" if dry_run else "stored"
    if not summary.days:
        return (f"{summary.source}: {summary.rows} rows, no working day in them ({summary.ignored_rows} ignored); "
                "nothing stored")
    teleworkers = sum(d.teleworkers or 0 for d in summary.days)
    staff_days = sum(d.staff for d in summary.days)
    return (f"{summary.source}: {summary.rows} rows ({summary.ignored_rows} outside working days or hours); {verb} "
            f"{len(summary.days)} working days {summary.first} to {summary.last}: {teleworkers} telework "
            f"staff-days of {staff_days}")
