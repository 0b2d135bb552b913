"""api.security without HTTP: password hashes, tokens, the login throttle and CSRF tokens."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from api.security import (
    PERSONAL_ROLES,
    LoginRateLimiter,
    Principal,
    Role,
    csrf_token,
    csrf_valid,
    hash_password,
    issue_token,
    revoke_token,
    revoke_tokens,
    verify_password,
    verify_token,
)
from ftthnoc.inventory import db
from ftthnoc.inventory.models import ROLES, ApiToken, User

FAST = {"n": 2**10, "r": 8, "p": 1}  # cheap parameters: these tests are about the format, not the cost


def test_roles_are_the_models_roles() -> None:
    assert tuple(Role) == ROLES
    assert frozenset({Role.ADMIN, Role.SUPPORT}) == PERSONAL_ROLES
    assert Principal("a", Role.SUPPORT).sees_personal_data
    assert not Principal("a", Role.OPERATOR).sees_personal_data


def test_password_hash_round_trip_and_salt() -> None:
    first, second = hash_password("s3cret-enough", **FAST), hash_password("s3cret-enough", **FAST)
    assert first != second  # a fresh salt each time
    assert first.startswith("scrypt$1024$8$1$")
    assert "s3cret" not in first
    assert verify_password("s3cret-enough", first)
    assert verify_password("s3cret-enough", second)
    assert not verify_password("s3cret-enougH", first)
    assert not verify_password("", first)


@pytest.mark.parametrize("encoded", [None, "", "plain", "bcrypt$1$2$3$4$5", "scrypt$x$8$1$AA==$AA==",
                                     "scrypt$1024$8$1$not base64!$AA=="])  # fmt: skip
def test_bad_hashes_never_verify(encoded: str | None) -> None:
    assert not verify_password("anything", encoded)


def test_default_cost_is_the_documented_one() -> None:
    assert hash_password("x" * 12).startswith("scrypt$32768$8$1$")


def test_tokens_store_only_a_hash_and_verify(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        user = s.scalars(select(User).where(User.name == "chiyoda-teacher")).one()
        issued = issue_token(s, user, lifetime=timedelta(days=1))
        assert issued.token.startswith("ftn_") and len(issued.token) > 40
        assert issued.prefix == issued.token[:12]
        assert issued.token not in repr(issued)
        row = s.scalars(select(ApiToken).where(ApiToken.prefix == issued.prefix)).one()
        assert row.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
        assert row.last_used_at is None
        principal = verify_token(s, issued.token)
        assert principal == Principal("chiyoda-teacher", Role.SCHOOL, "chiyoda-es", "api")
        assert row.last_used_at is not None
    with db.session_scope(engine) as s:
        assert verify_token(s, issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")) is None
        assert verify_token(s, "not-a-token") is None
        assert revoke_token(s, issued.token)
        assert not revoke_token(s, issued.token)  # already revoked
        assert verify_token(s, issued.token) is None


def test_expired_revoked_and_disabled_are_refused(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        user = s.scalars(select(User).where(User.name == "vera")).one()
        expired = issue_token(s, user, lifetime=timedelta(seconds=-1))
        live = issue_token(s, user, lifetime=None)
        assert verify_token(s, expired.token) is None
        assert verify_token(s, live.token) is not None
        user.active = False
        s.flush()
        assert verify_token(s, live.token) is None
        user.active = True
        assert sorted(revoke_tokens(s, user=user)) == sorted(
            p for (p,) in s.execute(select(ApiToken.prefix).where(ApiToken.user_id == user.id))
        )
        assert verify_token(s, live.token) is None


def test_revoke_by_prefix_needs_a_real_prefix(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        with pytest.raises(ValueError):
            revoke_tokens(s, prefix="ftn_")
        with pytest.raises(ValueError):
            revoke_tokens(s)
        with pytest.raises(ValueError):
            issue_token(s, s.scalars(select(User)).first(), kind="other")  # type: ignore[arg-type]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_per_address_and_per_name() -> None:
    clock = FakeClock()
    limiter = LoginRateLimiter(max_failures=5, window=300, clock=clock)
    for _ in range(4):
        assert limiter.retry_after("10.0.0.1", "alice") is None
        limiter.failure("10.0.0.1", "alice")
    assert limiter.retry_after("10.0.0.1", "alice") is None
    limiter.failure("10.0.0.1", "alice")
    wait = limiter.retry_after("10.0.0.1", "alice")
    assert wait is not None and 295 <= wait <= 301
    # the name is throttled from another address, the address for another name
    assert limiter.retry_after("10.0.0.2", "ALICE") is not None
    assert limiter.retry_after("10.0.0.1", "bob") is not None
    assert limiter.retry_after("10.0.0.2", "bob") is None
    clock.now += 301
    assert limiter.retry_after("10.0.0.1", "alice") is None


def test_rate_limiter_success_clears_the_name_only() -> None:
    clock = FakeClock()
    limiter = LoginRateLimiter(max_failures=2, window=60, clock=clock)
    limiter.failure("a", "alice")
    limiter.failure("a", "alice")
    limiter.success("a", "alice")
    assert limiter.retry_after("b", "alice") is None
    assert limiter.retry_after("a", "carol") is not None  # the address keeps its failures


def test_rate_limiter_forgets_stale_keys() -> None:
    clock = FakeClock()
    limiter = LoginRateLimiter(max_failures=5, window=10, max_keys=4, clock=clock)
    for i in range(10):
        limiter.failure(f"10.0.0.{i}", f"user{i}")
        clock.now += 11
    assert len(limiter._failures) <= 6


def test_csrf_token_is_bound_to_session_and_secret() -> None:
    token = csrf_token(b"k" * 32, "ftn_session-a")
    assert token == csrf_token(b"k" * 32, "ftn_session-a")
    assert token != csrf_token(b"k" * 32, "ftn_session-b")
    assert token != csrf_token(b"j" * 32, "ftn_session-a")
    assert csrf_valid(b"k" * 32, "ftn_session-a", token, token)
    assert not csrf_valid(b"k" * 32, "ftn_session-a", token, None)  # no double submit
    assert not csrf_valid(b"k" * 32, "ftn_session-a", None, token)
    assert not csrf_valid(b"k" * 32, "ftn_session-a", token, "x" + token[1:])
    assert not csrf_valid(b"k" * 32, "ftn_session-b", token, token)
    assert not csrf_valid(b"k" * 32, "ftn_session-a", "é" * 64, token)  # non-ASCII is just wrong
