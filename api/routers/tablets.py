"""``/api/tablets``: GIGA-school tablets (``api.services.schools``); a school user sees only its own
school's (others: 404)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from api.deps import MAX_ID, CurrentPrincipal, DbSession, Paging
from api.routers.common import NOT_FOUND, Page, text_filter
from api.services import schools
from api.services.schools import TabletRecord

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


def _out(record: TabletRecord) -> TabletOut:
    return TabletOut.model_validate(asdict(record))


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
    found = schools.list_tablets(session, principal, paging.window, school=school, grade=grade,
                                 class_name=class_name, status=status)  # fmt: skip
    return Page[TabletOut].of(found, paging, _out)


@router.get("/{tablet_id}", responses=NOT_FOUND, summary="One tablet by id (another school's: 404)")
def get_tablet(
    session: DbSession,
    principal: CurrentPrincipal,
    tablet_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> TabletOut:
    return _out(schools.get_tablet(session, principal, tablet_id))
