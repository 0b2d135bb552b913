"""Import and export of the inventory as YAML or CSV, validated row by row before anything is written.

The inventory document
======================
A document is a mapping of **sections** to lists of **flat records**. Every section is optional.
References name other rows by their natural key, never by database id, so that a document can be
written by hand, by a spreadsheet or by the town generator. The sections and their columns are pydantic
models in ``ftthnoc.inventory.schemas``; ``python -m ftthnoc.inventory.schemas`` prints them. Example::

    districts:
    - {code: chiyoda, name: 千代田, households: 3900}
    olts:
    - {name: olt-chiyoda-1, district: chiyoda, vendor: huawei, model: MA5800-X7,
       address: "10.0.0.1:161", pon_class: B+, auth: olt_v3, modules: [if_mib, huawei_gpon]}
    pon_ports:
    - {olt: olt-chiyoda-1, port: 0/1/0}
    households:
    - {code: HH-000123, district: chiyoda, plan: 1G, status: active}
    onus:
    - {serial: HWTC-A1B2C3D4, olt: olt-chiyoda-1, pon_port: 0/1/0, onu_id: 3, household: HH-000123}

Files
-----
* YAML (``yamlio``): one file whose top level is the mapping above.
* CSV (``csvio``): a directory with one ``SECTION.csv`` per section, or one CSV file whose name is the
  section (``onus.csv``) or that is imported with ``--section``.

Semantics
---------
* Import is an **upsert by natural key** (``apply``): a record is the whole desired state of its row;
  rows not mentioned are left alone; nothing is deleted.
* **Every row is validated before anything is written** (``validate``): types, formats, references,
  duplicates, uniqueness and household status changes. Any bad row raises ``InventoryImportError`` (an
  ``ImportRowError``) that lists every problem with its section, the row number a person would count
  (the line in a CSV or YAML file, the 1-based position in an in-memory document), the column and what
  is wrong; the database is untouched.
* Changes to ``household_contacts`` are audited (which fields, never the values); exporting them,
  which happens only when asked, is audited too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ftthnoc.errors import InventoryError
from ftthnoc.inventory import tables
from ftthnoc.inventory.apply import import_rows
from ftthnoc.inventory.csvio import read_csv, write_csv
from ftthnoc.inventory.models import AuditEntry
from ftthnoc.inventory.rows import (
    Document,
    ImportResult,
    InventoryImportError,
    Record,
    RowProblem,
    SourceRow,
    check_sections,
    document_rows,
)
from ftthnoc.inventory.schemas import COLUMNS, PERSONAL_SECTIONS, SECTIONS, SPECS
from ftthnoc.inventory.yamlio import read_yaml, write_yaml
from ftthnoc.personal import PERSONAL_FIELDS


def read_path(path: Path, section: str | None = None) -> list[SourceRow]:
    """Rows from a YAML file, a CSV file (section from ``section`` or the file name) or a CSV directory."""
    if section is not None:
        check_sections([section])
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        check_sections(f.stem for f in files)
        if section is not None:
            files = [f for f in files if f.stem == section]
        if not files:
            raise InventoryError(f"{path} has no SECTION.csv files")
        by_section = {f.stem: f for f in files}
        return [row for name in SECTIONS if name in by_section for row in read_csv(by_section[name], name)]
    if path.suffix.lower() in (".yaml", ".yml"):
        return read_yaml(path, section)
    if path.suffix.lower() == ".csv":
        name = section or path.stem
        if name not in SPECS:
            raise InventoryError(f"cannot tell the section of {path.name}: name it SECTION.csv or use --section")
        return read_csv(path, name)
    raise InventoryError(f"{path}: expected a .yaml/.yml file, a .csv file or a directory of CSV files")


def import_document(session: Session, document: Mapping[str, Any]) -> ImportResult:
    """Import an in-memory document (e.g. from the town generator); rows are numbered 1.. per section."""
    return import_rows(session, document_rows(document))


def import_path(session: Session, path: Path, *, section: str | None = None) -> ImportResult:
    """Import a YAML file, a CSV file or a directory of CSV files (see the module docstring)."""
    return import_rows(session, read_path(path, section))


def load_document(path: Path, section: str | None = None) -> Document:
    """Read a YAML or CSV inventory into a plain document without touching a database."""
    document: Document = {}
    rows = read_path(path, section)
    broken = [RowProblem(r.section, r.row, r.error, r.source) for r in rows if r.error is not None]
    if broken:
        raise InventoryImportError(broken)
    for row in rows:
        document.setdefault(row.section, []).append(dict(row.data))
    return document


def export_document(session: Session, *, with_personal: bool = False) -> Document:
    """The whole inventory as a document; personal sections only with ``with_personal`` (audited).

    The audit entry is added to ``session``: commit it (``db.session_scope`` does).
    """
    names = [name for name in SECTIONS if with_personal or name not in PERSONAL_SECTIONS]
    index = tables.load(session, names)
    document: Document = {}
    for name in names:
        document[name] = tables.section_records(index, name)
        if name in PERSONAL_SECTIONS:
            session.add(
                AuditEntry(
                    actor=str(session.info.get("actor", "system")),
                    action="export",
                    entity=name,
                    detail={"rows": len(document[name]), "fields": list(PERSONAL_FIELDS)},
                )
            )
    return document


def export_path(session: Session, path: Path, *, fmt: str | None = None, with_personal: bool = False) -> str:
    """Export to ``path``: YAML if ``fmt`` is "yaml" or the name ends .yaml/.yml, else a CSV directory.

    Returns the format used.
    """
    if fmt is None:
        fmt = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "csv"
    if fmt not in ("yaml", "csv"):
        raise InventoryError(f"unknown export format {fmt!r} (yaml or csv)")
    document = export_document(session, with_personal=with_personal)
    if fmt == "yaml":
        write_yaml(document, path)
    else:
        write_csv(document, path)
    return fmt


__all__ = [
    "COLUMNS",
    "PERSONAL_SECTIONS",
    "SECTIONS",
    "Document",
    "ImportResult",
    "InventoryImportError",
    "Record",
    "RowProblem",
    "SourceRow",
    "document_rows",
    "export_document",
    "export_path",
    "import_document",
    "import_path",
    "import_rows",
    "load_document",
    "read_csv",
    "read_path",
    "read_yaml",
    "write_csv",
    "write_yaml",
]
