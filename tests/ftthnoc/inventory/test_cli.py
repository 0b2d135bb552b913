"""``ftthnoc inventory`` through click's CliRunner: exit codes, one stderr line per bad row."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import Engine

from app.cli.inventory import inventory
from ftthnoc.inventory import db
from ftthnoc.inventory.io import write_yaml

from .conftest import SAMPLE, table_counts, table_snapshot


@pytest.fixture
def town_yaml(tmp_path: Path, sample: dict[str, Any]) -> Path:
    path = tmp_path / "town.yaml"
    write_yaml(sample, path)
    return path


def _run(*args: str) -> Any:
    return CliRunner().invoke(inventory, list(args), catch_exceptions=False)


def test_migrate_then_import_then_export(database_url: str, town_yaml: Path, tmp_path: Path) -> None:
    result = _run("migrate", "--database-url", database_url)
    assert result.exit_code == 0, result.output
    assert f"inventory schema at {db.head_revision()}" in result.stdout

    result = _run("import", str(town_yaml), "--database-url", database_url, "--actor", "tester")
    assert result.exit_code == 0, result.stderr
    assert "onus: 4 created, 0 updated, 0 unchanged" in result.stdout
    assert result.stderr == ""

    out = tmp_path / "out.yaml"
    result = _run("export", str(out), "--database-url", database_url)
    assert result.exit_code == 0, result.stderr
    exported = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert "household_contacts" not in exported
    assert exported["onus"] == SAMPLE["onus"]

    result = _run("export", str(tmp_path / "csv"), "--with-personal", "--database-url", database_url)
    assert result.exit_code == 0, result.stderr
    assert "including personal data" in result.stdout
    assert (tmp_path / "csv" / "household_contacts.csv").is_file()


def test_bad_rows_exit_1_with_one_line_each_and_write_nothing(
    engine: Engine, database_url: str, sample: dict[str, Any], tmp_path: Path
) -> None:
    with db.session_scope(engine) as session:
        from ftthnoc.inventory.io import import_document

        import_document(session, sample)
    before = table_snapshot(engine, skip=())
    doc = copy.deepcopy(sample)
    doc["tablets"][1]["mac"] = "zz:zz"
    doc["households"][0]["district"] = "nowhere"
    doc["olts"][0]["model"] = "MA5600T"  # a good change, not written either
    path = tmp_path / "bad.yaml"
    write_yaml(doc, path)

    result = _run("import", str(path), "--database-url", database_url)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith("bad.yaml line ") and "(households): district 'nowhere'" in lines[0]
    assert "(tablets): mac: 'zz:zz' is not a MAC address" in lines[1]
    assert lines[2] == "ftthnoc: 2 problem(s) in bad.yaml; nothing was written"
    assert result.stdout == ""
    assert table_snapshot(engine, skip=()) == before


def test_broken_csv_row_exits_1(engine: Engine, database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("code,name,households\nchiyoda,千代田\n", encoding="utf-8")
    result = _run("import", str(path), "--section", "districts", "--database-url", database_url)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "rows.csv line 2 (districts): has 2 field(s) but the header has 3 (a missing or extra column)"
    )
    assert table_counts(engine)["districts"] == 0


def test_import_into_an_unmigrated_database_exits_1(database_url: str, town_yaml: Path) -> None:
    result = _run("import", str(town_yaml), "--database-url", database_url)
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == "ftthnoc: the database has no inventory schema; run `ftthnoc inventory migrate` first"
    )


def test_unreachable_database_exits_1_without_a_traceback(town_yaml: Path) -> None:
    url = "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"
    result = _run("import", str(town_yaml), "--database-url", url)
    assert result.exit_code == 1
    assert result.stderr.startswith("ftthnoc: database error:")
    assert "secret" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_path_is_a_usage_error(database_url: str, tmp_path: Path) -> None:
    result = _run("import", str(tmp_path / "nope.yaml"), "--database-url", database_url)
    assert result.exit_code == 2


def test_database_url_comes_from_the_environment(
    tmp_path: Path, town_yaml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'env' / 'inv.db'}"
    monkeypatch.setenv("FTTHNOC_DATABASE_URL", url)
    assert _run("migrate").exit_code == 0
    assert _run("import", str(town_yaml)).exit_code == 0
    engine = db.make_engine(url)
    try:
        assert table_counts(engine)["onus"] == 4
    finally:
        engine.dispose()
