"""``ftthnoc incidents ...``: list incidents and export a quarter's CSV for the MIC report.

Kept apart from ``app.cli`` so that the main CLI only has to ``add_command(incidents)``. Reads the
inventory database (``--database-url`` or ``FTTHNOC_DATABASE_URL``); failures are one line and exit 1.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import select

from app.cli.common import database_option, engine_for, fail, resolve_url
from ftthnoc.incidents.export import export_quarter, quarter_bounds, quarter_due
from ftthnoc.incidents.models import Incident
from ftthnoc.inventory import db
from ftthnoc.timezone import JST, as_utc


@click.group("incidents")
def incidents() -> None:
    """Correlated outages (feeder cuts, power cuts) and the quarterly report export."""


def _jst(value: datetime | None) -> str:
    return "-" if value is None else as_utc(value).astimezone(JST).strftime("%Y-%m-%d %H:%M")


@incidents.command("list")
@click.option("--open", "only_open", is_flag=True, help="Only incidents still open.")
@database_option
def list_cmd(only_open: bool, database_url: str | None) -> None:
    """One line per incident, newest first (times in JST; household codes are counted, not shown)."""
    with engine_for(resolve_url(database_url)) as engine, db.session(engine) as session:
        stmt = select(Incident).order_by(Incident.started_at.desc(), Incident.id.desc())
        if only_open:
            stmt = stmt.where(Incident.status == "open")
        rows = list(session.scalars(stmt))
    if not rows:
        click.echo("no open incidents" if only_open else "no incidents")
        return
    header = ("id", "kind", "status", "district", "olt", "pon_port", "splitter", "cabinet", "started (JST)",
              "ended (JST)",
              "minutes", "households", "reportable")  # fmt: skip
    lines = [header] + [
        (
            str(r.id), r.kind, r.status, r.district, r.olt or "-", r.pon_port or "-", r.splitter or "-",
            r.cabinet or "-", _jst(r.started_at),
            _jst(r.ended_at), "-" if r.duration_seconds is None else str(r.duration_seconds // 60),
            str(r.affected_count), "yes" if r.reportable else "no",
        )
        for r in rows
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


@incidents.command("export")
@click.option("--quarter", required=True, help="JST calendar quarter, e.g. 2026Q3 (July to September).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV file to write (default: standard output).")  # fmt: skip
@database_option
def export_cmd(quarter: str, output: Path | None, database_url: str | None) -> None:
    """The incidents that started in QUARTER as CSV, with the ministry's ``reportable`` verdict and its reason,
    and the day the quarter's report to MIC is due (on standard error when the CSV goes to standard output)."""
    try:
        quarter_bounds(quarter)
    except ValueError as exc:
        fail(str(exc))
    name = quarter.strip().upper()
    due = (f"{name}: the quarterly report to MIC is due by {quarter_due(quarter).isoformat()} "
           "(within 2 months of the quarter's end, 電気通信事業報告規則 第7条の3)")  # fmt: skip
    with engine_for(resolve_url(database_url)) as engine, db.session(engine) as session:
        if output is None:
            export_quarter(session, quarter, sys.stdout)
            click.echo(due, err=True)
            return
        try:
            with open(output, "w", encoding="utf-8", newline="") as f:
                n = export_quarter(session, quarter, f)
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}")
    click.echo(f"exported {n} incident(s) of {name} to {output}")
    click.echo(due)
