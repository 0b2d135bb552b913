"""``/api/login``, ``/api/logout`` and ``/api/me``: web sessions and "who am I".

A login takes ``{name, password}`` as JSON or as a form, is throttled per client address and per user
name (``api.security.LoginRateLimiter``: 429 with ``Retry-After``), and on success sets the
``ftthnoc_session`` cookie (HttpOnly) and the ``ftthnoc_csrf`` cookie, and returns the CSRF token that
forms and unsafe requests of the web pages send back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from api.deps import (
    Auth,
    CurrentPrincipal,
    DbSession,
    clear_session_cookies,
    client_address,
    csrf_protect,
    set_session_cookies,
    settings_of,
)
from api.routers.common import ErrorOut
from api.security import Role
from api.services import households, sessions

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
    routes: list[str] = Field(description="The API routes and web pages this role may call (METHOD /path).")


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
    state, settings = request.app.state, settings_of(request)
    opened = await run_in_threadpool(sessions.login, session, state.login_limiter, client_address(request),
                                     creds.name, creds.password, settings.api_session_lifetime_seconds)  # fmt: skip
    csrf = set_session_cookies(request, response, opened.token)
    p = opened.principal
    return LoginOut(name=p.name, role=p.role, school=p.school, csrf_token=csrf, expires_at=opened.expires_at)


@router.post("/logout", summary="End the web session", status_code=status.HTTP_204_NO_CONTENT,
             dependencies=[Depends(csrf_protect)],
             responses={403: {"model": ErrorOut, "description": "CSRF token missing or wrong."}})  # fmt: skip
def logout(auth: Auth, session: DbSession) -> Response:
    """Revokes the session token (an API token given as Bearer is left alone: revoke those on the command
    line) and clears the cookies."""
    sessions.logout(session, auth.principal, auth.token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(response)
    return response


@router.get("/me", summary="Who am I")
def me(request: Request, principal: CurrentPrincipal) -> MeOut:
    access: Mapping[str, frozenset[Role]] = request.app.state.access
    routes = sorted(route for route, roles in access.items() if principal.role in roles)
    return MeOut(name=principal.name, role=principal.role, school=principal.school,
                 personal_data=households.sees_personal_data(principal), routes=routes)  # fmt: skip
