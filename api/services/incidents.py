"""Correlated outages (feeder cuts, power cuts, unreachable OLTs): counts of households, never their codes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.common import Found, NotFound, Window, page_of
from ftthnoc.incidents.models import Incident


def search(session: Session, window: Window, *, open: bool | None = None, kind: str | None = None,
           district: str | None = None, reportable: bool | None = None) -> Found[Incident]:  # fmt: skip
    """Incidents newest first; ``open`` True: only open ones, False: only closed ones."""
    stmt = select(Incident).order_by(Incident.started_at.desc(), Incident.id.desc())
    if open is not None:
        stmt = stmt.where(Incident.status == ("open" if open else "closed"))
    if kind is not None:
        stmt = stmt.where(Incident.kind == kind)
    if district is not None:
        stmt = stmt.where(Incident.district == district)
    if reportable is not None:
        stmt = stmt.where(Incident.reportable.is_(reportable))
    rows, total = page_of(session, stmt, window)
    return Found([i for (i,) in rows], total)


def get(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id}")
    return incident
