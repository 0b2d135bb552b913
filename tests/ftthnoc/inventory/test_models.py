"""Model rules: status life cycle, normalised identifiers, database constraints, personal data apart."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from ftthnoc.errors import InventoryError
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.inventory.models import (
    TRANSITIONS,
    AuditEntry,
    District,
    Household,
    HouseholdContact,
    HouseholdStatus,
    Olt,
    Onu,
    PonPort,
    School,
    check_transition,
)
from ftthnoc.normalise import normalise_ipv4, normalise_mac, normalise_serial

S = HouseholdStatus

LEGAL = [
    (S.APPLIED, S.SURVEYED),
    (S.SURVEYED, S.INSTALLED),
    (S.INSTALLED, S.ACTIVE),
    (S.ACTIVE, S.SUSPENDED),
    (S.SUSPENDED, S.ACTIVE),
    (S.ACTIVE, S.CANCELLED),
    (S.APPLIED, S.CANCELLED),
    (S.SUSPENDED, S.CANCELLED),
    (S.CANCELLED, S.APPLIED),
]
ILLEGAL = [
    (S.APPLIED, S.ACTIVE),
    (S.APPLIED, S.INSTALLED),
    (S.SURVEYED, S.ACTIVE),
    (S.ACTIVE, S.APPLIED),
    (S.ACTIVE, S.INSTALLED),
    (S.SUSPENDED, S.INSTALLED),
    (S.CANCELLED, S.ACTIVE),
    (S.CANCELLED, S.SUSPENDED),
]


@pytest.mark.parametrize(("old", "new"), LEGAL)
def test_legal_transitions(old: HouseholdStatus, new: HouseholdStatus) -> None:
    assert check_transition(old, new) is new
    household = Household(code="HH-000001", district_id=1, plan="1G", status=old)
    household.change_status(new.value)
    assert household.status is new


@pytest.mark.parametrize(("old", "new"), ILLEGAL)
def test_illegal_transitions_raise_and_leave_the_status(old: HouseholdStatus, new: HouseholdStatus) -> None:
    household = Household(code="HH-000001", district_id=1, plan="1G", status=old)
    with pytest.raises(InventoryError, match=f"from {old.value} to {new.value}"):
        household.change_status(new)
    assert household.status is old


def test_transition_table_is_complete_and_staying_put_is_allowed() -> None:
    assert set(TRANSITIONS) == set(HouseholdStatus)
    for status in HouseholdStatus:
        assert check_transition(status, status) is status
    with pytest.raises(InventoryError, match="unknown household status"):
        check_transition("active", "connected")


@pytest.mark.parametrize(
    "raw",
    ["00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e", "001a.2b3c.4d5e", "001A2B3C4D5E", " 00:1a:2b:3c:4d:5e "],
)
def test_mac_spellings_normalise_to_one_form(raw: str) -> None:
    assert normalise_mac(raw) == "00:1a:2b:3c:4d:5e"


@pytest.mark.parametrize(
    "raw", ["00:1a:2b:3c:4d", "00:1a:2b:3c:4d:5g", "001a2b3c4d5e6f", "0:1a:2b:3c:4d:5e:", ""]
)
def test_bad_macs_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not a MAC address"):
        normalise_mac(raw)


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("HWTC-A1B2C3D4", "HWTC-A1B2C3D4"),
        ("hwtca1b2c3d4", "HWTC-A1B2C3D4"),
        ("48575443A1B2C3D4", "HWTC-A1B2C3D4"),
        ("ZTEGC0000001", "ZTEG-C0000001"),
    ],
)
def test_serial_spellings_normalise(raw: str, want: str) -> None:
    assert normalise_serial(raw) == want


@pytest.mark.parametrize("raw", ["HWTC-A1B2C3", "HWTC-A1B2C3DZ", "HW-A1B2C3D4", "x"])
def test_bad_serials_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not an ONU serial"):
        normalise_serial(raw)


@pytest.mark.parametrize(("raw", "want"), [("192.0.2.10", "192.0.2.10"), (" 10.40.0.7 ", "10.40.0.7")])
def test_ipv4_addresses_are_kept_as_dotted_quads(raw: str, want: str) -> None:
    assert normalise_ipv4(raw) == want


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("192.0.2.010", "not an IPv4 address"),  # leading zero: octal to some tools
        ("192.0.2", "not an IPv4 address"),
        ("192.0.2.1:161", "not an IPv4 address"),
        ("192.0.2.256", "not an IPv4 address"),
        ("onu-17.example", "not an IPv4 address"),
        ("2001:db8::1", "not an IPv4 address"),
        ("", "not an IPv4 address"),
        ("0.0.0.0", "not the address of one host"),
        ("224.0.0.1", "not the address of one host"),
        ("255.255.255.255", "not the address of one host"),
    ],
)
def test_bad_ipv4_addresses_are_refused(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_ipv4(raw)


def test_probe_addresses_are_checked_on_the_models_too() -> None:
    """The API and provisioning write through the ORM, not the importer: the same rule holds there."""
    assert Onu(serial="HWTC-A1B2C3D4", onu_id=0, mgmt_address=" 192.0.2.10").mgmt_address == "192.0.2.10"
    assert Onu(serial="HWTC-A1B2C3D4", onu_id=0, mgmt_address=None).mgmt_address is None
    with pytest.raises(ValueError, match="not an IPv4 address"):
        School(code="x", name="x", district_id=1, pupils=1, address="10.0.0.1:80")


def test_database_keeps_probe_addresses_unique_where_given(engine: Engine) -> None:
    with db.session_scope(engine) as session:
        district = District(code="chiyoda", name="千代田", households=1)
        olt = Olt(name="olt-x", district=district, vendor="huawei", model="x", address="10.0.0.1:161",
                  pon_class="B+", auth="a", modules=[])
        port = PonPort(olt=olt, port="0/1/0")
        # Many ONUs and schools without an address: NULLs never collide.
        session.add_all(Onu(serial=f"HWTC-0000000{i}", pon_port=port, onu_id=i) for i in range(3))
        session.add_all(School(code=f"s{i}", name="x", district=district, pupils=1) for i in range(3))
        session.add(Onu(serial="HWTC-0000000A", pon_port=port, onu_id=10, mgmt_address="192.0.2.10"))
        # An ONU and a school may share an address: uniqueness is per table.
        session.add(School(code="s9", name="x", district=district, pupils=1, address="192.0.2.10"))
    with pytest.raises(IntegrityError), db.session_scope(engine) as session:
        port = session.scalars(select(PonPort)).one()
        session.add(Onu(serial="HWTC-0000000B", pon_port=port, onu_id=11, mgmt_address="192.0.2.10"))
    with pytest.raises(IntegrityError), db.session_scope(engine) as session:
        session.add(School(code="s10", name="x", district_id=district.id, pupils=1, address="192.0.2.10"))


def test_a_new_vendor_needs_no_migration(engine: Engine) -> None:
    """The vendor is checked against the vendor packs on import (test_io), not by a database constraint:
    a pack added later stores its OLTs in the schema as it is."""
    with db.session_scope(engine) as session:
        district = District(code="chiyoda", name="千代田", households=1)
        session.add(Olt(name="olt-x", district=district, vendor="nokia", model="x", address="10.0.0.1:161",
                        pon_class="B+", auth="a", modules=[]))
    with db.session_scope(engine) as session:
        assert session.query(Olt).one().vendor == "nokia"


def test_database_refuses_an_unknown_status_written_behind_the_orm(engine: Engine) -> None:
    with db.session_scope(engine) as session:
        session.add(District(code="chiyoda", name="千代田", households=1))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO households (code, district_id, plan, status) "
                "SELECT 'HH-000009', id, '1G', 'connected' FROM districts"
            )
        )


def test_orm_refuses_an_unknown_status(engine: Engine) -> None:
    with pytest.raises(StatementError), db.session_scope(engine) as session:
        district = District(code="chiyoda", name="千代田", households=1)
        session.add(Household(code="HH-000009", district=district, plan="1G", status="connected"))


def test_household_has_no_path_to_personal_data() -> None:
    targets = {rel.mapper.class_ for rel in inspect(Household).relationships}
    assert HouseholdContact not in targets


def test_loading_households_never_touches_the_contact_table(engine: Engine, sample: dict[str, Any]) -> None:
    with db.session_scope(engine) as session:
        import_document(session, sample)

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with db.session_scope(engine) as session:
            households = session.scalars(select(Household)).all()
            seen = [(h.code, h.district.code, h.status.value, h.plan) for h in households]
            loaded = [type(obj) for obj in session.identity_map.values()]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 4
    assert statements, "the listener must have seen the household queries"
    assert not [s for s in statements if "household_contacts" in s]
    assert HouseholdContact not in loaded


def test_every_contact_change_is_audited_without_values(engine: Engine, sample: dict[str, Any]) -> None:
    with db.session_scope(engine, actor="importer") as session:
        import_document(session, sample)
    with db.session_scope(engine, actor="clerk") as session:
        contact = session.scalars(
            select(HouseholdContact).join(HouseholdContact.household).where(Household.code == "HH-000001")
        ).one()
        contact.phone = "0826-72-9999"
        contact.name = "山田 太郎"  # same value: not a change
    with db.session_scope(engine, actor="clerk") as session:
        gone = session.scalars(
            select(HouseholdContact).join(HouseholdContact.household).where(Household.code == "HH-000002")
        ).one()
        session.delete(gone)
    with db.session_scope(engine) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        rows = [(e.actor, e.action, e.entity, e.detail) for e in entries]
    creates = [r for r in rows if r[1] == "create"]
    assert len(creates) == 3
    assert all(r[0] == "importer" and r[2] == "household_contact" for r in creates)
    assert ("clerk", "update", "household_contact", {"household": "HH-000001", "fields": ["phone"]}) in rows
    assert (
        "clerk",
        "delete",
        "household_contact",
        {"household": "HH-000002", "fields": ["name", "address", "phone"]},
    ) in rows
    dumped = json.dumps([r[3] for r in rows], ensure_ascii=False)
    for contact_row in sample["household_contacts"]:
        for field in ("name", "address", "phone"):
            if contact_row[field]:
                assert contact_row[field] not in dumped
    assert "0826-72-9999" not in dumped


def test_a_new_household_takes_its_first_status_freely() -> None:
    household = Household(code="HH-000001", district_id=1, plan="1G")
    household.change_status("installed")
    assert household.status is HouseholdStatus.INSTALLED
    with pytest.raises(InventoryError, match="unknown household status"):
        Household(code="HH-000002", district_id=1, plan="1G").change_status("connected")
