"""The help desk's search (``api.services.households``): names and kana compared folded (hiragana,
katakana, full and half width), phones by digits, addresses by substring, serials with or without the
hyphen; only admin and support may search by them, and what a search shows is audited as any read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.security import Principal, Role
from api.services import households
from api.services.common import Forbidden, Window
from ftthnoc.inventory import db
from ftthnoc.inventory.models import AuditEntry, Household, HouseholdContact

SUPPORT = Principal("sue", Role.SUPPORT)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with db.session_scope(engine) as s:  # readings as a clerk would have typed them: katakana, hiragana
        contacts = {c.household.code: c for c in s.scalars(select(HouseholdContact))}
        contacts["HH-000001"].name = "ヤマダ タロウ"
        contacts["HH-000002"].name = "さとう はなこ"
    with db.session_factory(engine)() as s:
        yield s


def codes(session: Session, text: str, principal: Principal = SUPPORT, **filters: object) -> list[str]:
    found = households.search(session, principal, Window(50), via="api", text=text, **filters)  # type: ignore[arg-type]
    return [r.code for r in found.items]


@pytest.mark.parametrize(("query", "expected"), [
    ("やまだ", ["HH-000001"]),          # hiragana finds katakana
    ("ﾔﾏﾀﾞ ﾀﾛｳ", ["HH-000001"]),       # half-width katakana, with its voiced marks
    ("サトウ", ["HH-000002"]),          # katakana finds hiragana
    ("ｻﾄｳﾊﾅｺ", ["HH-000002"]),          # and without the space
    ("田中一郎", ["HH-000003"]),        # kanji, space ignored
    ("0826720001", ["HH-000001"]),      # phone: digits only, hyphens ignored
    ("０８２６－７２－０００１", ["HH-000001"]),
    ("72-0001", ["HH-000001"]),
    ("0826", ["HH-000001", "HH-000003"]),
    ("壬生", ["HH-000002"]),            # address substring
    ("hwtca1b2c3d6", ["HH-000003"]),    # serial without hyphen, any case
    ("HWTC-A1B2C3D6", ["HH-000003"]),
    ("A1B2C3D", ["HH-000001", "HH-000002", "HH-000003"]),
    ("すずき", []),
])  # fmt: skip
def test_search_folds_kana_width_phone_and_serial(session: Session, query: str, expected: list[str]) -> None:
    assert codes(session, query) == expected


def test_text_combines_with_the_other_filters(session: Session) -> None:
    assert codes(session, "0826", district="oasa") == ["HH-000003"]
    assert codes(session, "% _") == []  # no wildcard reaches SQL


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.SCHOOL, Role.VIEWER])
def test_other_roles_cannot_search_personal_fields(session: Session, role: Role) -> None:
    principal = Principal("someone", role, school="chiyoda-es" if role is Role.SCHOOL else None)
    for query in ("やまだ", "0826", "壬生", "HWTCA1B2C3D6"):
        with pytest.raises(Forbidden):
            codes(session, query, principal)
    # their own search (code, district, status) works, without personal fields
    found = households.search(session, principal, Window(50), via="api", code_contains="HH-00000")
    assert [r.code for r in found.items][:1] == ["HH-000001"] and all(r.personal is None for r in found.items)
    assert session.scalars(select(AuditEntry).where(AuditEntry.entity == "household_contacts")).all() == []


def test_a_search_audits_the_households_it_shows_never_the_query(session: Session) -> None:
    assert codes(session, "やまだ") == ["HH-000001"]
    assert codes(session, "すずき") == []  # nothing shown, nothing disclosed
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "household_contacts")).all()
    assert [(e.actor, e.action, e.detail["households"], e.detail["via"]) for e in entries] == [
        ("sue", "read", ["HH-000001"], "api")]
    assert "やまだ" not in str(entries[0].detail) and "ヤマダ" not in str(entries[0].detail)


def test_a_household_without_contact_is_still_found_by_serial(session: Session) -> None:
    session.execute(HouseholdContact.__table__.delete().where(  # type: ignore[attr-defined]
        HouseholdContact.household_id == select(Household.id).where(Household.code == "HH-000003").scalar_subquery()))
    session.commit()
    found = households.search(session, SUPPORT, Window(5), via="api", text="A1B2C3D6")
    nothing = {"name": None, "address": None, "phone": None}
    assert [(r.code, r.personal) for r in found.items] == [("HH-000003", nothing)]
