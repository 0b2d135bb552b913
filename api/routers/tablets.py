"""``/api/tablets``: GIGA-school tablets (``api.services.schools``); a school user sees only its own
school's (others: 404)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from api.deps import MAX_ID, CurrentPrincipal, DbSession, Paging, csrf_protect
from api.routers.common import NOT_FOUND, ErrorOut, Page, text_filter
from api.services import schools
from api.services.common import Invalid
from api.services.schools import TabletRecord
from ftthnoc.inventory.mdm import MDM_KINDS

router = APIRouter(prefix="/tablets", tags=["schools"])


class SightingOut(BaseModel):
    source: str = Field(description="arp (the prober's sweep), router_arp (the school router's ARP table) or "
                                    "mdm:google, mdm:intune, mdm:jamf (an MDM export's last sync).")
    seen_at: datetime


class TabletOut(BaseModel):
    id: int
    school: str
    asset_no: str
    serial: str
    mac: str
    os: str
    grade: int | None
    class_name: str | None
    status: Literal["active", "retired"]
    network_mac: str | None = Field(description="The Wi-Fi MAC an MDM reported, where it is not `mac`.")
    last_seen_at: datetime | None = Field(description="The latest time any source saw the tablet.")
    seen_by: list[SightingOut] = Field(description="Each source's last sighting, latest first.")


def _out(record: TabletRecord) -> TabletOut:
    return TabletOut.model_validate(asdict(record))


@router.get("", summary="List tablets (a school user: its own school's)")
def list_tablets(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Paging,
    school: Annotated[str | None, text_filter("School code.")] = None,
    grade: Annotated[int | None, Query(ge=1, le=12, description="School year.")] = None,
    class_name: Annotated[str | None, text_filter("Class, e.g. 1-1.", alias="class")] = None,
    status: Annotated[Literal["active", "retired"] | None, Query(description="active or retired.")] = None,
) -> Page[TabletOut]:
    found = schools.list_tablets(session, principal, paging.window, school=school, grade=grade,
                                 class_name=class_name, status=status)  # fmt: skip
    return Page[TabletOut].of(found, paging, _out)


@router.get("/{tablet_id}", responses=NOT_FOUND, summary="One tablet by id (another school's: 404)")
def get_tablet(
    session: DbSession,
    principal: CurrentPrincipal,
    tablet_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> TabletOut:
    return _out(schools.get_tablet(session, principal, tablet_id))


# ------------------------------------------------------------------------------------ MDM imports
#: an export of a few thousand devices is well under a megabyte
MAX_EXPORT_BYTES = 8 * 1024 * 1024


class MdmImportOut(BaseModel):
    kind: Literal["google", "intune", "jamf"]
    devices: int = Field(description="Device lines in the export.")
    matched: int = Field(description="Tablets of the inventory found by serial.")
    seen: int = Field(description="Tablets whose MDM sighting moved forward.")
    never_synced: int
    macs_learned: int = Field(description="Wi-Fi MACs learned (reported and not the registered MAC).")
    classes_filled: int = Field(description="Tablets without grade and class given them by the org unit.")
    not_in_inventory: int = Field(description="Serials that are no tablet of the inventory (or not yours).")
    schools: list[str]


assert MDM_KINDS == ("google", "intune", "jamf")


@router.post(
    "/mdm-imports",
    dependencies=[Depends(csrf_protect)],
    responses={422: {"model": ErrorOut, "description": "A bad line (named) or not an export: nothing written."}},
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
    summary="Mark tablets seen from an MDM export (CSV body; a school user: its own school's tablets)",
)
async def import_mdm(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    kind: Annotated[Literal["google", "intune", "jamf"], Query(description="Which console's export.")],
    filename: Annotated[str, Query(max_length=128, pattern=r"^[^\x00/\\]+$",
                                   description="The export's file name, for messages and the audit.")] = "export.csv",
) -> MdmImportOut:
    raw = await request.body()
    if len(raw) > MAX_EXPORT_BYTES:
        raise Invalid(f"the export is larger than {MAX_EXPORT_BYTES // (1024 * 1024)} MB")
    result = schools.import_mdm(session, principal, kind, raw, filename)
    return MdmImportOut(kind=kind, devices=result.devices, matched=result.matched, seen=result.seen,
                        never_synced=result.never_synced, macs_learned=result.macs_learned,
                        classes_filled=result.classes_filled,
                        not_in_inventory=result.not_in_inventory, schools=sorted(result.schools))
