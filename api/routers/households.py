"""``/api/households``: subscribing households; their personal fields only for admin and support, audited.

Personal fields (name, address, phone) come from ``HouseholdContact`` and are added to the answer only
when the caller's role is in ``api.security.PERSONAL_ROLES``; for everyone else the keys are absent, not
null. Every answer that discloses them writes one ``AuditEntry(action="read", entity="household_contacts")``
naming the fields and the households, never the values, in the same request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentPrincipal, DbSession, Paging, not_found
from api.routers.common import NO_NUL, NOT_FOUND, Page, UtcDatetime, page_of, text_filter
from api.security import Principal
from ftthnoc.inventory.models import (
    AuditEntry,
    District,
    Enrolment,
    EnrolmentState,
    Household,
    HouseholdContact,
    HouseholdStatus,
    Onu,
)
from ftthnoc.personal import PERSONAL_FIELDS

router = APIRouter(prefix="/households", tags=["households"])

_PERSONAL = "Personal data: present only for the admin and support roles (each read is audited)."


class HouseholdOut(BaseModel):
    code: str
    district: str
    plan: str
    status: HouseholdStatus
    name: str | None = Field(default=None, description=_PERSONAL)
    address: str | None = Field(default=None, description=_PERSONAL)
    phone: str | None = Field(default=None, description=_PERSONAL)


class EnrolmentOut(BaseModel):
    """One provisioning run on the household's line (newest first in a household's history)."""

    id: int
    kind: str
    state: EnrolmentState
    step: str
    serial: str | None
    olt: str | None
    pon_port: str | None
    ont_id: int | None
    error: str | None
    rx_dbm: float | None
    actor: str
    started_at: UtcDatetime
    finished_at: UtcDatetime | None


class HouseholdDetail(HouseholdOut):
    onus: list[str] = Field(description="Serials of the ONUs serving the household.")
    enrolments: list[EnrolmentOut] = Field(description="Provisioning runs, newest first.")


def _contacts(session: Session, ids: list[int]) -> dict[int, HouseholdContact]:
    if not ids:
        return {}
    rows = session.scalars(select(HouseholdContact).where(HouseholdContact.household_id.in_(ids)))
    return {c.household_id: c for c in rows}


def _out(household: Household, district: str, contact: HouseholdContact | None, personal: bool,
         model: type[HouseholdOut] = HouseholdOut, **extra: object) -> HouseholdOut:  # fmt: skip
    fields: dict[str, object] = {"code": household.code, "district": district, "plan": household.plan,
                                 "status": household.status, **extra}  # fmt: skip
    if personal:  # set (even to null) only here: unset fields are left out of the answer
        fields.update({f: getattr(contact, f) if contact is not None else None for f in PERSONAL_FIELDS})
    return model.model_validate(fields)


def _audit_read(session: Session, principal: Principal, codes: list[str]) -> None:
    detail = {"rows": len(codes), "fields": list(PERSONAL_FIELDS), "households": codes}
    session.add(AuditEntry(actor=principal.name, action="read", entity="household_contacts", detail=detail,
                           outcome="ok"))  # fmt: skip
    session.commit()


@router.get("", summary="List households", response_model_exclude_unset=True)
def list_households(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Paging,
    district: Annotated[str | None, text_filter("District code.")] = None,
    status: Annotated[HouseholdStatus | None, Query(description="Life-cycle status.")] = None,
    code: Annotated[str | None, text_filter("Household code.")] = None,
) -> Page[HouseholdOut]:
    stmt = select(Household, District.code).join(District, Household.district_id == District.id)
    if district is not None:
        stmt = stmt.where(District.code == district)
    if status is not None:
        stmt = stmt.where(Household.status == status)
    if code is not None:
        stmt = stmt.where(Household.code == code)
    rows, total = page_of(session, stmt.order_by(Household.code), paging)
    personal = principal.sees_personal_data
    contacts = _contacts(session, [h.id for h, _ in rows]) if personal else {}
    items = [_out(h, d, contacts.get(h.id), personal) for h, d in rows]
    disclosed = [h.code for h, _ in rows if h.id in contacts]
    if disclosed:
        _audit_read(session, principal, disclosed)
    return Page[HouseholdOut](items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{code}", responses=NOT_FOUND, summary="One household with its ONUs and provisioning history",
            response_model_exclude_unset=True)  # fmt: skip
def get_household(
    session: DbSession,
    principal: CurrentPrincipal,
    code: Annotated[str, Path(max_length=32, pattern=NO_NUL, description="Household code, e.g. HH-000123.")],
) -> HouseholdDetail:
    row = session.execute(
        select(Household, District.code).join(District, Household.district_id == District.id)
        .where(Household.code == code)
    ).first()  # fmt: skip
    if row is None:
        raise not_found(f"household {code}")
    household, district = row[0], row[1]
    onus = list(session.scalars(select(Onu.serial).where(Onu.household_id == household.id).order_by(Onu.serial)))
    runs = session.scalars(
        select(Enrolment).where(Enrolment.household_id == household.id)
        .order_by(Enrolment.started_at.desc(), Enrolment.id.desc())
    )  # fmt: skip
    enrolments = [EnrolmentOut.model_validate(run, from_attributes=True) for run in runs]
    personal = principal.sees_personal_data
    contact = _contacts(session, [household.id]).get(household.id) if personal else None
    out = _out(household, district, contact, personal, HouseholdDetail, onus=onus, enrolments=enrolments)
    if contact is not None:
        _audit_read(session, principal, [household.code])
    assert isinstance(out, HouseholdDetail)
    return out
