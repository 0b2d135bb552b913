"""The pages in a real browser: headless Debian Chromium driven by Playwright, against the app served by
uvicorn on 127.0.0.1 over the simulated town of ``tests/provisioning/conftest.py`` (SSH OLT simulators,
snmpsim agents, a SQLite inventory). The enrolment runs for real: SSH to the OLT, SNMP verification.

Run alone: ``python -m pytest tests/api/web/test_browser.py`` (about 20 s; needs /usr/bin/chromium and
snmpsim; skipped with the reason when either is missing). Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from api.app import create_app
from api.security import hash_password
from api.service import SnapshotOnuState
from collectors.runner import Poller
from ftthnoc.causes import class_of
from ftthnoc.incidents.classify import CAUSE_FAMILY
from ftthnoc.inventory import db
from ftthnoc.inventory.models import Household, HouseholdContact, Olt, Onu, PonPort, School, Tablet, User
from ftthnoc.kpi import throughput
from ftthnoc.kpi.throughput import ThroughputResult
from ftthnoc.samples import MetricFamily
from tests.api.conftest import settings_for
from tests.api.served import served
from tests.api.web.chromium import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    NEEDS_CHROMIUM,
    expect,
    sync_playwright,
)
from tests.provisioning.conftest import Env
from tests.provisioning.conftest import env as env

PASSWORD = "browser-test-password"
SECRET = "browser-test-secret-0123456789abcdef"

pytestmark = NEEDS_CHROMIUM


@dataclass
class Site:
    url: str
    env: Env
    school: str
    #: the families of one real poll of the town's OLTs, as the API's state provider reads them
    families: list[MetricFamily]


@pytest.fixture(scope="module")
def site(env: Env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:

    now = datetime.now(UTC)
    with db.session_scope(env.engine, actor="browser-test") as s:
        school = s.scalars(select(School).order_by(School.code)).first()
        assert school is not None, "the simulated town has no school"
        code = school.code
        for role in ("admin", "operator", "support", "viewer"):
            s.add(User(name=f"web-{role}", role=role, password_hash=hash_password(PASSWORD)))
        s.add(User(name="web-school", role="school", school_id=school.id, password_hash=hash_password(PASSWORD)))
        tablets = list(s.scalars(select(Tablet).where(Tablet.school_id == school.id).order_by(Tablet.id)))
        for i, tablet in enumerate(tablets):  # some online, some offline, the rest never seen
            if i % 3 == 0:
                tablet.last_seen_at = now - timedelta(minutes=10 + i)
            elif i % 3 == 1:
                tablet.last_seen_at = now - timedelta(days=2)
    settings = settings_for(tmp_path_factory.mktemp("browser"), api_secret=SecretStr(SECRET))
    families: list[MetricFamily] = []  # one real poll of every OLT of the simulated town
    poller = Poller(env.config, lambda _target, _module, fams: families.extend(fams))
    polling = threading.Thread(target=lambda: asyncio.run(poller.run(asyncio.Event(), cycles=1)),
                               name="poll-once")  # its own thread: Playwright's loop may run in this one
    polling.start()
    polling.join()
    app = create_app(env.engine, settings=settings, onu_state=SnapshotOnuState(lambda: families))
    app.state.config = env.config
    app.state.school_peaks_mbps = {code: 250.0}
    throughput.record(env.engine, [ThroughputResult(code, "download", datetime.now(UTC), "192.0.2.10:5201", 4, 10.0,
                                                    300e6)])
    try:
        with served(app, "uvicorn-browser-test") as base:
            yield Site(base, env, code, families)
    finally:
        jobs = getattr(app.state, "jobs", None)
        if jobs is not None:
            jobs.shutdown()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1024, "height": 1366},  # a tablet held upright
            locale="ja-JP",
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:

    browser_context.clear_cookies()
    tab = browser_context.new_page()
    tab.set_default_timeout(20_000)
    try:
        yield tab
    finally:
        tab.close()


def _login(page: Any, site: Site, name: str, then: str) -> None:
    page.goto(f"{site.url}{then}")
    assert "/login" in page.url
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{site.url}{then}")


def _shot(page: Any, name: str) -> Path:
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.exists() and path.stat().st_size > 0
    return path


def test_support_enrols_an_installed_household_and_watches_it_become_active(page: Any, site: Site) -> None:
    code, serial, _port = site.env.install(site.env.olt("huawei"), rx=-19.8)
    _login(page, site, "web-support", f"/support/households/{code}")
    assert page.get_attribute("#household-status", "data-status") == "installed"
    assert page.inner_text("#household-status") == "工事済み"
    page.fill("#enrol-form input[name=serial]", serial)
    page.click("#enrol-form button[type=submit]")
    page.wait_for_selector("#job")  # the job box, following /api/jobs/{id}
    # the page reloads itself when the job has finished (the CSP forbids eval: no wait_for_function here)
    expect(page.locator("#household-status")).to_have_attribute("data-status", "active", timeout=90_000)
    assert page.inner_text("#household-status") == "利用中"
    assert "として登録しました" in page.inner_text("#job-summary")  # our words, in Japanese
    assert "runs as ONT" in (page.text_content("#job-detail") or "")  # the record's original, apart
    assert site.env.status(code) == "active"
    steps = page.inner_text("#job-steps")
    assert serial in steps
    _shot(page, "support-enrolment.png")


def test_a_school_user_sees_its_tablets_and_the_bandwidth_line(page: Any, site: Site) -> None:
    _login(page, site, "web-school", f"/schools/{site.school}?lang=en")
    assert "Tablets" in page.inner_text("#tablets")
    assert page.locator("table.tablets tbody tr").count() > 0
    assert page.locator("span.pill.online").count() > 1 and page.locator("span.pill.never_seen").count() > 1
    line = page.inner_text("#bandwidth .bandwidth-line")
    assert "300.0 Mbps" in line and "MEXT recommended" in line and "Meets" in line  # the iperf3 test decides
    assert "250.0 Mbps" in page.inner_text("#bandwidth .utilisation-line")  # utilisation: a line of its own
    assert page.locator("#bandwidth svg.chart").count() == 1
    _shot(page, "school.png")
    page.emulate_media(media="print")
    assert page.locator("header.top").is_hidden()  # the print sheet drops the navigation
    page.emulate_media(media="screen")


def test_the_kpi_page_renders_its_svg_charts(page: Any, site: Site) -> None:
    _login(page, site, "web-operator", "/kpis")
    charts = page.locator("svg.chart")
    assert charts.count() >= 5
    box = charts.first.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 10
    assert page.locator("a.external").get_attribute("href")  # operators get the Grafana link
    _shot(page, "kpis.png")


def _dying_gasp_household(site: Site) -> str:
    """A household whose ONU the poll found down after a dying gasp (the town has a few)."""
    down = {(s.labels["olt"], s.labels["pon_port"], s.labels["onu_id"]) for f in site.families
            if f.name == "ftth_onu_up" for s in f.samples if s.value == 0.0}  # fmt: skip
    gasps = {(s.labels["olt"], s.labels["pon_port"], s.labels["onu_id"]) for f in site.families
             if f.name == CAUSE_FAMILY for s in f.samples
             if class_of(s.labels.get("cause")) == "dying_gasp"}  # fmt: skip
    with db.session_scope(site.env.engine) as s:
        rows = s.execute(select(Household.code, Olt.name, PonPort.port, Onu.onu_id)
                         .join(Onu, Onu.household_id == Household.id).join(PonPort, Onu.pon_port_id == PonPort.id)
                         .join(Olt, PonPort.olt_id == Olt.id).order_by(Household.code))  # fmt: skip
        for code, olt, port, onu_id in rows:
            if (olt, port, str(onu_id)) in down & gasps:
                return str(code)
    pytest.fail("the simulated town's poll found no ONU down with a dying gasp")


def test_support_finds_a_caller_by_kana_and_sees_the_line_is_down(page: Any, site: Site) -> None:
    code = _dying_gasp_household(site)
    with db.session_scope(site.env.engine) as s:  # the caller's name as the register holds it, in katakana
        contact = s.scalars(select(HouseholdContact).join(Household).where(Household.code == code)).one()
        contact.name = "ヤマダ ハナコ"
    _login(page, site, "web-support", "/support")
    page.fill("#search-text", "やまだ はなこ")  # the clerk types the reading in hiragana
    page.click("form.search button[type=submit]")
    page.wait_for_selector("table.households")
    assert page.locator("table.households tbody tr").count() == 1
    assert "ヤマダ ハナコ" in page.inner_text("table.households")
    _shot(page, "support-search-kana.png")
    page.click(f"a.row-link:has-text('{code}')")
    page.wait_for_selector("#line-status")
    assert page.inner_text("#line-headline") == "回線が停止しています（停電の可能性：dying gasp）"
    assert "停止" in page.inner_text("#line-status")
    _shot(page, "household-down.png")
