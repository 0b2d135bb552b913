"""``/api/login``, ``/api/logout`` and ``/api/me``: web sessions and "who am I".

A login takes ``{name, password}`` as JSON or as a form, is throttled per client address and per user
name (``api.security.LoginRateLimiter``: 429 with ``Retry-After``), and on success sets the
``ftthnoc_session`` cookie (HttpOnly) and the ``ftthnoc_csrf`` cookie, and returns the CSRF token that
forms and unsafe requests of the web pages send back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.deps import SESSION_COOKIE, Auth, CurrentPrincipal, DbSession, csrf_protect
from api.routers.common import ErrorOut
from api.security import (
    CSRF_COOKIE,
    LoginRateLimiter,
    Role,
    as_utc,
    csrf_token,
    issue_token,
    principal_of,
    revoke_token,
    utcnow,
    verify_password,
)
from ftthnoc.inventory.models import ApiToken, AuditEntry, User

log = logging.getLogger(__name__)

public_router = APIRouter(tags=["session"])
router = APIRouter(tags=["session"])


class LoginIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(BaseModel):
    name: str
    role: Role
    school: str | None
    csrf_token: str = Field(description="Send back as the X-CSRF-Token header or the csrf_token form field.")
    expires_at: datetime


class MeOut(BaseModel):
    name: str
    role: Role
    school: str | None = Field(description="The school of a school user; null for other roles.")
    personal_data: bool = Field(description="Whether this role sees households' personal fields.")
    routes: list[str] = Field(description="The API routes this role may call (METHOD /path).")


#: Inline (not a $ref): LoginIn is no FastAPI body parameter, so it is not among the components.
_LOGIN_SCHEMA: dict[str, Any] = LoginIn.model_json_schema()
_LOGIN_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": _LOGIN_SCHEMA},
        "application/x-www-form-urlencoded": {"schema": _LOGIN_SCHEMA},
    },
}


async def _credentials(request: Request) -> LoginIn:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: Any
    if content_type == "application/x-www-form-urlencoded" or content_type == "multipart/form-data":
        form = await request.form()
        data = {k: v for k, v in form.items() if isinstance(v, str)}
    else:
        try:
            data = json.loads(await request.body() or b"null")
        except (ValueError, UnicodeDecodeError):
            raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error",
                                           "input": None}]) from None  # fmt: skip
    try:
        return LoginIn.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None


def check_login(session: Session, limiter: LoginRateLimiter, address: str, creds: LoginIn,
                lifetime_seconds: float) -> tuple[LoginOut, str]:  # fmt: skip
    """Check the password (scrypt: run in a worker thread), then open a session; returns (answer, token)."""
    wait = limiter.retry_after(address, creds.name)
    if wait is not None:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed logins; try again later",
                            headers={"Retry-After": str(wait)})  # fmt: skip
    user = session.scalar(select(User).where(User.name == creds.name))
    password_ok = verify_password(creds.password, user.password_hash if user is not None else None)
    if user is None or not user.active or not password_ok:
        limiter.failure(address, creds.name)
        log.info("failed login from %s", address)  # never the name typed: it may be a password
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong user name or password")
    limiter.success(address, creds.name)
    now = utcnow()
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.kind == "session",
                                           ApiToken.expires_at < now))  # fmt: skip
    issued = issue_token(session, user, kind="session", lifetime=timedelta(seconds=lifetime_seconds))
    principal = principal_of(session, user, token_kind="session")
    session.add(AuditEntry(actor=user.name, action="login", entity="user", outcome="ok",
                           detail={"name": user.name, "prefix": issued.prefix, "address": address}))  # fmt: skip
    session.commit()
    assert issued.expires_at is not None
    out = LoginOut(name=principal.name, role=principal.role, school=principal.school, csrf_token="",
                   expires_at=as_utc(issued.expires_at))  # fmt: skip
    return out, issued.token


@public_router.post(
    "/login",
    summary="Open a web session",
    openapi_extra={"requestBody": _LOGIN_BODY},
    responses={401: {"model": ErrorOut, "description": "Wrong user name or password."},
               422: {"model": ErrorOut, "description": "Malformed request."},
               429: {"model": ErrorOut, "description": "Too many failed logins (see Retry-After)."}},
)  # fmt: skip
async def login(request: Request, response: Response, session: DbSession) -> LoginOut:
    creds = await _credentials(request)
    address = request.client.host if request.client else "unknown"
    state = request.app.state
    out, token = await run_in_threadpool(check_login, session, state.login_limiter, address, creds,
                                         state.api_settings.session_lifetime_seconds)  # fmt: skip
    out.csrf_token = csrf_token(state.secret, token)
    secure = state.api_settings.secure_cookies or request.url.scheme == "https"
    max_age = int(state.api_settings.session_lifetime_seconds)
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=secure, samesite="lax")
    response.set_cookie(CSRF_COOKIE, out.csrf_token, max_age=max_age, httponly=False, secure=secure,
                        samesite="lax")  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return out


@router.post("/logout", summary="End the web session", status_code=status.HTTP_204_NO_CONTENT,
             dependencies=[Depends(csrf_protect)],
             responses={403: {"model": ErrorOut, "description": "CSRF token missing or wrong."}})  # fmt: skip
def logout(auth: Auth, session: DbSession) -> Response:
    """Revokes the session token (an API token given as Bearer is left alone: revoke those on the command
    line) and clears the cookies."""
    if auth.principal.token_kind == "session":
        revoke_token(session, auth.token)
        session.commit()
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/me", summary="Who am I")
def me(request: Request, principal: CurrentPrincipal) -> MeOut:
    access: Mapping[str, frozenset[Role]] = request.app.state.access
    routes = sorted(route for route, roles in access.items() if principal.role in roles)
    return MeOut(name=principal.name, role=principal.role, school=principal.school,
                 personal_data=principal.sees_personal_data, routes=routes)  # fmt: skip
