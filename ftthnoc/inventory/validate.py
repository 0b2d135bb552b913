"""Every row of an import checked before anything is written: against its section's model (``rows``),
then against the rest of the document and the database.

Checked over the document: duplicates of a natural key. Checked over the inventory as it will be after
the import (the database overlaid by the document): references, uniqueness of the column groups each
section declares (``schemas.Section.uniques``) and household status changes (``models.TRANSITIONS``).
Any problem raises ``InventoryImportError`` listing every one in document order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ftthnoc.errors import InventoryError
from ftthnoc.inventory import tables
from ftthnoc.inventory.models import Tablet, check_transition
from ftthnoc.inventory.rows import (
    InventoryImportError,
    Key,
    ParsedRow,
    Record,
    RowProblem,
    SourceRow,
    check_sections,
    parse_row,
    where,
)
from ftthnoc.inventory.schemas import SECTIONS, SPECS, Section


@dataclass(frozen=True)
class Checked:
    """The good rows per section, and the database's objects they will update or refer to."""

    rows: dict[str, list[ParsedRow]]
    index: tables.Index


def validate(session: Session, rows: Sequence[SourceRow]) -> Checked:
    """Check every row against its section, the document and the database; raise if any is bad."""
    problems: list[RowProblem] = []
    by_section: dict[str, list[SourceRow]] = {name: [] for name in SECTIONS}
    check_sections(row.section for row in rows)
    for row in rows:
        by_section[row.section].append(row)

    parsed: dict[str, list[ParsedRow]] = {name: [] for name in SECTIONS}
    good: dict[str, list[ParsedRow]] = {name: [] for name in SECTIONS}
    for name in SECTIONS:
        for row in by_section[name]:
            p, found = parse_row(SPECS[name], row)
            problems.extend(found)
            if p is not None:
                parsed[name].append(p)
                if p.ok:
                    good[name].append(p)

    # The database's rows that the document can refer to or clash with (never the personal section's).
    touched = {name for name in SECTIONS if by_section[name]}
    if touched & _TOPOLOGY:  # a splitter's ratio counts its drops, an ONU's splitter must be on its port
        touched |= _TOPOLOGY
    index = tables.load(session, touched)
    existing: dict[str, dict[Key, Record]] = {
        name: {key: tables.record(name, obj) for key, obj in index[name].items()}
        for name in index
        if not SPECS[name].personal
    }
    keys: dict[str, set[Key]] = {
        name: set(existing.get(name, {})) | {p.key for p in parsed[name]} for name in SECTIONS
    }

    for name in SECTIONS:
        spec = SPECS[name]
        seen: dict[Key, SourceRow] = {}
        first_of_key: list[ParsedRow] = []  # a duplicated row is one problem, not also a uniqueness clash
        for p in good[name]:
            row = p.row

            def bad(message: str, row: SourceRow = row) -> None:
                problems.append(RowProblem(row.section, row.row, message, row.source))

            if p.key in seen:
                bad(f"duplicate {spec.singular} {'/'.join(map(str, p.key))}: also at {where(seen[p.key])}")
                continue
            seen[p.key] = row
            first_of_key.append(p)
            for ref in spec.refs:
                target = tuple(p.values[c] for c in ref.columns)
                if any(v is None for v in target):
                    continue
                if target not in keys[ref.target]:
                    bad(f"{ref.label.format(*target)} is not in the database or in this import")
            if name == "households" and p.key in existing[name]:
                try:
                    check_transition(existing[name][p.key]["status"], p.values["status"])
                except InventoryError as exc:
                    bad(str(exc))
        problems.extend(_unique_problems(spec, first_of_key, existing.get(name, {})))
    problems.extend(_learned_mac_problems(good["tablets"], index.get("tablets", {})))
    problems.extend(_topology_problems(good, existing))
    good["splitters"].sort(key=lambda p: p.values["stage"])  # parents are written before their children

    if problems:
        order = {name: i for i, name in enumerate(SECTIONS)}
        problems.sort(key=lambda pr: (order[pr.section], pr.source or "", pr.row))
        raise InventoryImportError(problems)
    return Checked(good, index)


_TOPOLOGY = frozenset({"splitters", "onus"})


def _topology_problems(good: Mapping[str, list[ParsedRow]], existing: Mapping[str, Mapping[Key, Record]]
                       ) -> list[RowProblem]:  # fmt: skip
    """The splitter tree over the inventory as it will be after the import (database overlaid by the document):
    no cycle; stage 1 hangs off its PON port and stage 2 off a stage-1 parent on the same port; an ONU's
    splitter is on the ONU's port; no splitter feeds more splitters and drops than its ratio."""
    splitters: dict[str, Record] = {k[0]: r for k, r in existing.get("splitters", {}).items()}
    rows: dict[str, SourceRow] = {}
    for p in good["splitters"]:
        splitters[p.key[0]] = p.values
        rows.setdefault(p.key[0], p.row)
    onus: dict[Key, Record] = dict(existing.get("onus", {}))
    onu_rows: dict[Key, SourceRow] = {}
    for p in good["onus"]:
        onus[p.key] = p.values
        onu_rows.setdefault(p.key, p.row)
    problems: list[RowProblem] = []

    def bad(row: SourceRow, message: str) -> None:
        problems.append(RowProblem(row.section, row.row, message, row.source))

    fed: dict[str, list[tuple[str, SourceRow | None]]] = {}
    for name, rec in splitters.items():
        row = rows.get(name)
        parent = rec.get("parent")
        if parent is not None:
            fed.setdefault(parent, []).append((f"splitter {name}", row))
        if row is None:
            continue
        chain, at = [name], parent
        while at is not None and at in splitters and at not in chain:
            chain.append(at)
            at = splitters[at].get("parent")
        if at is not None and at in chain:
            bad(row, f"splitter {name!r} is fed by itself: its parents form a cycle ({' → '.join([*chain, at])})")
            continue
        if rec["stage"] == 1 and parent is not None:
            bad(row, f"stage-1 splitter {name!r} is fed by its PON port: it has no parent (got {parent!r})")
        elif rec["stage"] == 2 and parent is None:
            bad(row, f"stage-2 splitter {name!r} needs its parent (the stage-1 splitter feeding it)")
        elif parent is not None and parent in splitters:
            up = splitters[parent]
            if up["stage"] != rec["stage"] - 1:
                bad(row, f"parent {parent!r} of stage-{rec['stage']} splitter {name!r} is stage {up['stage']}, "
                         f"not {rec['stage'] - 1}")  # fmt: skip
            elif (up["olt"], up["pon_port"]) != (rec["olt"], rec["pon_port"]):
                bad(row, f"parent {parent!r} is on {up['olt']} port {up['pon_port']}, not on {rec['olt']} port "
                         f"{rec['pon_port']}")  # fmt: skip
    for key, rec in onus.items():
        drop: str | None = rec.get("splitter")
        if drop is None:
            continue
        row = onu_rows.get(key)
        fed.setdefault(drop, []).append((f"ONU {key[0]}", row))
        split = splitters.get(drop)
        if row is not None and split is not None and (split["olt"], split["pon_port"]) != (rec["olt"], rec["pon_port"]):
            bad(row, f"splitter {drop!r} is on {split['olt']} port {split['pon_port']}, not on the ONU's "
                     f"{rec['olt']} port {rec['pon_port']}")  # fmt: skip
    for name, outputs in sorted(fed.items()):
        split = splitters.get(name)
        if split is None or len(outputs) <= split["ratio"]:
            continue
        message = (f"splitter {name!r} (1:{split['ratio']}) would feed {len(outputs)} splitters and ONUs: "
                   f"its ratio is exceeded")  # fmt: skip
        where_ = rows.get(name) or next((r for _what, r in outputs if r is not None), None)
        if where_ is not None:
            bad(where_, message)
    return problems


def _learned_mac_problems(rows: list[ParsedRow], tablets: Mapping[Key, object]) -> list[RowProblem]:
    """A tablet's MAC must not be the Wi-Fi MAC an MDM reported for another tablet (``Tablet.network_mac``,
    not a column of the import): two tablets would then answer to one MAC."""
    learned = {obj.network_mac: key for key, obj in tablets.items() if isinstance(obj, Tablet) and obj.network_mac}
    problems: list[RowProblem] = []
    for p in rows:
        owner = learned.get(str(p.values.get("mac")))
        if owner is not None and owner != p.key:
            problems.append(RowProblem(p.row.section, p.row.row, f"mac {p.values['mac']} is the Wi-Fi MAC an MDM "
                                       f"reported for tablet {'/'.join(map(str, owner))}", p.row.source))  # fmt: skip
    return problems


def _unique_problems(spec: Section, rows: list[ParsedRow], existing: Mapping[Key, Record]) -> list[RowProblem]:
    """Uniqueness over the inventory as it will be after the import (database overlaid by the document)."""
    problems: list[RowProblem] = []
    in_doc = {p.key: p for p in rows}
    for columns, label in spec.uniques:
        owners: dict[Key, list[tuple[Key, SourceRow | None]]] = {}
        for key, record in existing.items():
            if key not in in_doc:
                owners.setdefault(tuple(record[c] for c in columns), []).append((key, None))
        for p in rows:
            owners.setdefault(tuple(p.values[c] for c in columns), []).append((p.key, p.row))
        for value, holders in owners.items():
            if len(holders) < 2 or any(v is None for v in value):
                continue
            holders.sort(key=lambda h: (h[1] is not None, h[1].row if h[1] else 0))
            first_key, first_row = holders[0]
            first_where = "in the database" if first_row is None else f"at {where(first_row)}"
            what = label.format(*value)
            for _key, row in holders[1:]:
                if row is None:  # pragma: no cover - database rows sort first
                    continue
                problems.append(
                    RowProblem(
                        row.section,
                        row.row,
                        f"{what} is already used by {spec.singular} {'/'.join(map(str, first_key))} "
                        f"({first_where})",
                        row.source,
                    )
                )
    return problems
