"""``/api/districts``: the four former towns and their household counts (the take-up denominator)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import DbSession, Paging
from api.routers.common import Page
from api.services import districts
from ftthnoc.inventory.models import District

router = APIRouter(prefix="/districts", tags=["inventory"])


class DistrictOut(BaseModel):
    code: str
    name: str
    households: int = Field(description="All households in the district, subscribing or not.")


def _out(d: District) -> DistrictOut:
    return DistrictOut(code=d.code, name=d.name, households=d.households)


@router.get("", summary="List districts")
def list_districts(session: DbSession, paging: Paging) -> Page[DistrictOut]:
    return Page[DistrictOut].of(districts.search(session, paging.window), paging, _out)
