"""FastAPI dependencies: the database session, who is calling, whether they may, pagination, CSRF, and
the application's shared parts (settings, KPI cache, job runner, snapshot providers).

Authentication takes a Bearer token from ``Authorization`` (API clients, Grafana) or the
``ftthnoc_session`` cookie (web pages, set by ``POST /api/login`` or the login page). ``authorize`` then
checks the matched route against the one access table (``api.routes_access``, as merged by ``create_app``
into ``app.state.access``); ``create_app`` attaches it to every protected router, the API's under ``/api``
and the web pages' at the root, so no route can be forgotten.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, Response, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.jobs import JobRunner
from api.routes_access import allowed
from api.security import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, Principal, csrf_token, csrf_valid, verify_token
from api.services.common import Unavailable, Window
from api.services.kpis import KpiCache, peaks_of
from api.services.onus import Live, OnuStateProvider
from ftthnoc.config import Config
from ftthnoc.settings import Settings

SESSION_COOKIE = "ftthnoc_session"
#: Upper bound of ``offset`` (keeps it inside a 32-bit integer on every backend).
MAX_OFFSET = 2**31 - 1
#: Upper bound of integer path parameters (database ids).
MAX_ID = 2**31 - 1

_bearer = HTTPBearer(auto_error=False, description="An API token (`ftthnoc users token NAME`).")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="The web session (POST /api/login).")

_UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def secret_of(request: Request) -> bytes:
    """The key of the CSRF tokens and login nonces (``create_app``: from the settings or the data dir)."""
    secret: bytes = request.app.state.secret
    return secret


def db_session(request: Request) -> Iterator[Session]:
    """One session per request; routes that write (audit entries) commit themselves, the rest roll back."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    try:
        yield session
    finally:
        session.close()


DbSession = Annotated[Session, Depends(db_session)]


@dataclass(frozen=True)
class Authenticated:
    """The caller and how they proved it; ``token`` is kept for logout and CSRF, never logged."""

    principal: Principal
    via: str  # "bearer" or "cookie"
    token: str = field(repr=False)


def _identify(request: Request, session: Session, token: str, via: str) -> Authenticated | None:
    principal = verify_token(session, token)
    if principal is None:
        return None
    if session.dirty:  # last_used_at
        session.commit()
    session.info["actor"] = principal.name
    auth = Authenticated(principal=principal, via=via, token=token)
    request.state.auth = auth  # for the error pages' navigation
    return auth


def authentication(
    request: Request,
    session: DbSession,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Authenticated:
    """401 unless a live token of an active user comes with the request (the Bearer header wins)."""
    if bearer is not None:
        token, via = bearer.credentials, "bearer"
    elif cookie:
        token, via = cookie, "cookie"
    elif request.headers.get("authorization"):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "the Authorization header must be 'Bearer TOKEN'",
                            headers=_UNAUTHENTICATED)  # fmt: skip
    else:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated", headers=_UNAUTHENTICATED)
    auth = _identify(request, session, token, via)
    if auth is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid, expired or revoked token",
                            headers=_UNAUTHENTICATED)  # fmt: skip
    return auth


def optional_authentication(request: Request, session: Session) -> Authenticated | None:
    """The web session's caller, or None (for public pages that only differ for a logged-in user)."""
    token = request.cookies.get(SESSION_COOKIE)
    return _identify(request, session, token, "cookie") if token else None


Auth = Annotated[Authenticated, Depends(authentication)]


def current_principal(auth: Auth) -> Principal:
    return auth.principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def route_key(request: Request, prefix: str) -> str | None:
    """``"METHOD prefix/path"`` of the matched route, as the access table names it; None if none matched."""
    route = request.scope.get("route")  # the router's own route: its path lacks the mount prefix
    path = getattr(route, "path", None)
    return None if path is None else f"{request.method} {prefix}{path}"


def authorize_under(prefix: str) -> Callable[[Request, Principal], Principal]:
    """The ``authorize`` dependency of routers mounted at ``prefix`` (``/api`` for the API, ``""`` for the
    web pages): 403 unless ``api.routes_access.ACCESS`` lets the caller's role call the matched route
    (``"METHOD prefix/path"``); fail closed if no route matched.
    """

    def authorize(request: Request, principal: CurrentPrincipal) -> Principal:
        key = route_key(request, prefix)
        if key is None or not allowed(key, principal.role, request.app.state.access):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not call {key}")
        return principal

    return authorize


def may(request: Request, principal: Principal, route: str) -> bool:
    """Whether ``principal`` may call ``route`` ("METHOD /path"), by the app's access table: what a page
    offers (links, forms) follows the same table as what it lets through."""
    return allowed(route, principal.role, request.app.state.access)


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRejected(HTTPException):
    """403: an unsafe cookie-authenticated request without this session's CSRF token."""

    def __init__(self) -> None:
        super().__init__(status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong")


async def csrf_protect(request: Request, auth: Auth) -> None:
    """For cookie-authenticated unsafe requests: the ``X-CSRF-Token`` header or ``csrf_token`` form field
    and the ``ftthnoc_csrf`` cookie must both carry this session's CSRF token (403 otherwise).

    Bearer-token requests need no CSRF check: a browser never adds that header by itself.
    """
    if auth.via != "cookie" or request.method in _SAFE_METHODS:
        return
    submitted = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if submitted is None and content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    if not csrf_valid(secret_of(request), auth.token, submitted, request.cookies.get(CSRF_COOKIE)):
        raise CsrfRejected()


def set_session_cookies(request: Request, response: Response, token: str) -> str:
    """The session cookie (HttpOnly) and the CSRF cookie of a new web session; returns the CSRF token.

    Secure when ``FTTHNOC_API_SECURE_COOKIES`` is set (TLS ends at a proxy) or the request came over https.
    """
    settings = settings_of(request)
    secure = settings.api_secure_cookies or request.url.scheme == "https"
    max_age = int(settings.api_session_lifetime_seconds)
    csrf = csrf_token(secret_of(request), token)
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=secure, samesite="lax")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=secure, samesite="lax")
    response.headers["Cache-Control"] = "no-store"
    return csrf


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


def client_address(request: Request) -> str:
    """The client's address for the login limiter: the peer's, which the server replaces by the address in
    ``X-Forwarded-For`` only when the peer is one of ``FTTHNOC_API_TRUSTED_PROXIES`` (``api.service``
    passes them to uvicorn; with none, the header is ignored)."""
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class Pagination:
    limit: int
    offset: int

    @property
    def window(self) -> Window:
        return Window(self.limit, self.offset)


def pagination(
    limit: Annotated[int, Query(ge=1, le=500, description="Rows per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset)


Paging = Annotated[Pagination, Depends(pagination)]


# ---------------------------------------------------------------------------- the app's shared parts
def kpi_cache(request: Request) -> KpiCache:
    cache: KpiCache = request.app.state.kpi_cache
    return cache


def school_peaks(request: Request) -> dict[str, float] | None:
    """The schools' measured uplink peaks (Mbps) from ``app.state.school_peaks_mbps``, or None."""
    return peaks_of(getattr(request.app.state, "school_peaks_mbps", None))


Peaks = Annotated[dict[str, float] | None, Depends(school_peaks)]


def onu_state(request: Request) -> OnuStateProvider | None:
    """The ONUs' current state from the poller's snapshot (``app.state.onu_state``), if wired in."""
    provider: OnuStateProvider | None = getattr(request.app.state, "onu_state", None)
    return provider


def onu_live(request: Request) -> Live:
    """Where live readings the snapshot does not have come from: the shared store (``app.state.live_store``,
    set from ``FTTHNOC_PROMETHEUS_URL``) and the OLTs this process polls (``app.state.own_olts``)."""
    state = request.app.state
    return Live(getattr(state, "live_store", None), getattr(state, "own_olts", None))


_runner_lock = threading.Lock()


def job_runner(request: Request) -> JobRunner:
    """The application's job runner (made on first use); ``Unavailable`` when no configuration is loaded."""
    state = request.app.state
    runner: JobRunner | None = getattr(state, "jobs", None)
    if runner is not None:
        return runner
    with _runner_lock:
        runner = getattr(state, "jobs", None)
        if runner is None:
            config: Config | None = getattr(state, "config", None)
            if config is None:
                raise Unavailable("provisioning is not configured (no configuration loaded)")
            runner = JobRunner(state.engine, config)
            state.jobs = runner
    return runner


Runner = Annotated[JobRunner, Depends(job_runner)]
