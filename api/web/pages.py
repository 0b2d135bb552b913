"""The server-rendered pages: login, subscriber support (search, a household's history, enrolment with live
progress), a school's tablets and uplink, and the town's KPIs with inline SVG charts.

Authentication is the web session cookie that ``POST /login`` (here) or ``POST /api/login`` sets; a page
asked for without one redirects to ``/login``. Every form POST carries the session's CSRF token (the
login form a pre-session one) and is refused without it. Personal fields (name, address, phone) are
rendered only for the roles of ``api.security.PERSONAL_ROLES``, and every page that shows them writes an
audit entry, as the API does. Pages never talk to a device: enrolment runs as a job (``api.jobs``) that
the page follows by polling ``GET /api/jobs/{id}`` (a few lines of ``static/job.js``; without script the
page refreshes itself).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import SESSION_COOKIE, DbSession
from api.jobs import Job
from api.routers import enrolments as enrolment_routes
from api.routers import kpis as kpi_routes
from api.routers.auth import LoginIn, check_login
from api.security import (
    CSRF_COOKIE,
    PERSONAL_ROLES,
    Principal,
    Role,
    csrf_token,
    csrf_valid,
    revoke_token,
    verify_token,
)
from api.web import charts
from api.web.i18n import LANG_COOKIE, LANGS, Translator, lang_of, translator
from ftthnoc.inventory.models import (
    AuditEntry,
    District,
    Enrolment,
    Household,
    HouseholdContact,
    HouseholdStatus,
    Olt,
    Onu,
    PonPort,
    School,
    Tablet,
)
from ftthnoc.kpi import figures
from ftthnoc.kpi.models import HouseholdStatusChange
from ftthnoc.normalise import normalise_serial
from ftthnoc.personal import PERSONAL_FIELDS
from ftthnoc.timezone import JST

log = logging.getLogger(__name__)

HERE = FsPath(__file__).parent
STATIC_DIR = HERE / "static"
DEFAULT_GRAFANA_URL = "http://localhost:3000"
GRAFANA_ENV = "FTTHNOC_GRAFANA_URL"
LOGIN_NONCE_COOKIE = "ftthnoc_login"
#: Rows a household search shows at most (each shown row with personal fields is audited).
SEARCH_LIMIT = 100
#: A tablet seen within this long is online.
ONLINE_WINDOW = timedelta(hours=24)

A, OP, S, SC = Role.ADMIN, Role.OPERATOR, Role.SUPPORT, Role.SCHOOL
#: Who may open which page (the API's own table covers only /api).
SUPPORT_READ = frozenset({A, OP, S})  # operators read without personal fields and change nothing
SUPPORT_WRITE = frozenset({A, S})
SCHOOL_PAGES = frozenset({A, OP, SC})
GRAFANA_ROLES = frozenset({A, OP})

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)

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


# ------------------------------------------------------------------------------------------ plumbing
@dataclass(frozen=True)
class WebUser:
    principal: Principal
    token: str


def web_user(request: Request, session: Session) -> WebUser | None:
    """The caller of a page from the session cookie, or None (expired, revoked, absent)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    principal = verify_token(session, token)
    if principal is None:
        return None
    if session.dirty:  # last_used_at
        session.commit()
    session.info["actor"] = principal.name
    return WebUser(principal, token)


def _secret(request: Request) -> bytes:
    secret: bytes = request.app.state.secret
    return secret


def _grafana_url(request: Request) -> str:
    return str(getattr(request.app.state, "grafana_url", None) or os.environ.get(GRAFANA_ENV) or DEFAULT_GRAFANA_URL)


def _lang_url(request: Request, lang: str) -> str:
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    query["lang"] = lang
    return f"{request.url.path}?{urlencode(query)}"


def home_of(principal: Principal) -> str:
    if principal.role in SUPPORT_WRITE:
        return "/support"
    if principal.role is Role.SCHOOL and principal.school:
        return f"/schools/{principal.school}"
    return "/kpis"


def render(request: Request, template: str, user: WebUser | None, status_code: int = 200,
           **context: Any) -> HTMLResponse:  # fmt: skip
    lang = lang_of(request)
    t = translator(lang)
    principal = user.principal if user else None
    nav: list[tuple[str, str]] = []
    if principal is not None:
        if principal.role in SUPPORT_READ:
            nav.append(("/support", t("support")))
        if principal.role in (A, OP):
            nav.append(("/schools", t("schools")))
        elif principal.role is Role.SCHOOL and principal.school:
            nav.append((f"/schools/{principal.school}", t("school")))
        nav.append(("/kpis", t("kpis")))
    other = next(code for code in LANGS if code != lang)
    html = _env.get_template(template).render(
        t=t,
        lang=lang,
        lang_switch=_lang_url(request, other),
        user=principal,
        csrf=csrf_token(_secret(request), user.token) if user else "",
        nav=nav,
        path=request.url.path,
        grafana_url=_grafana_url(request) if principal is not None and principal.role in GRAFANA_ROLES else None,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") in LANGS and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def error_page(request: Request, user: WebUser | None, status_code: int, key: str) -> HTMLResponse:
    return render(request, "error.html", user, status_code, message_key=key)


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status.HTTP_303_SEE_OTHER)


def gate(request: Request, session: Session, roles: Iterable[Role]) -> WebUser | Response:
    """The page's user if their role may open it; else the redirect to the login or the 403 page."""
    user = web_user(request, session)
    if user is None:
        return to_login(request)
    if user.principal.role not in frozenset(roles):
        return error_page(request, user, status.HTTP_403_FORBIDDEN, "forbidden")
    return user


def form_csrf_ok(request: Request, user: WebUser, submitted: str) -> bool:
    return csrf_valid(_secret(request), user.token, submitted, request.cookies.get(CSRF_COOKIE))


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no ``//host``, no backslash tricks)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target or "\n" in target:
        return None
    return target


def _login_csrf(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, b"login:" + nonce.encode("utf-8"), hashlib.sha256).hexdigest()


def _audit_personal_read(session: Session, principal: Principal, codes: list[str]) -> None:
    """One audit entry per page that disclosed personal fields (which households, never the values)."""
    detail = {"rows": len(codes), "fields": list(PERSONAL_FIELDS), "households": codes, "via": "web"}
    session.add(AuditEntry(actor=principal.name, action="read", entity="household_contacts", detail=detail,
                           outcome="ok"))  # fmt: skip
    session.commit()


# ------------------------------------------------------------------------------------------- static
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or path.suffix not in _STATIC_TYPES or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    return FileResponse(path, media_type=_STATIC_TYPES[path.suffix], headers={"Cache-Control": "max-age=300"})


# -------------------------------------------------------------------------------------------- login
@router.get("/")
def index(request: Request, session: DbSession) -> Response:
    user = web_user(request, session)
    return RedirectResponse(home_of(user.principal) if user else "/login", status.HTTP_303_SEE_OTHER)


def _login_page(request: Request, *, error: str | None = None, status_code: int = 200, name: str = "",
                next_url: str | None = None) -> HTMLResponse:  # fmt: skip
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", None, status_code, error=error, name=name,
                      login_csrf=_login_csrf(_secret(request), nonce), next_url=next_url or "")  # fmt: skip
    response.set_cookie(LOGIN_NONCE_COOKIE, nonce, max_age=3600, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")  # fmt: skip
    return response


@router.get("/login")
def login_form(request: Request, next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    return _login_page(request, next_url=_safe_next(next))


@router.post("/login")
def login_submit(
    request: Request,
    session: DbSession,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token", max_length=200)] = "",
    next_url: Annotated[str, Form(alias="next", max_length=500)] = "",
) -> Response:
    t = translator(lang_of(request))
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
    if not nonce or not hmac.compare_digest(csrf_token_.encode(), _login_csrf(_secret(request), nonce).encode()):
        return _login_page(request, error=t("csrf_failed"), status_code=403, name=name, next_url=_safe_next(next_url))
    if not name or not password:
        return _login_page(request, error=t("login_invalid"), status_code=422, name=name,
                           next_url=_safe_next(next_url))  # fmt: skip
    state = request.app.state
    address = request.client.host if request.client else "unknown"
    try:
        out, token = check_login(session, state.login_limiter, address, LoginIn(name=name, password=password),
                            state.api_settings.session_lifetime_seconds)  # fmt: skip
    except HTTPException as exc:
        if exc.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
            seconds = (exc.headers or {}).get("Retry-After", "60")
            page = _login_page(request, error=t("login_throttled", seconds=seconds), status_code=429, name=name,
                               next_url=_safe_next(next_url))  # fmt: skip
            page.headers["Retry-After"] = seconds
            return page
        return _login_page(request, error=t("login_failed"), status_code=401, name=name,
                           next_url=_safe_next(next_url))  # fmt: skip
    principal = Principal(name=out.name, role=out.role, school=out.school, token_kind="session")
    response = RedirectResponse(_safe_next(next_url) or home_of(principal), status.HTTP_303_SEE_OTHER)
    secure = state.api_settings.secure_cookies or request.url.scheme == "https"
    max_age = int(state.api_settings.session_lifetime_seconds)
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=secure, samesite="lax")
    response.set_cookie(CSRF_COOKIE, csrf_token(_secret(request), token), max_age=max_age, httponly=False,
                        secure=secure, samesite="lax")  # fmt: skip
    response.delete_cookie(LOGIN_NONCE_COOKIE)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/logout")
def logout_form(request: Request, session: DbSession) -> Response:
    user = web_user(request, session)
    if user is None:
        return RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    return render(request, "logout.html", user)


@router.post("/logout")
def logout_submit(request: Request, session: DbSession,
                  csrf_token_: Annotated[str, Form(alias="csrf_token", max_length=200)] = "") -> Response:  # fmt: skip
    user = web_user(request, session)
    if user is None:
        return RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    if not form_csrf_ok(request, user, csrf_token_):
        return error_page(request, user, status.HTTP_403_FORBIDDEN, "csrf_failed")
    if user.principal.token_kind == "session":
        revoke_token(session, user.token)
        session.commit()
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


# ------------------------------------------------------------------------------------------ support
def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@router.get("/support")
def support_search(
    request: Request,
    session: DbSession,
    code: Annotated[str, Query(max_length=32)] = "",
    district: Annotated[str, Query(max_length=32)] = "",
    status_: Annotated[str, Query(alias="status", max_length=16)] = "",
) -> Response:
    user = gate(request, session, SUPPORT_READ)
    if isinstance(user, Response):
        return user
    personal = user.principal.role in PERSONAL_ROLES
    districts = list(session.execute(select(District.code, District.name).order_by(District.code)))
    searched = bool(code or district or status_)
    rows: list[dict[str, Any]] = []
    more = False
    if searched:
        stmt = select(Household, District.code).join(District, Household.district_id == District.id)
        if code:
            stmt = stmt.where(Household.code.ilike(_like(code.strip()), escape="\\"))
        if district:
            stmt = stmt.where(District.code == district)
        if status_ in set(HouseholdStatus):
            stmt = stmt.where(Household.status == HouseholdStatus(status_))
        found = list(session.execute(stmt.order_by(Household.code).limit(SEARCH_LIMIT + 1)))
        more = len(found) > SEARCH_LIMIT
        found = found[:SEARCH_LIMIT]
        contacts: dict[int, HouseholdContact] = {}
        if personal and found:
            ids = [h.id for h, _ in found]
            contacts = {c.household_id: c for c in session.scalars(
                select(HouseholdContact).where(HouseholdContact.household_id.in_(ids)))}  # fmt: skip
        for household, district_code in found:
            row: dict[str, Any] = {"code": household.code, "district": district_code, "plan": household.plan,
                                   "status": str(household.status)}  # fmt: skip
            contact = contacts.get(household.id)
            if personal:
                row.update({f: getattr(contact, f) if contact else None for f in PERSONAL_FIELDS})
            rows.append(row)
        disclosed = [h.code for h, _ in found if h.id in contacts]
        if disclosed:
            _audit_personal_read(session, user.principal, disclosed)
    return render(request, "support.html", user, rows=rows, searched=searched, more=more, limit=SEARCH_LIMIT,
                  personal=personal, districts=districts, statuses=[str(s) for s in HouseholdStatus],
                  q={"code": code, "district": district, "status": status_})  # fmt: skip


def _job_view(job: Job) -> dict[str, Any]:
    data = job.as_json()
    data["state_key"] = {"queued": "job_queued", "running": "job_running"}.get(data["state"], "job_finished")
    return data


def _household_page(request: Request, session: Session, user: WebUser, code: str, *, job_id: str | None = None,
                    error: str | None = None, status_code: int = 200) -> Response:  # fmt: skip
    found = session.execute(select(Household, District.code, District.name)
                            .join(District, Household.district_id == District.id)
                            .where(Household.code == code)).first()  # fmt: skip
    if found is None:
        return error_page(request, user, status.HTTP_404_NOT_FOUND, "not_found")
    household, district_code, district_name = found
    personal = user.principal.role in PERSONAL_ROLES
    contact: dict[str, str | None] | None = None
    if personal:
        row = session.scalar(select(HouseholdContact).where(HouseholdContact.household_id == household.id))
        contact = {f: getattr(row, f) if row else None for f in PERSONAL_FIELDS}
        if row is not None:
            _audit_personal_read(session, user.principal, [household.code])
    onus = list(session.execute(
        select(Onu.serial, Olt.name, PonPort.port, Onu.onu_id).join(PonPort, Onu.pon_port_id == PonPort.id)
        .join(Olt, PonPort.olt_id == Olt.id).where(Onu.household_id == household.id).order_by(Onu.serial)))  # fmt: skip
    runs = list(session.scalars(select(Enrolment).where(Enrolment.household_id == household.id)
                                .order_by(Enrolment.id.desc()).limit(50)))  # fmt: skip
    changes = list(session.execute(
        select(HouseholdStatusChange.status, HouseholdStatusChange.at)
        .where(HouseholdStatusChange.household_id == household.id)
        .order_by(HouseholdStatusChange.at.desc(), HouseholdStatusChange.id.desc()).limit(50)))  # fmt: skip
    job = None
    runner = getattr(request.app.state, "jobs", None)
    if job_id and runner is not None:
        found_job = runner.get(job_id)
        if found_job is not None and found_job.household == household.code:
            job = _job_view(found_job)
    hs = household.status
    can_change = user.principal.role in SUPPORT_WRITE
    actions = [] if not can_change else [
        a for a, ok in (("suspend", hs == HouseholdStatus.ACTIVE), ("resume", hs == HouseholdStatus.SUSPENDED),
                        ("cancel", hs in (HouseholdStatus.ACTIVE, HouseholdStatus.SUSPENDED)))
        if ok
    ]  # fmt: skip
    return render(request, "household.html", user, status_code, household=household, status=str(hs),
                  district=district_code, district_name=district_name, personal=personal, contact=contact,
                  onus=onus, runs=runs, changes=changes, job=job, error=error,
                  can_enrol=can_change and hs == HouseholdStatus.INSTALLED, actions=actions,
                  busy=job is not None and not job["finished"])  # fmt: skip


@router.get("/support/households/{code}")
def household_page(request: Request, session: DbSession, code: Annotated[str, Path(max_length=32)],
                   job: Annotated[str | None, Query(max_length=64)] = None) -> Response:  # fmt: skip
    user = gate(request, session, SUPPORT_READ)
    if isinstance(user, Response):
        return user
    return _household_page(request, session, user, code, job_id=job)


def _start_job(request: Request, session: Session, user: WebUser, code: str, kind: str, submitted: str, *,
               serial: str | None = None, dry_run: bool = False) -> Response:  # fmt: skip
    t = translator(lang_of(request))
    if not form_csrf_ok(request, user, submitted):
        return error_page(request, user, status.HTTP_403_FORBIDDEN, "csrf_failed")
    if session.scalar(select(Household.id).where(Household.code == code)) is None:
        return error_page(request, user, status.HTTP_404_NOT_FOUND, "not_found")
    if serial is not None:
        try:
            serial = normalise_serial(serial)
        except ValueError as exc:
            return _household_page(request, session, user, code, error=str(exc), status_code=422)
    try:
        runner = enrolment_routes.job_runner(request)
        accepted = enrolment_routes.submit(runner, Response(), kind, code, user.principal.name, serial=serial,
                                           dry_run=dry_run)  # fmt: skip
    except HTTPException as exc:
        return _household_page(request, session, user, code, error=f"{t('error')}: {exc.detail}",
                               status_code=exc.status_code)  # fmt: skip
    query = {"job": accepted.job}
    if request.query_params.get("lang") in LANGS:
        query["lang"] = request.query_params["lang"]
    return RedirectResponse(f"/support/households/{code}?{urlencode(query)}", status.HTTP_303_SEE_OTHER)


@router.post("/support/households/{code}/enrol")
def household_enrol(
    request: Request,
    session: DbSession,
    code: str,
    serial: Annotated[str, Form(max_length=32)] = "",
    dry_run: Annotated[bool, Form()] = False,
    csrf_token_: Annotated[str, Form(alias="csrf_token", max_length=200)] = "",
) -> Response:
    user = gate(request, session, SUPPORT_WRITE)
    if isinstance(user, Response):
        return user
    return _start_job(request, session, user, code, "enrol", csrf_token_, serial=serial, dry_run=dry_run)


@router.post("/support/households/{code}/{action}")
def household_line(request: Request, session: DbSession, code: str, action: str,
                   csrf_token_: Annotated[str, Form(alias="csrf_token", max_length=200)] = "") -> Response:  # fmt: skip
    user = gate(request, session, SUPPORT_WRITE)
    if isinstance(user, Response):
        return user
    if action not in ("suspend", "resume", "cancel"):
        return error_page(request, user, status.HTTP_404_NOT_FOUND, "not_found")
    return _start_job(request, session, user, code, action, csrf_token_)


# ------------------------------------------------------------------------------------------ schools
@router.get("/schools")
def schools_page(request: Request, session: DbSession) -> Response:
    user = gate(request, session, SCHOOL_PAGES)
    if isinstance(user, Response):
        return user
    if user.principal.role is Role.SCHOOL:
        return RedirectResponse(f"/schools/{user.principal.school}", status.HTTP_303_SEE_OTHER)
    peaks = kpi_routes.school_peaks(request)
    rows = figures.school_bandwidth(session, peaks)
    seen = {r["school"]: r for r in figures.tablets_seen(session, datetime.now(UTC))["schools"]}
    for row in rows:
        row["seen"] = seen.get(row["school"])
    return render(request, "schools.html", user, rows=rows)


def _tablet_state(seen: datetime | None, now: datetime) -> str:
    if seen is None:
        return "never_seen"
    return "online" if _aware(seen) >= now - ONLINE_WINDOW else "offline"


@router.get("/schools/{code}")
def school_page(request: Request, session: DbSession, code: Annotated[str, Path(max_length=32)]) -> Response:
    user = gate(request, session, SCHOOL_PAGES)
    if isinstance(user, Response):
        return user
    principal = user.principal
    school = session.scalar(select(School).where(School.code == code))
    # another school's page answers as a missing one would: codes do not leak
    if school is None or (principal.role is Role.SCHOOL and principal.school != code):
        return error_page(request, user, status.HTTP_404_NOT_FOUND, "not_found")
    now = datetime.now(UTC)
    tablets = session.execute(
        select(Tablet.asset_no, Tablet.os, Tablet.grade, Tablet.class_name, Tablet.last_seen_at)
        .where(Tablet.school_id == school.id, Tablet.status == "active")
        .order_by(Tablet.grade, Tablet.class_name, Tablet.asset_no))  # fmt: skip
    grades: dict[int | None, dict[str, list[dict[str, Any]]]] = {}
    totals = {"online": 0, "offline": 0, "never_seen": 0}
    for asset, os_name, grade, class_name, seen in tablets:
        state = _tablet_state(seen, now)
        totals[state] += 1
        grades.setdefault(grade, {}).setdefault(class_name or "–", []).append(
            {"asset": asset, "os": os_name, "state": state, "seen": seen})
    groups = [
        {"grade": grade, "classes": [
            {"name": name, "tablets": items, "online": sum(1 for i in items if i["state"] == "online")}
            for name, items in classes.items()]}
        for grade, classes in sorted(grades.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]  # fmt: skip
    found = figures.school_bandwidth(session, kpi_routes.school_peaks(request), school=code)
    bandwidth = found[0] if found else None
    t: Translator = translator(lang_of(request))
    chart = None
    if bandwidth is not None:
        chart = charts.versus(bandwidth["peak_mbps"], bandwidth["target_mbps"], t("bandwidth"),
                              value_label=t("peak"), target_label=t("mext_target"))  # fmt: skip
    return render(request, "school.html", user, school=school, groups=groups, totals=totals,
                  total=sum(totals.values()), bandwidth=bandwidth, chart=chart, now=now)  # fmt: skip


# --------------------------------------------------------------------------------------------- KPIs
@router.get("/kpis")
def kpis_page(request: Request, session: DbSession) -> Response:
    user = gate(request, session, frozenset(Role))
    if isinstance(user, Response):
        return user
    t = translator(lang_of(request))
    now = datetime.now(UTC)
    data = kpi_routes.overview(session, now, kpi_routes.school_peaks(request), user.principal,
                                kpi_routes.kpi_cache(request))
    subs = data["subscriptions"]
    tabs = data["tablets"]
    tele = data["telework"]
    avail = data["availability"]
    svg = {
        "progress": charts.progress(subs["active"], subs["target"], t("subscriptions"),
                                    text=t("progress_to", active=f"{subs['active']:,}", target=f"{subs['target']:,}",
                                           pct=charts.pct(subs["progress"]))),
        "monthly": charts.line([(m["month"], float(m["active"])) for m in subs["monthly"]], t("monthly"),
                               target=float(subs["target"]), fmt=lambda v: f"{v:,.0f}"),
        "take_up": charts.bars([(f"{d['name']} ({d['district']})", d["take_up"]) for d in subs["by_district"]],
                               t("take_up")),
        "tablets": charts.bars([(t("town"), tabs["town"]["share_24h"])]
                               + [(r["name"], r["share_24h"]) for r in tabs["schools"]], t("tablets_seen")),
        "availability": charts.bars([(m["month"], m["ratio"]) for m in avail[-12:]], t("availability"),
                                    fmt=lambda v: charts.pct(v, 3)),
        "telework": charts.progress(tele["reduction"] or 0.0, tele["target"], t("telework"),
                                    text=f"{charts.pct(tele['reduction'])} / {t('target')} "
                                         f"{charts.pct(tele['target'])}"),
        "bandwidth": [
            (row, charts.versus(row["peak_mbps"], row["target_mbps"], f"{t('bandwidth')} {row['name']}",
                                value_label=t("peak"), target_label=t("mext_target")))
            for row in data["school_bandwidth"]
        ],
    }  # fmt: skip
    return render(request, "kpis.html", user, data=data, svg=svg, generated=now)
