"""The inventory as CSV: one ``SECTION.csv`` per section, a header row of column names, one record a line.

``modules`` is written ``if_mib,huawei_gpon`` in one cell; an empty cell is a missing value. Files are
written as UTF-8; on import a BOM is fine and Shift_JIS (what older Japanese spreadsheets save) is
accepted. Rows are numbered by the line a person sees in an editor (header = 1; a quoted line break
moves the next row down).
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ftthnoc.errors import InventoryError
from ftthnoc.inventory.rows import InventoryImportError, Record, RowProblem, SourceRow, check_sections, column_names
from ftthnoc.inventory.schemas import COLUMNS, SECTIONS, SPECS


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InventoryError(f"cannot read {path}: {exc.strerror or exc}") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InventoryError(f"{path.name} is UTF-16 text (a spreadsheet's \"Unicode text\"): save it as CSV UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Japanese spreadsheets still save "CSV" as Shift_JIS.
        text = raw.decode("cp932")
    except UnicodeDecodeError:
        text = None
    # cp932 decodes almost any bytes; real Shift_JIS text has no C1 controls or private-use characters.
    if text is None or any(unicodedata.category(c) in ("Cc", "Co") and c not in "\t\r\n" for c in text):
        raise InventoryError(f"{path.name} is neither UTF-8 nor Shift_JIS text")
    return text


def _check_header(path: Path, section: str, header: list[str], line: int) -> None:
    """A bad header is one problem for the file, not the same problem repeated on every row."""
    spec = SPECS[section]
    messages = []
    dupes = sorted(c for c, n in Counter(header).items() if n > 1)
    if dupes:
        messages.append(f"column(s) {column_names(dupes)} appear twice in the header")
    unknown = [c for c in header if c not in spec.columns]
    if unknown:
        messages.append(f"unknown column(s) {column_names(unknown)}; expected {', '.join(spec.columns)}")
    missing = [c for c in spec.required if c not in header]
    if missing:
        messages.append(f"the header lacks required column(s) {', '.join(missing)}")
    if messages:
        raise InventoryImportError([RowProblem(section, line, m, path.name) for m in messages])


def read_csv(path: Path, section: str) -> list[SourceRow]:
    """Rows of one section's CSV file, numbered by the line each record starts on (header = line 1)."""
    check_sections([section])
    text = _decode(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[SourceRow] = []
    header: list[str] | None = None
    line = 0
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                _check_header(path, section, header, start)
                continue
            if len(cells) != len(header):
                message = f"has {len(cells)} field(s) but the header has {len(header)} (a missing or extra column)"
                rows.append(SourceRow(section, start, {}, path.name, error=message))
                continue
            rows.append(SourceRow(section, start, dict(zip(header, cells, strict=True)), path.name))
    except csv.Error as exc:
        raise InventoryError(f"{path.name} line {reader.line_num}: {exc}") from None
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def write_csv(document: Mapping[str, list[Record]], directory: Path) -> list[Path]:
    """Write one ``SECTION.csv`` per section of the document into ``directory``; returns the files."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SECTIONS:
        if name not in document:
            continue
        target = directory / f"{name}.csv"
        with target.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(COLUMNS[name])
            for record in document[name]:
                writer.writerow([_cell(record.get(col)) for col in COLUMNS[name]])
        written.append(target)
    return written
