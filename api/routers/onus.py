"""``/api/onus``: ONUs with the household they serve and, when the poller's snapshot is wired in, their
current state (``up``, ``rx_dbm``), through ``api.services.onus``. The API never asks a device: state
comes from ``app.state.onu_state``, and for the OLTs other shards poll from the shared time-series store
(``app.state.live_store``), with the reading's age, or ``unknown`` and why."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from api.deps import DbSession, Paging, onu_live, onu_state
from api.routers.common import NO_NUL, NOT_FOUND, Page, text_filter
from api.services import onus
from api.services.onus import Live, OnuRecord, OnuStateProvider

router = APIRouter(prefix="/onus", tags=["inventory"])

State = Annotated[OnuStateProvider | None, Depends(onu_state)]
Lives = Annotated[Live, Depends(onu_live)]


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
    live: Literal["poll", "store", "unknown"] | None = Field(
        None, description="Where up and rx_dbm come from: this process's own poll, the shared time-series store "
        "(the OLT is another shard's), or unknown now (live_reason says why; up and rx_dbm are null). Null: no "
        "live state at all (no poll has seen it, no store configured).")
    live_age_seconds: float | None = Field(None, description="Age of the store's reading (live = store).")
    live_reason: str | None = Field(None, description="Why the live state is unknown (live = unknown): the "
                                    "store did not answer, has no reading of it, or its OLT's shard is silent.")


def _out(record: OnuRecord) -> OnuOut:
    return OnuOut.model_validate(asdict(record))


@router.get("", summary="List ONUs")
def list_onus(
    session: DbSession,
    state: State,
    lives: Lives,
    paging: Paging,
    olt: Annotated[str | None, text_filter("OLT name.")] = None,
    pon_port: Annotated[str | None, text_filter("PON port (F/S/P); usually with olt.")] = None,
    district: Annotated[str | None, text_filter("District code (the household's, else the OLT's).")] = None,
    household: Annotated[str | None, text_filter("Household code.")] = None,
) -> Page[OnuOut]:
    found = onus.search(session, state, paging.window, olt=olt, pon_port=pon_port, district=district,
                        household=household, live=lives)  # fmt: skip
    return Page[OnuOut].of(found, paging, _out)


@router.get("/{serial}", responses=NOT_FOUND, summary="One ONU by serial")
def get_onu(
    session: DbSession,
    state: State,
    lives: Lives,
    serial: Annotated[str, Path(max_length=64, pattern=NO_NUL, description="Serial, e.g. HWTC-A1B2C3D4.")],
) -> OnuOut:
    return _out(onus.get(session, state, serial, lives))
