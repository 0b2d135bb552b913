"""``ftthnoc telework report --month YYYY-MM``: each working day's telework figure and the month's.

Kept apart from ``app.cli`` so that the main CLI only has to ``add_command(telework)``. Reads the
figures the running poller stored in the inventory database (``--database-url`` or
``FTTHNOC_DATABASE_URL``); each day carries the headcount and target it was computed with, so no
configuration is needed here. Failures are one line and exit 1.
"""

from __future__ import annotations

import csv
import re
import sys

import click

from app.cli.common import engine_for, fail, resolve_url
from ftthnoc.inventory import db
from ftthnoc.telework.calendar import TeleworkConfig
from ftthnoc.telework.kpi import DayFigure, MonthFigure, load_month

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
@click.option(
    "--database-url",
    default=None,
    metavar="URL",
    help="SQLAlchemy URL (default: FTTHNOC_DATABASE_URL or sqlite:///var/ftthnoc.db).",
)
def report_cmd(month_text: str, as_csv: bool, database_url: str | None) -> None:
    """Each working day's remote share, office reduction and target attainment, and the month's mean."""
    try:
        year, month = parse_month(month_text)
    except ValueError as exc:
        fail(str(exc))
    with engine_for(resolve_url(database_url)) as engine, db.session(engine) as session:
        figure = load_month(session, year, month, DEFAULT_TARGET)
    if as_csv:
        write_csv(figure)
    else:
        click.echo(render_text(figure))


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
