"""The school page filters its tablets by state (online, offline, never seen, not seen this week), grade and
class with query parameters and a plain GET form (no script needed), so that a teacher can list the
tablets of class 3-2 not seen this week."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from ftthnoc.inventory import db
from ftthnoc.inventory.models import School, Tablet
from tests.api.web.test_pages import login_as

#: Class 3-2's tablets: asset -> how long ago each was last seen (None: never).
CLASS_3_2: dict[str, timedelta | None] = {
    "T-3201": timedelta(hours=2),  # online
    "T-3202": timedelta(days=3),  # offline, seen this week
    "T-3203": timedelta(days=9),  # offline, not seen this week
    "T-3204": None,  # never seen: not seen this week either
}


def add_class_3_2(engine: Engine, school_code: str = "chiyoda-es") -> None:
    """Class 3-2 of the school (and one tablet of 3-1 not seen for a week, which the class filter drops)."""
    now = datetime.now(UTC)
    with db.session_scope(engine) as s:
        school = s.scalars(select(School).where(School.code == school_code)).one()
        rows = [*CLASS_3_2.items(), ("T-3101", timedelta(days=20))]
        for i, (asset, ago) in enumerate(rows):
            s.add(Tablet(school_id=school.id, asset_no=asset, serial=f"SN-F{i:04d}", mac=f"02:00:00:00:32:{i:02x}",
                         os="iPadOS", grade=3, class_name="3-1" if asset == "T-3101" else "3-2", status="active",
                         last_seen_at=None if ago is None else now - ago))  # fmt: skip


def assets(html: str) -> list[str]:
    return re.findall(r'<td translate="no">(T-\d{4})</td>', html)


def test_the_teacher_lists_class_3_2_not_seen_this_week(client: TestClient, engine: Engine) -> None:
    add_class_3_2(engine)
    login_as(client, engine, "school")
    page = client.get("/schools/chiyoda-es?state=not_seen_week&grade=3&class=3-2").text
    assert assets(page) == ["T-3203", "T-3204"]
    assert "2 台を表示" in page and "<details class=\"class-group\" open>" in page
    # the form shows what was asked for, and a way back to everything
    assert '<option value="not_seen_week" selected>今週未確認（7 日以上）</option>' in page
    assert '<option value="3" selected>3 年</option>' in page and '<option value="3-2" selected>3-2</option>' in page
    assert 'href="/schools/chiyoda-es">条件をクリア</a>' in page
    # the totals stay the school's
    assert "オンライン 1</span>" in page and "未確認 3</span>" in page


def test_each_filter_alone_and_the_unknown_values_ignored(client: TestClient, engine: Engine) -> None:
    add_class_3_2(engine)
    login_as(client, engine, "school")
    everything = assets(client.get("/schools/chiyoda-es").text)
    assert {"T-3201", "T-3202", "T-3203", "T-3204", "T-3101", "T-0001", "T-0002"} == set(everything)
    assert assets(client.get("/schools/chiyoda-es?class=3-2").text) == ["T-3201", "T-3202", "T-3203", "T-3204"]
    assert set(assets(client.get("/schools/chiyoda-es?grade=3").text)) == {"T-3101", *CLASS_3_2}
    assert assets(client.get("/schools/chiyoda-es?state=online&grade=3").text) == ["T-3201"]
    assert set(assets(client.get("/schools/chiyoda-es?state=never_seen").text)) == {"T-0001", "T-0002", "T-3204"}
    assert assets(client.get("/schools/chiyoda-es?state=offline&class=3-2").text) == ["T-3202", "T-3203"]
    none = client.get("/schools/chiyoda-es?state=online&class=3-1").text
    assert assets(none) == [] and "条件に合う端末はありません。" in none
    # values the page does not offer are no filter (and never an error)
    assert set(assets(client.get("/schools/chiyoda-es?state=bogus&grade=x&class=%3Cb%3E").text)) == set(everything)
    english = client.get("/schools/chiyoda-es?state=not_seen_week&class=3-2&lang=en").text
    assert "2 shown" in english and '<input type="hidden" name="lang" value="en">' in english


def test_a_long_list_is_folded_by_class_until_filtered(client: TestClient, engine: Engine) -> None:
    now = datetime.now(UTC)
    with db.session_scope(engine) as s:
        school = s.scalars(select(School).where(School.code == "chiyoda-es")).one()
        for i in range(60):
            s.add(Tablet(school_id=school.id, asset_no=f"T-5{i:03d}", serial=f"SN-L{i:04d}",
                         mac=f"02:00:00:00:50:{i:02x}", os="iPadOS", grade=5, class_name=f"5-{i % 3 + 1}",
                         status="active", last_seen_at=now - timedelta(days=i % 10)))  # fmt: skip
    login_as(client, engine, "admin")
    page = client.get("/schools/chiyoda-es").text
    assert "62 台を表示" in page and "<details class=\"class-group\" open>" not in page
    filtered = client.get("/schools/chiyoda-es?class=5-1").text
    assert "20 台を表示" in filtered and filtered.count("<details class=\"class-group\" open>") == 1
