"""``ftthnoc enroll ...`` and ``ftthnoc audit list``: the support desk's command line.

Registered by ``app.cli`` like the other optional groups. Needs the configuration (SNMP auths for
the check, ``provisioning:`` credentials and plans: ``--config`` or ``FTTHNOC_CONFIG``) and the
inventory (``--database-url`` or ``FTTHNOC_DATABASE_URL``). Every change is recorded in the audit under
``--actor`` (default: FTTHNOC_ACTOR, else the login name). Exit status: 0 done or nothing to do, 1
failed (nothing left on the device), 3 needs attention (something may be left: see the message).
"""

from __future__ import annotations

import getpass
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cli.common import database_option, engine_for, fail, resolve_url
from ftthnoc.config import Config, load_config
from ftthnoc.errors import FtthnocError
from ftthnoc.inventory import db
from ftthnoc.inventory.io import InventoryImportError
from ftthnoc.inventory.models import AuditEntry, EnrolmentState, School
from ftthnoc.timezone import JST
from provisioning.config import ProvisioningConfig, provisioning_config
from provisioning.drivers import driver_for
from provisioning.drivers.base import ProvisioningError, RouterDriver
from provisioning.enrol import Outcome, Provisioner
from provisioning.tablets import apply_tablets, read_tablets, reconcile_school, router_target

EXIT_FAILED = 1
EXIT_ATTENTION = 3

config_option = click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
                             help="Configuration with SNMP auths and the provisioning section (or FTTHNOC_CONFIG).")
actor_option = click.option("--actor", default=None, help="Who is acting, for the audit (default: login name).")
dry_run_option = click.option("--dry-run", is_flag=True, help="Read the devices and print the changes; send none.")


def _actor(option: str | None) -> str:
    if option:
        return option
    try:
        return os.environ.get("FTTHNOC_ACTOR") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def _config(path: Path | None) -> Config:
    path = path or (Path(os.environ["FTTHNOC_CONFIG"]) if os.environ.get("FTTHNOC_CONFIG") else None)
    if path is None:
        fail("enroll needs --config FILE (or FTTHNOC_CONFIG) with the provisioning section")
    try:
        return load_config(path)
    except FtthnocError as exc:
        fail(str(exc))


@click.group("enroll")
def enroll() -> None:
    """Enrol households' ONUs on the OLTs and register schools' tablets on their routers."""


def _report(out: Outcome) -> None:
    if out.dry_run:
        for command in out.planned_commands():
            click.echo(f"  would send: {command}")
    click.echo(f"{out.household}: {out.state}: {out.message}")
    if out.state == EnrolmentState.ATTENTION:
        raise click.exceptions.Exit(EXIT_ATTENTION)
    if not out.ok:
        raise click.exceptions.Exit(EXIT_FAILED)


def _setup(config_path: Path | None, database_url: str | None, actor: str | None) -> tuple[Config, str, str]:
    config = _config(config_path)
    return config, resolve_url(database_url), _actor(actor)


@enroll.command("household")
@click.argument("household")
@click.option("--serial", required=True, help="The ONU serial the installer reported (HWTC-A1B2C3D4).")
@dry_run_option
@config_option
@database_option
@actor_option
def household_cmd(household: str, serial: str, dry_run: bool, config_path: Path | None,
                  database_url: str | None, actor: str | None) -> None:
    """Find the ONU in autofind, add it with the household's plan, check it over SNMP, mark it active."""
    config, url, who = _setup(config_path, database_url, actor)
    with engine_for(url) as engine:
        p = Provisioner(engine, config, actor=who, progress=lambda step, msg: click.echo(f"  [{step}] {msg}"))
        _report(p.enrol(household, serial, dry_run=dry_run))


def _line_command(kind: str) -> click.Command:
    @click.argument("household")
    @dry_run_option
    @config_option
    @database_option
    @actor_option
    def command(household: str, dry_run: bool, config_path: Path | None, database_url: str | None,
                actor: str | None) -> None:
        config, url, who = _setup(config_path, database_url, actor)
        with engine_for(url) as engine:
            p = Provisioner(engine, config, actor=who, progress=lambda step, msg: click.echo(f"  [{step}] {msg}"))
            _report(getattr(p, kind)(household, dry_run=dry_run))

    doc = {"suspend": "Deactivate the household's ONT (kept configured) and mark it suspended.",
           "resume": "Activate a suspended household's ONT again and mark it active.",
           "cancel": "Remove the ONT and its service ports from the OLT and mark the household cancelled."}
    command.__doc__ = doc[kind]
    return click.command(kind)(command)


for _kind in ("suspend", "resume", "cancel"):
    enroll.add_command(_line_command(_kind))


@enroll.command("tablets")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@dry_run_option
@config_option
@database_option
@actor_option
def tablets_cmd(csv_file: Path, dry_run: bool, config_path: Path | None, database_url: str | None,
                actor: str | None) -> None:
    """Import FILE.csv (all rows checked first; any bad row: nothing applied), then make each touched
    school's router bind exactly its active tablets. A dry run does both and keeps neither."""
    config, url, who = _setup(config_path, database_url, actor)
    settings = provisioning_config(config)
    ok = True
    with engine_for(url) as engine:
        with db.session_scope(engine, actor=who) as session:
            try:
                changes = apply_tablets(session, read_tablets(csv_file), who)
            except InventoryImportError as exc:
                for problem in exc.problems:
                    click.echo(str(problem), err=True)
                fail(f"{len(exc.problems)} problem(s); nothing was applied")
            click.echo(f"tablets: {changes.added} added, {changes.updated} updated, {changes.retired} retired, "
                       f"{changes.unchanged} unchanged" + (" (dry run: not kept)" if dry_run else ""))
            if dry_run:  # the routers are compared with the inventory as it would be, then all is dropped
                for code in sorted(changes.schools):
                    ok &= _reconcile(session, code, settings, who, dry_run=True)
                session.rollback()
                return
        for code in sorted(changes.schools):
            with db.session_scope(engine, actor=who) as session:
                ok &= _reconcile(session, code, settings, who, dry_run=False)
    if not ok:
        raise click.exceptions.Exit(EXIT_FAILED)


def _reconcile(session: Session, code: str, settings: ProvisioningConfig, who: str, *, dry_run: bool) -> bool:
    school = session.scalar(select(School).where(School.code == code))
    if school is None or not school.router_address:
        click.echo(f"{code}: no router in the inventory; bindings not changed")
        return True
    cred = settings.credentials.get(school.router_auth or "")
    if cred is None:
        click.echo(f"{code}: router credential {school.router_auth!r} is not in provisioning.credentials", err=True)
        return False
    try:
        target = router_target(school, username=cred.username, password=cred.password, secret=cred.secret,
                               timeout=settings.cli_timeout_seconds)
        driver = driver_for(target, dry_run=dry_run)
        if not isinstance(driver, RouterDriver):
            raise ProvisioningError(f"{target.platform} is not a router driver")
        with driver:
            result = reconcile_school(session, school, driver, who)
    except ProvisioningError as exc:
        click.echo(f"{code}: failed: {exc}; run the same command again to finish", err=True)
        return False
    for e in driver.transcript.exchanges:
        if not e.sent:
            click.echo(f"  would send: {e.command}")
    click.echo(f"{code}: {len(result.added)} binding(s) added, {len(result.removed)} removed"
               + ("" if result.changed else " (router already matched)"))
    return True


@click.group("audit")
def audit() -> None:
    """Who changed what, when: devices (commands and answers) and personal data (fields, never values)."""


@audit.command("list")
@click.option("--entity", default=None, help="Only this entity, e.g. household:HH-000123 or school:chiyoda-es.")
@click.option("--actor", default=None, help="Only this actor.")
@click.option("--since", type=click.DateTime(), default=None,
              help="Only entries at or after this time, in JST like the listing (e.g. 2026-12-03T09:00).")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, with the full dialogue.")
@database_option
def audit_list(entity: str | None, actor: str | None, since: datetime | None, limit: int, as_json: bool,
               database_url: str | None) -> None:
    """Newest first."""
    with engine_for(resolve_url(database_url)) as engine, db.session(engine) as session:
        stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if entity:
            stmt = stmt.where(AuditEntry.entity == entity)
        if actor:
            stmt = stmt.where(AuditEntry.actor == actor)
        if since:
            stmt = stmt.where(AuditEntry.at >= (since if since.tzinfo else since.replace(tzinfo=JST)))
        rows = list(session.scalars(stmt))
    if not rows:
        click.echo("no audit entries")
        return
    if not as_json:
        click.echo(f"{'id':>6}  {'at (JST)':<19}  {'actor':<16} {'action':<10} {'entity':<28} outcome")
    for r in rows:
        if as_json:
            click.echo(json.dumps({"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "action": r.action,
                                   "entity": r.entity, "outcome": r.outcome, "detail": r.detail},
                                  ensure_ascii=False))
            continue
        sent = sum(1 for e in r.detail.get("transcript", []) if e.get("sent", True))
        what = f"{sent} command(s) to {r.detail['device']}" if "device" in r.detail else _fields(r.detail)
        at = (r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC)).astimezone(JST)
        click.echo(f"{r.id:>6}  {at:%Y-%m-%d %H:%M:%S}  {r.actor:<16} {r.action:<10} {r.entity:<28} "
                   f"{r.outcome or '-'}  ({what})")


def _fields(detail: dict[str, object]) -> str:
    fields = detail.get("fields")
    return "fields: " + ", ".join(str(f) for f in fields) if isinstance(fields, list) else "-"
