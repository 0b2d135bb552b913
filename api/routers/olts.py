"""``/api/olts``: OLTs, one OLT with its PON ports, and the PON ports of an OLT with their ONU counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from api.deps import DbSession, Paging, not_found
from api.routers.common import NO_NUL, NOT_FOUND, Page, page_of, text_filter
from ftthnoc.inventory.models import District, Olt, Onu, PonPort

router = APIRouter(prefix="/olts", tags=["inventory"])

OltName = Annotated[str, Path(max_length=64, pattern=NO_NUL, description="The OLT's name.")]


class OltOut(BaseModel):
    name: str
    district: str
    vendor: str
    model: str
    address: str = Field(description="HOST:PORT of the SNMP agent.")
    pon_class: str
    modules: list[str]
    cli_address: str | None = Field(description="HOST:PORT of the SSH CLI; null: not provisioned by ftthnoc.")


class OltDetail(OltOut):
    pon_ports: list[str]
    onus: int = Field(ge=0, description="ONUs registered on this OLT.")


class PonPortOut(BaseModel):
    olt: str
    port: str = Field(description="F/S/P as the OLT's CLI prints it.")
    onus: int = Field(ge=0, description="ONUs registered on this port.")


def _olt_out(olt: Olt, district: str) -> OltOut:
    return OltOut(name=olt.name, district=district, vendor=olt.vendor, model=olt.model, address=olt.address,
                  pon_class=olt.pon_class, modules=list(olt.modules), cli_address=olt.cli_address)  # fmt: skip


@router.get("", summary="List OLTs")
def list_olts(
    session: DbSession,
    paging: Paging,
    district: Annotated[str | None, text_filter("District code.")] = None,
    vendor: Annotated[str | None, text_filter("huawei or zte.")] = None,
) -> Page[OltOut]:
    stmt = select(Olt, District.code).join(District, Olt.district_id == District.id).order_by(Olt.name)
    if district is not None:
        stmt = stmt.where(District.code == district)
    if vendor is not None:
        stmt = stmt.where(Olt.vendor == vendor)
    rows, total = page_of(session, stmt, paging)
    items = [_olt_out(olt, code) for olt, code in rows]
    return Page[OltOut](items=items, total=total, limit=paging.limit, offset=paging.offset)


def _get_olt(session: DbSession, name: str) -> tuple[Olt, str]:
    row = session.execute(
        select(Olt, District.code).join(District, Olt.district_id == District.id).where(Olt.name == name)
    ).first()
    if row is None:
        raise not_found(f"OLT {name}")
    return row[0], row[1]


@router.get("/{name}", responses=NOT_FOUND, summary="One OLT with its PON ports")
def get_olt(session: DbSession, name: OltName) -> OltDetail:
    olt, district = _get_olt(session, name)
    ports = list(session.scalars(select(PonPort.port).where(PonPort.olt_id == olt.id).order_by(PonPort.port)))
    onus = session.scalar(
        select(func.count(Onu.id)).join(PonPort, Onu.pon_port_id == PonPort.id).where(PonPort.olt_id == olt.id)
    )
    return OltDetail(**_olt_out(olt, district).model_dump(), pon_ports=ports, onus=onus or 0)


@router.get("/{name}/pon_ports", responses=NOT_FOUND, summary="The PON ports of an OLT")
def list_pon_ports(session: DbSession, name: OltName, paging: Paging) -> Page[PonPortOut]:
    olt, _ = _get_olt(session, name)
    stmt = (
        select(PonPort.port, func.count(Onu.id))
        .outerjoin(Onu, Onu.pon_port_id == PonPort.id)
        .where(PonPort.olt_id == olt.id)
        .group_by(PonPort.id, PonPort.port)
        .order_by(PonPort.port)
    )
    rows, total = page_of(session, stmt, paging)
    items = [PonPortOut(olt=olt.name, port=port, onus=count) for port, count in rows]
    return Page[PonPortOut](items=items, total=total, limit=paging.limit, offset=paging.offset)
