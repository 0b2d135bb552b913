"""``ftthnoc users ...``: add, token, revoke, list; every change audited without a secret in sight."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from api.security import verify_password, verify_token
from app.cli import main
from ftthnoc.inventory import db
from ftthnoc.inventory.models import ApiToken, AuditEntry, User


@pytest.fixture
def run(engine: Engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    url = str(engine.url)

    def invoke(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, ["users", *args, "--database-url", url], input=stdin)

    return invoke


def _audit(engine: Engine) -> list[AuditEntry]:
    with db.session(engine) as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action.in_(("user", "token")))
                              .order_by(AuditEntry.id)))  # fmt: skip


def test_add_token_revoke_list(run, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    added = run("add", "kenji", "--role", "support", "--password-stdin", stdin="a long passphrase\n")
    assert added.exit_code == 0, added.output
    assert "added support user kenji" in added.output
    with db.session(engine) as s:
        user = s.scalars(select(User).where(User.name == "kenji")).one()
        assert verify_password("a long passphrase", user.password_hash)

    made = run("token", "kenji", "--expires-days", "7")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert token.startswith("ftn_") and "\n" not in token
    with db.session(engine) as s:
        principal = verify_token(s, token)
        assert principal is not None and principal.name == "kenji"
        prefix = s.scalar(select(ApiToken.prefix).join(User).where(User.name == "kenji"))

    listing = run("list")
    assert listing.exit_code == 0
    line = next(ln for ln in listing.output.splitlines() if ln.startswith("kenji"))
    assert "support" in line and prefix in line and token not in listing.output

    revoked = run("revoke", "--token-prefix", prefix)
    assert revoked.exit_code == 0 and "revoked 1 token(s) of kenji" in revoked.output
    with db.session(engine) as s:
        assert verify_token(s, token) is None

    entries = _audit(engine)
    assert [(e.action, e.detail["op"]) for e in entries] == [("user", "add"), ("token", "create"),
                                                             ("token", "revoke")]  # fmt: skip
    text = repr([(e.detail, e.outcome) for e in entries])
    assert token not in text and "passphrase" not in text and "scrypt" not in text
    assert entries[1].detail["prefix"] == prefix


def test_school_users_need_a_school(run, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    assert run("add", "t1", "--role", "school").exit_code == 1
    assert run("add", "t1", "--role", "viewer", "--school", "oasa-es").exit_code == 1
    missing = run("add", "t1", "--role", "school", "--school", "nowhere-es")
    assert missing.exit_code == 1 and "no school" in missing.output
    ok = run("add", "t1", "--role", "school", "--school", "oasa-es")
    assert ok.exit_code == 0, ok.output
    assert run("add", "t1", "--role", "viewer").exit_code == 1  # exists
    with db.session(engine) as s:
        user = s.scalars(select(User).where(User.name == "t1")).one()
        assert user.school is not None and user.school.code == "oasa-es" and user.password_hash is None


def test_bad_input(run) -> None:  # type: ignore[no-untyped-def]
    assert run("add", "bad name", "--role", "viewer").exit_code == 1
    short = run("add", "x", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "at least" in short.output
    assert run("add", "x", "--role", "root").exit_code == 2
    assert run("token", "nobody").exit_code == 1
    assert run("token", "dave").exit_code == 1  # disabled
    assert run("revoke").exit_code == 1
    assert run("revoke", "--token-prefix", "ftn_").exit_code == 1


def test_revoke_all_and_disable(run, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    result = run("revoke", "alice", "--disable")
    assert result.exit_code == 0, result.output
    assert "and disabled the user" in result.output
    with db.session(engine) as s:
        alice = s.scalars(select(User).where(User.name == "alice")).one()
        assert not alice.active
        live = s.scalars(select(ApiToken).where(ApiToken.user_id == alice.id, ApiToken.revoked_at.is_(None)))
        assert list(live) == []
    assert _audit(engine)[-1].detail["disabled"] is True
