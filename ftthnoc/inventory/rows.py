"""Rows as read (with where a person finds them), why a row was refused, and one row checked against its
section's model (``schemas``): pydantic's errors become one line each, naming the column and what is wrong.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ftthnoc.errors import ImportRowError, InventoryError
from ftthnoc.inventory.schemas import SECTIONS, SPECS, Section, columns, shown

Record = dict[str, Any]
Document = dict[str, list[Record]]
Key = tuple[Any, ...]


@dataclass(frozen=True)
class SourceRow:
    """One record to import and where a person finds it: ``row`` is a file line or a 1-based position."""

    section: str
    row: int
    data: Mapping[str, Any]
    source: str | None = None
    #: Set when the row could not even be read as a record (e.g. a CSV line with too few cells).
    error: str | None = None


@dataclass(frozen=True)
class RowProblem:
    """One reason a row was refused."""

    section: str
    row: int
    message: str
    source: str | None = None

    @property
    def location(self) -> str:
        if self.source is None:
            return f"{self.section} row {self.row}"
        if Path(self.source).stem == self.section:
            return f"{self.source} line {self.row}"
        return f"{self.source} line {self.row} ({self.section})"

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


def where(row: SourceRow) -> str:
    return RowProblem(row.section, row.row, "", row.source).location


class InventoryImportError(ImportRowError):
    """The import was refused; ``problems`` has one entry per bad row and reason, nothing was written."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__([(p.row, f"{p.section}: {p.message}") for p in problems])
        self.problems = problems


@dataclass
class ImportResult:
    """How many rows of each section were created, changed, or already as in the document."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = []
        for name in SECTIONS:
            counts = (self.created.get(name, 0), self.updated.get(name, 0), self.unchanged.get(name, 0))
            if any(counts):
                parts.append(f"{name}: {counts[0]} created, {counts[1]} updated, {counts[2]} unchanged")
        return "; ".join(parts) or "nothing to import"


def column_names(names: Iterable[Any]) -> str:
    """Column or section names for a message: plain names as they are, anything odd quoted, on one line."""
    out = []
    for name in names:
        text = str(name)
        plain = text.isprintable() and text.strip() == text and text != "" and len(text) <= 40
        out.append(text if plain else shown(name))
    return ", ".join(out)


def check_sections(names: Iterable[Any]) -> None:
    unknown = [n for n in dict.fromkeys(names) if n not in SPECS]
    if unknown:
        ordered = sorted(unknown, key=str)
        raise InventoryError(f"unknown section(s) {column_names(ordered)}; known: {', '.join(SECTIONS)}")


def document_rows(document: Mapping[str, Any]) -> list[SourceRow]:
    """The rows of an in-memory document, numbered 1.. within each section."""
    if not isinstance(document, Mapping):
        raise InventoryError(f"an inventory document is a mapping of sections, not {type(document).__name__}")
    check_sections(document.keys())
    rows: list[SourceRow] = []
    for name, records in document.items():
        if records is None:
            continue
        if not isinstance(records, Sequence) or isinstance(records, str | bytes):
            raise InventoryError(f"section {name!r} must be a list of records")
        rows.extend(SourceRow(name, i, rec) for i, rec in enumerate(records, start=1))
    return rows


# --------------------------------------------------------------------------------------------------
# One row against its model


@dataclass(frozen=True)
class ParsedRow:
    """A row's clean values (every column; only the key's when ``ok`` is false) and natural key."""

    row: SourceRow
    values: dict[str, Any]
    key: Key
    ok: bool


def _reason(spec: Section, error: ErrorDetails) -> str:
    """What is wrong with one value, in words for the person who wrote the row."""
    loc = error["loc"]
    column = str(loc[0]) if loc else ""
    kind = error["type"]
    ctx = error.get("ctx", {})
    value = error["input"]
    # Personal values never appear in messages: they end up in terminals, cron mail and logs.
    it = "" if spec.personal else f"{shown(value)} "
    col = columns(spec.name).get(column)
    if kind == "missing":
        return f"{column} is missing"
    if kind == "string_type":
        reason = f"{it}must be text, not {type(value).__name__} (quote it in YAML)"
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        reason = "must be a whole number" + ("" if spec.personal else f", not {shown(value)}")
    elif kind == "string_too_long":
        reason = f"is longer than {ctx.get('max_length')} characters"
    elif kind == "string_pattern_mismatch":
        example = col.example if col is not None else None
        reason = f"{it}is not valid" + (f" (want e.g. {example})" if example else "")
    elif kind in ("greater_than_equal", "less_than_equal"):
        bounds = col.bounds if col is not None else ctx
        reason = f"{shown(value)} is out of range ({bounds})"
    elif kind in ("enum", "literal_error"):
        allowed = col.kind if col is not None else str(ctx.get("expected", ""))
        reason = f"{it}is not one of {allowed.replace(' | ', ', ')}"
    elif kind == "string_unicode":
        reason = "is not valid Unicode text"
    elif kind == "value_error":
        reason = "is not valid" if spec.personal else str(ctx.get("error", error["msg"]))
    else:
        reason = error["msg"]
    if len(loc) > 1 and isinstance(loc[1], int) and kind not in ("value_error",):
        reason = f"item {loc[1] + 1}: {reason}"
    reason = " ".join(reason.splitlines())  # one line, whatever the value held
    return f"{column}: {reason}" if column else reason


def parse_row(spec: Section, row: SourceRow) -> tuple[ParsedRow | None, list[RowProblem]]:
    """Check one record's shape and every column against ``spec``'s model.

    Returns the parsed row (``ok`` false if any column is bad, with only the key's values, so that rows
    that refer to it are not refused twice; None if even the key is bad) and its problems.
    """

    def problem(message: str) -> RowProblem:
        return RowProblem(row.section, row.row, message, row.source)

    data = row.data
    if row.error is not None:
        return None, [problem(row.error)]
    if not isinstance(data, Mapping):
        return None, [problem(f"must be a mapping of column: value, not {type(data).__name__}")]
    problems = []
    unknown = [k for k in data if k not in spec.columns]
    if unknown:
        problems.append(problem(f"unknown column(s) {column_names(unknown)}; expected {', '.join(spec.columns)}"))
    known = {k: v for k, v in data.items() if k in spec.columns}
    try:
        model = spec.row.model_validate(known)
    except ValidationError as exc:
        problems.extend(problem(_reason(spec, e)) for e in exc.errors(include_url=False))
        try:
            key_model = spec.key_row().model_validate({k: v for k, v in known.items() if k in spec.key})
        except ValidationError:
            return None, problems
        values = key_model.model_dump()
        return ParsedRow(row, values, tuple(values[k] for k in spec.key), ok=False), problems
    values = model.model_dump()
    return ParsedRow(row, values, tuple(values[k] for k in spec.key), ok=not problems), problems


#: A data row's cell by column name ('' where the export has no such column or the row is short).
Cell = Callable[[str], str]


class CsvReader(Protocol):
    """What ``csv.reader`` gives: rows, and the number of the last line it read."""

    line_num: int

    def __next__(self) -> list[str]: ...


def export_rows(reader: CsvReader, cols: Mapping[str, int | None], section: str, source: str,
                problems: list[RowProblem]) -> Iterator[tuple[int, Cell]]:
    """The data rows of an export read by ``csv.reader`` after its header, blank ones left out: each with the
    line it starts on, as an editor numbers them (a quoted cell may span lines), and its cells by name. A CSV
    syntax error is a problem on its line and ends the file: what follows it cannot be trusted to split right.
    The MDM and lease importers read their exports so; the inventory's own CSV has its schemas (``csvio``)."""
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(RowProblem(section, line, str(exc), source))
            return
        start, line = line, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            i = cols[name]
            return cells[i].strip() if i is not None and i < len(cells) else ""

        yield start, cell
