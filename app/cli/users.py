"""``ftthnoc users ...``: the people and programs that may use the API, and their tokens.

Every change writes an ``AuditEntry`` (action ``user`` or ``token``) naming the user and the token's
prefix, never a password or a token. A new token is printed once, alone on standard output (so that
``TOKEN=$(ftthnoc users token grafana)`` works); what it is for goes to standard error.
"""

from __future__ import annotations

import getpass
import sys
from datetime import timedelta
from typing import Any

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.security import MIN_PASSWORD_LENGTH, Role, as_utc, hash_password, issue_token, revoke_tokens, utcnow
from app.cli.common import database_option, engine_for, fail, resolve_url
from ftthnoc.inventory import db
from ftthnoc.inventory.models import ApiToken, AuditEntry, School, User


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _audit(session: Session, action: str, detail: dict[str, Any]) -> None:
    session.add(AuditEntry(actor=_actor(), action=action, entity="user", detail=detail, outcome="ok"))


def _user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        fail(f"no user {name!r}")
    return user


@click.group("users")
def users() -> None:
    """Users of the API and web pages (roles admin, operator, support, school, viewer) and their tokens."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="What the user may do.")
@click.option("--school", "school_code", metavar="CODE", help="The school of a school user (required for them).")
@click.option("--password-stdin", is_flag=True, help="Read a password (first line of standard input) for the "
              "web login; without it the user can only use tokens.")  # fmt: skip
@database_option
def add_cmd(name: str, role: str, school_code: str | None, password_stdin: bool, database_url: str | None) -> None:
    """Create user NAME."""
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() or not c.isprintable() for c in name):
        fail("a user name is 1 to 64 printable characters without spaces")
    if (role == Role.SCHOOL) != (school_code is not None):
        fail("--school CODE is required for role school and only for it")
    password_hash = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if len(password) < MIN_PASSWORD_LENGTH:
            fail(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        password_hash = hash_password(password)
    with engine_for(resolve_url(database_url)) as engine, db.session_scope(engine, actor=_actor()) as session:
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            fail(f"user {name!r} already exists")
        school_id = None
        if school_code is not None:
            school_id = session.scalar(select(School.id).where(School.code == school_code))
            if school_id is None:
                fail(f"no school {school_code!r}")
        session.add(User(name=name, role=role, school_id=school_id, password_hash=password_hash, active=True))
        _audit(session, "user", {"op": "add", "name": name, "role": role, "school": school_code,
                                 "password": password_hash is not None})  # fmt: skip
    click.echo(f"added {role} user {name}" + (f" of school {school_code}" if school_code else ""))


@users.command("token")
@click.argument("name")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=90, show_default=True,
              help="Days until the token stops working.")  # fmt: skip
@database_option
def token_cmd(name: str, expires_days: int, database_url: str | None) -> None:
    """Create an API token for NAME and print it (once: only its hash is kept)."""
    with engine_for(resolve_url(database_url)) as engine, db.session_scope(engine, actor=_actor()) as session:
        user = _user(session, name)
        if not user.active:
            fail(f"user {name!r} is disabled")
        issued = issue_token(session, user, kind="api", lifetime=timedelta(days=expires_days))
        expires = issued.expires_at.isoformat(timespec="seconds") if issued.expires_at else None
        _audit(session, "token", {"op": "create", "name": name, "prefix": issued.prefix, "expires_at": expires})
    click.echo(issued.token)
    click.echo(f"token {issued.prefix}… for {name}, expires {expires}; it is not shown again", err=True)


@users.command("revoke")
@click.argument("name", required=False)
@click.option("--token-prefix", metavar="P", help="Revoke the token(s) starting with P (as `users list` shows).")
@click.option("--disable", is_flag=True, help="Also disable user NAME (no login, no tokens) until re-added.")
@database_option
def revoke_cmd(name: str | None, token_prefix: str | None, disable: bool, database_url: str | None) -> None:
    """Revoke every token of user NAME, or one token by its prefix."""
    if (name is None) == (token_prefix is None):
        fail("give a user NAME or --token-prefix P (not both)")
    if disable and name is None:
        fail("--disable needs a user NAME")
    with engine_for(resolve_url(database_url)) as engine, db.session_scope(engine, actor=_actor()) as session:
        try:
            if name is not None:
                user = _user(session, name)
                prefixes = revoke_tokens(session, user=user)
                if disable:
                    user.active = False
            else:
                assert token_prefix is not None
                prefixes = revoke_tokens(session, prefix=token_prefix)
                if not prefixes:
                    fail(f"no live token starts with {token_prefix!r}")
        except ValueError as exc:
            fail(str(exc))
        owner = name or session.scalar(
            select(User.name).join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.prefix == prefixes[0])
        )
        _audit(session, "token", {"op": "revoke", "name": owner, "prefixes": prefixes, "disabled": disable})
    what = f"revoked {len(prefixes)} token(s) of {owner}"
    click.echo(what + (" and disabled the user" if disable else ""))


@users.command("list")
@database_option
def list_cmd(database_url: str | None) -> None:
    """One line per user: role, school, whether they can log in, live tokens and when one was last used."""
    now = utcnow()
    with engine_for(resolve_url(database_url)) as engine, db.session(engine) as session:
        users_ = list(session.scalars(select(User).order_by(User.name)))
        schools = {sid: code for sid, code in session.execute(select(School.id, School.code))}
        live = ApiToken.revoked_at.is_(None) & ((ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now))
        counts = {uid: n for uid, n in session.execute(
            select(ApiToken.user_id, func.count()).where(live).group_by(ApiToken.user_id))}  # fmt: skip
        last = {uid: at for uid, at in session.execute(
            select(ApiToken.user_id, func.max(ApiToken.last_used_at)).group_by(ApiToken.user_id))}  # fmt: skip
        prefixes: dict[int, list[str]] = {}
        for user_id, prefix in session.execute(select(ApiToken.user_id, ApiToken.prefix).where(live)):
            prefixes.setdefault(user_id, []).append(prefix)
    if not users_:
        click.echo("no users")
        return
    header = ("name", "role", "school", "active", "password", "tokens", "last used (UTC)", "token prefixes")
    lines = [header]
    for u in users_:
        used = last.get(u.id)
        lines.append((
            u.name, u.role, schools.get(u.school_id, "-") if u.school_id else "-", "yes" if u.active else "no",
            "yes" if u.password_hash else "no", str(counts.get(u.id, 0)),
            as_utc(used).strftime("%Y-%m-%d %H:%M") if used else "-", ",".join(prefixes.get(u.id, [])) or "-",
        ))  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
