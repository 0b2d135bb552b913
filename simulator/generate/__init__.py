"""``generate_town``: the whole simulated town from one seed, the same on every machine.

The parts live beside it, one module each, and each draws from its own random streams
(``draws.stream``), so that changing one part does not move the others: ``fibre`` (OLTs, PON ports,
ONUs, faults), ``households``, ``schools`` (schools, tablets, school routers) and ``bwa_vpn`` (the BWA
stations and the telework VPN gateway).
"""

from __future__ import annotations

from collections.abc import Sequence

from simulator.generate.bwa_vpn import make_bwa_stations, make_vpn_gateways
from simulator.generate.draws import largest_remainder
from simulator.generate.fibre import build_olts, draw_faults, lay_out
from simulator.generate.households import assign_households, draw_households, with_onu_serials
from simulator.generate.schools import ROUTER_SUFFIX, make_school_routers, make_schools
from simulator.model import Town
from simulator.people import District
from simulator.specs import (
    DEFAULT_BWA_STATIONS,
    DEFAULT_DISTRICTS,
    DEFAULT_OLTS,
    DEFAULT_STAFF,
    DEFAULT_VPN_GATEWAYS,
    MODELS,
    BwaSpec,
    DistrictSpec,
    FaultRates,
    OltSpec,
    VpnSpec,
)


def generate_town(
    seed: int = 2026,
    onus: int = 7000,
    *,
    districts: Sequence[DistrictSpec] = DEFAULT_DISTRICTS,
    olts: Sequence[OltSpec] = DEFAULT_OLTS,
    rates: FaultRates | None = None,
    pipeline_households: int | None = None,
    schools: int = 10,
    pupils: tuple[int, int] = (20, 400),
    onus_per_port: tuple[int, int] = (20, 60),
    host: str = "127.0.0.1",
    base_port: int = 16101,
    bwa_stations: Sequence[BwaSpec] | None = None,
    vpn_gateways: Sequence[VpnSpec] = DEFAULT_VPN_GATEWAYS,
    staff: int = DEFAULT_STAFF,
    school_routers: bool = False,
) -> Town:
    """Build the town. Same arguments, same town, on every machine.

    ``onus`` ONUs are spread over the districts in proportion to their households and over a district's
    OLTs by weight; ``pipeline_households`` (default 4 % of ``onus``) more households are applied,
    surveyed or installed without an ONU. Device addresses are ``host:base_port+i`` placeholders: the
    OLTs first, then the BWA stations, then the VPN gateways. ``bwa_stations`` defaults to
    ``DEFAULT_BWA_STATIONS`` in the districts the town has (a one-district test town has none).
    ``staff`` is the town office's staff, whose working day the VPN gateway's sessions follow.
    ``school_routers`` gives every school its router as an SNMP device (addressed after the gateways);
    off by default, so that towns that do not need them start no more agents.
    """
    rates = rates or FaultRates()
    dist_codes = [d.code for d in districts]
    for spec in olts:
        if spec.district not in dist_codes:
            raise ValueError(f"OLT {spec.name} names unknown district {spec.district}")
        if spec.model not in MODELS:
            raise ValueError(f"OLT {spec.name}: unknown model {spec.model} (known: {', '.join(MODELS)})")
    if bwa_stations is None:
        bwa_stations = [b for b in DEFAULT_BWA_STATIONS if b.district in dist_codes]
    for bwa in bwa_stations:
        if bwa.district not in dist_codes:
            raise ValueError(f"BWA station {bwa.name} names unknown district {bwa.district}")
    names = [o.name for o in olts] + [b.name for b in bwa_stations] + [g.name for g in vpn_gateways]
    if len(set(names)) < len(names):
        raise ValueError("device names must be unique over OLTs, BWA stations and VPN gateways")
    if school_routers and any(n.endswith(ROUTER_SUFFIX) for n in names):
        raise ValueError(f"device names ending in {ROUTER_SUFFIX!r} are the school routers'")
    if staff < 0:
        raise ValueError(f"staff must be >= 0, not {staff}")
    total_households = sum(d.households for d in districts)
    if onus > total_households:
        raise ValueError(f"{onus} ONUs but only {total_households} households")

    onus_per_district = largest_remainder(onus, [d.households for d in districts])
    for d, n in zip(districts, onus_per_district, strict=True):
        if n and not any(s.district == d.code for s in olts):
            raise ValueError(f"district {d.code} has ONUs but no OLT")

    drafts_by_olt, port_layout = lay_out(seed, districts, olts, onus_per_district, onus_per_port)
    if pipeline_households is None:
        pipeline_households = round(onus * 0.04)
    households, contacts, active_codes = draw_households(seed, districts, onus_per_district, pipeline_households)
    assign_households(seed, districts, olts, drafts_by_olt, active_codes)
    draw_faults(seed, drafts_by_olt, rates)
    olt_objs = build_olts(seed, olts, port_layout, drafts_by_olt, rates, host, base_port)
    households = with_onu_serials(households, olt_objs)

    school_objs, tablets = make_schools(seed, districts, schools, pupils)
    port = base_port + len(olt_objs)
    stations = make_bwa_stations(seed, bwa_stations, rates, host, port)
    gateways = make_vpn_gateways(seed, vpn_gateways, staff, host, port + len(stations))
    routers = (make_school_routers(seed, school_objs, tablets, host, port + len(stations) + len(gateways))
               if school_routers else [])
    return Town(
        seed=seed,
        districts=tuple(District(d.code, d.name, d.households) for d in districts),
        olts=tuple(olt_objs),
        households=tuple(households),
        contacts=tuple(contacts),
        schools=tuple(school_objs),
        tablets=tuple(tablets),
        bwa_stations=tuple(stations),
        vpn_gateways=tuple(gateways),
        school_routers=tuple(routers),
        staff=staff,
    )
