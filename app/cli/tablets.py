"""``ftthnoc tablets import-mdm --kind google|intune|jamf FILE``: an MDM's device export as a source of
"seen" (``ftthnoc.inventory.mdm``): tablets matched by serial, their last sync recorded, the Wi-Fi MACs
the MDM reports learned. All lines are checked first; any bad line prints ``FILE line N: problem`` and
nothing is written. One audit entry per import, with counts only: no user name or address is read.

``ftthnoc tablets import-leases FILE``: the town ISP's address assignments to household lines (RADIUS
accounting or DHCP leases, ``ftthnoc.inventory.leases``), for the home-learning KPI; all or nothing too."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from sqlalchemy.orm import Session

from app.cli.common import database_option, engine_for, fail, resolve_url
from ftthnoc.errors import InventoryError
from ftthnoc.inventory import db, leases
from ftthnoc.inventory.mdm import MDM_KINDS, import_export
from ftthnoc.inventory.rows import InventoryImportError


def _actor(option: str | None) -> str:
    if option:
        return option
    try:
        return os.environ.get("FTTHNOC_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "cli"


class _Summary(Protocol):
    def summary(self) -> str: ...


def _apply(path: Path, database_url: str | None, actor: str | None, dry_run: bool,
           run: Callable[[Session, str], _Summary]) -> None:
    """One import in one transaction: committed whole, or (dry run, any bad line) rolled back whole, each
    bad line printed as ``FILE line N: problem``."""
    who = _actor(actor)
    with engine_for(resolve_url(database_url)) as engine:
        session = db.session_factory(engine)()
        session.info["actor"] = who
        try:
            result = run(session, who)
            if dry_run:
                session.rollback()
            else:
                session.commit()
        except InventoryImportError as exc:
            session.rollback()
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            fail(f"{len(exc.problems)} problem(s) in {path.name}; nothing was written")
        except InventoryError as exc:
            session.rollback()
            fail(str(exc))
        finally:
            session.close()
    click.echo(result.summary() + (" (dry run: nothing written)" if dry_run else ""))


@click.group("tablets")
def tablets() -> None:
    """GIGA-school tablets: sources of "seen" besides ARP."""


@tablets.command("import-mdm")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(MDM_KINDS), required=True,
              help="google: Admin console ChromeOS devices; intune: Intune devices; jamf: Jamf Pro mobile devices.")
@click.option("--timezone", "tz_name", default=None,
              help="Zone of times written without an offset (default: UTC for intune, Asia/Tokyo otherwise).")
@click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")
@database_option
@click.option("--actor", default=None, help="Who is acting, for the audit (default: FTTHNOC_ACTOR, else login).")
def import_mdm_cmd(path: Path, kind: str, tz_name: str | None, dry_run: bool, database_url: str | None,
                   actor: str | None) -> None:  # fmt: skip
    """Mark the inventory's tablets seen from an MDM export FILE (CSV with the console's header row)."""
    try:
        tz = ZoneInfo(tz_name) if tz_name else None
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"unknown time zone {tz_name!r} (e.g. Asia/Tokyo, UTC)")
    _apply(path, database_url, actor, dry_run,
           lambda session, who: import_export(session, kind, path, actor=who, naive_tz=tz))


@tablets.command("import-leases")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--timezone", "tz_name", default="Asia/Tokyo", show_default=True,
              help="Zone of times written without an offset (Kea's Unix seconds need none).")
@click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")
@database_option
@click.option("--actor", default=None, help="Who is acting, for the audit (default: FTTHNOC_ACTOR, else login).")
def import_leases_cmd(path: Path, tz_name: str, dry_run: bool, database_url: str | None, actor: str | None) -> None:
    """Import which household line held which IPv4 address when, from FILE: start,stop,ip,line (or a
    FreeRADIUS radacct export, or an ISC Kea lease4 CSV file)."""
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"unknown time zone {tz_name!r} (e.g. Asia/Tokyo, UTC)")
    _apply(path, database_url, actor, dry_run,
           lambda session, who: leases.import_file(session, path, actor=who, naive_tz=tz))
