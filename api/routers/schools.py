"""``/api/schools``: the GIGA-school network's schools; a school user sees only its own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select

from api.deps import CurrentPrincipal, DbSession, Paging, ensure_school_visible, not_found
from api.routers.common import NO_NUL, NOT_FOUND, Page, page_of, text_filter
from api.security import Role
from ftthnoc.inventory.models import District, School, Tablet

router = APIRouter(prefix="/schools", tags=["schools"])


class SchoolOut(BaseModel):
    code: str
    name: str
    district: str
    pupils: int = Field(ge=0)
    address: str | None = Field(description="IPv4 the probes ping to tell whether the school is reachable.")
    tablets_active: int = Field(ge=0, description="Tablets in service (status active).")


def _query() -> Select[Any]:
    active = (
        select(func.count(Tablet.id))
        .where(Tablet.school_id == School.id, Tablet.status == "active")
        .correlate(School)
        .scalar_subquery()
    )
    return select(School, District.code, active).join(District, School.district_id == District.id)


def _out(school: School, district: str, active: int) -> SchoolOut:
    return SchoolOut(code=school.code, name=school.name, district=district, pupils=school.pupils,
                     address=school.address, tablets_active=active)  # fmt: skip


@router.get("", summary="List schools (a school user: its own)")
def list_schools(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Paging,
    district: Annotated[str | None, text_filter("District code.")] = None,
) -> Page[SchoolOut]:
    stmt = _query().order_by(School.code)
    if principal.role is Role.SCHOOL:
        stmt = stmt.where(School.code == principal.school)
    if district is not None:
        stmt = stmt.where(District.code == district)
    rows, total = page_of(session, stmt, paging)
    return Page[SchoolOut](items=[_out(*r) for r in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{code}", responses=NOT_FOUND, summary="One school")
def get_school(
    session: DbSession,
    principal: CurrentPrincipal,
    code: Annotated[str, Path(max_length=32, pattern=NO_NUL, description="School code.")],
) -> SchoolOut:
    ensure_school_visible(principal, code, f"school {code}")
    row = session.execute(_query().where(School.code == code)).first()
    if row is None:
        raise not_found(f"school {code}")
    return _out(*row)
