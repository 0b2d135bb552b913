"""``/api/audit``: the audit log, newest first, through ``api.services.audit`` (support: household
entries only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import CurrentPrincipal, DbSession, Paging
from api.routers.common import Page, UtcDatetime, text_filter
from api.services import audit

router = APIRouter(prefix="/audit", tags=["audit"])


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
    found = audit.list_entries(session, principal, paging.window, entity=entity, actor=actor, action=action)
    return Page[AuditOut].of(found, paging, lambda e: AuditOut.model_validate(e, from_attributes=True))
