"""OLTs, one OLT with its PON ports and ONU count, and the PON ports of an OLT with their ONU counts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.services.common import Found, NotFound, Window, page_of
from ftthnoc.inventory.models import District, Olt, Onu, PonPort


@dataclass(frozen=True)
class OltDetail:
    olt: Olt
    district: str
    pon_ports: list[str]
    onus: int


def search(session: Session, window: Window, *, district: str | None = None,
           vendor: str | None = None) -> Found[tuple[Olt, str]]:  # fmt: skip
    """(OLT, district code) by name."""
    stmt = select(Olt, District.code).join(District, Olt.district_id == District.id).order_by(Olt.name)
    if district is not None:
        stmt = stmt.where(District.code == district)
    if vendor is not None:
        stmt = stmt.where(Olt.vendor == vendor)
    rows, total = page_of(session, stmt, window)
    return Found([(olt, code) for olt, code in rows], total)


def _get(session: Session, name: str) -> tuple[Olt, str]:
    row = session.execute(
        select(Olt, District.code).join(District, Olt.district_id == District.id).where(Olt.name == name)
    ).first()
    if row is None:
        raise NotFound(f"OLT {name}")
    return row[0], row[1]


def get(session: Session, name: str) -> OltDetail:
    olt, district = _get(session, name)
    ports = list(session.scalars(select(PonPort.port).where(PonPort.olt_id == olt.id).order_by(PonPort.port)))
    onus = session.scalar(
        select(func.count(Onu.id)).join(PonPort, Onu.pon_port_id == PonPort.id).where(PonPort.olt_id == olt.id)
    )
    return OltDetail(olt, district, ports, onus or 0)


def pon_ports(session: Session, name: str, window: Window) -> Found[tuple[str, str, int]]:
    """(OLT name, port, ONUs on it) of an OLT's PON ports."""
    olt, _ = _get(session, name)
    stmt = (
        select(PonPort.port, func.count(Onu.id))
        .outerjoin(Onu, Onu.pon_port_id == PonPort.id)
        .where(PonPort.olt_id == olt.id)
        .group_by(PonPort.id, PonPort.port)
        .order_by(PonPort.port)
    )
    rows, total = page_of(session, stmt, window)
    return Found([(olt.name, port, count) for port, count in rows], total)
