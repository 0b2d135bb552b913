"""The row models: the column documentation derived from them, and their agreement with the tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Integer, String

from ftthnoc.inventory.schemas import COLUMNS, SECTIONS, SPECS, columns, describe
from ftthnoc.inventory.tables import TABLES

ROOT = Path(__file__).resolve().parents[3]


def test_python_m_schemas_prints_every_section_and_column() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ftthnoc.inventory.schemas"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == describe()
    lines = done.stdout.splitlines()
    for name in SECTIONS:
        start = next(i for i, line in enumerate(lines) if line.startswith(f"{name}: "))
        block = lines[start + 2 : start + 2 + len(COLUMNS[name])]
        assert [line[4:].split()[0] for line in block] == list(COLUMNS[name]), name
        for line, column in zip(block, columns(name).values(), strict=True):
            assert (line[2] == "*") is column.required
            assert column.description and column.description in line


def test_the_readme_points_at_it() -> None:
    assert "python -m ftthnoc.inventory.schemas" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_documentation_says_what_each_column_accepts() -> None:
    text = describe()
    assert "vendor            huawei | zte" in text
    assert "onu_id            integer 0..255" in text
    assert "mgmt_address      IPv4, e.g. 192.0.2.10" in text
    assert "status            active | retired" in text and "(default active)" in text


@pytest.mark.parametrize("name", SECTIONS)
def test_text_lengths_and_integers_agree_with_the_table(name: str) -> None:
    """A value the row model lets through must fit its column: no import should fail in the database."""
    table = TABLES[name].__table__
    ref_columns = {c for ref in SPECS[name].refs for c in ref.columns}
    for column in columns(name).values():
        if column.name in ref_columns:
            continue
        db_type = table.c[column.name].type
        if column.schema.get("type") == "string" and "format" not in column.schema and "enum" not in column.schema:
            assert isinstance(db_type, String) and db_type.length == column.schema["maxLength"], column.name
        if column.schema.get("type") == "integer":
            assert isinstance(db_type, Integer), column.name
        assert table.c[column.name].nullable is not column.required or column.schema.get("default"), column.name
