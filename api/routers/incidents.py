"""``/api/incidents``: correlated outages (feeder cuts, power cuts); counts of households, never their codes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.deps import MAX_ID, DbSession, Paging, not_found
from api.routers.common import NOT_FOUND, Page, UtcDatetime, page_of, text_filter
from ftthnoc.incidents.models import Incident

router = APIRouter(prefix="/incidents", tags=["incidents"])


class IncidentOut(BaseModel):
    id: int
    kind: Literal["feeder_cut", "power_outage"]
    status: Literal["open", "closed"]
    district: str
    olt: str | None
    pon_port: str | None
    started_at: UtcDatetime
    ended_at: UtcDatetime | None
    duration_seconds: int | None
    affected_count: int = Field(ge=0, description="Distinct households affected.")
    onu_count: int = Field(ge=0)
    reportable: bool = Field(description="Lasted 2 hours or more: goes into the quarterly report.")
    cause: str


def _out(incident: Incident) -> IncidentOut:
    return IncidentOut.model_validate(incident, from_attributes=True)


@router.get("", summary="List incidents, newest first")
def list_incidents(
    session: DbSession,
    paging: Paging,
    open: Annotated[bool | None, Query(description="true: only open ones; false: only closed ones.")] = None,
    kind: Annotated[Literal["feeder_cut", "power_outage"] | None, Query()] = None,
    district: Annotated[str | None, text_filter("District code.")] = None,
    reportable: Annotated[bool | None, Query(description="Lasted 2 hours or more.")] = None,
) -> Page[IncidentOut]:
    stmt = select(Incident).order_by(Incident.started_at.desc(), Incident.id.desc())
    if open is not None:
        stmt = stmt.where(Incident.status == ("open" if open else "closed"))
    if kind is not None:
        stmt = stmt.where(Incident.kind == kind)
    if district is not None:
        stmt = stmt.where(Incident.district == district)
    if reportable is not None:
        stmt = stmt.where(Incident.reportable.is_(reportable))
    rows, total = page_of(session, stmt, paging)
    return Page[IncidentOut](items=[_out(i) for (i,) in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{incident_id}", responses=NOT_FOUND, summary="One incident")
def get_incident(session: DbSession, incident_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> IncidentOut:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise not_found(f"incident {incident_id}")
    return _out(incident)
