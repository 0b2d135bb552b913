"""Read-only views of the inventory for the poller: plain Python values, no ORM objects, no personal data.

The poller loads these once per cycle (or on change) and keeps them in memory, so a poll never waits on
the database.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from ftthnoc.inventory.models import BwaStation, District, Household, Olt, Onu, PonPort, School, VpnGateway

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


def onu_rows(*columns: Any) -> Select[Any]:
    """``SELECT olt, pon port, onu id, *columns, district`` over every ONU.

    The district is the household's when the ONU is assigned to one (an OLT can serve homes across a
    district line), else the OLT's. One query shape for the district label, the probe targets and the
    incident engine's households, so the three never disagree.
    """
    home = aliased(District)
    olt_district = aliased(District)
    return (
        select(Olt.name, PonPort.port, Onu.onu_id, *columns, func.coalesce(home.code, olt_district.code))
        .select_from(Onu)
        .join(PonPort, Onu.pon_port_id == PonPort.id)
        .join(Olt, PonPort.olt_id == Olt.id)
        .join(olt_district, Olt.district_id == olt_district.id)
        .outerjoin(Household, Onu.household_id == Household.id)
        .outerjoin(home, Household.district_id == home.id)
    )


def onu_districts(session: Session) -> dict[tuple[str, str, int], str]:
    """``(olt name, pon port, onu id) -> district code``, for the ``district`` label of ONU metrics."""
    return {(olt, port, onu_id): district for olt, port, onu_id, district in session.execute(onu_rows())}


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


ProbeKind = Literal["onu", "school", "gateway", "bwa", "olt"]

#: The TCP port probed on a VPN gateway: its SSL-VPN portal, which is what teleworking staff reach.
GATEWAY_PORT = 443


class ProbeTargetRecord(TypedDict):
    """One probe target as ``collectors.probes.config.ProbeTarget`` accepts it (plain data, no ORM)."""

    name: str
    address: str
    district: str | None
    labels: dict[str, str]
    ports: list[int]


def _host(address: str) -> str:
    """The host of ``HOST:PORT`` (``[v6]:PORT`` too): the probes reach the device, not its SNMP port."""
    host = address.rpartition(":")[0] if ":" in address else address
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def probe_targets(session: Session) -> dict[ProbeKind, list[ProbeTargetRecord]]:
    """Packet-probe targets the inventory knows, by kind; every kind is present, perhaps empty.

    * ``onu``: ONUs with a ``mgmt_address``, named ``OLT/PON-PORT/ONU-ID`` with those three as labels, in
      the district of their household (the OLT's while the ONU serves none, as ``onu_districts``).
    * ``school``: schools with an ``address``, named by their code.
    * ``gateway``: VPN gateways, ICMP and a TCP connect to port 443.
    * ``bwa``, ``olt``: BWA stations and OLTs, ICMP to the host of their SNMP address.

    Hosts are passed as written (a name or IPv6 stays a name or IPv6): ``ProbeConfig.with_targets``
    refuses what the probes cannot reach, with the target's name, rather than this silently dropping it.
    Nothing personal is read: household codes, names and contacts never become labels.
    """
    onus = (
        onu_rows(Onu.mgmt_address)
        .where(Onu.mgmt_address.is_not(None))
        .order_by(Olt.name, PonPort.port, Onu.onu_id)
    )
    schools = (
        select(School.code, School.address, District.code)
        .join(District, School.district_id == District.id)
        .where(School.address.is_not(None))
        .order_by(School.code)
    )
    stations = (
        select(BwaStation.name, BwaStation.address, District.code)
        .join(District, BwaStation.district_id == District.id)
        .order_by(BwaStation.name)
    )
    olts = (
        select(Olt.name, Olt.address, District.code)
        .join(District, Olt.district_id == District.id)
        .order_by(Olt.name)
    )
    gateways = select(VpnGateway.name, VpnGateway.address).order_by(VpnGateway.name)
    return {
        "onu": [
            ProbeTargetRecord(
                name=f"{olt}/{port}/{onu_id}",
                address=address,
                district=district,
                labels={"olt": olt, "pon_port": port, "onu_id": str(onu_id)},
                ports=[],
            )
            for olt, port, onu_id, address, district in session.execute(onus)
            if address is not None  # the query's own filter, spelled again for the type checker
        ],
        "school": [
            ProbeTargetRecord(name=code, address=address, district=district, labels={}, ports=[])
            for code, address, district in session.execute(schools)
            if address is not None
        ],
        "gateway": [
            ProbeTargetRecord(name=name, address=_host(address), district=None, labels={}, ports=[GATEWAY_PORT])
            for name, address in session.execute(gateways)
        ],
        "bwa": [
            ProbeTargetRecord(name=name, address=_host(address), district=district, labels={}, ports=[])
            for name, address, district in session.execute(stations)
        ],
        "olt": [
            ProbeTargetRecord(name=name, address=_host(address), district=district, labels={}, ports=[])
            for name, address, district in session.execute(olts)
        ],
    }
