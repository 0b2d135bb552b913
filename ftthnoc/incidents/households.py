"""Which household (by code) and district an ONU serves, and which ONUs a PON port has.

The engine needs this for every affected ONU, so it is loaded once into plain dictionaries; it holds
household *codes* only, never names, addresses or phones (those live in ``HouseholdContact``, which is
never read here). Reload it (``IncidentEngine.set_households``) when the inventory changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ftthnoc.inventory.lookup import onu_rows
from ftthnoc.inventory.models import District, Household, Olt

#: (olt, pon_port, onu_id), all as the poller's labels spell them
OnuKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class OnuHome:
    """The household an ONU serves (None: an ONU without a subscriber) and the district it counts in."""

    household: str | None
    district: str


class HouseholdsLookup(Protocol):
    """What the engine asks about the inventory; ``InventoryHouseholds`` is the database-backed one."""

    def home(self, olt: str, pon_port: str, onu_id: str) -> OnuHome | None: ...

    def port_onus(self, olt: str, pon_port: str) -> frozenset[str]: ...

    def olt_onus(self, olt: str) -> frozenset[OnuKey]: ...

    def olt_district(self, olt: str) -> str | None: ...

    def districts(self) -> Sequence[str]: ...


@dataclass(slots=True)
class InventoryHouseholds:
    """The inventory's ONUs → (household code, district), by port, in memory."""

    onus: Mapping[OnuKey, OnuHome] = field(default_factory=dict)
    olts: Mapping[str, str] = field(default_factory=dict)
    district_codes: tuple[str, ...] = ()
    _ports: dict[tuple[str, str], frozenset[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ports: dict[tuple[str, str], set[str]] = {}
        for olt, port, onu_id in self.onus:
            ports.setdefault((olt, port), set()).add(onu_id)
        self._ports = {k: frozenset(v) for k, v in ports.items()}
        if not self.district_codes:
            codes = {h.district for h in self.onus.values()} | set(self.olts.values())
            self.district_codes = tuple(sorted(codes))

    @classmethod
    def load(cls, session: Session) -> InventoryHouseholds:
        """Read every ONU with its household code and district (the home's, else the OLT's)."""
        stmt = onu_rows(Household.code)
        onus = {
            (olt, port, str(onu_id)): OnuHome(code, district)
            for olt, port, onu_id, code, district in session.execute(stmt)
        }
        olt_rows = session.execute(select(Olt.name, District.code).join(District, Olt.district_id == District.id))
        olts = {name: code for name, code in olt_rows}
        codes = tuple(session.scalars(select(District.code).order_by(District.code)))
        return cls(onus, olts, codes)

    @classmethod
    def from_sessions(cls, session_factory: Callable[[], Session]) -> InventoryHouseholds:
        with session_factory() as session:
            return cls.load(session)

    def home(self, olt: str, pon_port: str, onu_id: str) -> OnuHome | None:
        return self.onus.get((olt, pon_port, onu_id))

    def port_onus(self, olt: str, pon_port: str) -> frozenset[str]:
        return self._ports.get((olt, pon_port), frozenset())

    def olt_onus(self, olt: str) -> frozenset[OnuKey]:
        return frozenset(k for k in self.onus if k[0] == olt)

    def olt_district(self, olt: str) -> str | None:
        return self.olts.get(olt)

    def districts(self) -> Sequence[str]:
        return self.district_codes
