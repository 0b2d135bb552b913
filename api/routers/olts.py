"""``/api/olts``: OLTs, one OLT with its PON ports, and the PON ports of an OLT with their ONU counts
(``api.services.olts``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.deps import DbSession, Paging
from api.routers.common import NO_NUL, NOT_FOUND, Page, text_filter
from api.services import olts
from ftthnoc.inventory.models import Olt
from ftthnoc.pollers import Polling, polling

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
    polling: Literal["polled", "unknown", "unsharded"] = Field(
        description="polled: its shard's poller is alive; unknown: that poller has been silent for more than two "
                    "intervals, so nothing is known of the OLT now (neither healthy nor down); unsharded: no "
                    "sharded poller claims it (a single serve, or not in any shard's configuration).")
    polled_by: str | None = Field(description="The shard (I/N) whose poller owns it.")
    unpolled: str | None = Field(description="Why it is unknown, e.g. nobody polls it (shard 2/3 silent since ...).")


class OltDetail(OltOut):
    pon_ports: list[str]
    onus: int = Field(ge=0, description="ONUs registered on this OLT.")


class PonPortOut(BaseModel):
    olt: str
    port: str = Field(description="F/S/P as the OLT's CLI prints it.")
    onus: int = Field(ge=0, description="ONUs registered on this port.")


def _olt_out(olt: Olt, district: str, who: Polling) -> OltOut:
    silence = who.silent.get(olt.name)
    return OltOut(name=olt.name, district=district, vendor=olt.vendor, model=olt.model, address=olt.address,
                  pon_class=olt.pon_class, modules=list(olt.modules), cli_address=olt.cli_address,
                  polling=who.state(olt.name), polled_by=who.polled_by.get(olt.name),
                  unpolled=silence.reason() if silence else None)  # fmt: skip


@router.get("", summary="List OLTs")
def list_olts(
    session: DbSession,
    paging: Paging,
    district: Annotated[str | None, text_filter("District code.")] = None,
    vendor: Annotated[str | None, text_filter("huawei or zte.")] = None,
) -> Page[OltOut]:
    found = olts.search(session, paging.window, district=district, vendor=vendor)
    who = polling(session)
    return Page[OltOut].of(found, paging, lambda row: _olt_out(row[0], row[1], who))


@router.get("/{name}", responses=NOT_FOUND, summary="One OLT with its PON ports")
def get_olt(session: DbSession, name: OltName) -> OltDetail:
    found = olts.get(session, name)
    return OltDetail(**_olt_out(found.olt, found.district, polling(session)).model_dump(), pon_ports=found.pon_ports,
                     onus=found.onus)


@router.get("/{name}/pon_ports", responses=NOT_FOUND, summary="The PON ports of an OLT")
def list_pon_ports(session: DbSession, name: OltName, paging: Paging) -> Page[PonPortOut]:
    found = olts.pon_ports(session, name, paging.window)
    return Page[PonPortOut].of(found, paging, lambda row: PonPortOut(olt=row[0], port=row[1], onus=row[2]))
