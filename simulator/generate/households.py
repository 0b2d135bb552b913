"""The households: the subscribers (one per ONU), the households in the pipeline (applied, surveyed or
installed, without an ONU yet), their synthetic contacts, and which ONU each active household has.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from simulator.devices import Olt
from simulator.generate.draws import largest_remainder, stream
from simulator.generate.fibre import OnuDraft
from simulator.people import Household, HouseholdContact, HouseholdStatus
from simulator.specs import DistrictSpec, OltSpec


def draw_households(
    seed: int, districts: Sequence[DistrictSpec], onus_per_district: Sequence[int], pipeline_households: int
) -> tuple[list[Household], list[HouseholdContact], dict[str, list[str]]]:
    """Every district's active households (as many as its ONUs) and its share of the pipeline, numbered
    through the town: ``(households, contacts, active household codes per district)``."""
    spare = [d.households - n for d, n in zip(districts, onus_per_district, strict=True)]
    pipeline = [min(s, x) for s, x in zip(spare, largest_remainder(pipeline_households, spare), strict=True)]
    hrng = stream(seed, "households")
    households: list[Household] = []
    contacts: list[HouseholdContact] = []
    active_codes: dict[str, list[str]] = {}
    number = 0
    plans = ("home-1g", "home-200m", "home-10g", "business-1g")
    plan_weights = (70, 20, 5, 5)
    pipeline_states: tuple[HouseholdStatus, ...] = ("applied", "surveyed", "installed")
    for d, n_act, n_pipe in zip(districts, onus_per_district, pipeline, strict=True):
        active: HouseholdStatus = "active"
        statuses = [active] * n_act + [hrng.choice(pipeline_states) for _ in range(n_pipe)]
        hrng.shuffle(statuses)
        for st in statuses:
            number += 1
            code = f"HH-{number:06d}"
            households.append(Household(code, d.code, hrng.choices(plans, plan_weights)[0], st, None))
            contacts.append(
                HouseholdContact(
                    code,
                    f"住民 {number:06d}",
                    f"{d.name} 架空 {number}番地",
                    f"000-0000-{number % 10000:04d}",
                )
            )
            if st == "active":
                active_codes.setdefault(d.code, []).append(code)
    return households, contacts, active_codes


def assign_households(
    seed: int,
    districts: Sequence[DistrictSpec],
    olts: Sequence[OltSpec],
    drafts_by_olt: dict[str, list[list[OnuDraft]]],
    active_codes: dict[str, list[str]],
) -> None:
    """Give each ONU draft an active household of its OLT's district, shuffled per district."""
    for d in districts:
        codes = list(active_codes.get(d.code, []))
        stream(seed, "assign", d.code).shuffle(codes)
        it = iter(codes)
        for spec in olts:
            if spec.district == d.code:
                for port_drafts in drafts_by_olt[spec.name]:
                    for dr in port_drafts:
                        dr.household = next(it)


def with_onu_serials(households: Iterable[Household], olts: Iterable[Olt]) -> list[Household]:
    """The households with the serial number of the ONU each one has (None: no ONU yet)."""
    onu_serial_by_household = {u.household: u.serial for o in olts for u in o.onus()}
    return [dataclasses.replace(h, onu_serial=onu_serial_by_household.get(h.code)) for h in households]
