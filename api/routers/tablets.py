"""``/api/tablets``: GIGA-school tablets; a school user sees only its own school's (others: 404)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import MAX_ID, CurrentPrincipal, DbSession, Paging, ensure_school_visible, not_found
from api.routers.common import NOT_FOUND, Page, page_of, text_filter
from api.security import Role
from ftthnoc.inventory.models import School, Tablet

router = APIRouter(prefix="/tablets", tags=["schools"])


class TabletOut(BaseModel):
    id: int
    school: str
    asset_no: str
    serial: str
    mac: str
    os: str
    grade: int | None
    class_name: str | None
    status: Literal["active", "retired"]


def _out(tablet: Tablet, school: str) -> TabletOut:
    return TabletOut(id=tablet.id, school=school, asset_no=tablet.asset_no, serial=tablet.serial, mac=tablet.mac,
                     os=tablet.os, grade=tablet.grade, class_name=tablet.class_name,
                     status=tablet.status)  # fmt: skip


@router.get("", summary="List tablets (a school user: its own school's)")
def list_tablets(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Paging,
    school: Annotated[str | None, text_filter("School code.")] = None,
    grade: Annotated[int | None, Query(ge=1, le=12, description="School year.")] = None,
    class_name: Annotated[str | None, text_filter("Class, e.g. 1-1.", alias="class")] = None,
    status: Annotated[Literal["active", "retired"] | None, Query(description="active or retired.")] = None,
) -> Page[TabletOut]:
    stmt = select(Tablet, School.code).join(School, Tablet.school_id == School.id)
    if principal.role is Role.SCHOOL:
        stmt = stmt.where(School.code == principal.school)
    if school is not None:
        stmt = stmt.where(School.code == school)
    if grade is not None:
        stmt = stmt.where(Tablet.grade == grade)
    if class_name is not None:
        stmt = stmt.where(Tablet.class_name == class_name)
    if status is not None:
        stmt = stmt.where(Tablet.status == status)
    rows, total = page_of(session, stmt.order_by(School.code, Tablet.asset_no), paging)
    return Page[TabletOut](items=[_out(*r) for r in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{tablet_id}", responses=NOT_FOUND, summary="One tablet by id (another school's: 404)")
def get_tablet(
    session: DbSession,
    principal: CurrentPrincipal,
    tablet_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> TabletOut:
    row = session.execute(
        select(Tablet, School.code).join(School, Tablet.school_id == School.id).where(Tablet.id == tablet_id)
    ).first()
    if row is None:
        raise not_found(f"tablet {tablet_id}")
    ensure_school_visible(principal, row[1], f"tablet {tablet_id}")
    return _out(row[0], row[1])
