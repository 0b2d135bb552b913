"""``/api/districts``: the four former towns and their household counts (the take-up denominator)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.deps import DbSession, Paging
from api.routers.common import Page, page_of
from ftthnoc.inventory.models import District

router = APIRouter(prefix="/districts", tags=["inventory"])


class DistrictOut(BaseModel):
    code: str
    name: str
    households: int = Field(description="All households in the district, subscribing or not.")


@router.get("", summary="List districts")
def list_districts(session: DbSession, paging: Paging) -> Page[DistrictOut]:
    rows, total = page_of(session, select(District).order_by(District.code), paging)
    items = [DistrictOut(code=d.code, name=d.name, households=d.households) for (d,) in rows]
    return Page[DistrictOut](items=items, total=total, limit=paging.limit, offset=paging.offset)
