"""Fuzzing the importer: valid inventories mutated every which way (wrong types, huge strings, full-width
and control characters, surrogates, missing and extra columns, duplicated keys, BOMs, NULs, broken
encodings and syntax), as in-memory documents, YAML files and CSV files.

Whatever the input, the import either succeeds (and then its export imports back unchanged) or raises
``InventoryError`` (``ImportRowError`` for bad rows) whose message and problems are one line each, and
writes nothing. Any other exception is a bug: keep the input that showed it in
``tests/fixtures/fuzz/inventory/`` with a line in its ``cases.yaml`` (``test_the_corpus_replays`` below
replays every one).

Every example imports into the same database (the sample town, then whatever earlier examples added),
so the health check on function-scoped fixtures is off on purpose. Bounded: 40 examples per property,
about 5 s on SQLite and 10 s on PostgreSQL for the three.
"""

from __future__ import annotations

import copy
import csv
import datetime
import io
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from ftthnoc.errors import InventoryError
from ftthnoc.inventory import db
from ftthnoc.inventory.io import (
    COLUMNS,
    InventoryImportError,
    export_document,
    import_document,
    import_path,
)

from .conftest import SAMPLE, MakeDatabase, table_snapshot

Doc = dict[str, Any]

FUZZ = settings(
    max_examples=40,
    deadline=datetime.timedelta(seconds=5),  # a shared 2-core machine: generous per example, bounded in all
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # no .hypothesis/ in the repository: interesting inputs go to the corpus by hand
)


@pytest.fixture
def town(make_database: MakeDatabase) -> Iterator[Engine]:
    """A migrated database holding the sample town, shared by every example of one test."""
    url = make_database()
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_scope(engine) as session:
        import_document(session, SAMPLE)
    try:
        yield engine
    finally:
        engine.dispose()


def check_import(engine: Engine, run: Callable[[Any], Any]) -> str:
    """``run(session)`` imports, or raises InventoryError with one-line messages and writes nothing.

    Returns "imported" or the refusal (its first problem, if it lists rows).
    """
    before = table_snapshot(engine, skip=())
    try:
        with db.session_scope(engine, actor="fuzz") as session:
            run(session)
    except InventoryError as exc:
        message = str(exc)
        assert message and len(message.splitlines()) == 1, message
        if isinstance(exc, InventoryImportError):
            assert exc.problems
            for problem in exc.problems:
                assert len(str(problem).splitlines()) == 1, str(problem)
        assert table_snapshot(engine, skip=()) == before
        return str(exc.problems[0]) if isinstance(exc, InventoryImportError) else message
    # It was imported: the export of what is now there must import back as it is.
    with db.session_scope(engine, actor="fuzz") as session:
        exported = export_document(session, with_personal=True)
    with db.session_scope(engine, actor="fuzz") as session:
        again = import_document(session, exported)
    assert again.created == {} and again.updated == {}, again
    return "imported"


# --------------------------------------------------------------------------------------------------
# Strategies


def full_width(text: str) -> str:
    """ASCII as the full-width forms a Japanese IME types: ＨＷＴＣ－Ａ１Ｂ２, １２００, 　(U+3000)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


ODD = [
    "", " ", "\u3000", "\ufeff", "\x00", "\x1b[31m", "\u202e", "a\nb", "\r\n", "\t", "'", '"', ",", "null", "~",
    "yes", "0", "-1", "00", "+7", "1e3", "0x10", "１２３", "𝟘", "Ⅻ", "²", "٣", "HH-０００００１", "ＨＷＴＣ-A1B2C3D4",
    "0/1/０", "10.0.0.1:６５５３５", "192.0.2.1 ", "0826-72-2111", "NaN", "None", "True", "[]", "{}", "*a", "&a",
    "- x", ": x", "#", "%", "\\", "\ud800", "\udfff", "\U0010ffff", "\ufffe", "é", "é", "ｶﾀｶﾅ",
]

nasty_text = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=30),
    st.text(st.characters(categories=["Cc", "Cs", "Cf", "Zs", "Zl", "Nd", "No"]), max_size=8),
    st.integers(200, 50_000).map(lambda n: "x" * n),
)
wrong_types = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**31 - 1, 2**31, -1, 0, 255, 256, 65536]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(0, 9) | st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(0, 9), max_size=2),
    st.just(datetime.date(2026, 4, 1)),
    st.binary(max_size=6),
)


@st.composite
def variant(draw: st.DrawFn, value: Any) -> Any:
    """``value`` made wrong (or odd but right) in one of many ways."""
    text = "" if value is None else ",".join(map(str, value)) if isinstance(value, list) else str(value)
    how = draw(st.sampled_from(["full_width", "insert", "pad", "repeat", "bom", "case", "nasty", "type"]))
    if how == "full_width":
        return full_width(text)
    if how == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(ODD) | st.characters()) + text[at:]
    if how == "pad":
        return draw(st.sampled_from([" ", "\t", "\u3000", "\n"])) + text + draw(st.sampled_from(["", " ", "\r"]))
    if how == "repeat":
        return text * draw(st.integers(2, 2000))
    if how == "bom":
        return "\ufeff" + text
    if how == "case":
        return text.swapcase()
    if how == "nasty":
        return draw(nasty_text)
    return draw(wrong_types)


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    """The sample town with one to four mutations."""
    doc: Doc = copy.deepcopy(SAMPLE)
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(SAMPLE)))
        records = doc.get(name)
        how = draw(st.sampled_from(["value"] * 4 + ["drop", "extra", "copy_row", "new_row", "section", "record"]))
        if how == "section":
            doc[name] = draw(st.sampled_from([None, [], "x", {"a": 1}, 3]) | wrong_types)
            continue
        if not isinstance(records, list) or not records:
            continue
        i = draw(st.integers(0, len(records) - 1))
        record = records[i]
        if how == "record":
            records[i] = draw(wrong_types)
            continue
        if not isinstance(record, dict):
            continue
        column = draw(st.sampled_from(COLUMNS[name]))
        if how == "value":
            record[column] = draw(variant(record.get(column)))
        elif how == "drop":
            record.pop(column, None)
        elif how == "extra":
            odd_names = st.sampled_from(["colour", "", " code", "CODE", "ｃｏｄｅ", "code\x00"]) | st.text(max_size=8)
            record[draw(odd_names)] = 1
        elif how == "copy_row":
            records.insert(draw(st.integers(0, len(records))), copy.deepcopy(record))
        else:  # a new row: a copy with one value changed, mostly a key
            new = copy.deepcopy(record)
            new[column] = draw(variant(record.get(column)))
            records.append(new)
    if draw(st.booleans()):  # fewer sections: references into the database, not the document
        keep = draw(st.sets(st.sampled_from(sorted(doc)), min_size=1))
        doc = {k: v for k, v in doc.items() if k in keep}
    return doc


@st.composite
def byte_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    how = draw(st.sampled_from(["none"] * 3 + ["bom", "nul", "byte", "truncate", "dup_line", "swap_lines"]))
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    at = draw(st.integers(0, len(data)))
    if how == "nul":
        return data[:at] + b"\x00" + data[at:]
    if how == "byte":
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if how == "truncate":
        return data[:at]
    lines = data.split(b"\n")
    j = draw(st.integers(0, len(lines) - 1))
    if how == "dup_line":
        lines.insert(j, lines[j])
    elif how == "swap_lines" and len(lines) > 1:
        k = draw(st.integers(0, len(lines) - 1))
        lines[j], lines[k] = lines[k], lines[j]
    return b"\n".join(lines)


def encode(draw: st.DrawFn, text: str) -> bytes:
    codec = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "cp932", "utf-16", "latin-1"]))
    try:
        return text.encode(codec)
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")  # lone surrogates: invalid UTF-8 on disk


@st.composite
def yaml_files(draw: st.DrawFn) -> bytes:
    doc = draw(documents())
    text = yaml.safe_dump(
        doc,
        allow_unicode=draw(st.booleans()),
        sort_keys=False,
        default_flow_style=draw(st.sampled_from([None, False, True])),
    )
    return draw(byte_mutation(encode(draw, text)))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SAMPLE)))
    header = list(COLUMNS[name])
    rows = [[_cell(r.get(c)) for c in header] for r in SAMPLE[name]]
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["cell"] * 4 + ["header", "drop_col", "add_col", "cells", "copy_row", "blank"]))
        if how in ("header", "drop_col") and len(header) < 2:
            continue
        if how == "header":
            j = draw(st.integers(0, len(header) - 1))
            header[j] = draw(st.sampled_from([header[j].upper(), f" {header[j]} ", full_width(header[j]), ""]))
        elif how == "drop_col":
            j = draw(st.integers(0, len(header) - 1))
            del header[j]
            rows = [r[:j] + r[j + 1 :] for r in rows]
        elif how == "add_col":
            header.append(draw(st.sampled_from(["colour", header[0], "a\nb"]) | st.text(max_size=6)))
            rows = [[*r, draw(nasty_text)] for r in rows]
        elif rows:
            i = draw(st.integers(0, len(rows) - 1))
            if how == "cell" and rows[i]:
                j = draw(st.integers(0, len(rows[i]) - 1))
                rows[i][j] = _cell(draw(variant(rows[i][j])))
            elif how == "cells":
                rows[i] = rows[i][:-1] if draw(st.booleans()) else [*rows[i], "extra"]
            elif how == "copy_row":
                rows.append(list(rows[i]))
            else:
                rows.insert(i, [""] * len(header))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    writer.writerows(rows)
    return name, draw(byte_mutation(encode(draw, buffer.getvalue())))


# --------------------------------------------------------------------------------------------------
# Properties


@FUZZ
@given(doc=documents())
def test_any_document_imports_or_is_refused_cleanly(town: Engine, doc: Doc) -> None:
    check_import(town, lambda session: import_document(session, doc))


@FUZZ
@given(data=yaml_files())
def test_any_yaml_file_imports_or_is_refused_cleanly(town: Engine, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "town.yaml"
        path.write_bytes(data)
        check_import(town, lambda session: import_path(session, path))


@FUZZ
@given(case=csv_files())
def test_any_csv_file_imports_or_is_refused_cleanly(town: Engine, case: tuple[str, bytes]) -> None:
    name, data = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.csv"
        path.write_bytes(data)
        check_import(town, lambda session: import_path(session, path))


# --------------------------------------------------------------------------------------------------
# The corpus: inputs that once broke the importer, and edge cases, replayed as a plain test

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "fuzz" / "inventory"


def test_the_corpus_replays(town: Engine) -> None:
    cases: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
    files = {p.name for p in CORPUS.iterdir() if p.name != "cases.yaml"}
    assert files == set(cases), "every corpus file has an entry in cases.yaml and every entry a file"
    wrong = []
    for name, case in cases.items():
        path = CORPUS / name
        section = name.split(".")[-2] if path.suffix == ".csv" else None
        outcome = check_import(town, lambda session, p=path, s=section: import_path(session, p, section=s))
        expected = "imported" if case.get("imported") else case["refused"]
        if expected not in outcome:
            wrong.append(f"{name}: expected {expected!r}, got {outcome!r}")
    assert not wrong, "\n".join(wrong)
