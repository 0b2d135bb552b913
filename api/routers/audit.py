"""``/api/audit``: the audit log, newest first. Support sees only household entries (personal-data reads
and changes, provisioning runs on a line), which is what answering a subscriber needs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import or_, select

from api.deps import CurrentPrincipal, DbSession, Paging
from api.routers.common import Page, UtcDatetime, page_of, text_filter
from api.security import Role
from ftthnoc.inventory.models import AuditEntry

router = APIRouter(prefix="/audit", tags=["audit"])

#: Entities of household audit entries: contacts (models, io, the API's reads) and ``household:CODE`` runs.
HOUSEHOLD_ENTITIES: tuple[str, ...] = ("household_contact", "household_contacts")
HOUSEHOLD_ENTITY_PREFIX = "household:"


class AuditOut(BaseModel):
    id: int
    at: UtcDatetime
    actor: str
    action: str
    entity: str
    detail: dict[str, Any]
    outcome: str | None


@router.get("", summary="The audit log, newest first (support: household entries only)")
def list_audit(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Paging,
    entity: Annotated[str | None, text_filter("Entity, e.g. household_contact or household:HH-000123.")] = None,
    actor: Annotated[str | None, text_filter("Who did it.")] = None,
    action: Annotated[str | None, text_filter("read, create, update, enrol, user, token ...")] = None,
) -> Page[AuditOut]:
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if principal.role is Role.SUPPORT:
        stmt = stmt.where(or_(AuditEntry.entity.in_(HOUSEHOLD_ENTITIES),
                              AuditEntry.entity.startswith(HOUSEHOLD_ENTITY_PREFIX, autoescape=True)))  # fmt: skip
    if entity is not None:
        stmt = stmt.where(AuditEntry.entity == entity)
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    rows, total = page_of(session, stmt, paging)
    items = [AuditOut.model_validate(e, from_attributes=True) for (e,) in rows]
    return Page[AuditOut](items=items, total=total, limit=paging.limit, offset=paging.offset)
