"""Writing an import to the database: an upsert by natural key of rows that ``validate`` passed.

A record is the whole desired state of its row (a missing optional column means "none"); rows not
mentioned are left alone; nothing is deleted. Everything is added to the caller's session and flushed,
not committed: the caller's transaction makes the import all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from ftthnoc.errors import InventoryError
from ftthnoc.inventory import tables
from ftthnoc.inventory.rows import ImportResult, SourceRow
from ftthnoc.inventory.schemas import SECTIONS, SPECS
from ftthnoc.inventory.validate import Checked, validate


def apply(session: Session, checked: Checked) -> ImportResult:
    """Upsert the checked rows into ``session`` and flush; raise InventoryError if the database refuses."""
    result = ImportResult()
    index = checked.index
    for name in SECTIONS:  # dependency order, so that what a row refers to is already in the session
        spec = SPECS[name]
        table = tables.TABLES[name]
        ref_columns = {c for ref in spec.refs for c in ref.columns}
        for p in checked.rows[name]:
            attrs = {k: v for k, v in p.values.items() if k not in ref_columns}
            for ref in spec.refs:
                target = tuple(p.values[c] for c in ref.columns)
                attrs[ref.attr] = None if any(v is None for v in target) else index[ref.target][target]
            obj = index[name].get(p.key)
            if obj is None:
                obj = table(**attrs)
                session.add(obj)
                index[name][p.key] = obj
                result.created[name] = result.created.get(name, 0) + 1
                continue
            changed = False
            for attr, value in attrs.items():
                if getattr(obj, attr) != value:
                    setattr(obj, attr, value)
                    changed = True
            counter = result.updated if changed else result.unchanged
            counter[name] = counter.get(name, 0) + 1
    try:
        session.flush()
    except StatementError as exc:
        # Validation should have caught it; a concurrent writer or a swap of unique values can still hit.
        orig = exc.orig if exc.orig is not None else exc
        reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        raise InventoryError(f"the database refused the import: {reason}") from None
    return result


def import_rows(session: Session, rows: Sequence[SourceRow]) -> ImportResult:
    """Validate all ``rows`` and, only if every one is good, upsert them into ``session`` (flushed).

    Raises InventoryImportError listing every bad row; in that case nothing was added to the session.
    The caller commits (or ``db.session_scope`` does), so the import is one transaction.
    """
    return apply(session, validate(session, rows))
