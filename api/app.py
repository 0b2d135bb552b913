"""``create_app``: the FastAPI application over an inventory database.

Everything under ``/api`` except ``/api/health`` and ``/api/login``, and every web page except the login,
the landing redirect and the assets, needs a token (or the session cookie) and passes
``api.deps.authorize_under``, which checks the one access table (``api.routes_access``); ``create_app``
refuses to build an app with a protected route the table does not name, or a public one it does not list
as public. Errors are ``{"detail": ...}`` JSON under ``/api`` and error pages elsewhere (a stranger is sent
to the login page).

Settings are ``ftthnoc.settings.Settings`` (``FTTHNOC_*``), read once at the edge and passed in.

Run it: ``uvicorn --factory api.app:app_from_environment --no-proxy-headers`` (or
``--forwarded-allow-ips`` with ``FTTHNOC_API_TRUSTED_PROXIES``' addresses: uvicorn's own default believes
``X-Forwarded-For`` from loopback, which would let anyone on the host pick the address the login limiter
sees). ``ftthnoc serve --api`` passes the setting to uvicorn itself (``api.service``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import web
from api.deps import CsrfRejected, authorize_under
from api.problems import status_of
from api.routers import (
    audit,
    auth,
    bwa_stations,
    districts,
    enrolments,
    health,
    households,
    incidents,
    kpis,
    olts,
    onus,
    schools,
    tablets,
    vpn_gateways,
)
from api.routers.common import AUTH_ERRORS
from api.routes_access import ACCESS, PUBLIC
from api.security import MIN_SECRET_LENGTH, SECRET_FILE, LoginRateLimiter, Role, persistent_secret
from api.services.common import ServiceError
from api.services.kpis import KpiCache
from api.services.onus import OnuStateProvider
from ftthnoc.inventory import db
from ftthnoc.linehistory import PrometheusHistory
from ftthnoc.livestore import PrometheusLatest
from ftthnoc.settings import Settings

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
    kpis.router,
    enrolments.router,
)
#: Routers that answer without a token (their routes must be in ``routes_access.PUBLIC``).
PUBLIC_ROUTERS: tuple[APIRouter, ...] = (health.router, auth.public_router)


TAGS = [
    {"name": "health", "description": "Liveness and database check (no token needed)."},
    {"name": "session", "description": "Web login and logout, and who the caller is."},
    {"name": "inventory", "description": "Districts, OLTs, PON ports, ONUs, BWA cells, VPN gateways."},
    {"name": "households", "description": "Subscribers; personal fields only for admin and support."},
    {"name": "schools", "description": "GIGA-school schools and tablets; school users see their own."},
    {"name": "incidents", "description": "Correlated outages and the quarterly report's reportable flag."},
    {"name": "audit", "description": "Who changed or read what (operator, admin; support: households)."},
]


def _route_keys(router: APIRouter, prefix: str) -> list[str]:
    """``"METHOD prefix/path"`` of every route of ``router``; a route that is not one (a nested router, a
    mount) cannot be checked, so it is refused rather than let through unchecked."""
    keys: list[str] = []
    for route in router.routes:
        methods, path = getattr(route, "methods", None), getattr(route, "path", None)
        if not methods or path is None:
            raise RuntimeError(f"cannot check {route!r} against the access table: list routers, do not nest them")
        keys.extend(f"{method} {prefix}{path}" for method in sorted(methods))
    return keys


def check_access_table(protected: Mapping[str, list[APIRouter]], public: Mapping[str, list[APIRouter]],
                       access: Mapping[str, frozenset[Role]]) -> None:  # fmt: skip
    """Every protected route (by mount prefix) is in ACCESS and every public one in PUBLIC, so that no
    route or page is reachable by accident, or by nobody."""
    missing = [key for prefix, routers in protected.items() for router in routers
               for key in _route_keys(router, prefix) if key not in access]  # fmt: skip
    unlisted = [key for prefix, routers in public.items() for router in routers
                for key in _route_keys(router, prefix) if key not in PUBLIC or key in access]  # fmt: skip
    if missing:
        raise RuntimeError(f"routes missing from api.routes_access.ACCESS: {', '.join(missing)}")
    if unlisted:
        raise RuntimeError(f"public routes not (only) in api.routes_access.PUBLIC: {', '.join(unlisted)}")


def app_secret(settings: Settings) -> bytes:
    """``FTTHNOC_API_SECRET``, else the one kept in the data directory (made there the first time:
    ``api.security.persistent_secret`` says why)."""
    if settings.api_secret is not None:
        value = settings.api_secret.get_secret_value()
        if len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"FTTHNOC_API_SECRET must have at least {MIN_SECRET_LENGTH} characters")
        return value.encode("utf-8")
    return persistent_secret(Path(settings.data_dir) / SECRET_FILE)


class NoStore:
    """``Cache-Control: no-store`` on every answer that does not say otherwise (the assets do): answers
    carry personal fields, a session's CSRF token or an operator's view, none of which a browser or a
    proxy may keep."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_no_store)


def create_app(engine: Engine, *, settings: Settings, onu_state: OnuStateProvider | None = None) -> FastAPI:
    """The API and its web pages over ``engine`` (an inventory migrated to head), configured by ``settings``.

    ``onu_state`` (also settable later as ``app.state.onu_state``) gives the ONUs' current state from the
    poller's snapshot.
    """
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
    app.state.settings = settings
    app.state.secret = app_secret(settings)
    app.state.login_limiter = LoginRateLimiter(settings.api_login_max_failures, settings.api_login_window_seconds)
    app.state.kpi_cache = KpiCache(settings.api_kpi_cache_seconds)
    app.state.onu_state = onu_state
    #: an ONU's last week for the household page: the time series when configured, else none until the
    #: process that polls hands its own (``api.service.start_api``)
    app.state.line_history = (PrometheusHistory(settings.prometheus_url, settings.prometheus_timeout_seconds)
                              if settings.prometheus_url else None)  # fmt: skip
    #: the ONUs' latest readings for OLTs this process does not poll (another shard's), from the same store
    app.state.live_store = (PrometheusLatest(settings.prometheus_url, settings.prometheus_timeout_seconds)
                            if settings.prometheus_url else None)  # fmt: skip
    #: the OLTs whose live state is this process's own poll (``api.service.start_api`` sets them)
    app.state.own_olts = None
    app.state.head_revision = db.head_revision()

    protected: dict[str, list[APIRouter]] = {API_PREFIX: list(PROTECTED_ROUTERS), "": []}
    public: dict[str, list[APIRouter]] = {API_PREFIX: list(PUBLIC_ROUTERS), "": []}
    # the web pages (api.web): mounted at the root behind the same authorize and the same table
    protected[""].extend(web.routers)
    public[""].extend(web.public_routers)
    page_error: Any = web.page_error  # the pages' answer to a refusal
    access = dict(ACCESS)
    check_access_table(protected, public, access)
    app.state.access = MappingProxyType(access)
    for prefix, routers in public.items():
        for router in routers:
            app.include_router(router, prefix=prefix)
    for prefix, routers in protected.items():
        for router in routers:
            app.include_router(router, prefix=prefix, dependencies=[Depends(authorize_under(prefix))],
                               responses=AUTH_ERRORS if prefix else None)  # fmt: skip

    def is_page(request: Request) -> bool:
        path = request.url.path
        return page_error is not None and path != API_PREFIX and not path.startswith(API_PREFIX + "/")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if is_page(request):
            return page_error(request, exc.status_code, exc.headers, csrf=isinstance(exc, CsrfRejected))
        return await http_exception_handler(request, exc)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Any:
        code = status_of(exc)
        if is_page(request):
            return page_error(request, code, exc.headers)
        return JSONResponse({"detail": exc.detail}, status_code=code, headers=exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Any:
        if is_page(request):  # a page answers in its language, never with the validator's English JSON
            return page_error(request, status.HTTP_422_UNPROCESSABLE_CONTENT)
        return await request_validation_exception_handler(request, exc)

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, exc: SQLAlchemyError) -> Any:
        log.error("database error: %s", type(exc).__name__)  # not the statement: it may hold personal data
        if is_page(request):
            return page_error(request, status.HTTP_503_SERVICE_UNAVAILABLE)
        return JSONResponse({"detail": "database unavailable"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Any:
        log.error("internal error: %s", type(exc).__name__, exc_info=exc)
        if is_page(request):
            return page_error(request, status.HTTP_500_INTERNAL_SERVER_ERROR)
        return JSONResponse({"detail": "internal error"}, status_code=status.HTTP_500_INTERNAL_SERVER_ERROR)

    app.add_middleware(NoStore)
    return app


def app_from_environment() -> FastAPI:
    """For ``uvicorn --factory api.app:app_from_environment``: every setting from ``FTTHNOC_*``."""
    from ftthnoc.settings import load_settings

    settings = load_settings()
    engine = db.make_engine(settings.database_url)
    db.require_current(engine)
    return create_app(engine, settings=settings)
