"""The inventory's tables seen as sections: which ORM class holds each, the natural key of an object, and
an object as a document record (its row model dumped), for the export and for checking an import
against what the database holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ftthnoc.inventory.models import (
    Base,
    BwaStation,
    District,
    Household,
    HouseholdContact,
    Olt,
    Onu,
    PonPort,
    School,
    Splitter,
    Tablet,
    VpnGateway,
)
from ftthnoc.inventory.rows import Key, Record
from ftthnoc.inventory.schemas import SECTIONS, SPECS

#: The ORM class that holds each section's rows.
TABLES: dict[str, type[Base]] = {
    "districts": District,
    "olts": Olt,
    "pon_ports": PonPort,
    "splitters": Splitter,
    "households": Household,
    "household_contacts": HouseholdContact,
    "onus": Onu,
    "schools": School,
    "tablets": Tablet,
    "bwa_stations": BwaStation,
    "vpn_gateways": VpnGateway,
}
assert tuple(TABLES) == SECTIONS

Index = dict[str, dict[Key, Any]]


def object_key(name: str, obj: Any) -> Key:
    """The natural key of an ORM object of section ``name``, built from its columns and references.

    Related objects come from the session's identity map (``load`` them first), not from new queries.
    """
    spec = SPECS[name]
    values = _values(name, obj, spec.key)
    return tuple(values[k] for k in spec.key)


def _values(name: str, obj: Any, wanted: Iterable[str]) -> dict[str, Any]:
    spec = SPECS[name]
    wanted = tuple(wanted)
    values: dict[str, Any] = {}
    for ref in spec.refs:
        if not any(c in wanted for c in ref.columns):
            continue
        related = getattr(obj, ref.attr)
        target = (None,) * len(ref.columns) if related is None else object_key(ref.target, related)
        values.update(zip(ref.columns, target, strict=True))
    for column in wanted:
        if column not in values:
            values[column] = getattr(obj, column)
    return values


def record(name: str, obj: Any) -> Record:
    """An ORM object as a document record: every column of its section, as the row model dumps it."""
    spec = SPECS[name]
    row = spec.row.model_construct(**_values(name, obj, spec.columns))
    return row.model_dump(mode="json")


def needed(names: Iterable[str]) -> set[str]:
    """``names`` and every section their keys and references reach (to load them all in one query each)."""
    out: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in out:
            out.add(name)
            todo.extend(ref.target for ref in SPECS[name].refs)
    return out


def load(session: Session, names: Iterable[str]) -> Index:
    """All objects of the sections ``names`` (and those they refer to), by natural key."""
    wanted = needed(names)
    index: Index = {}
    for name in SECTIONS:  # dependency order: what a key refers to is loaded before it
        if name in wanted:
            index[name] = {object_key(name, obj): obj for obj in session.scalars(select(TABLES[name]))}
    return index


def _natural(value: Any) -> tuple[Any, ...]:
    """Sort ``0/1/10`` after ``0/1/2`` and ``None`` first, so exports read in a human order."""
    if value is None:
        return ((0, ""),)
    parts = re.split(r"(\d+)", str(value))  # digits at the odd places
    return tuple((1, int(p)) if i % 2 else (0, p) for i, p in enumerate(parts))


def section_records(index: Index, name: str) -> list[Record]:
    """Every row of one loaded section as document records, sorted by natural key."""
    key = SPECS[name].key
    rows = [record(name, obj) for obj in index[name].values()]
    rows.sort(key=lambda r: tuple(_natural(r[k]) for k in key))
    return rows
