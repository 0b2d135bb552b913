"""The residents' outage page and its Atom feed (``api.web.outages``) over the API test town: no login,
districts and ranges only, Japanese and English, public caching without cookies, a valid Atom 1.0 feed."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.services.outages import HouseholdRange, households_range
from ftthnoc.incidents.models import Incident, IncidentHousehold
from ftthnoc.inventory import db
from ftthnoc.inventory.models import Household, HouseholdContact
from tests.api.conftest import Seeded, engine_copy, settings_for

A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def add_outages(engine: Engine, now: datetime) -> None:
    """An open feeder cut in 大朝 of 12 homes (member rows with household codes), an open power cut in 千代田 of
    3 homes, one restored an hour ago and one restored 10 days ago (too old to list)."""
    with db.session_scope(engine) as s:
        codes = list(s.scalars(select(Household.code).order_by(Household.code)))
        cut = Incident(kind="feeder_cut", status="open", district="oasa", olt="olt-oasa-1", pon_port="0/2/3",
                       started_at=now - timedelta(hours=3, minutes=5), affected_count=12, onu_count=12,
                       reportable=True, cause="los")  # fmt: skip
        for n, code in enumerate(codes[:3]):
            cut.households.append(IncidentHousehold(olt="olt-oasa-1", pon_port="0/2/3", onu_id=str(n),
                                                    household=code, joined_at=cut.started_at))  # fmt: skip
        power = Incident(kind="power_outage", status="open", district="chiyoda", olt=None, pon_port=None,
                         started_at=now - timedelta(minutes=40), affected_count=3, onu_count=3, reportable=False,
                         cause="dying_gasp")  # fmt: skip
        recent = Incident(kind="feeder_cut", status="closed", district="chiyoda", olt="olt-chiyoda-1",
                          pon_port="0/1/1", started_at=now - timedelta(hours=5), ended_at=now - timedelta(hours=1),
                          duration_seconds=4 * 3600, affected_count=6, onu_count=6, reportable=True,
                          cause="los")  # fmt: skip
        old = Incident(kind="feeder_cut", status="closed", district="oasa", olt="olt-oasa-1", pon_port="0/2/1",
                       started_at=now - timedelta(days=10, hours=1), ended_at=now - timedelta(days=10),
                       duration_seconds=3600, affected_count=6, onu_count=6, reportable=False, cause="los")  # fmt: skip
        s.add_all([cut, power, recent, old])


def personal_strings(engine: Engine) -> list[str]:
    """Every household code, name, kana, address and phone of the test data: none may reach a public page."""
    with db.session(engine) as s:
        found = list(s.scalars(select(Household.code)))
        for c in s.scalars(select(HouseholdContact)):
            found += [v for v in (getattr(c, f, None) for f in ("name", "name_kana", "address", "phone")) if v]
    assert found, "the test town has no households"
    return found


@pytest.fixture(scope="module")
def outage_app(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    directory = tmp_path_factory.mktemp("outages")
    engine = engine_copy(seeded, directory)
    add_outages(engine, datetime.now(UTC))
    yield create_app(engine, settings=settings_for(directory))
    engine.dispose()


@pytest.fixture
def anon(outage_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(outage_app) as c:
        yield c


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


RANGES = [(1, HouseholdRange(0, 9)), (9, HouseholdRange(0, 9)), (10, HouseholdRange(10, 49)),
          (99, HouseholdRange(50, 99)), (100, HouseholdRange(100, 499)), (7000, HouseholdRange(1000, None))]


@pytest.mark.parametrize(("count", "shown"), RANGES)
def test_counts_are_ranges_and_none_below_ten(count: int, shown: HouseholdRange) -> None:
    assert households_range(count) == shown


def test_the_page_needs_no_login_and_shows_districts_since_when(anon: TestClient, outage_app: FastAPI) -> None:
    page = anon.get("/outages", follow_redirects=False)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="ja">' in html and "障害情報" in html
    now_section = html.split('id="outages-now"')[1].split('id="outages-restored"')[0]
    assert "大朝地区" in now_section and "千代田地区" in now_section
    assert "10〜49 世帯" in now_section  # 12 homes: a range
    assert "10 世帯未満" in now_section and re.search(r"\b3 世帯", now_section) is None  # 3 homes: no count
    assert "停電による通信停止" in now_section and "通信障害（光ファイバー設備）" in now_section
    # the longest first: 千代田 has the seeded feeder cut open since 2026-11-20 03:00 UTC, and the power cut
    assert now_section.index("千代田地区") < now_section.index("大朝地区")
    assert "2026年11月20日 12:00 から" in now_section
    restored = html.split('id="outages-restored"')[1]
    assert "千代田地区" in restored and "大朝地区" not in restored  # the 10-day-old one is not listed
    text = _text(html)
    for secret in personal_strings(outage_app.state.engine):
        assert secret not in text and secret not in html, secret
    for infrastructure in ("olt-oasa-1", "olt-chiyoda-1", "0/2/3", "0/1/1"):
        assert infrastructure not in html  # no OLT, no PON port: too close to a street


def test_english_by_the_address_alone_and_cacheable(anon: TestClient) -> None:
    page = anon.get("/outages?lang=en")
    assert '<html lang="en">' in page.text and "Outages now" in page.text and "Oasa" in page.text
    assert "10–49 households" in page.text and "fewer than 10 households" in page.text
    assert "set-cookie" not in page.headers  # nothing per visitor: a shared cache may keep it
    anon.cookies.set("ftthnoc_lang", "en")
    assert '<html lang="ja">' in anon.get("/outages").text  # the staff pages' cookie does not change it
    for answer in (page, anon.get("/outages/feed.atom")):
        assert answer.headers["cache-control"] == "public, max-age=60"
        csp = answer.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_atom_feed_is_valid_atom_1_0(anon: TestClient, outage_app: FastAPI) -> None:
    answer = anon.get("/outages/feed.atom")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/atom+xml")
    assert answer.content.startswith(b"<?xml")
    feed = ET.fromstring(answer.content)  # expat: a real XML parser; a malformed feed raises
    assert feed.tag == f"{A}feed"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "ja"
    # RFC 4287 §4.1.1: exactly one id, title, updated; an author (no entry carries its own)
    for required in ("id", "title", "updated"):
        assert len(feed.findall(f"{A}{required}")) == 1, required
    assert RFC3339.match(feed.findtext(f"{A}updated") or "")
    assert feed.findtext(f"{A}author/{A}name")
    assert re.match(r"^urn:uuid:[0-9a-f-]{36}$", feed.findtext(f"{A}id") or "")
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{A}link")}
    assert links["self"].endswith("/outages/feed.atom") and links["alternate"].endswith("/outages")
    entries = feed.findall(f"{A}entry")
    assert len(entries) == 4  # three open (one seeded), one restored this week
    ids = set()
    for entry in entries:
        for required in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{required}")) == 1, required
        assert RFC3339.match(entry.findtext(f"{A}updated") or "")
        ids.add(entry.findtext(f"{A}id"))
        # §4.1.2: without content of its own an entry needs an alternate link; it has both
        assert [lk.get("rel") for lk in entry.findall(f"{A}link")] == ["alternate"]
        assert entry.find(f"{A}content") is not None and entry.find(f"{A}content").get("type") == "text"  # type: ignore[union-attr]
    assert len(ids) == 4
    titles = [e.findtext(f"{A}title") or "" for e in entries]
    assert titles[:2] == ["千代田地区で障害が発生しています：停電による通信停止",  # newest first: 40 min ago
                          "千代田地区の障害は復旧しました：通信障害（光ファイバー設備）"]  # an hour ago
    assert "大朝地区で障害が発生しています：通信障害（光ファイバー設備）" in titles
    body = answer.content.decode("utf-8")
    for secret in personal_strings(outage_app.state.engine):
        assert secret not in body, secret
    assert "olt-oasa-1" not in body
    # the same entries in English keep their ids (the id names the incident, not the language)
    english = ET.fromstring(anon.get("/outages/feed.atom?lang=en").content)
    assert {e.findtext(f"{A}id") for e in english.findall(f"{A}entry")} == ids
    assert english.findtext(f"{A}title") == "Internet (fibre) service status"


def test_no_outage_reads_so(seeded: Seeded, tmp_path: Path) -> None:
    engine = engine_copy(seeded, tmp_path)
    with db.session_scope(engine) as s:
        for inc in s.scalars(select(Incident)):
            s.delete(inc)
    with TestClient(create_app(engine, settings=settings_for(tmp_path))) as c:
        page = c.get("/outages")
        feed = ET.fromstring(c.get("/outages/feed.atom").content)
    engine.dispose()
    assert "現在、障害は発生していません。" in page.text
    assert feed.findall(f"{A}entry") == [] and RFC3339.match(feed.findtext(f"{A}updated") or "")


def test_the_host_header_never_reaches_the_page_and_entry_ids_do_not_depend_on_it(anon: TestClient) -> None:
    """A cached public page must not carry a host a request made up; feed readers behind the town's proxy and
    on the direct address must see the same entries."""
    page = anon.get("/outages", headers={"Host": "evil.example"})
    assert page.status_code == 200 and "evil.example" not in page.text
    direct = ET.fromstring(anon.get("/outages/feed.atom").content)
    proxied = ET.fromstring(anon.get("/outages/feed.atom", headers={"Host": "www.town.example"}).content)

    def ids(feed: ET.Element) -> list[str | None]:
        return [e.findtext(f"{A}id") for e in feed.findall(f"{A}entry")]

    assert ids(direct) == ids(proxied) and len(ids(direct)) == 4


def test_the_new_kinds_read_as_equipment_and_a_town_service_as_the_whole_town(seeded: Seeded, tmp_path: Path) -> None:
    """A dead board is an equipment outage of its district; a town service down is the whole town's, in both
    languages, and the service's probe target name (in the olt column) never shows."""
    engine = engine_copy(seeded, tmp_path)
    now = datetime.now(UTC)
    with db.session_scope(engine) as s:
        for inc in s.scalars(select(Incident)):
            s.delete(inc)
        s.add_all([
            Incident(kind="board_down", status="open", district="oasa", olt="olt-oasa-1", pon_port="0/2",
                     started_at=now - timedelta(minutes=20), affected_count=40, onu_count=40, reportable=False,
                     cause="board"),
            Incident(kind="service_down", status="open", district="town", olt="e-application-portal", pon_port=None,
                     started_at=now - timedelta(minutes=10), affected_count=0, onu_count=0, reportable=False,
                     cause="service"),
        ])  # fmt: skip
    with TestClient(create_app(engine, settings=settings_for(tmp_path))) as c:
        ja, en = _text(c.get("/outages").text), _text(c.get("/outages?lang=en").text)
    engine.dispose()
    assert "通信障害（設備を調査中）" in ja and "町全体" in ja and "町のオンラインサービス" in ja
    assert "The whole town" in en and "Town online services" in en and "equipment under investigation" in en
    assert "e-application-portal" not in ja + en and "olt-oasa-1" not in ja + en
