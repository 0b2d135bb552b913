"""Read-only views of the inventory for the poller: plain Python values, no ORM objects, no personal data.

The poller loads these once per cycle (or on change) and keeps them in memory, so a poll never waits on
the database.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ftthnoc.inventory.models import BwaStation, District, Household, Olt, Onu, PonPort, VpnGateway

TargetKind = Literal["olt", "bwa", "vpn"]


class Target(TypedDict):
    """One SNMP target: where, with which modules and which named auth (never a secret)."""

    kind: TargetKind
    name: str
    address: str
    modules: list[str]
    auth: str
    #: Optical class for the OLT's power thresholds; None for BWA stations and VPN gateways.
    pon_class: str | None
    vendor: str
    district: str | None


def onu_districts(session: Session) -> dict[tuple[str, str, int], str]:
    """``(olt name, pon port, onu id) -> district code``, for the ``district`` label of ONU metrics.

    The district is the household's when the ONU is assigned to one (an OLT can serve homes across a
    district line), else the OLT's.
    """
    home = aliased(District)
    olt_district = aliased(District)
    stmt = (
        select(Olt.name, PonPort.port, Onu.onu_id, func.coalesce(home.code, olt_district.code))
        .select_from(Onu)
        .join(PonPort, Onu.pon_port_id == PonPort.id)
        .join(Olt, PonPort.olt_id == Olt.id)
        .join(olt_district, Olt.district_id == olt_district.id)
        .outerjoin(Household, Onu.household_id == Household.id)
        .outerjoin(home, Household.district_id == home.id)
    )
    return {(olt, port, onu_id): district for olt, port, onu_id, district in session.execute(stmt)}


def olt_districts(session: Session) -> dict[str, str]:
    """``olt name -> district code``: the fallback label for PON-port metrics and unknown ONUs."""
    stmt = select(Olt.name, District.code).join(District, Olt.district_id == District.id)
    return {name: code for name, code in session.execute(stmt)}


def olt_targets(session: Session) -> list[Target]:
    """Every pollable device: OLTs, then BWA stations, then VPN gateways, each sorted by name."""
    targets: list[Target] = []
    olts = select(Olt, District.code).join(District, Olt.district_id == District.id).order_by(Olt.name)
    for olt, district in session.execute(olts):
        targets.append(
            Target(
                kind="olt",
                name=olt.name,
                address=olt.address,
                modules=list(olt.modules),
                auth=olt.auth,
                pon_class=olt.pon_class,
                vendor=olt.vendor,
                district=district,
            )
        )
    stations = (
        select(BwaStation, District.code)
        .join(District, BwaStation.district_id == District.id)
        .order_by(BwaStation.name)
    )
    for bwa, district in session.execute(stations):
        targets.append(
            Target(
                kind="bwa",
                name=bwa.name,
                address=bwa.address,
                modules=list(bwa.modules),
                auth=bwa.auth,
                pon_class=None,
                vendor="bwa",
                district=district,
            )
        )
    for vpn in session.scalars(select(VpnGateway).order_by(VpnGateway.name)):
        targets.append(
            Target(
                kind="vpn",
                name=vpn.name,
                address=vpn.address,
                modules=list(vpn.modules),
                auth=vpn.auth,
                pon_class=None,
                vendor=vpn.vendor,
                district=None,
            )
        )
    return targets
