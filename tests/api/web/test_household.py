"""The household page as a help-desk clerk uses it: the line's status first (up, down and why since when,
never polled), from a poll snapshot handed to the app as the poller hands it; and the confirmation that
suspend and cancel need (the household's code typed) before a job starts."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

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
from ftthnoc.inventory.models import AuditEntry
from ftthnoc.samples import MetricFamily
from tests.api.conftest import Seeded, settings_for
from tests.api.web.test_pages import FakeProvisioner, form_csrf, login_as

#: HH-000001's ONU (HWTC-A1B2C3D4) in the test town: a B+ Huawei OLT.
ONU = {"olt": "olt-chiyoda-1", "pon_port": "0/1/0", "onu_id": "0", "district": "chiyoda"}
DOWN_AT = datetime(2026, 11, 20, 3, 4, tzinfo=UTC)  # 12:04 JST


def snapshot(*, up: float | None, rx: float | None = None, cause: str | None = None,
             down_at: datetime | None = None) -> list[MetricFamily]:  # fmt: skip
    """The poller's families for HH-000001's ONU, as the collectors name them (the info family without
    the ``_info`` the exporters add)."""
    families = []
    for name, value, extra in (("ftth_onu_up", up, {}), ("ftth_onu_rx_power_dbm", rx, {}),
                               ("ftth_onu_last_down_cause", 1.0 if cause else None, {"cause": cause or ""}),
                               ("ftth_onu_last_down_timestamp_seconds",
                                down_at.timestamp() if down_at else None, {})):  # fmt: skip
        fam = MetricFamily(name, "")
        if value is not None:
            fam.add({**ONU, **extra}, value)
        families.append(fam)
    return families


@pytest.fixture
def families() -> list[MetricFamily]:
    return []


@pytest.fixture
def app(engine: Engine, tmp_path: Path, families: list[MetricFamily]) -> FastAPI:
    return create_app(engine, settings=settings_for(tmp_path), onu_state=SnapshotOnuState(lambda: families, 0.0))


@pytest.fixture
def runner(app: FastAPI, engine: Engine) -> Iterator[JobRunner]:
    jobs = JobRunner(engine, Config(), factory=lambda _e, _c, actor, progress: FakeProvisioner(actor, progress))  # type: ignore[arg-type,return-value]
    app.state.jobs = jobs
    yield jobs
    jobs.shutdown()


def headline(html: str) -> str:
    start = html.index('id="line-headline">') + len('id="line-headline">')
    return html[start:html.index("</p>", start)].strip()


# ------------------------------------------------------------------------------------- the line
def test_an_up_line_says_so_with_rx_against_its_class(client: TestClient, engine: Engine,
                                                      families: list[MetricFamily]) -> None:
    families[:] = snapshot(up=1.0, rx=-19.5)
    login_as(client, engine, "support")
    page = client.get("/support/households/HH-000001").text
    assert headline(page) == "回線は正常です" and "line-up" in page
    assert "-19.50 dBm" in page and "基準内" in page and "B+ の基準：-25.0 dBm 未満で警告、-27.0 dBm 未満で重大" in page
    assert "この世帯を含む対応中の障害はありません" in page
    english = client.get("/support/households/HH-000001?lang=en").text
    assert headline(english) == "The line works" and "B+ limits" in english
    families[:] = snapshot(up=1.0, rx=-27.4)  # below B+'s critical level
    weak = client.get("/support/households/HH-000001?lang=ja").text
    assert headline(weak) == "回線はつながっていますが、受光レベルが低下しています" and "低下（重大）" in weak


def test_a_dying_gasp_says_power_cut_since_when_and_the_incident(client: TestClient, engine: Engine,
                                                                  families: list[MetricFamily],
                                                                  seeded: Seeded) -> None:  # fmt: skip
    families[:] = snapshot(up=0.0, cause="dying_gasp", down_at=DOWN_AT)
    login_as(client, engine, "support")
    page = client.get("/support/households/HH-000001").text
    assert headline(page) == "回線が停止しています（停電の可能性：dying gasp）" and "line-down" in page
    assert "2026-11-20 12:04 から停止中" in page and "dying_gasp" in page
    english = client.get("/support/households/HH-000001?lang=en").text
    assert headline(english) == "The line is down (probably a power cut: dying gasp)"
    assert "down since 2026-11-20 12:04" in english
    with db.session_scope(engine) as s:  # the open feeder-cut incident counts this household
        s.add(IncidentHousehold(incident_id=seeded.incidents["open"], olt="olt-chiyoda-1", pon_port="0/1/0",
                                onu_id="0", household="HH-000001", joined_at=DOWN_AT))  # fmt: skip
    families[:] = snapshot(up=0.0)  # a ZTE-like ONU: no cause nor time from the OLT
    page = client.get("/support/households/HH-000001?lang=ja").text
    assert headline(page) == "回線が停止しています（光信号断（LOS）：光ファイバーの断線または ONU の故障の可能性）"
    assert f"障害 #{seeded.incidents['open']}（幹線の光ファイバー断" in page
    assert "2026-11-20 12:04 から停止中" in page  # when the incident counted it


def test_an_onu_no_poll_has_seen_says_no_data_never_active(client: TestClient, engine: Engine) -> None:
    login_as(client, engine, "operator")
    page = client.get("/support/households/HH-000001").text
    assert headline(page) == "監視データがありません" and "正常" not in headline(page)
    assert "line-not_polled" in page
    assert headline(client.get("/support/households/HH-000001?lang=en").text) == "No monitoring data"
    assert headline(client.get("/support/households/HH-000004?lang=ja").text) == "ONU が登録されていません"


# ------------------------------------------------------------------------------ confirmation
@pytest.mark.parametrize("action", ["cancel", "suspend"])
def test_cancel_and_suspend_run_only_with_the_code_typed(client: TestClient, engine: Engine, runner: JobRunner,
                                                          action: str) -> None:  # fmt: skip
    login_as(client, engine, "support")
    page = client.get("/support/households/HH-000001").text
    url = f"/support/households/HH-000001/{action}"
    first = client.post(url, data={"csrf_token": form_csrf(page)}, follow_redirects=False)
    assert first.status_code == 200 and 'id="confirm-form"' in first.text and "山田 太郎" in first.text
    assert runner.jobs() == []
    for wrong in ("HH-000002", "HH-00000", "HH-0000011"):
        answer = client.post(url, data={"csrf_token": form_csrf(first.text), "confirm_code": wrong},
                             follow_redirects=False)  # fmt: skip
        assert answer.status_code == 422 and "一致しません" in answer.text and runner.jobs() == []
    empty = client.post(url, data={"csrf_token": form_csrf(first.text), "confirm_code": ""})
    assert empty.status_code == 200 and 'id="confirm-form"' in empty.text and runner.jobs() == []
    no_csrf = client.post(url, data={"confirm_code": "HH-000001"}, follow_redirects=False)
    assert no_csrf.status_code == 403 and runner.jobs() == []
    right = client.post(url, data={"csrf_token": form_csrf(first.text), "confirm_code": " hh-000001 "},
                        follow_redirects=False)  # fmt: skip
    assert right.status_code == 303 and "job=" in right.headers["location"]
    (job,) = runner.jobs()
    assert job.kind == action and job.household == "HH-000001" and job.actor == "sue"
    with db.session_scope(engine) as s:  # the confirmation page showed the name: one audited read
        reads = [e.detail["households"] for e in s.scalars(select(AuditEntry).where(
            AuditEntry.entity == "household_contacts"))]  # fmt: skip
    assert reads.count(["HH-000001"]) == 1 + 1 + 3 + 1  # the household page and each confirmation page


def test_resume_needs_no_confirmation(client: TestClient, engine: Engine, runner: JobRunner) -> None:
    login_as(client, engine, "support")
    page = client.get("/support/households/HH-000002").text
    answer = client.post("/support/households/HH-000002/resume", data={"csrf_token": form_csrf(page)},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303 and [j.kind for j in runner.jobs()] == ["resume"]


# ------------------------------------------------------------------------------------------ search
def test_support_searches_by_phone_name_and_serial_on_the_page(client: TestClient, engine: Engine) -> None:
    login_as(client, engine, "support")
    assert 'id="search-text"' in client.get("/support").text
    page = client.get("/support", params={"q": "０８２６－７２－０００１", "lang": "en"}).text
    assert "1 found" in page and "HH-000001" in page and "山田 太郎" in page
    assert "HH-000003" in client.get("/support", params={"q": "hwtca1b2c3d6"}).text
    assert "HH-000001" in client.get("/support", params={"q": "山田太郎"}).text
    with db.session_scope(engine) as s:
        reads = [e.detail["households"] for e in s.scalars(select(AuditEntry).where(
            AuditEntry.entity == "household_contacts"))]  # fmt: skip
    assert reads == [["HH-000001"], ["HH-000003"], ["HH-000001"]]


def test_operators_have_no_personal_search(client: TestClient, engine: Engine) -> None:
    login_as(client, engine, "operator")
    assert 'id="search-text"' not in client.get("/support").text
    assert client.get("/support", params={"q": "0826"}).status_code == 403
    assert "HH-000003" in client.get("/support", params={"district": "oasa"}).text
