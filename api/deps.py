"""FastAPI dependencies: the database session, who is calling, whether they may, pagination, CSRF.

Authentication takes a Bearer token from ``Authorization`` (API clients, Grafana) or the
``ftthnoc_session`` cookie (web pages, set by ``POST /api/login``). ``authorize`` then checks the matched
route against the access table (``api.routes_access``, as merged by ``create_app`` into
``app.state.access``); ``create_app`` attaches it to every protected router, so no route can be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.routes_access import allowed
from api.security import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, Principal, Role, csrf_valid, verify_token

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
    principal = verify_token(session, token)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid, expired or revoked token",
                            headers=_UNAUTHENTICATED)  # fmt: skip
    if session.dirty:  # last_used_at
        session.commit()
    session.info["actor"] = principal.name
    return Authenticated(principal=principal, via=via, token=token)


Auth = Annotated[Authenticated, Depends(authentication)]


def current_principal(auth: Auth) -> Principal:
    return auth.principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def authorize_under(prefix: str) -> Callable[[Request, Principal], Principal]:
    """The ``authorize`` dependency of routers mounted at ``prefix``: 403 unless ``api.routes_access.ACCESS``
    lets the caller's role call the matched route (``"METHOD prefix/path"``); fail closed if no route matched.
    """

    def authorize(request: Request, principal: CurrentPrincipal) -> Principal:
        route = request.scope.get("route")  # the router's own route: its path lacks the mount prefix
        path = getattr(route, "path", None)
        key = f"{request.method} {prefix}{path}"
        if path is None or not allowed(key, principal.role, request.app.state.access):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not call {key}")
        return principal

    return authorize


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency for routes outside the table (web pages): 403 unless the caller has one of ``roles``."""
    wanted = frozenset(roles)

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in wanted:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this")
        return principal

    return check


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    secret: bytes = request.app.state.secret
    if not csrf_valid(secret, auth.token, submitted, request.cookies.get(CSRF_COOKIE)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong")


@dataclass(frozen=True)
class Pagination:
    limit: int
    offset: int


def pagination(
    limit: Annotated[int, Query(ge=1, le=500, description="Rows per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset)


Paging = Annotated[Pagination, Depends(pagination)]


def not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")


def ensure_school_visible(principal: Principal, school_code: str, what: str) -> None:
    """404 (the same answer as for a missing object) when a school user asks for another school's object,
    so that probing ids tells them nothing."""
    if principal.role is Role.SCHOOL and principal.school != school_code:
        raise not_found(what)
