"""Every word a Japanese user sees is Japanese: each page of the web (login, search, household with its
line, history, running and finished jobs, confirmation, refusals, schools, a school, KPIs, error pages,
logout) rendered over the API test town in Japanese, its visible text gathered (``visible_text``: the
device's verbatim words and identifiers marked apart are left out) and any English word in it is a failure
that names the page and the words.

Also: the device's answer is shown verbatim and apart from ours, and ``?lang=en`` survives the login.
"""

from __future__ import annotations

import re
import threading
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
from api.jobs import JobRunner
from api.service import SnapshotOnuState
from ftthnoc.config import Config
from ftthnoc.incidents.models import IncidentHousehold
from ftthnoc.inventory import db
from ftthnoc.inventory.models import EnrolmentState, Household, School, Tablet
from provisioning.enrol import Outcome
from tests.api.conftest import PASSWORD, Seeded, settings_for
from tests.api.web.test_household import DOWN_AT, snapshot
from tests.api.web.test_pages import FakeProvisioner, form_csrf, login_as
from tests.api.web.visible_text import english_words, visible_text

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


class SlowProvisioner(FakeProvisioner):
    """Reports its first step, then waits until the test lets it finish (a job seen while it runs)."""

    release = threading.Event()

    def enrol(self, code: str, serial: str, *, dry_run: bool = False) -> Outcome:
        self.progress("find", f"looking for {serial} in autofind")
        self.progress("add", f"adding {serial} as ONT 3 on olt-chiyoda-1 0/1/0")
        self.progress("service", "service port on VLAN 100")
        self.progress("mystery", "a step the pages have never heard of")
        SlowProvisioner.release.wait(30)
        return super().enrol(code, serial, dry_run=dry_run)


@pytest.fixture
def families() -> list[Any]:
    """HH-000001's ONU down after a dying gasp, as the poller reports it."""
    return snapshot(up=0.0, rx=None, cause="dying-gasp", down_at=DOWN_AT)


@pytest.fixture
def app(engine: Engine, tmp_path: Path, families: list[Any]) -> FastAPI:
    return create_app(engine, settings=settings_for(tmp_path), onu_state=SnapshotOnuState(lambda: families, 0.0))


@pytest.fixture
def runner(app: FastAPI, engine: Engine) -> Iterator[JobRunner]:
    SlowProvisioner.release.clear()
    jobs = JobRunner(engine, Config(), factory=lambda _e, _c, actor, progress: SlowProvisioner(actor, progress))  # type: ignore[arg-type,return-value]
    app.state.jobs = jobs
    yield jobs
    SlowProvisioner.release.set()
    jobs.shutdown()


def _installed(engine: Engine, *codes: str) -> None:
    with db.session_scope(engine) as s:
        for code in codes:
            s.scalars(select(Household).where(Household.code == code)).one().status = "installed"  # type: ignore[assignment]


def _seen(engine: Engine) -> None:
    """Tablets of the test town: one online, one offline."""
    now = datetime.now(UTC)
    with db.session_scope(engine) as s:
        school = s.scalars(select(School).where(School.code == "chiyoda-es")).one()
        tablets = list(s.scalars(select(Tablet).where(Tablet.school_id == school.id).order_by(Tablet.id)))
        tablets[0].last_seen_at = now - timedelta(hours=1)
        tablets[1].last_seen_at = now - timedelta(days=3)


def _open_incident(engine: Engine, seeded: Seeded) -> None:
    with db.session_scope(engine) as s:
        s.add(IncidentHousehold(incident_id=seeded.incidents["open"], olt="olt-chiyoda-1", pon_port="0/1/0",
                                onu_id="0", household="HH-000001", joined_at=DOWN_AT))  # fmt: skip


def _pages(client: TestClient, engine: Engine, seeded: Seeded, runner: JobRunner) -> dict[str, str]:
    """Every page a Japanese user meets, by a name for the failure message: its HTML."""
    pages: dict[str, str] = {}

    def get(name: str, url: str, status: int = 200) -> str:
        answer = client.get(url)
        assert answer.status_code == status, (name, url, answer.status_code)
        pages[name] = answer.text
        return answer.text

    login = get("login", "/login")
    wrong = client.post("/login", data={"name": "sue", "password": "wrong-password", "csrf_token": form_csrf(login)})
    assert wrong.status_code == 401
    pages["login refused"] = wrong.text
    _installed(engine, "HH-000004", "HH-000003")
    _open_incident(engine, seeded)
    _seen(engine)

    login_as(client, engine, "support")
    get("search: every household", "/support?code=HH")
    get("search: by district and status", "/support?district=chiyoda&status=active")
    get("search: nothing found", "/support?code=ZZ")
    get("search: a value too long", "/support?code=" + "x" * 40, 422)  # the validator's refusal, as a page
    household = get("household: line down, history", "/support/households/HH-000001")
    get("household: suspended", "/support/households/HH-000002")
    installed = get("household: installed", "/support/households/HH-000004")
    bad = client.post("/support/households/HH-000004/enrol", data={"serial": "not a serial",
                                                                  "csrf_token": form_csrf(installed)})  # fmt: skip
    assert bad.status_code == 422
    pages["household: a refused serial"] = bad.text
    confirm = client.post("/support/households/HH-000001/cancel", data={"csrf_token": form_csrf(household)})
    pages["confirm: cancel"] = confirm.text
    mismatch = client.post("/support/households/HH-000001/suspend", data={"csrf_token": form_csrf(household),
                                                                         "confirm_code": "HH-999"})  # fmt: skip
    assert mismatch.status_code == 422
    pages["confirm: the code does not match"] = mismatch.text
    started = client.post("/support/households/HH-000004/enrol",
                          data={"serial": "HWTC-5EED0001", "csrf_token": form_csrf(installed)}, follow_redirects=False)
    running = client.get(started.headers["location"])
    assert 'data-finished="false"' in running.text
    pages["job: running"] = running.text
    failing = client.post("/support/households/HH-000003/enrol", data={"serial": "HWTC-0000DEAD",
                          "csrf_token": form_csrf(installed)}, follow_redirects=False)  # fmt: skip
    SlowProvisioner.release.set()
    for answer in (started, failing):
        job_id = answer.headers["location"].split("job=")[1].split("&")[0]
        assert runner.wait(job_id, timeout=10) is not None
    get("job: done", started.headers["location"])
    get("job: failed", failing.headers["location"])
    get("forbidden", "/schools", 403)
    get("logout", "/logout")

    login_as(client, engine, "admin")
    get("schools", "/schools")
    get("school", "/schools/chiyoda-es")
    get("school without tablets", "/schools/oasa-es")
    get("school: a filtered list", "/schools/chiyoda-es?state=offline&grade=2&class=2-1")
    get("not found", "/schools/no-such-school", 404)
    get("kpis", "/kpis")
    login_as(client, engine, "school")
    get("kpis: a school user", "/kpis")
    return pages


def test_every_word_of_every_japanese_page_is_japanese(client: TestClient, engine: Engine, seeded: Seeded,
                                                       runner: JobRunner) -> None:  # fmt: skip
    pages = _pages(client, engine, seeded, runner)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # what the check read, page by page, for a reviewer
    (ARTIFACTS / "japanese-visible-text.txt").write_text(
        "".join(f"== {name}\n{visible_text(html, 'ja')}\n\n" for name, html in pages.items()), encoding="utf-8")
    untranslated = {name: sorted(set(english_words(visible_text(html, "ja")))) for name, html in pages.items()}
    assert {name: words for name, words in untranslated.items() if words} == {}
    for name, html in pages.items():
        assert 'lang="ja"' in html, name
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", visible_text(html, "ja")), name


def test_the_checker_catches_english_and_spares_identifiers_and_the_devices_words() -> None:
    page = ('<html lang="ja"><head><title>世帯 – ftthnoc</title></head><body><h1>世帯 <span>installed</span></h1>'
            '<p translate="no">olt-chiyoda chiyoda-es iPadOS</p><p>HH-000001 · 0/1/0 · -19.50 dBm · 1G</p>'
            '<samp class="device" lang="en">Failure: SN already exists</samp>'
            '<input placeholder="Search here"><svg><text>Take-up</text></svg></body></html>')  # fmt: skip
    assert english_words(visible_text(page, "ja")) == ["installed", "Search", "here", "Take", "up"]


def test_statuses_steps_and_districts_are_japanese_and_the_device_speaks_apart(client: TestClient, engine: Engine,
                                                                                runner: JobRunner) -> None:  # fmt: skip
    _installed(engine, "HH-000004")
    login_as(client, engine, "support")
    search = client.get("/support?district=chiyoda").text
    assert ">利用中</span>" in search and ">利用停止中</span>" in search and ">千代田</td>" in search
    assert ">chiyoda<" not in search and ">active<" not in search
    page = client.get("/support/households/HH-000001").text
    assert 'data-status="active">利用中</span>' in page and "<dd>千代田</dd>" in page
    assert "<td>開通</td>" in page and ">完了</span>" in page  # the seeded run: kind and state
    # the cause as the OLT named it, verbatim and marked as the device's
    assert '<samp class="device" lang="en" translate="no">dying-gasp</samp>' in page
    SlowProvisioner.release.set()
    installed = client.get("/support/households/HH-000004").text
    started = client.post("/support/households/HH-000004/enrol", data={"serial": "HWTC-0000DEAD",
                          "csrf_token": form_csrf(installed)}, follow_redirects=False)  # fmt: skip
    runner.wait(started.headers["location"].split("job=")[1], timeout=10)
    failed = client.get(started.headers["location"]).text
    assert 'id="job-state" data-state="failed">失敗</p>' in failed
    assert "autofind（未登録 ONU の一覧）で HWTC-0000DEAD を探しています" in failed
    assert "失敗したため、変更を元に戻しています" in failed and "処理中です" in failed  # an unknown step: plain words
    summary = re.search(r'id="job-summary"><strong>(.*?)</strong>', failed)
    assert summary and summary.group(1) == ("開通できませんでした。機器には何も残っていません。"
                                            "機器がコマンドを拒否しました（下の「機器の応答」を参照）。")
    device = re.search(r'id="device-said">(.*?)</div>', failed, re.S)
    assert device and "機器の応答" in device.group(1) and "Failure: SN already exists" in device.group(1)
    assert "開通できませんでした" not in device.group(1)  # our words are not in the device's box
    english = client.get(started.headers["location"] + "&lang=en").text
    assert "Enrolment failed; nothing is left on the device." in english and ">Failed</p>" in english


def test_a_pages_invalid_request_is_a_page_and_the_apis_stays_json(client: TestClient, engine: Engine) -> None:
    login_as(client, engine, "support")
    page = client.get("/support?code=" + "x" * 40)
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "入力された条件が正しくありません" in page.text
    assert "The request is not valid" in client.get("/support?lang=en&code=" + "x" * 40).text
    api = client.get("/api/households?limit=notanumber")
    assert api.status_code == 422 and api.headers["content-type"].startswith("application/")


def test_english_is_kept_through_the_login(client: TestClient) -> None:
    first = client.get("/?lang=en", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?lang=en"
    login = client.get(first.headers["location"])
    assert 'lang="en"' in login.text and "Log in" in login.text
    # a page asked for in English sends to an English login, which comes back to it
    client.cookies.clear()
    away = client.get("/kpis?lang=en", follow_redirects=False)
    assert away.headers["location"] == "/login?next=%2Fkpis%3Flang%3Den&lang=en"
    form = client.get(away.headers["location"]).text
    assert 'lang="en"' in form and 'name="next" value="/kpis?lang=en"' in form
    back = client.post("/login?lang=en", data={"name": "alice", "password": PASSWORD, "csrf_token": form_csrf(form),
                                               "next": "/kpis?lang=en"}, follow_redirects=False)  # fmt: skip
    assert back.headers["location"] == "/kpis?lang=en"
    assert 'lang="en"' in client.get("/kpis").text  # and stays English (the cookie) without the parameter
    # a failed login re-renders the form in English too, without the cookie
    client.cookies.clear()
    form = client.get("/login?lang=en").text
    client.cookies.delete("ftthnoc_lang")
    wrong = client.post("/login?lang=en", data={"name": "alice", "password": "nope", "csrf_token": form_csrf(form)})
    assert "Wrong user name or password" in wrong.text


def test_a_run_record_with_a_state_the_page_knows(engine: Engine) -> None:
    """Every run state and household status has its words in both languages."""
    from api.web.i18n import MESSAGES
    from ftthnoc.inventory.models import HouseholdStatus

    for lang in ("ja", "en"):
        for state in EnrolmentState:
            assert f"state_{state}" in MESSAGES[lang], (lang, state)
        for status in HouseholdStatus:
            assert f"status_{status}" in MESSAGES[lang], (lang, status)
        assert set(MESSAGES[lang]) == set(MESSAGES["ja"]), lang  # no key in one language only
