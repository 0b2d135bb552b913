"""The town as one value: every device, household and school the generator drew, with the look-ups
the simulator, the tests and the demo use, and copies pointing at running agents' addresses.

A frozen dataclass, so that the same seed gives an equal ``Town`` on every machine and a test can compare
two of them; ``generate_town`` (``simulator.generate``) builds it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator import documents
from simulator.devices import BwaStation, Device, Olt, Onu, PonPort, SchoolRouter, VpnGateway
from simulator.people import District, Household, HouseholdContact, School, Tablet
from simulator.specs import COMMUNITY, DEFAULT_STAFF, DEMO_V3_USERS, SnmpUser


@dataclass(frozen=True, slots=True)
class Town:
    seed: int
    districts: tuple[District, ...]
    olts: tuple[Olt, ...]
    households: tuple[Household, ...]
    contacts: tuple[HouseholdContact, ...]
    schools: tuple[School, ...]
    tablets: tuple[Tablet, ...]
    v3_users: tuple[SnmpUser, ...] = DEMO_V3_USERS
    community: str = COMMUNITY
    bwa_stations: tuple[BwaStation, ...] = ()
    vpn_gateways: tuple[VpnGateway, ...] = ()
    #: the schools' routers as SNMP devices (``generate_town(school_routers=True)``), else none
    school_routers: tuple[SchoolRouter, ...] = ()
    #: staff of the town office (telework VPN users)
    staff: int = DEFAULT_STAFF
    #: ``HOST:PORT`` of the SSH command line of an OLT (by name) or a school's router (by school code),
    #: where a simulator serves one (``simulator.cli.town``); the inventory gets them as ``cli_address``
    #: and ``router_address``.
    cli_addresses: Mapping[str, str] = field(default_factory=dict)
    _olt_by_name: dict[str, Olt] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_olt_by_name", {o.name: o for o in self.olts})

    # ---- look-ups
    def olt(self, name: str) -> Olt:
        return self._olt_by_name[name]

    def onus(self) -> Iterator[Onu]:
        for o in self.olts:
            yield from o.onus()

    def devices(self) -> Iterator[Device]:
        """Every device with an SNMP agent: OLTs, BWA stations, VPN gateways, school routers (in that order)."""
        yield from self.olts
        yield from self.bwa_stations
        yield from self.vpn_gateways
        yield from self.school_routers

    def school_router(self, school: str) -> SchoolRouter | None:
        """The router of the school with this code, when the town has school routers."""
        return next((r for r in self.school_routers if r.school == school), None)

    def device(self, name: str) -> Device:
        for d in self.devices():
            if d.name == name:
                return d
        raise KeyError(name)

    def pon_ports(self) -> Iterator[PonPort]:
        for o in self.olts:
            yield from o.pon_ports

    def onus_by_district(self) -> dict[str, int]:
        counts = {d.code: 0 for d in self.districts}
        for o in self.olts:
            counts[o.district] += sum(len(p.onus) for p in o.pon_ports)
        return counts

    def with_addresses(self, addresses: Mapping[str, str]) -> Town:
        """A copy whose OLTs carry the given ``HOST:PORT`` addresses (the agents' real ports)."""
        olts = tuple(
            dataclasses.replace(o, address=addresses[o.name]) if o.name in addresses else o for o in self.olts
        )
        stations = tuple(
            dataclasses.replace(b, address=addresses[b.name]) if b.name in addresses else b
            for b in self.bwa_stations
        )
        gateways = tuple(
            dataclasses.replace(g, address=addresses[g.name]) if g.name in addresses else g
            for g in self.vpn_gateways
        )
        routers = tuple(
            dataclasses.replace(r, address=addresses[r.name]) if r.name in addresses else r
            for r in self.school_routers
        )
        return dataclasses.replace(self, olts=olts, bwa_stations=stations, vpn_gateways=gateways,
                                   school_routers=routers)

    def with_cli_addresses(self, addresses: Mapping[str, str]) -> Town:
        """A copy whose OLTs and school routers answer SSH at these ``HOST:PORT`` addresses."""
        return dataclasses.replace(self, cli_addresses={**self.cli_addresses, **addresses})

    # ---- documents for the other parts of ftthnoc
    def inventory_document(self) -> dict[str, Any]:
        """The flat inventory document the importer reads (one list per table)."""
        return documents.inventory_document(self)

    def poller_config(self, interval_seconds: float = 60) -> dict[str, Any]:
        """The poller's configuration (``ftthnoc.config.Config``): the OLTs, then the BWA stations, the VPN
        gateways and the school routers (small agents, the same request limits)."""
        return documents.poller_config(self, interval_seconds)
