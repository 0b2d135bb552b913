"""The authorization matrix: every API route and every web page x every role (and anonymous, expired,
revoked, disabled and malformed credentials) -> the expected status, over HTTP.

The expectations below are written out by hand, independently of ``api.routes_access.ACCESS``: a test
that derived them from the table could never fail. ``test_every_route_has_an_expectation`` and
``test_every_page_has_an_expectation`` make a new route or page fail here until someone writes down who
may call it; ``create_app`` refuses to start with one the table does not name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine, func, select

import api.app
import api.web
from api.app import create_app
from api.deps import SESSION_COOKIE
from api.routes_access import ACCESS, PUBLIC
from api.security import CSRF_COOKIE, Role, csrf_token, issue_token
from ftthnoc.inventory import db
from ftthnoc.inventory.models import AuditEntry, User
from tests.api.conftest import SECRET, Seeded, TestClient, bearer, engine_copy, settings_for

EVERY = "admin operator support school viewer"
INFRA = "admin operator support viewer"

#: route -> (URL to call, the roles that get in, the status they get). Written by hand: do not derive.
EXPECTED: dict[str, tuple[str, str, int]] = {
    "POST /api/logout": ("/api/logout", EVERY, 204),
    "GET /api/me": ("/api/me", EVERY, 200),
    "GET /api/districts": ("/api/districts", INFRA, 200),
    "GET /api/olts": ("/api/olts", INFRA, 200),
    "GET /api/olts/{name}": ("/api/olts/olt-oasa-1", INFRA, 200),
    "GET /api/olts/{name}/pon_ports": ("/api/olts/olt-chiyoda-1/pon_ports", INFRA, 200),
    "GET /api/onus": ("/api/onus", "admin operator support", 200),
    "GET /api/onus/{serial}": ("/api/onus/ZTEG-C0000001", "admin operator support", 200),
    "GET /api/households": ("/api/households", "admin operator support", 200),
    "GET /api/households/{code}": ("/api/households/HH-000002", "admin operator support", 200),
    "GET /api/schools": ("/api/schools", "admin operator school", 200),
    "GET /api/schools/{code}": ("/api/schools/chiyoda-es", "admin operator school", 200),
    "GET /api/tablets": ("/api/tablets", "admin operator school", 200),
    "GET /api/tablets/{tablet_id}": ("/api/tablets/{chiyoda_tablet}", "admin operator school", 200),
    # no body: the roles let in get the importer's refusal (nothing written); tests/api/test_mdm_import.py imports
    "POST /api/tablets/mdm-imports": ("/api/tablets/mdm-imports?kind=google", "admin school", 422),
    "GET /api/bwa_stations": ("/api/bwa_stations", "admin operator support", 200),
    "GET /api/vpn_gateways": ("/api/vpn_gateways", "admin operator", 200),
    "GET /api/incidents": ("/api/incidents?open=false", INFRA, 200),
    "GET /api/incidents/{incident_id}": ("/api/incidents/{open_incident}", INFRA, 200),
    "GET /api/audit": ("/api/audit", "admin operator support", 200),
}

#: Routes of the other helpers' routers (KPIs, provisioning jobs), present when their modules are: only
#: "gets in" (not 401/403) versus "refused" (403) is checked here; their own tests check the answers.
#: Without a provisioning configuration the job routes answer 503 and start nothing.
OTHERS: dict[str, tuple[str, str]] = {
    "GET /api/kpis": ("/api/kpis", EVERY),
    "GET /api/kpis/subscriptions/monthly": ("/api/kpis/subscriptions/monthly", EVERY),
    "GET /api/kpis/subscriptions/districts": ("/api/kpis/subscriptions/districts", EVERY),
    "GET /api/kpis/tablets": ("/api/kpis/tablets", EVERY),
    "GET /api/kpis/tablets/home": ("/api/kpis/tablets/home", EVERY),
    "GET /api/kpis/schools/bandwidth": ("/api/kpis/schools/bandwidth", EVERY),
    "GET /api/kpis/availability": ("/api/kpis/availability", EVERY),
    "GET /api/kpis/tablets/daily": ("/api/kpis/tablets/daily", EVERY),
    "GET /api/kpis/telework/monthly": ("/api/kpis/telework/monthly", EVERY),
    "GET /api/kpis/availability/monthly": ("/api/kpis/availability/monthly", EVERY),
    "POST /api/enrolments": ("/api/enrolments", "admin support"),
    "POST /api/households/{code}/suspend": ("/api/households/HH-000001/suspend", "admin support"),
    "POST /api/households/{code}/resume": ("/api/households/HH-000002/resume", "admin support"),
    "POST /api/households/{code}/cancel": ("/api/households/HH-000004/cancel", "admin support"),
    "GET /api/jobs/{job_id}": ("/api/jobs/0123456789abcdef", "admin operator support"),
}

ROLES = ("admin", "operator", "support", "school", "viewer")
#: Callers that are not authenticated at all: always 401, whatever the route.
UNAUTHENTICATED = ("anonymous", "expired", "revoked", "disabled", "garbage", "basic")


def _headers(seeded: Seeded, who: str) -> dict[str, str]:
    if who == "anonymous":
        return {}
    if who == "garbage":
        return bearer("ftn_" + "x" * 43)
    if who == "basic":
        return {"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="}
    return bearer(seeded.tokens[who])


def _url(seeded: Seeded, template: str) -> str:
    return template.format(chiyoda_tablet=seeded.tablets[("chiyoda-es", "T-0001")],
                           open_incident=seeded.incidents["open"])  # fmt: skip


@pytest.fixture(scope="module")
def matrix_app(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    directory = tmp_path_factory.mktemp("matrix")
    engine = engine_copy(seeded, directory)
    yield create_app(engine, settings=settings_for(directory))
    engine.dispose()


@pytest.fixture(scope="module")
def matrix_client(matrix_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(matrix_app) as c:
        yield c


def _app_routes(app: FastAPI) -> set[str]:
    return {f"{method.upper()} {path}" for path, ops in app.openapi()["paths"].items() for method in ops}


def test_every_route_has_an_expectation(matrix_app: FastAPI) -> None:
    routes = _app_routes(matrix_app) - PUBLIC
    unexpected = routes - set(EXPECTED) - set(OTHERS)
    assert not unexpected, f"write down who may call {sorted(unexpected)} in EXPECTED"
    assert set(EXPECTED) <= routes, f"routes gone: {sorted(set(EXPECTED) - routes)}"
    assert {"GET /api/health", "POST /api/login"} == {r for r in PUBLIC if r.split()[1].startswith("/api/")}


def test_the_table_agrees_with_the_expectations() -> None:
    """The same facts as the HTTP matrix, stated as a table diff: the quickest way to read a failure."""
    for route, (_, roles, _) in EXPECTED.items():
        assert {r.value for r in ACCESS[route]} == set(roles.split()), route


@pytest.mark.parametrize("route", sorted(EXPECTED))
@pytest.mark.parametrize("who", ROLES + UNAUTHENTICATED)
def test_matrix(matrix_client: TestClient, seeded: Seeded, route: str, who: str) -> None:
    template, roles, success = EXPECTED[route]
    method = route.split()[0]
    response = matrix_client.request(method, _url(seeded, template), headers=_headers(seeded, who))
    if who in UNAUTHENTICATED:
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
    elif who in roles.split():
        assert response.status_code == success, response.text
    else:
        assert response.status_code == 403, response.text
    if response.status_code != 204:
        assert set(response.json()) >= ({"detail"} if response.status_code >= 400 else set())


@pytest.mark.parametrize("route", sorted(OTHERS))
@pytest.mark.parametrize("who", (*ROLES, "anonymous", "expired"))
def test_matrix_of_other_routers(matrix_client: TestClient, matrix_app: FastAPI, seeded: Seeded, route: str,
                                 who: str) -> None:  # fmt: skip
    if route not in _app_routes(matrix_app):
        pytest.skip(f"{route} is not mounted (its router module is absent)")
    template, roles = OTHERS[route]
    response = matrix_client.request(route.split()[0], template, headers=_headers(seeded, who))
    if who in ("anonymous", "expired"):
        assert response.status_code == 401
    elif who in roles.split():
        assert response.status_code not in (401, 403), response.text
    else:
        assert response.status_code == 403, response.text


def test_public_routes_need_no_token(matrix_client: TestClient) -> None:
    assert matrix_client.get("/api/health").json() == {"status": "ok", "database": "ok"}
    assert matrix_client.post("/api/login", json={"name": "nobody", "password": "x"}).status_code == 401


def test_school_user_gets_404_for_another_schools_objects(matrix_client: TestClient, seeded: Seeded) -> None:
    teacher = bearer(seeded.tokens["school"])
    other = seeded.tablets[("oasa-es", "T-0001")]
    missing = max(seeded.tablets.values()) + 100
    foreign = matrix_client.get(f"/api/tablets/{other}", headers=teacher)
    absent = matrix_client.get(f"/api/tablets/{missing}", headers=teacher)
    assert foreign.status_code == absent.status_code == 404
    assert foreign.json() == {"detail": f"tablet {other} not found"}  # same shape as a missing one
    assert matrix_client.get("/api/schools/oasa-es", headers=teacher).status_code == 404
    # the other school's teacher sees it; the operator sees both
    assert matrix_client.get(f"/api/tablets/{other}", headers=bearer(seeded.tokens["school2"])).status_code == 200
    assert matrix_client.get(f"/api/tablets/{other}", headers=bearer(seeded.tokens["operator"])).status_code == 200


def test_school_user_lists_only_its_own(matrix_client: TestClient, seeded: Seeded) -> None:
    teacher = bearer(seeded.tokens["school"])
    tablets = matrix_client.get("/api/tablets", headers=teacher).json()
    assert {t["school"] for t in tablets["items"]} == {"chiyoda-es"} and tablets["total"] == 2
    # asking for the other school by filter gives nothing, not an error that confirms it exists
    assert matrix_client.get("/api/tablets?school=oasa-es", headers=teacher).json()["total"] == 0
    schools = matrix_client.get("/api/schools", headers=teacher).json()
    assert [s["code"] for s in schools["items"]] == ["chiyoda-es"]
    everyone = matrix_client.get("/api/tablets", headers=bearer(seeded.tokens["admin"])).json()
    assert everyone["total"] == 3


def _audit_reads(app: FastAPI) -> int:
    with app.state.sessionmaker() as s:
        reads = AuditEntry.action == "read", AuditEntry.entity == "household_contacts"
        return s.scalar(select(func.count()).select_from(AuditEntry).where(*reads)) or 0


@pytest.mark.parametrize("who", ["operator", "support", "admin"])
def test_personal_fields_only_for_admin_and_support_and_audited(matrix_client: TestClient, matrix_app: FastAPI,
                                                                seeded: Seeded, who: str) -> None:  # fmt: skip
    before = _audit_reads(matrix_app)
    body = matrix_client.get("/api/households", headers=bearer(seeded.tokens[who])).json()
    detail = matrix_client.get("/api/households/HH-000001", headers=bearer(seeded.tokens[who])).json()
    by_code = {h["code"]: h for h in body["items"]}
    if who == "operator":
        for household in [*body["items"], detail]:
            assert not {"name", "address", "phone"} & set(household), household
        assert "山田" not in str(body) + str(detail)
        assert _audit_reads(matrix_app) == before
        return
    assert by_code["HH-000001"]["name"] == "山田 太郎"
    assert by_code["HH-000002"]["phone"] is None  # present, and null
    assert by_code["HH-000004"]["name"] is None  # no contact on record
    assert detail["address"] == "千代田 有田 1-2"
    assert _audit_reads(matrix_app) == before + 2
    with matrix_app.state.sessionmaker() as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.entity == "household_contacts")
                                 .order_by(AuditEntry.id.desc()).limit(2)))  # fmt: skip
    listing, single = entries[1], entries[0]
    names = {"alice": "admin", "sue": "support"}
    assert names[listing.actor] == who and listing.action == "read"
    assert listing.detail == {"rows": 3, "fields": ["name", "address", "phone"],
                              "households": ["HH-000001", "HH-000002", "HH-000003"], "via": "api"}  # fmt: skip
    assert single.detail["rows"] == 1 and single.detail["households"] == ["HH-000001"]
    assert "山田" not in str(listing.detail)


def test_support_reads_only_household_audit_entries(matrix_client: TestClient, seeded: Seeded) -> None:
    support = matrix_client.get("/api/audit?limit=500", headers=bearer(seeded.tokens["support"])).json()
    operator = matrix_client.get("/api/audit?limit=500", headers=bearer(seeded.tokens["operator"])).json()
    assert {e["entity"] for e in support["items"]} <= {"household_contact", "household_contacts",
                                                       "household:HH-000001"}  # fmt: skip
    assert "household:HH-000001" in {e["entity"] for e in support["items"]}
    assert "school:chiyoda-es" in {e["entity"] for e in operator["items"]}
    assert operator["total"] > support["total"]


def test_roles_in_me(matrix_client: TestClient, seeded: Seeded) -> None:
    me = matrix_client.get("/api/me", headers=bearer(seeded.tokens["school"])).json()
    assert me["name"] == "chiyoda-teacher" and me["role"] == Role.SCHOOL and me["school"] == "chiyoda-es"
    assert me["personal_data"] is False
    assert "GET /api/tablets" in me["routes"] and "GET /api/households" not in me["routes"]
    assert matrix_client.get("/api/me", headers=bearer(seeded.tokens["support"])).json()["personal_data"] is True


# ------------------------------------------------------------------------------------------ web pages
#: The web pages' users (web sessions, by cookie): the seeded users of each role.
USERS = {"admin": "alice", "operator": "oscar", "support": "sue", "school": "chiyoda-teacher", "viewer": "vera"}
_ALL = dict.fromkeys(ROLES, 200)
_NONE = dict.fromkeys(ROLES, 403)

#: page route -> (URL, status by role). Written by hand: do not derive. 403 is the error page; a school
#: user's /schools sends it on to its school (303); the job forms answer 503 here because no provisioning
#: is configured (the role got in: the page says why nothing started); suspend first answers its confirmation
#: page (200), which the roles that may not change lines never see.
PAGE_EXPECTED: dict[str, tuple[str, dict[str, int]]] = {
    "GET /logout": ("/logout", _ALL),
    "POST /logout": ("/logout", dict.fromkeys(ROLES, 303)),
    "GET /support": ("/support?code=HH-00", {**_NONE, "admin": 200, "operator": 200, "support": 200}),
    "GET /support/households/{code}": ("/support/households/HH-000001",
                                       {**_NONE, "admin": 200, "operator": 200, "support": 200}),
    "POST /support/households/{code}/enrol": ("/support/households/HH-000001/enrol",
                                              {**_NONE, "admin": 503, "support": 503}),
    "POST /support/households/{code}/{action}": ("/support/households/HH-000001/suspend",
                                                 {**_NONE, "admin": 200, "support": 200}),
    "GET /schools": ("/schools", {**_NONE, "admin": 200, "operator": 200, "school": 303}),
    "GET /schools/{code}": ("/schools/chiyoda-es", {**_NONE, "admin": 200, "operator": 200, "school": 200}),
    "GET /kpis": ("/kpis", _ALL),
    "GET /grafana": ("/grafana", {**_NONE, "admin": 303, "operator": 303}),
}
#: Pages anyone may open, with what they answer a stranger.
PUBLIC_PAGES: dict[str, tuple[str, int]] = {
    "GET /": ("/", 303),
    "GET /login": ("/login", 200),
    "POST /login": ("/login", 403),  # without the login form's token
    "GET /static/{name}": ("/static/style.css", 200),
    "GET /outages": ("/outages", 200),  # the residents' outage page: districts and ranges only
    "GET /outages/feed.atom": ("/outages/feed.atom", 200),
}
#: Public pages every role gets too, and gets the same (no session changes a publicly cached answer).
PUBLIC_FOR_EVERY_ROLE = ("GET /outages", "GET /outages/feed.atom")


def _page_routes(app: FastAPI) -> set[str]:
    """Every mounted route outside /api (FastAPI keeps included routers as branches: walk them)."""
    found: set[str] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            branch = getattr(route, "original_router", None)
            if branch is not None:
                walk(branch.routes, prefix + route.include_context.prefix)
            elif isinstance(route, APIRoute):
                found.update(f"{method} {prefix}{route.path}" for method in route.methods)

    walk(app.routes, "")
    return {key for key in found if not key.split()[1].startswith("/api/")}


def test_every_page_has_an_expectation(matrix_app: FastAPI) -> None:
    pages = _page_routes(matrix_app)
    assert pages - set(PUBLIC_PAGES) == set(PAGE_EXPECTED), "write down who may open each page in PAGE_EXPECTED"
    assert set(PUBLIC_PAGES) <= pages and set(PUBLIC_PAGES) <= PUBLIC


def test_the_table_agrees_with_the_page_expectations() -> None:
    for route, (_, statuses) in PAGE_EXPECTED.items():
        assert {r.value for r in ACCESS[route]} == {role for role, code in statuses.items() if code != 403}, route
        assert route not in PUBLIC


def _web_session(engine: Engine, client: TestClient, role: str) -> str:
    """A fresh web session of ``role``'s user on ``client`` (cookies set); returns its CSRF token."""
    with db.session_scope(engine) as s:
        user = s.scalars(select(User).where(User.name == USERS[role])).one()
        token = issue_token(s, user, kind="session", lifetime=timedelta(hours=1)).token
    csrf = csrf_token(SECRET, token)
    client.cookies.set(SESSION_COOKIE, token)
    client.cookies.set(CSRF_COOKIE, csrf)
    return csrf


@pytest.mark.parametrize("route", sorted(PAGE_EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(matrix_app: FastAPI, seeded: Seeded, route: str, role: str) -> None:
    url, statuses = PAGE_EXPECTED[route]
    method = route.split()[0]
    with TestClient(matrix_app) as client:
        csrf = _web_session(matrix_app.state.engine, client, role)
        data = {"csrf_token": csrf, "serial": "HWTC-5EED0001"} if method == "POST" else None
        page = client.request(method, url, data=data, follow_redirects=False)
    assert page.status_code == statuses[role], (route, role, page.text[:300])
    if page.status_code != 303:
        assert page.headers["content-type"].startswith("text/html"), route
        assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("route", sorted(PAGE_EXPECTED))
@pytest.mark.parametrize("who", ["anonymous", "expired", "forged", "bearer-garbage"])
def test_pages_send_strangers_to_the_login(matrix_app: FastAPI, seeded: Seeded, route: str, who: str) -> None:
    url, _ = PAGE_EXPECTED[route]
    method = route.split()[0]
    headers = {"Authorization": "Bearer ftn_" + "x" * 43} if who == "bearer-garbage" else {}
    with TestClient(matrix_app) as client:
        if who in ("expired", "forged"):
            client.cookies.set(SESSION_COOKIE, seeded.tokens["expired"] if who == "expired" else "ftn_forged")
        page = client.request(method, url, headers=headers, follow_redirects=False)
    assert page.status_code == 303, (route, who)
    location = page.headers["location"]
    assert location == ("/login" if method == "POST" else "/login?next=" + url.replace("/", "%2F").replace("?", "%3F")
                        .replace("=", "%3D"))  # fmt: skip


@pytest.mark.parametrize("route", sorted(PUBLIC_PAGES))
def test_public_pages_need_no_session(matrix_client: TestClient, route: str) -> None:
    url, expected = PUBLIC_PAGES[route]
    matrix_client.cookies.clear()
    assert matrix_client.request(route.split()[0], url, follow_redirects=False).status_code == expected


@pytest.mark.parametrize("route", PUBLIC_FOR_EVERY_ROLE)
@pytest.mark.parametrize("role", ROLES)
def test_public_pages_answer_every_role_alike(matrix_app: FastAPI, seeded: Seeded, route: str, role: str) -> None:
    url, expected = PUBLIC_PAGES[route]
    with TestClient(matrix_app) as client:
        stranger = client.get(url)
        _web_session(matrix_app.state.engine, client, role)
        page = client.get(url)
    assert page.status_code == expected == stranger.status_code
    assert page.headers["cache-control"] == "public, max-age=60"
    assert "set-cookie" not in page.headers
    as_of = re.compile(r'<p class="as-of".*?</p>')  # "as of" the minute: it may tick between the two
    assert as_of.sub("", page.text) == as_of.sub("", stranger.text), role  # no name, no nav, no CSRF token


def _fake_web(monkeypatch: pytest.MonkeyPatch, *, protected: str | None = None, public: str | None = None) -> None:
    """One more page router beside ``api.web``'s, with a page the table may not know."""
    router, public_router = APIRouter(), APIRouter()
    if protected:
        router.add_api_route(protected, lambda: {})
    if public:
        public_router.add_api_route(public, lambda: {})
    monkeypatch.setattr(api.web, "routers", (*api.web.routers, router))
    monkeypatch.setattr(api.web, "public_routers", (*api.web.public_routers, public_router))


def test_create_app_refuses_a_page_missing_from_the_table(engine: Engine, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    _fake_web(monkeypatch, protected="/unlisted-page")
    with pytest.raises(RuntimeError, match="GET /unlisted-page"):
        create_app(engine, settings=settings_for(tmp_path))


def test_create_app_refuses_a_public_page_not_listed_as_public(engine: Engine, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    _fake_web(monkeypatch, public="/kpis")  # in the table, but not public
    with pytest.raises(RuntimeError, match="GET /kpis"):
        create_app(engine, settings=settings_for(tmp_path))


def test_create_app_refuses_a_nested_router_it_cannot_check(engine: Engine, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    inner, outer = APIRouter(), APIRouter()
    inner.add_api_route("/kpis", lambda: {})
    outer.include_router(inner)
    monkeypatch.setattr(api.web, "routers", (*api.web.routers, outer))
    with pytest.raises(RuntimeError, match="do not nest them"):
        create_app(engine, settings=settings_for(tmp_path))
