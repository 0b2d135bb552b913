"""Regional-BWA base stations (polled like OLTs)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.common import Found, Window, page_of
from ftthnoc.inventory.models import BwaStation, District


def search(session: Session, window: Window, *, district: str | None = None) -> Found[tuple[BwaStation, str]]:
    """(station, district code) by name."""
    stmt = select(BwaStation, District.code).join(District, BwaStation.district_id == District.id)
    if district is not None:
        stmt = stmt.where(District.code == district)
    rows, total = page_of(session, stmt.order_by(BwaStation.name), window)
    return Found([(b, d) for b, d in rows], total)
