"""What the routes answer: filters, paging, details, ONU state, health, errors, login, logout, CSRF."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from api.app import create_app
from api.security import CSRF_COOKIE
from ftthnoc.inventory import db
from ftthnoc.inventory.models import ApiToken, AuditEntry
from tests.api.conftest import PASSWORD, Seeded, TestClient, bearer, settings_for


def _get(client: TestClient, seeded: Seeded, url: str, who: str = "admin") -> dict:  # type: ignore[type-arg]
    response = client.get(url, headers=bearer(seeded.tokens[who]))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok", "database": "ok"}
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "ftthnoc API"
    assert {"HTTPBearer", "APIKeyCookie"} <= set(spec["components"]["securitySchemes"])


def test_health_reports_an_unmigrated_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = db.make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with TestClient(create_app(engine, settings=settings_for(tmp_path))) as c:
        response = c.get("/api/health")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "outdated"}


def test_errors_are_json_detail(client: TestClient, seeded: Seeded) -> None:
    assert client.get("/api/nowhere").json() == {"detail": "Not Found"}
    r = client.get("/api/olts/no-such-olt", headers=bearer(seeded.tokens["admin"]))
    assert r.status_code == 404 and r.json() == {"detail": "OLT no-such-olt not found"}
    r = client.get("/api/districts?limit=0", headers=bearer(seeded.tokens["admin"]))
    assert r.status_code == 422 and isinstance(r.json()["detail"], list)
    assert client.get("/api/districts?limit=501", headers=bearer(seeded.tokens["admin"])).status_code == 422
    assert client.get("/api/districts?offset=-1", headers=bearer(seeded.tokens["admin"])).status_code == 422


def test_paging(client: TestClient, seeded: Seeded) -> None:
    first = _get(client, seeded, "/api/households?limit=3")
    second = _get(client, seeded, "/api/households?limit=3&offset=3")
    assert (first["total"], first["limit"], first["offset"]) == (4, 3, 0)
    assert [h["code"] for h in first["items"] + second["items"]] == [f"HH-00000{i}" for i in range(1, 5)]
    assert _get(client, seeded, "/api/households?offset=100")["items"] == []


def test_olts_and_pon_ports(client: TestClient, seeded: Seeded) -> None:
    assert [o["name"] for o in _get(client, seeded, "/api/olts?vendor=zte")["items"]] == ["olt-oasa-1"]
    assert _get(client, seeded, "/api/olts?district=chiyoda")["total"] == 1
    olt = _get(client, seeded, "/api/olts/olt-chiyoda-1", "viewer")
    assert olt["pon_ports"] == ["0/1/0", "0/1/1"] and olt["onus"] == 3 and "auth" not in olt
    ports = _get(client, seeded, "/api/olts/olt-chiyoda-1/pon_ports")["items"]
    assert [(p["port"], p["onus"]) for p in ports] == [("0/1/0", 2), ("0/1/1", 1)]


def test_onu_filters_and_district_rule(client: TestClient, seeded: Seeded) -> None:
    oasa = _get(client, seeded, "/api/onus?district=oasa")["items"]
    # an Oasa home on a Chiyoda OLT counts for Oasa; an ONU without household takes its OLT's district
    assert {o["serial"] for o in oasa} == {"HWTC-A1B2C3D6", "ZTEG-C0000001"}
    assert _get(client, seeded, "/api/onus?olt=olt-chiyoda-1&pon_port=0/1/0")["total"] == 2
    assert [o["serial"] for o in _get(client, seeded, "/api/onus?household=HH-000002")["items"]] == ["HWTC-A1B2C3D5"]
    one = _get(client, seeded, "/api/onus/hwtca1b2c3d4")  # any accepted spelling
    assert one["serial"] == "HWTC-A1B2C3D4" and one["up"] is None and one["rx_dbm"] is None
    assert client.get("/api/onus/nonsense", headers=bearer(seeded.tokens["admin"])).status_code == 404


def test_onu_state_from_the_provider(engine: Engine, seeded: Seeded, tmp_path: Path) -> None:
    seen = []

    def state(olt: str, port: str, onu_id: int) -> tuple[bool | None, float | None]:
        seen.append((olt, port, onu_id))
        if olt == "olt-oasa-1":
            raise RuntimeError("snapshot broken")
        return (onu_id == 0, -21.5 if onu_id == 0 else None)

    app = create_app(engine, settings=settings_for(tmp_path), onu_state=state)
    with TestClient(app) as c:
        items = {o["serial"]: o for o in _get(c, seeded, "/api/onus")["items"]}
    assert (items["HWTC-A1B2C3D4"]["up"], items["HWTC-A1B2C3D4"]["rx_dbm"]) == (True, -21.5)
    assert (items["HWTC-A1B2C3D5"]["up"], items["HWTC-A1B2C3D5"]["rx_dbm"]) == (False, None)
    assert (items["ZTEG-C0000001"]["up"], items["ZTEG-C0000001"]["rx_dbm"]) == (None, None)
    assert ("olt-chiyoda-1", "0/1/0", 0) in seen


def test_households_filters_and_history(client: TestClient, seeded: Seeded) -> None:
    assert [h["code"] for h in _get(client, seeded, "/api/households?status=active", "operator")["items"]] == [
        "HH-000001", "HH-000003"]  # fmt: skip
    assert _get(client, seeded, "/api/households?district=oasa&status=applied", "operator")["total"] == 1
    assert _get(client, seeded, "/api/households?code=HH-000002", "operator")["total"] == 1
    bad = client.get("/api/households?status=asleep", headers=bearer(seeded.tokens["operator"]))
    assert bad.status_code == 422
    detail = _get(client, seeded, "/api/households/HH-000001", "operator")
    assert detail["onus"] == ["HWTC-A1B2C3D4"]
    [run] = detail["enrolments"]
    assert (run["kind"], run["state"], run["rx_dbm"], run["actor"]) == ("enrol", "done", -19.5, "sue")
    assert run["started_at"] == "2026-10-21T03:00:00Z"  # UTC, with its zone, even from SQLite
    assert client.get("/api/households/HH-999999", headers=bearer(seeded.tokens["support"])).status_code == 404


def test_tablet_filters(client: TestClient, seeded: Seeded) -> None:
    assert _get(client, seeded, "/api/tablets?status=retired")["items"][0]["school"] == "oasa-es"
    assert [t["asset_no"] for t in _get(client, seeded, "/api/tablets?grade=2")["items"]] == ["T-0002"]
    assert _get(client, seeded, "/api/tablets?class=1-1")["total"] == 1
    assert _get(client, seeded, "/api/tablets?school=oasa-es")["total"] == 1
    assert _get(client, seeded, "/api/schools/chiyoda-es")["tablets_active"] == 2


def test_incident_filters(client: TestClient, seeded: Seeded) -> None:
    assert [i["kind"] for i in _get(client, seeded, "/api/incidents", "viewer")["items"]] == [
        "feeder_cut", "power_outage"]  # fmt: skip  (newest first)
    assert _get(client, seeded, "/api/incidents?open=true", "viewer")["items"][0]["status"] == "open"
    assert _get(client, seeded, "/api/incidents?reportable=true")["items"][0]["duration_seconds"] == 10800
    assert _get(client, seeded, "/api/incidents?kind=power_outage&district=oasa")["total"] == 1
    assert _get(client, seeded, "/api/incidents?district=chiyoda&reportable=true")["total"] == 0


def test_audit_filters(client: TestClient, seeded: Seeded) -> None:
    assert _get(client, seeded, "/api/audit?actor=oscar", "operator")["items"][0]["entity"] == "school:chiyoda-es"
    assert _get(client, seeded, "/api/audit?entity=household:HH-000001&action=enrol")["total"] == 1


def test_bwa_and_vpn(client: TestClient, seeded: Seeded) -> None:
    assert _get(client, seeded, "/api/bwa_stations?district=oasa")["items"][0]["name"] == "bwa-geihoku-1"
    assert _get(client, seeded, "/api/vpn_gateways")["items"][0]["licence_sessions"] == 250


# ------------------------------------------------------------------------------------- login / logout
def test_login_json_sets_cookies_and_the_session_works(client: TestClient, engine: Engine) -> None:
    r = client.post("/api/login", json={"name": "alice", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["role"] == "admin" and len(body["csrf_token"]) == 64
    assert "httponly" in r.headers["set-cookie"].lower()
    assert client.cookies.get(CSRF_COOKIE) == body["csrf_token"]
    assert client.get("/api/me").json()["name"] == "alice"  # by cookie
    with db.session(engine) as s:
        kinds = [k for (k,) in s.execute(select(ApiToken.kind).where(ApiToken.kind == "session"))]
        logins = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "login")))
    assert kinds == ["session"]
    assert logins[0].detail["name"] == "alice" and PASSWORD not in str(logins[0].detail)

    # logout by cookie needs the CSRF token (header or form) *and* the cookie
    assert client.post("/api/logout").status_code == 403
    assert client.post("/api/logout", headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    assert client.post("/api/logout", headers={"X-CSRF-Token": body["csrf_token"]}).status_code == 204
    client.cookies.clear()
    # the session token is revoked, not only forgotten by the browser
    with db.session(engine) as s:
        assert s.scalar(select(ApiToken.revoked_at).where(ApiToken.kind == "session")) is not None
    assert client.get("/api/me").status_code == 401


def test_login_form_and_csrf_form_field(client: TestClient) -> None:
    r = client.post("/api/login", data={"name": "sue", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["role"] == "support"
    token = r.json()["csrf_token"]
    assert client.post("/api/logout", data={"csrf_token": token}).status_code == 204


def test_logout_with_an_api_token_keeps_it(client: TestClient, seeded: Seeded) -> None:
    headers = bearer(seeded.tokens["viewer"])
    assert client.post("/api/logout", headers=headers).status_code == 204  # no CSRF needed for Bearer
    assert client.get("/api/me", headers=headers).status_code == 200


@pytest.mark.parametrize("payload", [{"name": "alice", "password": "wrong password"},
                                     {"name": "dave", "password": PASSWORD},  # disabled
                                     {"name": "oscar", "password": PASSWORD},  # no password: tokens only
                                     {"name": "nobody", "password": PASSWORD}])  # fmt: skip
def test_login_refused(client: TestClient, payload: dict[str, str]) -> None:
    r = client.post("/api/login", json=payload)
    assert r.status_code == 401 and r.json() == {"detail": "wrong user name or password"}
    assert "set-cookie" not in r.headers


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"name": ""}', b'{"name": "a", "password": 5}'])
def test_login_malformed(client: TestClient, body: bytes) -> None:
    r = client.post("/api/login", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "detail" in r.json()


def test_login_rate_limit(engine: Engine, tmp_path: Path) -> None:
    app: FastAPI = create_app(engine, settings=settings_for(tmp_path, api_login_max_failures=3))
    with TestClient(app, client=("192.0.2.50", 4000)) as c:
        for _ in range(3):
            assert c.post("/api/login", json={"name": "alice", "password": "guess"}).status_code == 401
        blocked = c.post("/api/login", json={"name": "alice", "password": PASSWORD})  # right, but too late
        assert blocked.status_code == 429 and 1 <= int(blocked.headers["retry-after"]) <= 301
        assert c.post("/api/login", json={"name": "sue", "password": PASSWORD}).status_code == 429  # same address
    with TestClient(app, client=("192.0.2.51", 4000)) as c:
        assert c.post("/api/login", json={"name": "alice", "password": PASSWORD}).status_code == 429  # same name
        assert c.post("/api/login", json={"name": "sue", "password": PASSWORD}).status_code == 200
