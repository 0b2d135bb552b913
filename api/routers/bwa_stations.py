"""``/api/bwa_stations``: regional-BWA base stations (polled like OLTs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import DbSession, Paging
from api.routers.common import Page, page_of, text_filter
from ftthnoc.inventory.models import BwaStation, District

router = APIRouter(prefix="/bwa_stations", tags=["inventory"])


class BwaStationOut(BaseModel):
    name: str
    district: str
    address: str
    modules: list[str]


@router.get("", summary="List BWA base stations")
def list_bwa_stations(
    session: DbSession,
    paging: Paging,
    district: Annotated[str | None, text_filter("District code.")] = None,
) -> Page[BwaStationOut]:
    stmt = select(BwaStation, District.code).join(District, BwaStation.district_id == District.id)
    if district is not None:
        stmt = stmt.where(District.code == district)
    rows, total = page_of(session, stmt.order_by(BwaStation.name), paging)
    items = [BwaStationOut(name=b.name, district=d, address=b.address, modules=list(b.modules)) for b, d in rows]
    return Page[BwaStationOut](items=items, total=total, limit=paging.limit, offset=paging.offset)
