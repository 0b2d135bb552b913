"""The districts (the four former towns) and their household counts (the take-up denominator)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.common import Found, Window, page_of
from ftthnoc.inventory.models import District


def search(session: Session, window: Window) -> Found[District]:
    rows, total = page_of(session, select(District).order_by(District.code), window)
    return Found([d for (d,) in rows], total)


def choices(session: Session) -> list[tuple[str, str]]:
    """Every district as (code, name), for a search form."""
    rows = session.execute(select(District.code, District.name).order_by(District.code))
    return [(code, name) for code, name in rows]
