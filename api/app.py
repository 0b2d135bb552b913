"""``create_app``: the FastAPI application over an inventory database.

Everything under ``/api`` except ``/api/health`` and ``/api/login`` needs a token and passes
``api.deps.authorize_under``, which checks the access table (``api.routes_access``); ``create_app`` refuses to build an
app with a protected route the table does not name. Errors are ``{"detail": ...}`` JSON everywhere.

Run it: ``uvicorn --factory api.app:app_from_environment`` (reads ``FTTHNOC_DATABASE_URL``).
"""

from __future__ import annotations

import importlib
import logging
import secrets as _secrets
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType, ModuleType

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from api.deps import authorize_under
from api.routers import (
    audit,
    auth,
    bwa_stations,
    districts,
    health,
    households,
    incidents,
    olts,
    onus,
    schools,
    tablets,
    vpn_gateways,
)
from api.routers.common import AUTH_ERRORS
from api.routers.onus import OnuStateProvider
from api.routes_access import merged
from api.security import LoginRateLimiter, Role
from ftthnoc.inventory import db

log = logging.getLogger(__name__)

API_PREFIX = "/api"
VERSION = "0.1.0"

#: Protected routers, each mounted under /api with ``authorize``.
PROTECTED_ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    districts.router,
    olts.router,
    onus.router,
    households.router,
    schools.router,
    tablets.router,
    bwa_stations.router,
    vpn_gateways.router,
    incidents.router,
    audit.router,
)
#: Routers that answer without a token (their routes must be in ``routes_access.PUBLIC``).
PUBLIC_ROUTERS: tuple[APIRouter, ...] = (health.router, auth.public_router)

# ---- ADD ROUTERS HERE ---------------------------------------------------------------------------------
#: Protected routers of other packages, mounted under /api when their module is present (each module has
#: a ``router``, and its routes' lines of the access table in ``api.routes_access.ACCESS`` or in a
#: module-level ``ROUTE_ACCESS`` dict of its own): KPIs, enrolment jobs.
OPTIONAL_ROUTER_MODULES: tuple[str, ...] = ("api.routers.kpis", "api.routers.enrolments")
#: Web pages (``api.web``): a module with a ``router`` mounted at the root, not under /api; its routes
#: authenticate with ``api.deps.current_principal`` / ``require(...)`` and check ``csrf_protect`` on forms.
WEB_MODULES: tuple[str, ...] = ("api.web",)
# --------------------------------------------------------------------------------------------------------

TAGS = [
    {"name": "health", "description": "Liveness and database check (no token needed)."},
    {"name": "session", "description": "Web login and logout, and who the caller is."},
    {"name": "inventory", "description": "Districts, OLTs, PON ports, ONUs, BWA cells, VPN gateways."},
    {"name": "households", "description": "Subscribers; personal fields only for admin and support."},
    {"name": "schools", "description": "GIGA-school schools and tablets; school users see their own."},
    {"name": "incidents", "description": "Correlated outages and the 2-hour reportable flag."},
    {"name": "audit", "description": "Who changed or read what (operator, admin; support: households)."},
]


@dataclass(frozen=True)
class ApiSettings:
    """Knobs of the API process (the database URL is the engine's business)."""

    session_lifetime_seconds: float = 12 * 3600
    #: Always mark cookies Secure (set behind a TLS-terminating proxy; https requests get it anyway).
    secure_cookies: bool = False
    login_max_failures: int = 5
    login_window_seconds: float = 300.0
    #: how long the town's KPI figures are reused before being computed again (``api.routers.kpis``)
    kpi_cache_seconds: float = 30.0


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None


def _check_access_table(routers: list[APIRouter], access: Mapping[str, frozenset[Role]]) -> None:
    """Every protected route is in ACCESS, so that no route is reachable by accident or by nobody."""
    missing = []
    for router in routers:
        for route in router.routes:
            for method in sorted(getattr(route, "methods", None) or ()):
                key = f"{method} {API_PREFIX}{getattr(route, 'path', '')}"
                if key not in access:
                    missing.append(key)
    if missing:
        raise RuntimeError(f"routes missing from api.routes_access.ACCESS: {', '.join(missing)}")


def create_app(engine: Engine, *, settings: ApiSettings | None = None, secret: bytes | None = None,
               onu_state: OnuStateProvider | None = None) -> FastAPI:  # fmt: skip
    """The API over ``engine`` (an inventory migrated to head).

    ``secret`` keys the CSRF tokens; without one a random secret is made, so CSRF tokens of web sessions
    opened before a restart stop working (their pages must be reloaded). ``onu_state`` (also settable later
    as ``app.state.onu_state``) gives the ONUs' current state from the poller's snapshot.
    """
    settings = settings or ApiSettings()
    app = FastAPI(
        title="ftthnoc API",
        version=VERSION,
        description="Inventory, state, incidents and audit of the town's FTTH, BWA, telework VPN and "
        "GIGA-school networks. Authenticate with `Authorization: Bearer TOKEN` "
        "(`ftthnoc users token NAME`) or the web session cookie (`POST /api/login`).",
        openapi_tags=TAGS,
    )
    app.state.engine = engine
    app.state.sessionmaker = db.session_factory(engine)
    app.state.secret = secret or _secrets.token_bytes(32)
    app.state.api_settings = settings
    app.state.login_limiter = LoginRateLimiter(settings.login_max_failures, settings.login_window_seconds)
    app.state.onu_state = onu_state
    app.state.head_revision = db.head_revision()

    protected = list(PROTECTED_ROUTERS)
    extra_access = []
    for name in OPTIONAL_ROUTER_MODULES:
        module = _optional_module(name)
        if module is not None:
            protected.append(module.router)
            extra_access.append(getattr(module, "ROUTE_ACCESS", {}))
    access = merged(extra_access)
    _check_access_table(protected, access)
    app.state.access = MappingProxyType(access)
    for router in PUBLIC_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    for router in protected:
        app.include_router(router, prefix=API_PREFIX, dependencies=[Depends(authorize_under(API_PREFIX))],
                           responses=AUTH_ERRORS)  # fmt: skip
    for name in WEB_MODULES:
        module = _optional_module(name)
        web_router = getattr(module, "router", None)
        if web_router is not None:
            app.include_router(web_router)

    @app.exception_handler(SQLAlchemyError)
    async def database_error(_request: Request, exc: SQLAlchemyError) -> JSONResponse:
        log.error("database error: %s", type(exc).__name__)  # not the statement: it may hold personal data
        return JSONResponse({"detail": "database unavailable"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)

    @app.exception_handler(Exception)
    async def internal_error(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", type(exc).__name__, exc_info=exc)
        return JSONResponse({"detail": "internal error"}, status_code=status.HTTP_500_INTERNAL_SERVER_ERROR)

    return app


def app_from_environment() -> FastAPI:
    """For ``uvicorn --factory api.app:app_from_environment``: the database from ``FTTHNOC_DATABASE_URL``."""
    from ftthnoc.settings import load_settings

    engine = db.make_engine(load_settings().database_url)
    db.require_current(engine)
    return create_app(engine)
