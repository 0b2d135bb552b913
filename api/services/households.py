"""Households: search, one household, its ONUs, provisioning runs and status history, and the one
personal-field policy of the API and the pages.

The policy, here only: the fields named in ``ftthnoc.personal.PERSONAL_FIELDS`` (read at each call, so
that a new personal field is one edit there plus its column) are disclosed only to the roles of
``api.security.PERSONAL_ROLES``; for every other role the record carries none of them (``personal`` is
None, and the answers leave the keys out rather than sending nulls). Every call that discloses them writes
one audit entry (``api.services.audit.record_personal_read``) naming the households and the fields, never
the values.

Search by personal fields (``text``: name or its kana, phone, address, ONU serial) is for the same roles
only; others get ``Forbidden``. Names and addresses are compared folded (``ftthnoc.normalise.fold_kana``:
hiragana as katakana, full- and half-width alike, spaces ignored), phones by their digits, serials
without hyphens and case. The comparison runs here over the contacts, not in SQL, so that it is the same
on SQLite and PostgreSQL; a town has a few thousand. Only the households shown are audited, as any read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from api.security import Principal
from api.services import audit
from api.services.common import Forbidden, Found, NotFound, Window, page_of
from ftthnoc import personal as personal_data
from ftthnoc.inventory.models import District, Enrolment, Household, HouseholdContact, HouseholdStatus, Onu
from ftthnoc.kpi.models import HouseholdStatusChange
from ftthnoc.normalise import digits_of, fold_kana

#: Digits a query needs before it is compared with phone numbers too (``0826`` yes, ``1`` no).
MIN_PHONE_DIGITS = 3
#: Letters and digits a query needs before it is compared with ONU serials.
MIN_SERIAL_CHARS = 4
_PHONE_LIKE = re.compile(r"[0-9+()\-\u2010-\u2015\u2212\u30fc\s]+")  # digits, brackets, any dash


def personal_fields() -> tuple[str, ...]:
    """The household contact's personal fields: ``ftthnoc.personal.PERSONAL_FIELDS``, as it is now."""
    return tuple(personal_data.PERSONAL_FIELDS)


def sees_personal_data(principal: Principal) -> bool:
    """Whether the caller's role is one of ``api.security.PERSONAL_ROLES``."""
    return principal.sees_personal_data


@dataclass(frozen=True)
class HouseholdRecord:
    """A household as one caller may see it."""

    id: int
    code: str
    district: str
    district_name: str
    plan: str
    status: HouseholdStatus
    #: The personal fields (a None value: not on record); None: the caller's role may not see them.
    personal: Mapping[str, str | None] | None

    def fields(self) -> dict[str, Any]:
        """The answer's fields: the personal ones only when disclosed."""
        out: dict[str, Any] = {"code": self.code, "district": self.district, "plan": self.plan,
                               "status": self.status}  # fmt: skip
        if self.personal is not None:
            out.update(self.personal)
        return out


def _base() -> Select[Household, str, str]:
    return select(Household, District.code, District.name).join(District, Household.district_id == District.id)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _records(session: Session, principal: Principal, rows: list[Any], *, via: str) -> list[HouseholdRecord]:
    """Records of ``rows`` (household, district code, name) with the policy applied and the read audited."""
    if not sees_personal_data(principal):
        return [HouseholdRecord(h.id, h.code, d, n, h.plan, h.status, None) for h, d, n in rows]
    fields = personal_fields()
    ids = [h.id for h, _d, _n in rows]
    contacts: dict[int, HouseholdContact] = {}
    if ids:
        found = session.scalars(select(HouseholdContact).where(HouseholdContact.household_id.in_(ids)))
        contacts = {c.household_id: c for c in found}
    records = []
    for h, d, n in rows:
        contact = contacts.get(h.id)
        values = {f: getattr(contact, f) if contact is not None else None for f in fields}
        records.append(HouseholdRecord(h.id, h.code, d, n, h.plan, h.status, values))
    disclosed = [h.code for h, _d, _n in rows if h.id in contacts]
    if disclosed:
        audit.record_personal_read(session, principal, disclosed, fields, via=via)
    return records


def matching(session: Session, principal: Principal, text: str) -> set[int]:
    """Ids of the households whose name (or kana), address or phone, or ONU serial, matches ``text``;
    ``Forbidden`` for a role that may not see personal data."""
    if not sees_personal_data(principal):
        raise Forbidden("searching by name, phone, address or serial needs the admin or support role")
    folded = fold_kana(text)
    if not folded:
        return set()
    plain = unicodedata.normalize("NFKC", text).strip()
    digits = digits_of(text) if _PHONE_LIKE.fullmatch(plain) else ""
    found: set[int] = set()
    rows = session.execute(select(HouseholdContact.household_id, HouseholdContact.name, HouseholdContact.address,
                                  HouseholdContact.phone))  # fmt: skip
    for household_id, name, address, phone in rows:
        if (folded in fold_kana(name or "") or folded in fold_kana(address or "")
                or (len(digits) >= MIN_PHONE_DIGITS and digits in digits_of(phone or ""))):  # fmt: skip
            found.add(household_id)
    serial = re.sub(r"[-\s]", "", plain).upper()
    if len(serial) >= MIN_SERIAL_CHARS and serial.isascii() and serial.isalnum():
        stored = func.upper(func.replace(Onu.serial, "-", ""))
        by_serial = select(Onu.household_id).where(Onu.household_id.is_not(None),
                                                   stored.contains(serial, autoescape=True))  # fmt: skip
        found.update(i for i in session.scalars(by_serial) if i is not None)
    return found


def search(session: Session, principal: Principal, window: Window, *, via: str, district: str | None = None,
           status: HouseholdStatus | None = None, code: str | None = None,
           code_contains: str | None = None, text: str | None = None) -> Found[HouseholdRecord]:  # fmt: skip
    """Households by code, in ``window``, filtered by district, status, exact ``code`` or a part of it, and
    ``text`` (name, kana, phone, address or serial: admin and support only, see ``matching``)."""
    stmt = _base()
    if text is not None and text.strip():
        ids = matching(session, principal, text)
        stmt = stmt.where(Household.id.in_(ids) if ids else false())
    if district is not None:
        stmt = stmt.where(District.code == district)
    if status is not None:
        stmt = stmt.where(Household.status == status)
    if code is not None:
        stmt = stmt.where(Household.code == code)
    if code_contains:
        stmt = stmt.where(Household.code.ilike(_like(code_contains), escape="\\"))
    rows, total = page_of(session, stmt.order_by(Household.code), window)
    return Found(_records(session, principal, rows, via=via), total)


def get(session: Session, principal: Principal, code: str, *, via: str) -> HouseholdRecord:
    """One household by code (``NotFound`` if there is none)."""
    row = session.execute(_base().where(Household.code == code)).first()
    if row is None:
        raise NotFound(f"household {code}")
    return _records(session, principal, [tuple(row)], via=via)[0]


def exists(session: Session, code: str) -> bool:
    return session.scalar(select(Household.id).where(Household.code == code)) is not None


def runs(session: Session, household: HouseholdRecord, limit: int | None = None) -> list[Enrolment]:
    """Provisioning runs on the household's line, newest first."""
    stmt = (select(Enrolment).where(Enrolment.household_id == household.id)
            .order_by(Enrolment.started_at.desc(), Enrolment.id.desc()).limit(limit))  # fmt: skip
    return list(session.scalars(stmt))


def status_changes(session: Session, household: HouseholdRecord, limit: int = 50) -> list[tuple[str, datetime]]:
    """The household's status changes (status, when), newest first."""
    stmt = (select(HouseholdStatusChange.status, HouseholdStatusChange.at)
            .where(HouseholdStatusChange.household_id == household.id)
            .order_by(HouseholdStatusChange.at.desc(), HouseholdStatusChange.id.desc()).limit(limit))  # fmt: skip
    return [(str(st), at) for st, at in session.execute(stmt)]
