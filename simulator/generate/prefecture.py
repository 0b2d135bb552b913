"""``generate_prefecture``: several simulated towns as one ``Town``, for scale benchmarks.

Each town is drawn by ``generate_town`` with a seed of its own (``seed + k``, so the first town of
the default seed is the demo town) and its districts' and OLTs' names prefixed by the town
(``t03-chiyoda``, ``t03-chiyoda-olt1``); household codes get the same prefix (``t03-HH-000123``).
The towns' fibre only (districts, OLTs, ONUs, households): no schools, BWA stations or VPN gateways,
whose codes would clash between towns and which a scale benchmark of ONU polling does not need.
OLT placeholder ports follow each other town by town from ``base_port``. ONU serial numbers are
unique within a town; one a later town drew again gets the next free number (rare: 32-bit draws).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from simulator.devices import Olt
from simulator.generate import generate_town
from simulator.generate.households import with_onu_serials
from simulator.model import Town
from simulator.people import District, Household, HouseholdContact
from simulator.specs import DEFAULT_DISTRICTS, DEFAULT_OLTS, DistrictSpec, OltSpec


def town_prefix(k: int) -> str:
    """The name prefix of the k-th town (0-based): ``t01``, ``t02``, ..."""
    return f"t{k + 1:02d}"


def generate_prefecture(
    towns: int = 10,
    onus_per_town: int = 7000,
    seed: int = 2026,
    *,
    districts: Sequence[DistrictSpec] = DEFAULT_DISTRICTS,
    olts: Sequence[OltSpec] = DEFAULT_OLTS,
    host: str = "127.0.0.1",
    base_port: int = 16101,
) -> Town:
    """``towns`` towns of ``onus_per_town`` ONUs each, built like the demo town, as one ``Town``.

    Same arguments, same prefecture. Town k (0-based) is ``generate_town(seed + k, onus_per_town)``
    over ``districts`` and ``olts`` renamed ``t{k+1:02d}-NAME``.
    """
    if towns < 1:
        raise ValueError(f"towns must be >= 1, not {towns}")
    all_districts: list[District] = []
    all_olts: list[Olt] = []
    households: list[Household] = []
    contacts: list[HouseholdContact] = []
    serials: set[str] = set()
    for k in range(towns):
        p = town_prefix(k)
        town = generate_town(
            seed + k,
            onus_per_town,
            districts=[dataclasses.replace(d, code=f"{p}-{d.code}") for d in districts],
            olts=[dataclasses.replace(o, name=f"{p}-{o.name}", district=f"{p}-{o.district}") for o in olts],
            schools=0,
            bwa_stations=(),
            vpn_gateways=(),
            host=host,
            base_port=base_port + k * len(olts),
        )
        all_districts += town.districts
        for olt in town.olts:
            ports = []
            for port in olt.pon_ports:
                onus = []
                for u in port.onus:
                    serial = u.serial
                    while serial in serials:  # drawn by an earlier town: the next free number
                        serial = f"{serial[:4]}{(int(serial[4:], 16) + 1) % (1 << 32):08X}"
                    serials.add(serial)
                    household = f"{p}-{u.household}" if u.household else ""
                    onus.append(dataclasses.replace(u, serial=serial, household=household))
                ports.append(dataclasses.replace(port, onus=tuple(onus)))
            all_olts.append(dataclasses.replace(olt, pon_ports=tuple(ports)))
        households += [dataclasses.replace(h, code=f"{p}-{h.code}") for h in town.households]
        contacts += [dataclasses.replace(c, household=f"{p}-{c.household}") for c in town.contacts]
    return Town(
        seed=seed,
        districts=tuple(all_districts),
        olts=tuple(all_olts),
        households=tuple(with_onu_serials(households, all_olts)),
        contacts=tuple(contacts),
        schools=(),
        tablets=(),
    )
