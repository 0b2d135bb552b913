"""The personal-field policy is one list and one service: a field added to
``ftthnoc.personal.PERSONAL_FIELDS`` (plus its column) shows up in the API's answers, the pages and the
audit for the roles that may see personal data, and nowhere for the others, with no other edit."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from ftthnoc import personal
from ftthnoc.inventory import db
from ftthnoc.inventory.models import AuditEntry, HouseholdContact
from tests.api.conftest import Seeded, TestClient, bearer
from tests.api.web.test_pages import login_as

EMAIL = "yamada@example.jp"


@pytest.fixture
def email_is_personal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one edit: "email" joins the personal fields (and, standing in for its column, the contact
    answers it for HH-000001's contact)."""
    monkeypatch.setattr(personal, "PERSONAL_FIELDS", (*personal.PERSONAL_FIELDS, "email"))
    monkeypatch.setattr(HouseholdContact, "email", property(lambda c: EMAIL if c.name == "山田 太郎" else None),
                        raising=False)  # fmt: skip


@pytest.mark.parametrize("role", ["admin", "support", "operator"])
def test_a_new_personal_field_is_one_edit(email_is_personal: None, client: TestClient, app: FastAPI,
                                          engine: Engine, seeded: Seeded, role: str) -> None:  # fmt: skip
    sees = role in ("admin", "support")
    token = bearer(seeded.tokens[role])
    listing = client.get("/api/households", headers=token).json()
    detail = client.get("/api/households/HH-000001", headers=token).json()
    by_code = {h["code"]: h for h in listing["items"]}
    if sees:
        assert by_code["HH-000001"]["email"] == EMAIL and detail["email"] == EMAIL
        assert "email" in by_code["HH-000004"] and by_code["HH-000004"]["email"] is None  # present, null
    else:
        assert all("email" not in h for h in [*listing["items"], detail])

    login_as(client, engine, role)
    search = client.get("/support?code=HH-0000&lang=en")
    page = client.get("/support/households/HH-000001?lang=en")
    assert search.status_code == page.status_code == 200
    for html in (search.text, page.text):
        assert (EMAIL in html) is sees, role
        assert ("<th>email</th>" in html or "<dt>email</dt>" in html) is sees  # labelled by its name

    with db.session_scope(engine) as s:
        reads = list(s.scalars(select(AuditEntry).where(AuditEntry.entity == "household_contacts")))
    assert len(reads) == (4 if sees else 0)  # API list + detail, page search + household page
    assert all(r.detail["fields"] == ["name", "address", "phone", "email"] for r in reads)
    assert {r.detail["via"] for r in reads} == ({"api", "web"} if sees else set())
    assert not any(EMAIL in str(r.detail) for r in reads)  # which fields, never their values


def test_the_schema_documents_the_personal_fields_from_the_list(email_is_personal: None, app: FastAPI) -> None:
    schema = app.openapi()["components"]["schemas"]["HouseholdOut"]
    assert {"name", "address", "phone", "email"} <= set(schema["properties"])
    assert not {"name", "email"} & set(schema.get("required", []))


def test_personal_answers_are_not_stored_by_caches(client: TestClient, engine: Engine, seeded: Seeded) -> None:
    support = bearer(seeded.tokens["support"])
    for url in ("/api/households", "/api/households/HH-000001"):
        answer = client.get(url, headers=support)
        assert answer.status_code == 200 and "山田 太郎" in answer.text
        assert answer.headers["cache-control"] == "no-store", url
    login_as(client, engine, "support")
    page = client.get("/support/households/HH-000001")
    assert "山田 太郎" in page.text and page.headers["cache-control"] == "no-store"
    # every authenticated answer, personal or not, and the refusals too
    for url in ("/api/olts", "/api/kpis", "/api/me"):
        assert client.get(url, headers=support).headers["cache-control"] == "no-store", url
    assert client.get("/api/households").headers["cache-control"] == "no-store"  # by cookie
    client.cookies.clear()
    assert client.get("/api/households").headers["cache-control"] == "no-store"  # 401
    assert client.get("/static/style.css").headers["cache-control"] == "max-age=300"  # assets may be kept
