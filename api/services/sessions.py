"""Web sessions: a login (throttled per client address and per user name), a logout, for the API's
``POST /api/login`` and the login page alike."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.security import (
    LoginRateLimiter,
    Principal,
    as_utc,
    issue_token,
    principal_of,
    revoke_token,
    utcnow,
    verify_password,
)
from api.services.common import Throttled, Unauthenticated
from ftthnoc.inventory.models import ApiToken, AuditEntry, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Opened:
    """A new web session: ``token`` is its secret (the session cookie), never logged."""

    principal: Principal
    expires_at: datetime
    token: str = field(repr=False)


def login(session: Session, limiter: LoginRateLimiter, address: str, name: str, password: str,
          lifetime_seconds: float) -> Opened:  # fmt: skip
    """Check the password (scrypt, ~0.1 s: call from a worker thread), then open a session.

    ``Throttled`` past the limiter's failures for the address or the name, ``Unauthenticated`` for a wrong
    name or password, an inactive user or one without a password (tokens only).
    """
    wait = limiter.retry_after(address, name)
    if wait is not None:
        raise Throttled("too many failed logins; try again later", wait)
    user = session.scalar(select(User).where(User.name == name))
    password_ok = verify_password(password, user.password_hash if user is not None else None)
    if user is None or not user.active or not password_ok:
        limiter.failure(address, name)
        log.info("failed login from %s", address)  # never the name typed: it may be a password
        raise Unauthenticated("wrong user name or password")
    limiter.success(address, name)
    now = utcnow()
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.kind == "session",
                                           ApiToken.expires_at < now))  # fmt: skip
    issued = issue_token(session, user, kind="session", lifetime=timedelta(seconds=lifetime_seconds))
    principal = principal_of(session, user, token_kind="session")
    session.add(AuditEntry(actor=user.name, action="login", entity="user", outcome="ok",
                           detail={"name": user.name, "prefix": issued.prefix, "address": address}))  # fmt: skip
    session.commit()
    assert issued.expires_at is not None
    return Opened(principal, as_utc(issued.expires_at), issued.token)


def logout(session: Session, principal: Principal, token: str) -> None:
    """Revoke a session token (an API token is left alone: those are revoked on the command line)."""
    if principal.token_kind == "session":
        revoke_token(session, token)
        session.commit()
