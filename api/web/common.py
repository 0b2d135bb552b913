"""What every page shares: the templates, ``render`` (language, navigation, CSRF token, security headers),
the error pages and the way to the login page.

Pages are authorised like the API, by the one access table (``api.routes_access``) through the same
``authorize`` dependency that ``create_app`` attaches to the pages' router; when it refuses, the app's
error handler calls ``page_error`` here: a stranger is sent to the login page, a refused role gets the
403 page. What a page offers (navigation, forms) asks the same table (``api.deps.may``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path as FsPath
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.deps import Authenticated, may, secret_of, settings_of
from api.security import Principal, csrf_token
from api.services.common import Conflict, Forbidden, Invalid, ServiceError, Unavailable
from api.services.scope import own_school
from api.web import charts
from api.web.i18n import DEFAULT_LANG, LANG_COOKIE, LANGS, lang_of, translator
from ftthnoc.timezone import JST

HERE = FsPath(__file__).parent
STATIC_DIR = HERE / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def jst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "–" if value is None else _aware(value).astimezone(JST).strftime(fmt)


_env.filters["jst"] = jst
_env.filters["pct"] = charts.pct


def _lang_url(request: Request, lang: str) -> str:
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    query["lang"] = lang
    return f"{request.url.path}?{urlencode(query)}"


def home_of(request: Request, principal: Principal) -> str:
    """Where a user lands: the help desk for who may change lines, a school user's school, else the KPIs."""
    if may(request, principal, "POST /support/households/{code}/enrol"):
        return "/support"
    if principal.school and may(request, principal, "GET /schools/{code}"):
        return f"/schools/{principal.school}"
    return "/kpis"


def _nav(request: Request, principal: Principal, t: Any) -> list[tuple[str, str]]:
    nav: list[tuple[str, str]] = []
    if may(request, principal, "GET /support"):
        nav.append(("/support", t("support")))
    if may(request, principal, "GET /schools"):
        if own_school(principal) is None:
            nav.append(("/schools", t("schools")))
        elif principal.school:
            nav.append((f"/schools/{principal.school}", t("school")))
    if may(request, principal, "GET /kpis"):
        nav.append(("/kpis", t("kpis")))
    return nav


def place_name(lang: str) -> Any:
    """A district by name: its (Japanese) name alone on a Japanese page, with the code on an English one."""

    def place(name: str | None, code: str) -> str:
        if not name or name == code:
            return code
        return name if lang == DEFAULT_LANG else f"{name} ({code})"

    return place


def render(request: Request, template: str, auth: Authenticated | None, status_code: int = 200,
           **context: Any) -> HTMLResponse:  # fmt: skip
    lang = lang_of(request)
    t = translator(lang)
    principal = auth.principal if auth else None
    other = next(code for code in LANGS if code != lang)
    grafana = principal is not None and may(request, principal, "GET /grafana")
    html = _env.get_template(template).render(
        t=t,
        lang=lang,
        lang_switch=_lang_url(request, other),
        other_lang=other,
        place=place_name(lang),
        user=principal,
        csrf=csrf_token(secret_of(request), auth.token) if auth else "",
        nav=_nav(request, principal, t) if principal is not None else [],
        path=request.url.path,
        grafana_url=settings_of(request).grafana_url if grafana else None,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") in LANGS and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def error_page(request: Request, auth: Authenticated | None, status_code: int, key: str) -> HTMLResponse:
    return render(request, "error.html", auth, status_code, message_key=key)


def redirect(request: Request, target: str) -> RedirectResponse:
    """A 303 to ``target`` that keeps the language asked for with ``?lang=`` (remembered in the cookie, as
    a rendered page does), so that ``/?lang=en`` stays English through the login."""
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    asked = request.query_params.get("lang")
    if asked in LANGS:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="lax")
    return response


def to_login(request: Request) -> RedirectResponse:
    """The login page, coming back here afterwards (for a page; a form's POST cannot be replayed), in the
    language asked for."""
    if request.method not in ("GET", "HEAD"):
        return redirect(request, "/login")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": target}
    if request.query_params.get("lang") in LANGS:
        query["lang"] = request.query_params["lang"]
    return redirect(request, "/login?" + urlencode(query))


#: The error page's message by status (403 of a CSRF check: ``csrf_failed``).
_MESSAGES = {status.HTTP_403_FORBIDDEN: "forbidden", status.HTTP_404_NOT_FOUND: "not_found",
             status.HTTP_422_UNPROCESSABLE_CONTENT: "invalid_request", status.HTTP_429_TOO_MANY_REQUESTS: "too_many",
             status.HTTP_500_INTERNAL_SERVER_ERROR: "server_error",
             status.HTTP_503_SERVICE_UNAVAILABLE: "unavailable"}  # fmt: skip


def page_error(request: Request, status_code: int, headers: Mapping[str, str] | None = None, *,
               csrf: bool = False) -> Response:  # fmt: skip
    """A page's answer to a refusal: the login page for a stranger, else the error page."""
    if status_code == status.HTTP_401_UNAUTHORIZED:
        return to_login(request)
    key = "csrf_failed" if csrf else _MESSAGES.get(status_code, "error")
    response = error_page(request, getattr(request.state, "auth", None), status_code, key)
    for name, value in (headers or {}).items():
        if name.lower() in ("retry-after", "allow"):
            response.headers[name] = value
    return response


#: A service's refusal by its kind, as a form shows it (the service's own detail is English, for the API).
_REFUSALS: tuple[tuple[type[ServiceError], str], ...] = (
    (Invalid, "invalid_serial"), (Conflict, "job_conflict"), (Unavailable, "runner_busy"), (Forbidden, "forbidden"),
)


def form_error(request: Request, exc: ServiceError) -> str:
    """A refusal's words as a form shows them, in the page's language."""
    key = next((key for kind, key in _REFUSALS if isinstance(exc, kind)), "request_failed")
    return translator(lang_of(request))(key)


def login_csrf(secret: bytes, nonce: str) -> str:
    """The login form's CSRF token: bound to the pre-session nonce cookie of this browser."""
    return hmac.new(secret, b"login:" + nonce.encode("utf-8"), hashlib.sha256).hexdigest()


def safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no ``//host``, no backslash tricks)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target or "\n" in target:
        return None
    return target
