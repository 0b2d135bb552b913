"""The web pages over the API test town (``tests/api/conftest.py``): who may open which page, CSRF on every
form, Japanese and English, school scoping, personal data only for the roles that may see it, enrolment
jobs started from a page (a fake Provisioner: the real one runs in ``test_browser.py``) and the job and
KPI API routes the pages build on."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import SESSION_COOKIE
from api.jobs import JobRunner
from api.security import CSRF_COOKIE, csrf_token, issue_token
from ftthnoc.config import Config
from ftthnoc.inventory import db
from ftthnoc.inventory.models import AuditEntry, EnrolmentState, School, Tablet, User
from provisioning.drivers.base import Transcript
from provisioning.enrol import Outcome
from tests.api.conftest import PASSWORD, SECRET, Seeded, bearer, settings_for

USERS = {"admin": "alice", "operator": "oscar", "support": "sue", "school": "chiyoda-teacher", "viewer": "vera"}
PERSONAL = ("山田 太郎", "千代田 有田 1-2", "0826-72-0001")


# ------------------------------------------------------------------------------------------ fixtures
class FakeProvisioner:
    """Stands in for ``provisioning.enrol.Provisioner``: reports progress, answers as a device would."""

    def __init__(self, actor: str, progress: Any) -> None:
        self.actor, self.progress = actor, progress

    def enrol(self, code: str, serial: str, *, dry_run: bool = False) -> Outcome:
        self.progress("find", f"looking for {serial} in autofind")
        if serial.endswith("DEAD"):
            self.progress("undo", "failed; undoing")
            transcript = Transcript()
            command = f"ont add 0 1 sn-auth {serial}"
            transcript.add(command, "Failure: SN already exists\n  (the ONT is registered elsewhere)", 0.1)
            return Outcome(code, "enrol", EnrolmentState.FAILED,
                           f"olt-chiyoda-1 refused {command!r}: Failure: SN already exists (the ONT is registered "
                           f"elsewhere); nothing is left on olt-chiyoda-1; {code} stays installed",
                           serial=serial, olt="olt-chiyoda-1", pon_port="0/1/0", transcript=transcript)
        self.progress("add", f"adding {serial} as ONT 7")
        return Outcome(code, "enrol", EnrolmentState.DONE, f"{serial} runs as ONT 7, Rx -19.50 dBm; {code} active",
                       serial=serial, olt="olt-chiyoda-1", pon_port="0/1/0", ont_id=7, rx_dbm=-19.5, run_id=42)

    def _line(self, kind: str, code: str, dry_run: bool) -> Outcome:
        self.progress(kind, f"{kind} {code}")
        return Outcome(code, kind, EnrolmentState.DONE, f"{code} {kind} done")

    def suspend(self, code: str, *, dry_run: bool = False) -> Outcome:
        return self._line("suspend", code, dry_run)

    def resume(self, code: str, *, dry_run: bool = False) -> Outcome:
        return self._line("resume", code, dry_run)

    def cancel(self, code: str, *, dry_run: bool = False) -> Outcome:
        return self._line("cancel", code, dry_run)


@pytest.fixture
def runner(app: FastAPI, engine: Engine) -> Iterator[JobRunner]:
    jobs = JobRunner(engine, Config(), factory=lambda _e, _c, actor, progress: FakeProvisioner(actor, progress))  # type: ignore[arg-type,return-value]
    app.state.jobs = jobs
    yield jobs
    jobs.shutdown()


def login_as(client: TestClient, engine: Engine, role: str) -> str:
    """A web session for the role's user (cookies set on the client); returns its CSRF token."""
    with db.session_scope(engine) as s:
        user = s.scalars(select(User).where(User.name == USERS[role])).one()
        token = issue_token(s, user, kind="session", lifetime=timedelta(hours=1)).token
    csrf = csrf_token(SECRET, token)
    client.cookies.set(SESSION_COOKIE, token)
    client.cookies.set(CSRF_COOKIE, csrf)
    return csrf


def form_csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


# -------------------------------------------------------------------------------------- login, i18n
def test_login_page_is_japanese_by_default_and_english_on_request(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200 and 'lang="ja"' in page.text and "ログイン" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    english = client.get("/login?lang=en")
    assert 'lang="en"' in english.text and "Log in" in english.text
    assert client.cookies.get("ftthnoc_lang") == "en"
    assert "Log in" in client.get("/login").text  # remembered
    assert "ログイン" in client.get("/login?lang=ja").text


def test_a_form_login_opens_a_session_and_lands_on_the_roles_page(client: TestClient) -> None:
    csrf = form_csrf(client.get("/login").text)
    answer = client.post("/login", data={"name": "sue", "password": PASSWORD, "csrf_token": csrf},
                         follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/support"
    assert client.cookies.get(SESSION_COOKIE) and client.cookies.get(CSRF_COOKIE)
    assert client.get("/support").status_code == 200
    # logging out needs the session's CSRF token; afterwards the pages send to the login again
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    out = client.post("/logout", data={"csrf_token": client.cookies.get(CSRF_COOKIE)}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set(SESSION_COOKIE, answer.cookies.get(SESSION_COOKIE) or "")
    assert client.get("/support", follow_redirects=False).headers["location"].startswith("/login")


def test_login_goes_back_to_the_page_asked_for_but_never_off_site(client: TestClient) -> None:
    first = client.get("/kpis", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=%2Fkpis"
    csrf = form_csrf(client.get("/login?next=/kpis").text)
    ok = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": csrf, "next": "/kpis"},
                     follow_redirects=False)
    assert ok.headers["location"] == "/kpis"
    client.cookies.clear()
    csrf = form_csrf(client.get("/login").text)
    evil = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": csrf,
                                       "next": "//evil.example/"}, follow_redirects=False)
    assert evil.headers["location"] == "/support"


def test_wrong_passwords_are_shown_then_throttled(client: TestClient) -> None:
    csrf = form_csrf(client.get("/login?lang=en").text)
    wrong = client.post("/login", data={"name": "sue", "password": "nope-nope-nope", "csrf_token": csrf})
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    assert "nope-nope-nope" not in wrong.text
    for _ in range(5):
        last = client.post("/login", data={"name": "sue", "password": "nope-nope-nope", "csrf_token": csrf})
    assert last.status_code == 429 and "Too many failed logins" in last.text and last.headers["retry-after"]


def test_a_login_form_without_its_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    forged = client.post("/login", data={"name": "sue", "password": PASSWORD}, follow_redirects=False)
    assert forged.status_code == 403 and SESSION_COOKIE not in forged.cookies
    other = TestClient(client.app)  # a token from another browser (another nonce cookie) is no good either
    csrf = form_csrf(other.get("/login").text)
    assert client.post("/login", data={"name": "sue", "password": PASSWORD, "csrf_token": csrf + "x"},
                       follow_redirects=False).status_code == 403


# --------------------------------------------------------------------------------- pages x roles
PAGES: dict[str, dict[str, int]] = {
    "/support": {"admin": 200, "operator": 200, "support": 200, "school": 403, "viewer": 403},
    "/support?code=HH-00": {"admin": 200, "operator": 200, "support": 200, "school": 403, "viewer": 403},
    "/support/households/HH-000001": {"admin": 200, "operator": 200, "support": 200, "school": 403, "viewer": 403},
    "/schools": {"admin": 200, "operator": 200, "support": 403, "school": 303, "viewer": 403},
    "/schools/chiyoda-es": {"admin": 200, "operator": 200, "support": 403, "school": 200, "viewer": 403},
    "/kpis": {"admin": 200, "operator": 200, "support": 200, "school": 200, "viewer": 200},
}


@pytest.mark.parametrize("role", list(USERS))
def test_each_page_lets_in_exactly_its_roles(client: TestClient, engine: Engine, role: str) -> None:
    login_as(client, engine, role)
    for url, expected in PAGES.items():
        page = client.get(url, follow_redirects=False)
        assert page.status_code == expected[role], (url, role, page.status_code)
        if page.status_code == 200:
            assert page.headers["content-type"].startswith("text/html")
            assert page.headers["cache-control"] == "no-store"
    home = client.get("/", follow_redirects=False).headers["location"]
    assert home == {"admin": "/support", "support": "/support", "school": "/schools/chiyoda-es"}.get(role, "/kpis")


@pytest.mark.parametrize("url", [*PAGES, "/logout"])
def test_pages_send_strangers_to_the_login(client: TestClient, url: str) -> None:
    page = client.get(url, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    client.cookies.set(SESSION_COOKIE, "ftn_forged-token")
    assert client.get(url, follow_redirects=False).headers["location"].startswith("/login")


def test_a_school_user_gets_404_for_another_schools_page(client: TestClient, engine: Engine) -> None:
    login_as(client, engine, "school")
    assert client.get("/schools/oasa-es").status_code == 404
    assert client.get("/schools/no-such-school").status_code == 404
    assert client.get("/schools", follow_redirects=False).headers["location"] == "/schools/chiyoda-es"


def test_grafana_link_only_for_operators_and_admins(engine: Engine, tmp_path: Path) -> None:
    app = create_app(engine, settings=settings_for(tmp_path, grafana_url="https://grafana.town.example"))
    with TestClient(app) as client:
        for role, shown in (("operator", True), ("admin", True), ("support", False), ("viewer", False)):
            login_as(client, engine, role)
            assert ("https://grafana.town.example" in client.get("/kpis").text) is shown, role
            way = client.get("/grafana", follow_redirects=False)
            if shown:
                assert way.status_code == 303 and way.headers["location"] == "https://grafana.town.example"
            else:
                assert way.status_code == 403


# ------------------------------------------------------------------------------------ personal data
def test_personal_fields_only_for_support_and_admin_and_each_read_audited(client: TestClient, engine: Engine) -> None:
    login_as(client, engine, "operator")
    for url in ("/support?code=HH-0000", "/support/households/HH-000001"):
        page = client.get(url)
        assert page.status_code == 200 and "HH-000001" in page.text
        assert not any(value in page.text for value in PERSONAL), url
        assert "個人情報はこの役割では表示されません" in page.text
    with db.session_scope(engine) as s:
        before = len(list(s.scalars(select(AuditEntry).where(AuditEntry.entity == "household_contacts"))))
    assert before == 0
    login_as(client, engine, "support")
    listing = client.get("/support?code=HH-0000&lang=en")
    assert all(value in listing.text for value in PERSONAL)
    detail = client.get("/support/households/HH-000001")
    assert all(value in detail.text for value in PERSONAL)
    with db.session_scope(engine) as s:
        reads = list(s.scalars(select(AuditEntry).where(AuditEntry.entity == "household_contacts")))
    assert [(r.actor, r.action, r.detail["households"]) for r in reads] == [
        ("sue", "read", ["HH-000001", "HH-000002", "HH-000003"]), ("sue", "read", ["HH-000001"])]
    assert not any(value in str(r.detail) for r in reads for value in PERSONAL)


def test_the_search_filters_by_district_and_status(client: TestClient, engine: Engine) -> None:
    login_as(client, engine, "support")
    page = client.get("/support?district=oasa&status=active&lang=en")
    assert "HH-000003" in page.text and "HH-000001" not in page.text and "1 found" in page.text
    assert "No household matches" in client.get("/support?code=%25_").text  # LIKE wildcards are literal


# ------------------------------------------------------------------------------------------- CSRF
@pytest.mark.parametrize("action", ["enrol", "suspend", "resume", "cancel"])
def test_forged_posts_are_refused(client: TestClient, engine: Engine, runner: JobRunner, action: str) -> None:
    csrf = login_as(client, engine, "support")
    url = f"/support/households/HH-000001/{action}"
    for data in ({"serial": "HWTC-5EED0001"}, {"serial": "HWTC-5EED0001", "csrf_token": "0" * 64},
                 {"serial": "HWTC-5EED0001", "csrf_token": csrf_token(SECRET, "ftn_another-session")}):
        assert client.post(url, data=data, follow_redirects=False).status_code == 403
    client.cookies.delete(CSRF_COOKIE)  # the double-submit cookie is needed too
    assert client.post(url, data={"serial": "HWTC-5EED0001", "csrf_token": csrf},
                       follow_redirects=False).status_code == 403
    assert runner.jobs() == []


# ------------------------------------------------------------------------------------- enrol pages
def test_the_enrol_form_starts_a_job_and_the_page_follows_it(client: TestClient, engine: Engine,
                                                             runner: JobRunner) -> None:
    login_as(client, engine, "support")
    with db.session_scope(engine) as s:  # make HH-000004 installed so that it can be enrolled
        from ftthnoc.inventory.models import Household
        hh = s.scalars(select(Household).where(Household.code == "HH-000004")).one()
        hh.status = "installed"  # type: ignore[assignment]
    page = client.get("/support/households/HH-000004?lang=en")
    assert 'id="enrol-form"' in page.text
    started = client.post("/support/households/HH-000004/enrol?lang=en",
                          data={"serial": "hwtc5eed0001", "csrf_token": form_csrf(page.text)}, follow_redirects=False)
    assert started.status_code == 303
    job_id = started.headers["location"].split("job=")[1].split("&")[0]
    job = runner.wait(job_id, timeout=10)
    assert job is not None and job.state == "done" and job.serial == "HWTC-5EED0001" and job.actor == "sue"
    done = client.get(started.headers["location"])
    assert "runs as ONT 7" in done.text and "Looking for HWTC-5EED0001 in autofind" in done.text
    assert 'data-finished="true"' in done.text
    japanese = client.get(started.headers["location"].replace("lang=en", "lang=ja")).text  # our words, translated
    assert "autofind（未登録 ONU の一覧）で HWTC-5EED0001 を探しています" in japanese
    assert "HWTC-5EED0001 を ONT 7 として登録しています" in japanese
    assert "HWTC-5EED0001 を olt-chiyoda-1 0/1/0 の ONT 7 として登録しました（受光 -19.50 dBm）" in japanese
    api = client.get(f"/api/jobs/{job_id}").json()
    assert api["state"] == "done" and api["outcome"]["ont_id"] == 7 and [s["step"] for s in api["steps"]] == [
        "find", "add"]


def test_a_failed_enrolment_shows_the_devices_own_words(client: TestClient, engine: Engine,
                                                         runner: JobRunner) -> None:
    login_as(client, engine, "admin")
    with db.session_scope(engine) as s:
        from ftthnoc.inventory.models import Household
        s.scalars(select(Household).where(Household.code == "HH-000004")).one().status = "installed"  # type: ignore[assignment]
    page = client.get("/support/households/HH-000004")
    started = client.post("/support/households/HH-000004/enrol",
                          data={"serial": "HWTC-0000DEAD", "csrf_token": form_csrf(page.text)}, follow_redirects=False)
    job_id = started.headers["location"].split("job=")[1]
    runner.wait(job_id, timeout=10)
    failed = client.get(started.headers["location"])
    assert "開通できませんでした。機器には何も残っていません。" in failed.text  # our words, translated
    # the device's answer verbatim, apart from ours, under its own label
    device = re.search(r'<div class="device-box" id="device-said">(.*?)</div>', failed.text, re.S)
    assert device and "機器の応答" in device.group(1)
    assert '<samp>Failure: SN already exists\n  (the ONT is registered elsewhere)</samp>' in device.group(1)
    assert 'lang="en"' in device.group(1) and "ont add 0 1 sn-auth HWTC-0000DEAD" in device.group(1)


def test_a_bad_serial_is_refused_on_the_page(client: TestClient, engine: Engine, runner: JobRunner) -> None:
    login_as(client, engine, "support")
    page = client.get("/support/households/HH-000001")
    answer = client.post("/support/households/HH-000001/enrol",
                         data={"serial": "not a serial", "csrf_token": form_csrf(page.text)})
    assert answer.status_code == 422 and 'role="alert"' in answer.text and runner.jobs() == []


def test_line_actions_are_offered_by_status_and_run_as_jobs(client: TestClient, engine: Engine,
                                                            runner: JobRunner) -> None:
    login_as(client, engine, "support")
    active = client.get("/support/households/HH-000001").text
    assert "/HH-000001/suspend" in active and "/HH-000001/cancel" in active and "/HH-000001/resume" not in active
    assert 'id="enrol-form"' not in active
    suspended = client.get("/support/households/HH-000002").text
    assert "/HH-000002/resume" in suspended
    answer = client.post("/support/households/HH-000002/resume", data={"csrf_token": form_csrf(suspended)},
                         follow_redirects=False)
    assert answer.status_code == 303
    (job,) = runner.jobs()
    assert job.kind == "resume" and job.household == "HH-000002"
    login_as(client, engine, "operator")  # reads the page, changes nothing
    page = client.get("/support/households/HH-000001").text
    assert "/suspend" not in page and "csrf_token" in page  # only the logout form
    assert client.post("/support/households/HH-000001/suspend", data={"csrf_token": form_csrf(page)},
                       follow_redirects=False).status_code == 403


# ------------------------------------------------------------------------------------ school page
def test_the_school_page_groups_tablets_and_shows_the_bandwidth(client: TestClient, engine: Engine,
                                                              app: FastAPI) -> None:
    now = datetime.now(UTC)
    with db.session_scope(engine) as s:
        school = s.scalars(select(School).where(School.code == "chiyoda-es")).one()
        tablets = list(s.scalars(select(Tablet).where(Tablet.school_id == school.id).order_by(Tablet.id)))
        assert len(tablets) >= 2
        tablets[0].last_seen_at = now - timedelta(hours=1)
        tablets[1].last_seen_at = now - timedelta(days=3)
        seen_at = tablets[0].last_seen_at
        pupils = school.pupils
    app.state.school_peaks_mbps = lambda: {"chiyoda-es": 500.0}
    login_as(client, engine, "school")
    page = client.get("/schools/chiyoda-es?lang=en").text
    assert "Online 1" in page and "Offline 1" in page and "Never seen" in page
    assert seen_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M") in page
    assert re.search(r"Grade \d", page) and "Class " in page
    from ftthnoc.kpi.figures import mext_mbps
    assert f"{mext_mbps(pupils)} Mbps" in page and "500.0 Mbps" in page  # the utilisation line, apart
    assert "No throughput test has run yet" in page and "Meets the recommended" not in page
    assert "<svg" in page and "@media print" in client.get("/static/style.css").text


# -------------------------------------------------------------------------------------- KPI page
def test_the_kpi_page_draws_its_charts(client: TestClient, engine: Engine) -> None:
    login_as(client, engine, "viewer")
    page = client.get("/kpis?lang=en")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 5
    for section in ("kpi-subscriptions", "kpi-take-up", "kpi-tablets", "kpi-availability", "kpi-telework",
                    "kpi-incidents"):
        assert f'id="{section}"' in page.text
    assert "of the 7,000 households targeted" in page.text
    assert 'id="kpi-tablets-at-home"' in page.text and "Learning at home" in page.text
    ja = client.get("/kpis?lang=ja").text
    assert "家庭での学習" in ja and "稼働端末に対する割合" in ja
    # The telework figure names its source (no import and no VPN users here: the session mean).
    assert 'data-source="vpn_sessions"' in page.text and 'source="vpn_sessions"' in page.text


def test_the_kpi_page_maps_the_districts_with_an_outage_now(client: TestClient, engine: Engine) -> None:
    """The residents' map on /kpis: the districts the open incidents are in drawn dark, the others not."""
    from ftthnoc.incidents.models import Incident
    from ftthnoc.inventory.models import District

    with db.session(engine) as s:
        dark = set(s.scalars(select(Incident.district).where(Incident.status == "open")))
        districts = set(s.scalars(select(District.code)))
    assert dark and districts - dark, "the test town needs an open incident and a district without one"
    login_as(client, engine, "viewer")
    for lang in ("ja", "en"):
        page = client.get(f"/kpis?lang={lang}").text
        section = page[page.index('id="kpi-outage-map"'):]
        section = section[:section.index("</section>")]
        pattern = r'<g class="district (dark|ok)" id="map-[a-z_]+" data-district="([a-z_]+)"'
        drawn = {district: state for state, district in re.findall(pattern, section)}
        assert {d for d, c in drawn.items() if c == "dark"} == dark & set(drawn)
        assert set(drawn) == districts & {"chiyoda", "oasa", "toyohira", "geihoku"}
        svg = section[section.index("<svg"):section.index("</svg>")]
        assert not re.search(r"\d", re.sub(r"<[^>]+>", "", svg))  # which districts only: no count on the map


def test_a_school_user_sees_only_its_school_in_the_kpis(client: TestClient, engine: Engine) -> None:
    login_as(client, engine, "school")
    page = client.get("/kpis").text
    assert "千代田小学校" in page and "大朝小学校" not in page


# ------------------------------------------------------------------------------------ API: jobs
def test_api_enrolment_jobs(client: TestClient, seeded: Seeded, runner: JobRunner) -> None:
    support = bearer(seeded.tokens["support"])
    answer = client.post("/api/enrolments", json={"household": "HH-000001", "serial": "HWTC-5EED0002"},
                         headers=support)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["url"] == f"/api/jobs/{body['job']}" and answer.headers["location"] == body["url"]
    runner.wait(body["job"], timeout=10)
    job = client.get(body["url"], headers=bearer(seeded.tokens["operator"])).json()
    assert job["state"] == "done" and job["finished"] and job["outcome"]["rx_dbm"] == -19.5
    assert client.get(body["url"], headers=bearer(seeded.tokens["viewer"])).status_code == 403
    assert client.get("/api/jobs/nope", headers=support).status_code == 404
    assert client.post("/api/enrolments", json={"household": "HH-999999", "serial": "HWTC-5EED0002"},
                       headers=support).status_code == 404
    assert client.post("/api/enrolments", json={"household": "HH-000001", "serial": "bogus"},
                       headers=support).status_code == 422
    assert client.post("/api/enrolments", json={"household": "HH-000001", "serial": "HWTC-5EED0002"},
                       headers=bearer(seeded.tokens["operator"])).status_code == 403
    line = client.post("/api/households/HH-000001/suspend", headers=support)
    assert line.status_code == 202
    assert runner.wait(line.json()["job"], timeout=10).state == "done"  # type: ignore[union-attr]


def test_api_job_posts_from_a_web_session_need_the_csrf_header(client: TestClient, engine: Engine,
                                                              runner: JobRunner) -> None:
    csrf = login_as(client, engine, "support")
    body = {"household": "HH-000001", "serial": "HWTC-5EED0003", "dry_run": True}
    assert client.post("/api/enrolments", json=body).status_code == 403
    assert client.post("/api/enrolments", json=body, headers={"X-CSRF-Token": csrf}).status_code == 202


def test_no_configuration_means_503_not_a_crash(client: TestClient, seeded: Seeded) -> None:
    answer = client.post("/api/enrolments", json={"household": "HH-000001", "serial": "HWTC-5EED0002"},
                         headers=bearer(seeded.tokens["admin"]))
    assert answer.status_code == 503


# ------------------------------------------------------------------------------------- API: KPIs
def test_api_kpis_for_grafana_and_school_scoping(client: TestClient, seeded: Seeded, app: FastAPI) -> None:
    app.state.school_peaks_mbps = {"chiyoda-es": 100.0, "oasa-es": 900.0}
    admin, school = bearer(seeded.tokens["admin"]), bearer(seeded.tokens["school"])
    full = client.get("/api/kpis", headers=admin).json()
    assert full["subscriptions"]["target"] == 7000
    assert full["telework"]["source"] == "vpn_sessions" and full["telework"]["staff_days"] is None
    assert {r["school"] for r in full["school_bandwidth"]} == {"chiyoda-es", "oasa-es"}
    mine = client.get("/api/kpis", headers=school).json()
    assert {r["school"] for r in mine["school_bandwidth"]} == {"chiyoda-es"}
    assert {r["school"] for r in mine["tablets"]["schools"]} <= {"chiyoda-es"}
    assert mine["tablets"]["town"] == full["tablets"]["town"]  # the town figure stays whole
    rows = client.get("/api/kpis/schools/bandwidth", headers=school).json()
    assert [(r["school"], r["peak_mbps"], r["meets"]) for r in rows] == [("chiyoda-es", 100.0, None)]
    for path in ("/subscriptions/monthly", "/subscriptions/districts", "/tablets", "/tablets/home", "/availability",
                 "/tablets/daily", "/telework/monthly", "/availability/monthly"):
        answer = client.get(f"/api/kpis{path}", headers=bearer(seeded.tokens["viewer"]))
        assert answer.status_code == 200 and isinstance(answer.json(), list), path
        assert all(not isinstance(v, dict | list) for row in answer.json() for v in row.values()), path
    # the trends' rows (Grafana's Infinity panels) are the overview's series, each row with its target
    viewer = bearer(seeded.tokens["viewer"])
    daily = client.get("/api/kpis/tablets/daily", headers=viewer).json()
    assert [{k: v for k, v in r.items() if k != "target"} for r in daily] == full["tablets_daily"]
    assert all(r["target"] == 1.0 for r in daily)
    assert client.get("/api/kpis/telework/monthly", headers=viewer).json() == full["telework_monthly"]
    town = client.get("/api/kpis/availability/monthly", headers=viewer).json()
    assert [(r["month"], r["ratio"], r["target"]) for r in town] == [(m["month"], m["ratio"], 1.0)
                                                                      for m in full["availability"]]
    # home learning: counts by district only, the same for a school user (no tablet seen at home here)
    assert [(r["district"], r["seen_7d"], r["share_7d"]) for r in full["tablets_at_home"]["districts"]] == [
        ("chiyoda", 0, None), ("oasa", 0, None)]
    assert mine["tablets_at_home"] == full["tablets_at_home"]
    districts = client.get("/api/kpis/subscriptions/districts", headers=admin).json()
    assert {d["district"] for d in districts} == {"chiyoda", "oasa"}
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"KpiOverview", "SubscriptionMonth", "SchoolBandwidth", "AvailabilityRow", "JobOut"} <= set(schemas)


# ------------------------------------------------------------------------------------ job runner
def test_the_runner_keeps_one_job_per_household_and_a_bound_on_waiting_jobs(engine: Engine) -> None:
    import threading

    gate = threading.Event()

    class Slow(FakeProvisioner):
        def suspend(self, code: str, *, dry_run: bool = False) -> Outcome:
            gate.wait(10)
            return super().suspend(code, dry_run=dry_run)

    jobs = JobRunner(engine, Config(), workers=1, max_pending=2,
                     factory=lambda _e, _c, actor, progress: Slow(actor, progress))  # type: ignore[arg-type,return-value]
    try:
        first, created = jobs.submit("suspend", "HH-000001", "sue")
        again, created_again = jobs.submit("suspend", "HH-000001", "sue")
        assert created and not created_again and again.id == first.id
        jobs.submit("suspend", "HH-000003", "sue")
        from api.jobs import RunnerBusy
        with pytest.raises(RunnerBusy):
            jobs.submit("suspend", "HH-000002", "sue")
        with pytest.raises(ValueError):
            jobs.submit("enrol", "HH-000002", "sue")  # no serial
        gate.set()
        assert jobs.wait(first.id, timeout=10).state == "done"  # type: ignore[union-attr]
    finally:
        gate.set()
        jobs.shutdown()


def test_a_crashing_workflow_fails_its_job_not_the_runner(engine: Engine) -> None:
    class Broken(FakeProvisioner):
        def cancel(self, code: str, *, dry_run: bool = False) -> Outcome:
            raise RuntimeError("database went away")

    jobs = JobRunner(engine, Config(), factory=lambda _e, _c, actor, progress: Broken(actor, progress))  # type: ignore[arg-type,return-value]
    try:
        job, _ = jobs.submit("cancel", "HH-000001", "sue")
        done = jobs.wait(job.id, timeout=10)
        assert done is not None and done.state == "failed" and done.outcome is not None
        assert "database went away" in done.outcome.message
        assert jobs.submit("resume", "HH-000001", "sue")[1]  # the household is free again
    finally:
        jobs.shutdown()
