"""``/api/bwa_stations``: regional-BWA base stations (polled like OLTs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import DbSession, Paging
from api.routers.common import Page, text_filter
from api.services import bwa_stations
from ftthnoc.inventory.models import BwaStation

router = APIRouter(prefix="/bwa_stations", tags=["inventory"])


class BwaStationOut(BaseModel):
    name: str
    district: str
    address: str
    modules: list[str]


def _out(row: tuple[BwaStation, str]) -> BwaStationOut:
    b, district = row
    return BwaStationOut(name=b.name, district=district, address=b.address, modules=list(b.modules))


@router.get("", summary="List BWA base stations")
def list_bwa_stations(
    session: DbSession,
    paging: Paging,
    district: Annotated[str | None, text_filter("District code.")] = None,
) -> Page[BwaStationOut]:
    return Page[BwaStationOut].of(bwa_stations.search(session, paging.window, district=district), paging, _out)
