"""``ftthnoc inventory ...``: migrate the schema, import and export the inventory.

Kept apart from ``app.cli`` so that the main CLI only has to ``add_command(inventory)``. Every
failure is one line per problem on stderr and exit status 1; nothing is written on failure.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from app.cli.common import database_option, engine_for, fail, resolve_url
from ftthnoc.errors import InventoryError
from ftthnoc.inventory import db
from ftthnoc.inventory.io import SECTIONS, InventoryImportError, export_path, import_path


def _actor(option: str | None) -> str:
    if option:
        return option
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"




_actor_option = click.option(
    "--actor", default=None, help="Name recorded in the audit log (default: the login name)."
)


@click.group("inventory")
def inventory() -> None:
    """The network inventory: schema migrations, import and export."""


@inventory.command("migrate")
@database_option
def migrate_cmd(database_url: str | None) -> None:
    """Create or upgrade the inventory schema to the newest migration."""
    url = resolve_url(database_url)
    try:
        db.upgrade(url)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"database error: {reason}")
    click.echo(f"inventory schema at {db.head_revision()}")


@inventory.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--section", type=click.Choice(SECTIONS), help="Section of a single CSV file (or of a YAML file)."
)
@database_option
@_actor_option
def import_cmd(path: Path, section: str | None, database_url: str | None, actor: str | None) -> None:
    """Upsert a YAML file, a SECTION.csv file or a directory of them; all rows or none."""
    with engine_for(resolve_url(database_url), current=False) as engine:
        try:
            db.require_current(engine)
            with db.session_scope(engine, actor=_actor(actor)) as session:
                result = import_path(session, path, section=section)
        except InventoryImportError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            fail(f"{len(exc.problems)} problem(s) in {path.name}; nothing was written")
        except InventoryError as exc:
            fail(str(exc))
    click.echo(result.summary())


@inventory.command("export")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "csv"]),
    default=None,
    help="Default: yaml for a .yaml/.yml path, else a directory of CSV files.",
)
@click.option("--with-personal", is_flag=True, help="Include household_contacts (audited).")
@database_option
@_actor_option
def export_cmd(
    path: Path, fmt: str | None, with_personal: bool, database_url: str | None, actor: str | None
) -> None:
    """Write the inventory in the import format, so that it can be edited and imported back."""
    with engine_for(resolve_url(database_url), current=False) as engine:
        try:
            db.require_current(engine)
            with db.session_scope(engine, actor=_actor(actor)) as session:
                used = export_path(session, path, fmt=fmt, with_personal=with_personal)
        except (InventoryError, OSError) as exc:
            fail(str(exc))
    personal = " including personal data" if with_personal else ""
    click.echo(f"exported {used} to {path}{personal}")
