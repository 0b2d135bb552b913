"""Who the network serves: the districts, the households (with synthetic contacts), the schools and
their pupils' tablets. All personal data is a synthetic placeholder (``住民 000123``); nothing here
resembles a real person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

HouseholdStatus = Literal["applied", "surveyed", "installed", "active"]


@dataclass(frozen=True, slots=True)
class District:
    code: str
    name: str
    households: int  # all households in the district (census), not only subscribers


@dataclass(frozen=True, slots=True)
class Household:
    code: str
    district: str
    plan: str
    status: HouseholdStatus
    onu_serial: str | None


@dataclass(frozen=True, slots=True)
class HouseholdContact:
    """Synthetic placeholder personal data: only here so that access control can be exercised."""

    household: str
    name: str
    address: str
    phone: str


@dataclass(frozen=True, slots=True)
class School:
    code: str
    name: str
    district: str
    pupils: int
    level: Literal["elementary", "junior_high"]


@dataclass(frozen=True, slots=True)
class Tablet:
    school: str
    asset_no: str
    serial: str
    mac: str
    os: str
    grade: int
    class_name: str
