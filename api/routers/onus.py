"""``/api/onus``: ONUs with the household they serve and, when the poller's snapshot is wired in, their
current state (``up``, ``rx_dbm``). The API never asks a device: state comes from ``app.state.onu_state``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy import Select, select

from api.deps import DbSession, Paging, not_found
from api.routers.common import NO_NUL, NOT_FOUND, Page, page_of, text_filter
from ftthnoc.inventory.lookup import onu_rows
from ftthnoc.inventory.models import Household, Onu
from ftthnoc.normalise import normalise_serial

log = logging.getLogger(__name__)

router = APIRouter(prefix="/onus", tags=["inventory"])

#: ``(olt, pon_port, onu_id) -> (up, rx_dbm)`` from the poller's latest snapshot; None where unknown.
OnuStateProvider = Callable[[str, str, int], tuple[bool | None, float | None]]


class OnuOut(BaseModel):
    serial: str
    olt: str
    pon_port: str
    onu_id: int
    household: str | None = Field(description="Code of the household it serves; null: none.")
    district: str = Field(description="The household's district, else the OLT's.")
    mgmt_address: str | None
    up: bool | None = Field(description="Current state from the poller; null: not known (yet).")
    rx_dbm: float | None = Field(description="Optical power received by the ONU; null: not known.")


def _rows() -> tuple[Select[Any], list[Any]]:
    sub = onu_rows(Onu.serial, Household.code, Onu.mgmt_address).subquery()
    columns = list(sub.c)  # olt, port, onu_id, serial, household, mgmt_address, district
    return select(*columns).order_by(columns[0], columns[1], columns[2]), columns


def _state(request: Request, olt: str, port: str, onu_id: int) -> tuple[bool | None, float | None]:
    provider: OnuStateProvider | None = getattr(request.app.state, "onu_state", None)
    if provider is None:
        return None, None
    try:
        up, rx = provider(olt, port, onu_id)
    except Exception:  # a broken snapshot must not break the inventory view
        log.exception("ONU state provider failed")
        return None, None
    return up, rx


def _out(request: Request, row: Any) -> OnuOut:
    olt, port, onu_id, serial, household, mgmt, district = row
    up, rx = _state(request, olt, port, onu_id)
    return OnuOut(serial=serial, olt=olt, pon_port=port, onu_id=onu_id, household=household, district=district,
                  mgmt_address=mgmt, up=up, rx_dbm=rx)  # fmt: skip


@router.get("", summary="List ONUs")
def list_onus(
    request: Request,
    session: DbSession,
    paging: Paging,
    olt: Annotated[str | None, text_filter("OLT name.")] = None,
    pon_port: Annotated[str | None, text_filter("PON port (F/S/P); usually with olt.")] = None,
    district: Annotated[str | None, text_filter("District code (the household's, else the OLT's).")] = None,
    household: Annotated[str | None, text_filter("Household code.")] = None,
) -> Page[OnuOut]:
    stmt, columns = _rows()
    for column, value in ((columns[0], olt), (columns[1], pon_port), (columns[4], household),
                          (columns[6], district)):  # fmt: skip
        if value is not None:
            stmt = stmt.where(column == value)
    rows, total = page_of(session, stmt, paging)
    return Page[OnuOut](items=[_out(request, r) for r in rows], total=total, limit=paging.limit,
                        offset=paging.offset)  # fmt: skip


@router.get("/{serial}", responses=NOT_FOUND, summary="One ONU by serial")
def get_onu(
    request: Request,
    session: DbSession,
    serial: Annotated[str, Path(max_length=64, pattern=NO_NUL, description="Serial, e.g. HWTC-A1B2C3D4.")],
) -> OnuOut:
    stmt, columns = _rows()
    try:
        wanted = normalise_serial(serial)
    except ValueError:
        raise not_found(f"ONU {serial}") from None
    row = session.execute(stmt.where(columns[3] == wanted)).first()
    if row is None:
        raise not_found(f"ONU {serial}")
    return _out(request, row)
