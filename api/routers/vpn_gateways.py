"""``/api/vpn_gateways``: telework VPN gateways and their licensed session ceiling."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import DbSession, Paging
from api.routers.common import Page
from api.services import vpn_gateways
from ftthnoc.inventory.models import VpnGateway

router = APIRouter(prefix="/vpn_gateways", tags=["inventory"])


class VpnGatewayOut(BaseModel):
    name: str
    vendor: str
    address: str
    modules: list[str]
    licence_sessions: int = Field(ge=0, description="Licensed concurrent sessions (the telework KPI's ceiling).")


def _out(g: VpnGateway) -> VpnGatewayOut:
    return VpnGatewayOut(name=g.name, vendor=g.vendor, address=g.address, modules=list(g.modules),
                         licence_sessions=g.licence_sessions)  # fmt: skip


@router.get("", summary="List telework VPN gateways")
def list_vpn_gateways(session: DbSession, paging: Paging) -> Page[VpnGatewayOut]:
    return Page[VpnGatewayOut].of(vpn_gateways.search(session, paging.window), paging, _out)
