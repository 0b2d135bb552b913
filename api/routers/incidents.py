"""``/api/incidents``: correlated outages (feeder cuts, power cuts, unreachable OLTs), through
``api.services.incidents``; counts of households, never their codes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.deps import MAX_ID, DbSession, Paging
from api.routers.common import NOT_FOUND, Page, UtcDatetime, text_filter
from api.services import incidents
from ftthnoc.incidents.models import Incident, IncidentKind
from ftthnoc.pollers import Polling, polling

router = APIRouter(prefix="/incidents", tags=["incidents"])


class IncidentOut(BaseModel):
    id: int
    kind: IncidentKind
    status: Literal["open", "closed"]
    district: str
    olt: str | None
    pon_port: str | None
    splitter: str | None = Field(None, description="The cut splitter (kind splitter_cut), from the inventory.")
    cabinet: str | None = Field(None, description="The cut splitter's cabinet, where the inventory names one.")
    started_at: UtcDatetime
    ended_at: UtcDatetime | None
    duration_seconds: int | None
    affected_count: int = Field(ge=0, description="Distinct households affected.")
    onu_count: int = Field(ge=0)
    reportable: bool = Field(description="Meets the ministry's rule (2 hours or more, or 30,000 users or more; "
                             "never a power cut at the homes): goes into the quarterly report.")
    cause: str
    unpolled: str | None = Field(None, description="Open, on an OLT whose shard's poller is silent: nobody polls it "
                                 "(shard I/N silent since ...), so the incident's state is not being updated.")


def _out(incident: Incident, who: Polling) -> IncidentOut:
    out = IncidentOut.model_validate(incident, from_attributes=True)
    silence = who.silent.get(incident.olt) if incident.olt and incident.status == "open" else None
    return out.model_copy(update={"unpolled": silence.reason()}) if silence else out


@router.get("", summary="List incidents, newest first")
def list_incidents(
    session: DbSession,
    paging: Paging,
    open: Annotated[bool | None, Query(description="true: only open ones; false: only closed ones.")] = None,
    kind: Annotated[IncidentKind | None, Query()] = None,
    district: Annotated[str | None, text_filter("District code.")] = None,
    reportable: Annotated[bool | None, Query(description="Meets the quarterly report's rule.")] = None,
) -> Page[IncidentOut]:
    found = incidents.search(session, paging.window, open=open, kind=kind, district=district, reportable=reportable)
    who = polling(session)
    return Page[IncidentOut].of(found, paging, lambda i: _out(i, who))


@router.get("/{incident_id}", responses=NOT_FOUND, summary="One incident")
def get_incident(session: DbSession, incident_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> IncidentOut:
    return _out(incidents.get(session, incident_id), polling(session))
