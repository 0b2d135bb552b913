"""Who may call the API and how they prove it: roles, password hashes, tokens, login throttling and CSRF.

Framework-free on purpose (no FastAPI import), so that ``ftthnoc users`` works where only the core is
installed and so that the rules can be tested without HTTP.

Secrets never leave this module in readable form except once: ``issue_token`` returns the token to the
caller that shows it to its owner; only its SHA-256 is stored. Nothing here logs a password, a token or
a hash.
"""

from __future__ import annotations

import base64
import enum
import functools
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ftthnoc.inventory.models import ApiToken, School, User

log = logging.getLogger(__name__)

class Role(enum.StrEnum):
    """The roles of ``ftthnoc.inventory.models.ROLES``; what each may call is ``api.routes_access.ACCESS``."""

    ADMIN = "admin"
    OPERATOR = "operator"
    SUPPORT = "support"
    SCHOOL = "school"
    VIEWER = "viewer"


#: Roles that may see a household's name, address and phone (every such read is audited).
PERSONAL_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.SUPPORT})


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request. ``school`` is the school code of a ``school`` user."""

    name: str
    role: Role
    school: str | None = None
    #: "api" or "session": how the caller authenticated (session tokens come from ``POST /api/login``)
    token_kind: str = "api"

    @property
    def sees_personal_data(self) -> bool:
        return self.role in PERSONAL_ROLES


# ---------------------------------------------------------------------------------------- passwords
#: scrypt cost: 2**15 * 8 * 128 bytes = 32 MiB and ~0.1 s per hash on a small server (OWASP's minimum
#: is N=2**17 with r=8 at p=1 *or* an equivalent; a town's login page is not a high-volume target and the
#: rate limiter caps guesses). The parameters are stored in the hash, so raising them later only
#: affects new hashes.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_MAXMEM = 64 * 1024 * 1024
MIN_PASSWORD_LENGTH = 10


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$N$r$p$SALT$KEY`` (base64) with a fresh random salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=_KEY_BYTES)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(key)}"


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist or has no password, so that the answer takes as long
    as for a wrong password (no user-name probing by timing). Made on first use, not at import."""
    return hash_password(secrets.token_urlsafe(16))


def verify_password(password: str, encoded: str | None) -> bool:
    """True if ``password`` matches ``encoded`` (constant-time compare); False for None or a malformed hash."""
    target = encoded or _dummy_hash()
    try:
        scheme, n_text, r_text, p_text, salt_text, key_text = target.split("$")
        if scheme != "scrypt":
            return False
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt, key = base64.b64decode(salt_text), base64.b64decode(key_text)
        got = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=len(key))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, key) and encoded is not None


# ------------------------------------------------------------------------------------------- tokens
TOKEN_PREFIX = "ftn_"
#: Characters of a token kept in clear (``ftn_`` + 8): enough to tell tokens apart, far from enough to use.
PREFIX_LENGTH = 12
#: A token's ``last_used_at`` is written at most this often (not one UPDATE per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(token: str) -> str:
    """SHA-256 hex of a token: what the database keeps (a token is random, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes for ``DateTime(timezone=True)``; they were written as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``token`` is the only copy of the secret; show it once and forget it."""

    token: str
    prefix: str
    expires_at: datetime | None

    def __repr__(self) -> str:  # keep the secret out of tracebacks and debug logs
        return f"IssuedToken(prefix={self.prefix!r}, expires_at={self.expires_at!r})"


def issue_token(session: Session, user: User, *, kind: str = "api", lifetime: timedelta | None = None) -> IssuedToken:
    """Create a token for ``user`` (flushed, not committed): ``kind`` "api" or "session"."""
    if kind not in ("api", "session"):
        raise ValueError(f"token kind must be api or session, not {kind!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = None if lifetime is None else utcnow() + lifetime
    row = ApiToken(user_id=user.id, kind=kind, token_hash=token_hash(token), prefix=token[:PREFIX_LENGTH],
                   expires_at=expires_at)  # fmt: skip
    session.add(row)
    session.flush()
    return IssuedToken(token=token, prefix=row.prefix, expires_at=expires_at)


def principal_of(session: Session, user: User, *, token_kind: str = "api") -> Principal:
    school = None
    if user.school_id is not None:
        school = session.scalar(select(School.code).where(School.id == user.school_id))
    return Principal(name=user.name, role=Role(user.role), school=school, token_kind=token_kind)


def verify_token(session: Session, token: str, *, now: datetime | None = None) -> Principal | None:
    """The caller a token belongs to, or None if it is unknown, revoked, expired or its user inactive.

    Updates ``last_used_at`` (at most once a minute per token; the caller commits).
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    now = now or utcnow()
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and as_utc(row.expires_at) <= now:
        return None
    user = row.user
    if not user.active:
        return None
    if row.last_used_at is None or now - as_utc(row.last_used_at) >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return principal_of(session, user, token_kind=row.kind)


def revoke_token(session: Session, token: str) -> bool:
    """Revoke one token given in full (logout); False if it is unknown or already revoked."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


def revoke_tokens(session: Session, *, user: User | None = None, prefix: str | None = None) -> list[str]:
    """Revoke every live token of ``user``, or those starting with ``prefix``; returns their prefixes."""
    if (user is None) == (prefix is None):
        raise ValueError("give exactly one of user or prefix")
    stmt = select(ApiToken).where(ApiToken.revoked_at.is_(None))
    if user is not None:
        stmt = stmt.where(ApiToken.user_id == user.id)
    else:
        assert prefix is not None
        if len(prefix) < len(TOKEN_PREFIX) + 4:
            raise ValueError(f"a token prefix needs at least {len(TOKEN_PREFIX) + 4} characters")
        stmt = stmt.where(ApiToken.prefix == prefix[:PREFIX_LENGTH])
    rows = list(session.scalars(stmt))
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    session.flush()
    return [row.prefix for row in rows]


# ------------------------------------------------------------------------------------ login throttle
class LoginRateLimiter:
    """At most ``max_failures`` failed logins per ``window`` seconds, per client address and per user name.

    In memory (one API process per town; a restart forgets, which only helps the legitimate user).
    A success clears the user name's failures but not the address's, so one valid account cannot be used
    to reset the counter while guessing others. Keys are bounded: past ``max_keys`` the stale ones go.
    """

    def __init__(self, max_failures: int = 5, window: float = 300.0, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.max_failures = max_failures
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(address: str, name: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("addr", address), ("user", name.strip().lower()[:64])

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, address: str, name: str) -> int | None:
        """Seconds until another attempt is allowed, or None if one is allowed now."""
        now = self._clock()
        waits = []
        with self._lock:
            for key in self._keys(address, name):
                times = self._recent(key, now)
                if len(times) >= self.max_failures:
                    waits.append(times[len(times) - self.max_failures] + self.window - now)
        return max(1, int(max(waits)) + 1) if waits else None

    def failure(self, address: str, name: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) >= self.max_keys:
                for key in list(self._failures):
                    self._recent(key, now)
            for key in self._keys(address, name):
                times = self._failures.setdefault(key, deque(maxlen=self.max_failures * 4))
                times.append(now)

    def success(self, address: str, name: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(address, name)[1], None)


# --------------------------------------------------------------------------------------------- CSRF
CSRF_COOKIE = "ftthnoc_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


def csrf_token(secret: bytes, session_token: str) -> str:
    """The CSRF token of a web session: HMAC-SHA256 of the session token under the app's secret.

    Bound to the session (a token stolen from one session is useless in another) and stateless.
    """
    return hmac.new(secret, b"csrf:" + session_token.encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, session_token: str, submitted: str | None, cookie: str | None) -> bool:
    """Double-submit check: the form field (or header) and the CSRF cookie both carry this session's token."""
    if not submitted or not cookie:
        return False
    expected = csrf_token(secret, session_token)
    want = expected.encode("ascii")
    return hmac.compare_digest(submitted.encode("utf-8"), want) & hmac.compare_digest(cookie.encode("utf-8"), want)


# ----------------------------------------------------------------------------------- the app's secret
#: The file in the data directory that keeps the generated secret (``persistent_secret``).
SECRET_FILE = "api-secret"
#: Shortest secret accepted from ``FTTHNOC_API_SECRET``.
MIN_SECRET_LENGTH = 32


def persistent_secret(path: Path, what: str = "API secret") -> bytes:
    """The secret kept in ``path``, made (random, 256 bits, mode 0600) the first time.

    Why keep it rather than draw a new one at each start: the secret keys every web session's CSRF token
    and the login form's nonce, so a new one at each restart (as before) broke every open form and
    every page's POST of every logged-in user after an update or a crash, and two API processes of one
    town would refuse each other's tokens. Why generate it rather than ship a default: a default secret is
    a published one. The file has mode 0600 (only the service's user reads it) and appears complete or not
    at all (written aside, then hard-linked in place), so two processes starting together agree on the
    first one written. Set ``FTTHNOC_API_SECRET`` instead to share one secret between hosts.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    text = secrets.token_urlsafe(32)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(text + "\n")
        os.link(draft, path)  # atomic, and refuses to replace: a complete file or none
        log.info("made a new %s in %s", what, path)
        return text.encode("ascii")
    except FileExistsError:
        pass
    finally:
        draft.unlink(missing_ok=True)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("%s is readable by other users (mode %o): chmod 600 it", path, mode)
    kept = path.read_text(encoding="ascii").strip()
    if len(kept) < MIN_SECRET_LENGTH:
        raise ValueError(f"{path} holds no usable secret (delete it to make a new one)")
    return kept.encode("ascii")
