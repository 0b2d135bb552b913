"""The splitter tree in the inventory document: round trip through YAML and CSV, and every bad tree refused
with its row and reason, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from ftthnoc.inventory import db
from ftthnoc.inventory.io import export_document, export_path, import_document, import_path
from ftthnoc.inventory.rows import InventoryImportError

from .conftest import table_snapshot

Doc = dict[str, list[dict[str, Any]]]


def _import(engine: Engine, document: Doc) -> Any:
    with db.session_scope(engine) as session:
        return import_document(session, document)


def _export(engine: Engine) -> Doc:
    with db.session_scope(engine) as session:
        return export_document(session)


@pytest.mark.parametrize("fmt", ["yaml", "csv"])
def test_splitters_round_trip_through_a_file(engine: Engine, sample: Doc, tmp_path: Path, fmt: str,
                                             make_database: Any) -> None:  # fmt: skip
    result = _import(engine, sample)
    assert result.created["splitters"] == 2
    exported = _export(engine)
    assert exported["splitters"] == sample["splitters"] and exported["onus"] == sample["onus"]
    target = tmp_path / ("inv.yaml" if fmt == "yaml" else "inv")
    with db.session_scope(engine) as session:
        export_path(session, target, fmt=fmt)
    other = db.make_engine(make_database())
    try:
        db.upgrade(other.url.render_as_string(hide_password=False))
        with db.session_scope(other) as session:
            again = import_path(session, target)
        assert again.created["splitters"] == 2
        assert _export(other)["splitters"] == sample["splitters"]
        assert _export(other)["onus"] == sample["onus"]
    finally:
        other.dispose()


def test_a_splitter_ratio_may_be_written_1_to_n(engine: Engine, sample: Doc) -> None:
    sample["splitters"][1]["ratio"] = "1:8"
    _import(engine, sample)
    assert _export(engine)["splitters"][1]["ratio"] == 8


def _splitter(name: str, stage: int, parent: str | None = None, port: str = "0/1/0", ratio: int = 8) -> dict[str, Any]:
    return {"name": name, "olt": "olt-chiyoda-1", "pon_port": port, "stage": stage, "parent": parent, "ratio": ratio}


@pytest.mark.parametrize(
    ("extra", "onu_splitter", "row", "message"),
    [
        ([_splitter("x", 2, "nowhere")], None, 3, "parent splitter 'nowhere' is not in the database or in this import"),
        ([_splitter("x", 2, "y"), _splitter("y", 2, "x")], None, 3, "its parents form a cycle (x → y → x)"),
        ([_splitter("x", 1, "x")], None, 3, "its parents form a cycle (x → x)"),
        ([_splitter("x", 2)], None, 3, "stage-2 splitter 'x' needs its parent"),
        ([_splitter("x", 1, "sp-chiyoda-1-a")], None, 3, "stage-1 splitter 'x' is fed by its PON port"),
        ([_splitter("x", 2, "sp-chiyoda-1-a1")], None, 3, "is stage 2, not 1"),
        ([_splitter("x", 2, "sp-chiyoda-1-a", port="0/1/1")], None, 3, "is on olt-chiyoda-1 port 0/1/0, not on"),
        ([_splitter(f"x{n}", 2, "sp-chiyoda-1-a") for n in range(4)], None, 1,
         "splitter 'sp-chiyoda-1-a' (1:4) would feed 5 splitters and ONUs: its ratio is exceeded"),
        ([_splitter("x", 2, "sp-chiyoda-1-a", ratio=1)], None, 3, "ratio"),
        ([], "sp-nowhere", 3, "splitter 'sp-nowhere' is not in the database or in this import"),
    ],
)  # fmt: skip
def test_a_bad_tree_is_refused_with_its_row_and_nothing_is_written(
    engine: Engine, sample: Doc, extra: list[dict[str, Any]], onu_splitter: str | None, row: int, message: str
) -> None:
    _import(engine, sample)
    before = table_snapshot(engine)
    doc: Doc = {"splitters": [*sample["splitters"], *extra]}
    doc["onus"] = [*sample["onus"][:2], {**sample["onus"][2], "splitter": onu_splitter}] if onu_splitter else []
    with pytest.raises(InventoryImportError) as caught:
        _import(engine, doc)
    problems = caught.value.problems
    assert any(p.row == row and message in p.message for p in problems), problems
    assert table_snapshot(engine) == before


def test_an_onus_splitter_must_be_on_its_port_and_drops_count_against_the_ratio(engine: Engine, sample: Doc) -> None:
    _import(engine, sample)
    before = table_snapshot(engine)
    # HH-000003's ONU is on 0/1/1; the stage-2 splitter is on 0/1/0
    with pytest.raises(InventoryImportError) as caught:
        _import(engine, {"onus": [{**sample["onus"][2], "splitter": "sp-chiyoda-1-a1"}]})
    [problem] = caught.value.problems
    assert (problem.section, problem.row) == ("onus", 1)
    assert "splitter 'sp-chiyoda-1-a1' is on olt-chiyoda-1 port 0/1/0, not on the ONU's olt-chiyoda-1 port 0/1/1" in (
        problem.message)
    # a 1:2 second stage cannot feed the two ONUs already on it and a third (a new one, in the database's view)
    third = {"serial": "HWTC-A1B2C3D9", "olt": "olt-chiyoda-1", "pon_port": "0/1/0", "onu_id": 7,
             "household": None, "mgmt_address": None, "splitter": "sp-chiyoda-1-a1"}  # fmt: skip
    with pytest.raises(InventoryImportError) as caught:
        _import(engine, {"splitters": [{**sample["splitters"][1], "ratio": 2}], "onus": [third]})
    assert [(p.section, p.row) for p in caught.value.problems] == [("splitters", 1)]
    assert "would feed 3 splitters and ONUs" in caught.value.problems[0].message
    assert table_snapshot(engine) == before
