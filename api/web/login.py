"""The landing redirect, the login page (public) and the logout page.

The login form carries a pre-session CSRF token bound to a nonce cookie; a successful login opens the same
web session as ``POST /api/login`` (``api.services.sessions``, same throttle, same cookies).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import (
    Auth,
    DbSession,
    clear_session_cookies,
    client_address,
    csrf_protect,
    optional_authentication,
    secret_of,
    set_session_cookies,
    settings_of,
)
from api.services import sessions
from api.services.common import Throttled, Unauthenticated
from api.web.common import home_of, login_csrf, redirect, render, safe_next
from api.web.i18n import LANGS, lang_of, translator

LOGIN_NONCE_COOKIE = "ftthnoc_login"

#: Pages anyone may open (``api.routes_access.PUBLIC``).
public_router = APIRouter(include_in_schema=False)
#: Pages behind the access table.
router = APIRouter(include_in_schema=False)


@public_router.get("/")
def index(request: Request, session: DbSession) -> Response:
    auth = optional_authentication(request, session)
    target = home_of(request, auth.principal) if auth else "/login"
    lang = request.query_params.get("lang")
    return redirect(request, target + (f"?{urlencode({'lang': lang})}" if lang in LANGS else ""))


def _login_page(request: Request, *, error: str | None = None, status_code: int = 200, name: str = "",
                next_url: str | None = None) -> HTMLResponse:  # fmt: skip
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", None, status_code, error=error, name=name,
                      login_csrf=login_csrf(secret_of(request), nonce), next_url=next_url or "")  # fmt: skip
    response.set_cookie(LOGIN_NONCE_COOKIE, nonce, max_age=3600, httponly=True, samesite="strict",
                        secure=settings_of(request).api_secure_cookies or request.url.scheme == "https")  # fmt: skip
    return response


@public_router.get("/login")
def login_form(request: Request, next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    return _login_page(request, next_url=safe_next(next))


@public_router.post("/login")
def login_submit(
    request: Request,
    session: DbSession,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token", max_length=200)] = "",
    next_url: Annotated[str, Form(alias="next", max_length=500)] = "",
) -> Response:
    t = translator(lang_of(request))
    back = safe_next(next_url)
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
    if not nonce or not hmac.compare_digest(csrf_token_.encode(), login_csrf(secret_of(request), nonce).encode()):
        return _login_page(request, error=t("csrf_failed"), status_code=403, name=name, next_url=back)
    if not name or not password:
        return _login_page(request, error=t("login_invalid"), status_code=422, name=name, next_url=back)
    settings = settings_of(request)
    try:
        opened = sessions.login(session, request.app.state.login_limiter, client_address(request), name, password,
                                settings.api_session_lifetime_seconds)  # fmt: skip
    except Throttled as exc:
        page = _login_page(request, error=t("login_throttled", seconds=exc.retry_after), status_code=429,
                           name=name, next_url=back)  # fmt: skip
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except Unauthenticated:
        return _login_page(request, error=t("login_failed"), status_code=401, name=name, next_url=back)
    response = RedirectResponse(back or home_of(request, opened.principal), status.HTTP_303_SEE_OTHER)
    set_session_cookies(request, response, opened.token)
    response.delete_cookie(LOGIN_NONCE_COOKIE)
    return response


@router.get("/logout")
def logout_form(request: Request, auth: Auth) -> Response:
    return render(request, "logout.html", auth)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout_submit(session: DbSession, auth: Auth) -> Response:
    sessions.logout(session, auth.principal, auth.token)
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    clear_session_cookies(response)
    return response
