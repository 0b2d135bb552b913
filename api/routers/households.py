"""``/api/households``: subscribing households, through ``api.services.households`` (which applies the
personal-field policy and writes the audit entry of every disclosure).

Personal fields (``ftthnoc.personal.PERSONAL_FIELDS``) are in an answer only when the caller's role is in
``api.security.PERSONAL_ROLES``; for everyone else the keys are absent, not null.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentPrincipal, DbSession, Paging
from api.routers.common import NO_NUL, NOT_FOUND, Page, UtcDatetime, text_filter
from api.services import households, onus
from api.services.common import Window
from ftthnoc.inventory.models import EnrolmentState, HouseholdStatus

router = APIRouter(prefix="/households", tags=["households"])

_PERSONAL = "Personal data: present only for the admin and support roles (each read is audited)."
#: ONUs of one household listed at most (a household has one, rarely two).
MAX_ONUS = 100


def _personal_properties(schema: dict[str, Any]) -> None:
    """The personal fields in the schema, from the one list (they are extra fields of the model)."""
    properties = schema.setdefault("properties", {})
    for name in households.personal_fields():
        properties[name] = {"anyOf": [{"type": "string"}, {"type": "null"}], "title": name.title(),
                            "description": _PERSONAL}  # fmt: skip


class HouseholdOut(BaseModel):
    """A household; the personal fields are extra keys present only for the roles that see them."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_personal_properties)

    code: str
    district: str
    plan: str
    status: HouseholdStatus


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


@router.get("", summary="List households", response_model_exclude_unset=True)
def list_households(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Paging,
    district: Annotated[str | None, text_filter("District code.")] = None,
    status: Annotated[HouseholdStatus | None, Query(description="Life-cycle status.")] = None,
    code: Annotated[str | None, text_filter("Household code.")] = None,
) -> Page[HouseholdOut]:
    found = households.search(session, principal, paging.window, via="api", district=district, status=status,
                              code=code)  # fmt: skip
    return Page[HouseholdOut].of(found, paging, lambda r: HouseholdOut.model_validate(r.fields()))


@router.get("/{code}", responses=NOT_FOUND, summary="One household with its ONUs and provisioning history",
            response_model_exclude_unset=True)  # fmt: skip
def get_household(
    session: DbSession,
    principal: CurrentPrincipal,
    code: Annotated[str, Path(max_length=32, pattern=NO_NUL, description="Household code, e.g. HH-000123.")],
) -> HouseholdDetail:
    record = households.get(session, principal, code, via="api")
    serials = sorted(o.serial for o in onus.search(session, None, Window(MAX_ONUS), household=record.code).items)
    runs = [EnrolmentOut.model_validate(run, from_attributes=True) for run in households.runs(session, record)]
    return HouseholdDetail.model_validate({**record.fields(), "onus": serials, "enrolments": runs})
