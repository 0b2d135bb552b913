"""``/api/schools``: the GIGA-school network's schools (``api.services.schools``); a school user sees only
its own."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.deps import CurrentPrincipal, DbSession, Paging
from api.routers.common import NO_NUL, NOT_FOUND, Page, text_filter
from api.services import schools
from api.services.schools import SchoolRecord

router = APIRouter(prefix="/schools", tags=["schools"])


class SchoolOut(BaseModel):
    code: str
    name: str
    district: str
    pupils: int = Field(ge=0)
    address: str | None = Field(description="IPv4 the probes ping to tell whether the school is reachable.")
    tablets_active: int = Field(ge=0, description="Tablets in service (status active).")


def _out(record: SchoolRecord) -> SchoolOut:
    return SchoolOut.model_validate(asdict(record))


@router.get("", summary="List schools (a school user: its own)")
def list_schools(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Paging,
    district: Annotated[str | None, text_filter("District code.")] = None,
) -> Page[SchoolOut]:
    return Page[SchoolOut].of(schools.list_schools(session, principal, paging.window, district=district), paging, _out)


@router.get("/{code}", responses=NOT_FOUND, summary="One school")
def get_school(
    session: DbSession,
    principal: CurrentPrincipal,
    code: Annotated[str, Path(max_length=32, pattern=NO_NUL, description="School code.")],
) -> SchoolOut:
    return _out(schools.get_school(session, principal, code))
