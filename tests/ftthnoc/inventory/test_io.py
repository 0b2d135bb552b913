"""Import/export: round trips, row-level refusals that write nothing, upserts, audit of personal data."""

from __future__ import annotations

import copy
import csv
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select

from ftthnoc.errors import ImportRowError, InventoryError
from ftthnoc.inventory import db
from ftthnoc.inventory.io import (
    COLUMNS,
    InventoryImportError,
    RowProblem,
    export_document,
    export_path,
    import_document,
    import_path,
    load_document,
    write_csv,
    write_yaml,
)
from ftthnoc.inventory.models import AuditEntry, Household, Onu, Tablet

from .conftest import SAMPLE, MakeDatabase, table_counts, table_snapshot

Doc = dict[str, list[dict[str, Any]]]


def _import(engine: Engine, document: Doc, actor: str = "test") -> Any:
    with db.session_scope(engine, actor=actor) as session:
        return import_document(session, document)


def _export(engine: Engine, *, with_personal: bool = True) -> Doc:
    with db.session_scope(engine) as session:
        return export_document(session, with_personal=with_personal)


def _audit(engine: Engine) -> list[tuple[str, str, str, dict[str, Any]]]:
    with db.session_scope(engine) as session:
        return [
            (e.actor, e.action, e.entity, e.detail)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def _migrated(url: str) -> Engine:
    db.upgrade(url)
    return db.make_engine(url)


# --------------------------------------------------------------------------------------------------
# Round trips


def test_export_of_an_import_is_the_document(engine: Engine, sample: Doc) -> None:
    result = _import(engine, sample)
    assert result.created["onus"] == 4 and result.created["household_contacts"] == 3
    assert _export(engine) == SAMPLE


@pytest.mark.parametrize("fmt", ["yaml", "csv"])
def test_round_trip_through_files_gives_an_identical_database(
    make_database: MakeDatabase, sample: Doc, tmp_path: Path, fmt: str
) -> None:
    first = _migrated(make_database())
    second = _migrated(make_database())
    try:
        _import(first, sample)
        target = tmp_path / ("town.yaml" if fmt == "yaml" else "town-csv")
        with db.session_scope(first) as session:
            assert export_path(session, target, with_personal=True) == fmt

        with db.session_scope(second) as session:
            import_path(session, target)
        assert _export(second) == _export(first) == SAMPLE
        counts_first, counts_second = table_counts(first), table_counts(second)
        # The source also logged the two exports of personal data; the copy only its imports.
        assert counts_first.pop("audit_entries") == 3 + 2
        assert counts_second.pop("audit_entries") == 3 + 1
        assert counts_second == counts_first

        # Importing the export back into the source changes nothing at all.
        before = table_snapshot(first, skip=())
        with db.session_scope(first) as session:
            again = import_path(session, target)
        assert again.created == {} and again.updated == {}
        assert sum(again.unchanged.values()) == sum(len(v) for v in SAMPLE.values())
        assert table_snapshot(first, skip=()) == before
    finally:
        first.dispose()
        second.dispose()


def test_yaml_export_is_readable_and_typed(engine: Engine, sample: Doc, tmp_path: Path) -> None:
    _import(engine, sample)
    path = tmp_path / "out.yml"
    with db.session_scope(engine) as session:
        export_path(session, path)
    text = path.read_text(encoding="utf-8")
    assert "千代田" in text  # not \u escapes
    data = yaml.safe_load(text)
    assert data["olts"][0]["modules"] == ["if_mib", "huawei_gpon"]
    assert data["tablets"][0]["grade"] == 1
    assert "household_contacts" not in data


def test_personal_data_is_exported_only_when_asked_and_then_audited(engine: Engine, sample: Doc) -> None:
    _import(engine, sample)
    exports_before = [a for a in _audit(engine) if a[1] == "export"]
    without = _export(engine, with_personal=False)
    assert "household_contacts" not in without
    assert [a for a in _audit(engine) if a[1] == "export"] == exports_before == []

    with db.session_scope(engine, actor="auditor") as session:
        with_contacts = export_document(session, with_personal=True)
    assert len(with_contacts["household_contacts"]) == 3
    exports = [a for a in _audit(engine) if a[1] == "export"]
    assert exports == [
        ("auditor", "export", "household_contacts", {"rows": 3, "fields": ["name", "address", "phone"]})
    ]


def test_csv_export_writes_one_file_per_section(engine: Engine, sample: Doc, tmp_path: Path) -> None:
    _import(engine, sample)
    with db.session_scope(engine) as session:
        export_path(session, tmp_path / "out", fmt="csv")
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert files == {f"{name}.csv" for name in SAMPLE if name != "household_contacts"}
    with (tmp_path / "out" / "olts.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(COLUMNS["olts"])
    assert rows[1][COLUMNS["olts"].index("modules")] == "if_mib,huawei_gpon"


# --------------------------------------------------------------------------------------------------
# Bad rows: each is refused with its section, row and reason, and nothing at all is written


def _bad_mac(doc: Doc) -> None:
    doc["tablets"].append({**doc["tablets"][2], "asset_no": "T-0002", "mac": "00:1a:2b:3c:4d"})


def _mac_in_two_schools(doc: Doc) -> None:
    # Same MAC as chiyoda-es/T-0001, spelled differently, at another school.
    doc["tablets"].append({**doc["tablets"][2], "asset_no": "T-0003", "mac": "00-1A-2B-3C-4D-01"})


def _unknown_district(doc: Doc) -> None:
    doc["households"].append({"code": "HH-000005", "district": "nowhere", "plan": "1G", "status": "applied"})


def _onu_id_taken(doc: Doc) -> None:
    doc["onus"].append(
        {
            "serial": "HWTC-0000000F",
            "olt": "olt-chiyoda-1",
            "pon_port": "0/1/0",
            "onu_id": 1,
            "household": None,
        }
    )


def _bad_status(doc: Doc) -> None:
    doc["households"][3]["status"] = "connected"


def _illegal_transition(doc: Doc) -> None:
    doc["households"][0]["status"] = "applied"  # active -> applied


def _duplicate_key(doc: Doc) -> None:
    doc["schools"].append(dict(doc["schools"][0]))


def _unknown_column(doc: Doc) -> None:
    doc["districts"][1]["colour"] = "red"


def _missing_value(doc: Doc) -> None:
    del doc["olts"][1]["model"]


def _bad_address(doc: Doc) -> None:
    doc["vpn_gateways"][0]["address"] = "10.0.3.1"


def _phone_as_number(doc: Doc) -> None:
    doc["household_contacts"][0]["phone"] = 826720001


def _unknown_port(doc: Doc) -> None:
    doc["onus"][3]["pon_port"] = "1/1/9"


def _onu_id_out_of_range(doc: Doc) -> None:
    doc["onus"][1]["onu_id"] = 300


def _bad_vendor(doc: Doc) -> None:
    doc["olts"][0]["vendor"] = "cisco"


def _bad_mgmt_address(doc: Doc) -> None:
    doc["onus"][1]["mgmt_address"] = "192.0.2.300"


def _mgmt_address_with_port(doc: Doc) -> None:
    doc["onus"][1]["mgmt_address"] = "192.0.2.11:80"


def _mgmt_address_as_number(doc: Doc) -> None:
    doc["onus"][1]["mgmt_address"] = 3221225995  # an IPv4 written as one integer: refused, not guessed


def _mgmt_address_taken(doc: Doc) -> None:
    doc["onus"][1]["mgmt_address"] = "192.0.2.12"  # HWTC-A1B2C3D6's


def _bad_school_address(doc: Doc) -> None:
    doc["schools"][1]["address"] = "oasa-es.example"


def _school_address_taken(doc: Doc) -> None:
    doc["schools"][1]["address"] = " 192.0.2.20"  # chiyoda-es's, spelled with a space


BAD_ROWS = [
    # tablets row 4 is the good new tablet every case adds
    (_bad_mac, "tablets", 5, "is not a MAC address"),
    (_mac_in_two_schools, "tablets", 5, "mac 00:1a:2b:3c:4d:01 is already used by tablet chiyoda-es/T-0001"),
    (_unknown_district, "households", 5, "district 'nowhere' is not in the database or in this import"),
    (_onu_id_taken, "onus", 5, "onu_id 1 on olt-chiyoda-1 port 0/1/0 is already used by ONU HWTC-A1B2C3D5"),
    (_bad_status, "households", 4, "'connected' is not one of applied, surveyed"),
    (_illegal_transition, "households", 1, "cannot change from active to applied"),
    (_duplicate_key, "schools", 3, "duplicate school chiyoda-es: also at schools row 1"),
    (_unknown_column, "districts", 2, "unknown column(s) colour"),
    (_missing_value, "olts", 2, "model is missing"),
    (_bad_address, "vpn_gateways", 1, "is not HOST:PORT"),
    (_phone_as_number, "household_contacts", 1, "phone: must be text, not int"),
    (_unknown_port, "onus", 4, "PON port '1/1/9' of OLT 'olt-oasa-1' is not in the database"),
    (_onu_id_out_of_range, "onus", 2, "300 is out of range (0..255)"),
    (_bad_vendor, "olts", 1, "'cisco' is not one of huawei, zte"),
    (_bad_mgmt_address, "onus", 2, "mgmt_address: '192.0.2.300' is not an IPv4 address"),
    (_mgmt_address_with_port, "onus", 2, "'192.0.2.11:80' is not an IPv4 address"),
    (_mgmt_address_as_number, "onus", 2, "3221225995 is not an IPv4 address (write it as text"),
    (_mgmt_address_taken, "onus", 3, "mgmt_address 192.0.2.12 is already used by ONU HWTC-A1B2C3D5 (at onus row 2)"),
    (_bad_school_address, "schools", 2, "address: 'oasa-es.example' is not an IPv4 address"),
    (_school_address_taken, "schools", 2, "address 192.0.2.20 is already used by school chiyoda-es (at schools row 1)"),
]


@pytest.mark.parametrize(
    ("mutate", "section", "row", "message"), BAD_ROWS, ids=[c[0].__name__ for c in BAD_ROWS]
)
def test_bad_row_is_refused_and_nothing_is_written(
    engine: Engine, sample: Doc, mutate: Any, section: str, row: int, message: str
) -> None:
    _import(engine, sample)
    before_counts = table_counts(engine)
    before = table_snapshot(engine, skip=())

    doc = copy.deepcopy(sample)
    doc["districts"][0]["households"] = 4000  # a good change that must not land either
    doc["household_contacts"][2]["phone"] = "0826-82-9999"  # nor this (it would be audited)
    doc["tablets"].append(
        {**doc["tablets"][0], "asset_no": "T-0100", "mac": "00:1a:2b:3c:4d:99"}
    )  # nor a new row
    mutate(doc)
    with pytest.raises(InventoryImportError) as caught:
        _import(engine, doc)

    problems = caught.value.problems
    assert [(p.section, p.row) for p in problems] == [(section, row)], problems
    assert message in problems[0].message
    assert isinstance(caught.value, ImportRowError)
    assert caught.value.errors == [(row, f"{section}: {problems[0].message}")]
    assert table_counts(engine) == before_counts
    assert table_snapshot(engine, skip=()) == before


def test_bad_rows_are_refused_on_an_empty_database_too(engine: Engine, sample: Doc) -> None:
    _unknown_district(sample)
    with pytest.raises(InventoryImportError):
        _import(engine, sample)
    assert set(table_counts(engine).values()) == {0}


def test_every_bad_row_is_listed_in_document_order(engine: Engine, sample: Doc) -> None:
    _bad_mac(sample)
    _unknown_district(sample)
    _bad_vendor(sample)
    _onu_id_taken(sample)
    with pytest.raises(InventoryImportError) as caught:
        _import(engine, sample)
    assert [(p.section, p.row) for p in caught.value.problems] == [
        ("olts", 1),
        ("households", 5),
        ("onus", 5),
        ("tablets", 4),
    ]
    assert "4 bad row(s), nothing written" in str(caught.value)
    assert set(table_counts(engine).values()) == {0}


def test_unique_values_are_checked_against_the_database(engine: Engine, sample: Doc) -> None:
    _import(engine, sample)
    before = table_snapshot(engine, skip=())
    doc: Doc = {
        "tablets": [{**sample["tablets"][2], "asset_no": "T-0009", "mac": "00:1A:2B:3C:4D:02"}],
        "onus": [
            {
                "serial": "HWTC-000000AA",
                "olt": "olt-chiyoda-1",
                "pon_port": "0/1/0",
                "onu_id": 0,
                "household": None,
            }
        ],
    }
    with pytest.raises(InventoryImportError) as caught:
        _import(engine, doc)
    messages = [str(p) for p in caught.value.problems]
    assert messages == [
        "onus row 1: onu_id 0 on olt-chiyoda-1 port 0/1/0 is already used by ONU HWTC-A1B2C3D4"
        " (in the database)",
        "tablets row 1: mac 00:1a:2b:3c:4d:02 is already used by tablet chiyoda-es/T-0002 (in the database)",
    ]
    assert table_snapshot(engine, skip=()) == before


def test_probe_addresses_are_unique_against_the_database_only_where_given(engine: Engine, sample: Doc) -> None:
    _import(engine, sample)
    before = table_snapshot(engine, skip=())
    new_onu = {"serial": "HWTC-000000AA", "olt": "olt-chiyoda-1", "pon_port": "0/1/1", "onu_id": 5}
    doc: Doc = {
        "onus": [{**new_onu, "mgmt_address": "192.0.2.13"}],
        "schools": [{"code": "geihoku-jhs", "name": "芸北中学校", "district": "oasa", "pupils": 40,
                     "address": "192.0.2.20"}],
    }
    with pytest.raises(InventoryImportError) as caught:
        _import(engine, doc)
    assert [str(p) for p in caught.value.problems] == [
        "onus row 1: mgmt_address 192.0.2.13 is already used by ONU ZTEG-C0000001 (in the database)",
        "schools row 1: address 192.0.2.20 is already used by school chiyoda-es (in the database)",
    ]
    assert table_snapshot(engine, skip=()) == before

    # Without addresses they join the ONU and the school already without one: no clash.
    result = _import(engine, {"onus": [new_onu], "schools": [{**doc["schools"][0], "address": None}]})
    assert result.created == {"onus": 1, "schools": 1}


def test_a_replacement_onu_takes_over_the_management_address(engine: Engine, sample: Doc) -> None:
    """A broken ONU swapped for a new one: the old row gives up the address the new row takes."""
    _import(engine, sample)
    old = {**sample["onus"][0], "onu_id": 9, "mgmt_address": None}
    new = {**sample["onus"][0], "serial": "HWTC-000000BB"}
    result = _import(engine, {"onus": [old, new]})
    assert result.updated == {"onus": 1} and result.created == {"onus": 1}
    with db.session_scope(engine) as session:
        addresses = dict(session.execute(select(Onu.serial, Onu.mgmt_address)).all())
    assert addresses["HWTC-A1B2C3D4"] is None and addresses["HWTC-000000BB"] == "192.0.2.10"


def test_moving_an_onu_frees_its_id_for_another_in_the_same_import(engine: Engine, sample: Doc) -> None:
    _import(engine, sample)
    doc: Doc = {
        "onus": [
            {**sample["onus"][0], "onu_id": 7},
            {
                "serial": "HWTC-000000AA",
                "olt": "olt-chiyoda-1",
                "pon_port": "0/1/0",
                "onu_id": 0,
                "household": None,
            },
        ]
    }
    result = _import(engine, doc)
    assert result.updated == {"onus": 1} and result.created == {"onus": 1}
    with db.session_scope(engine) as session:
        ids = dict(session.execute(select(Onu.serial, Onu.onu_id)).all())
    assert ids["HWTC-A1B2C3D4"] == 7 and ids["HWTC-000000AA"] == 0


def test_a_swap_the_database_refuses_still_writes_nothing(engine: Engine, sample: Doc) -> None:
    """Valid as a final state, but row-by-row UPDATEs collide: one clear error and a full rollback."""
    _import(engine, sample)
    before = table_snapshot(engine, skip=())
    doc: Doc = {"onus": [{**sample["onus"][0], "onu_id": 1}, {**sample["onus"][1], "onu_id": 0}]}
    with pytest.raises(InventoryError, match="database refused the import"):
        _import(engine, doc)
    assert table_snapshot(engine, skip=()) == before


def test_unknown_section_is_refused(engine: Engine) -> None:
    with pytest.raises(InventoryError, match="unknown section"):
        _import(engine, {"routers": []})


# --------------------------------------------------------------------------------------------------
# Upserts, status changes and the audit log


def test_import_updates_by_natural_key(engine: Engine, sample: Doc) -> None:
    _import(engine, sample)
    sample["olts"][1]["model"] = "C300"
    sample["onus"][3]["household"] = "HH-000004"
    sample["tablets"][0]["mac"] = "00:1A:2B:3C:4D:AA"
    result = _import(engine, sample)
    assert result.created == {}
    assert result.updated == {"olts": 1, "onus": 1, "tablets": 1}
    exported = _export(engine)
    assert exported["olts"][1]["model"] == "C300"
    assert exported["onus"][3]["household"] == "HH-000004"
    assert exported["tablets"][0]["mac"] == "00:1a:2b:3c:4d:aa"


def test_allowed_status_changes_are_imported(engine: Engine, sample: Doc) -> None:
    _import(engine, sample)
    sample["households"][0]["status"] = "suspended"  # active -> suspended
    sample["households"][1]["status"] = "active"  # suspended -> active
    sample["households"][3]["status"] = "surveyed"  # applied -> surveyed
    _import(engine, sample)
    with db.session_scope(engine) as session:
        statuses = {h.code: h.status.value for h in session.scalars(select(Household))}
    assert statuses == {
        "HH-000001": "suspended",
        "HH-000002": "active",
        "HH-000003": "active",
        "HH-000004": "surveyed",
    }


def test_a_new_household_may_start_in_any_status(engine: Engine, sample: Doc) -> None:
    sample["households"][3]["status"] = "cancelled"
    _import(engine, sample)
    assert _export(engine)["households"][3]["status"] == "cancelled"


def test_import_audits_personal_changes_by_field_name_only(engine: Engine, sample: Doc) -> None:
    _import(engine, sample, actor="town-generator")
    entries = _audit(engine)
    assert sorted(e[3]["household"] for e in entries) == ["HH-000001", "HH-000002", "HH-000003"]
    assert {(e[0], e[1], e[2]) for e in entries} == {("town-generator", "create", "household_contact")}
    assert {tuple(e[3]["fields"]) for e in entries} == {("name", "address", "phone"), ("name", "address")}

    _import(engine, sample, actor="clerk")  # unchanged: no new entries
    assert len(_audit(engine)) == 3

    sample["household_contacts"][2]["phone"] = "0826-82-9999"
    sample["household_contacts"][2]["address"] = "大朝 5"
    _import(engine, sample, actor="clerk")
    entries = _audit(engine)
    assert entries[3:] == [
        ("clerk", "update", "household_contact", {"household": "HH-000003", "fields": ["address", "phone"]})
    ]
    assert "0826-82-9999" not in repr(entries) and "大朝 5" not in repr(entries)


# --------------------------------------------------------------------------------------------------
# Files: line numbers a person can find, CSV layouts


def test_yaml_problems_name_the_line(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "town.yaml"
    path.write_text(
        "districts:\n"  # 1
        "- code: chiyoda\n"  # 2
        "  name: 千代田\n"  # 3
        "  households: 3900\n"  # 4
        "- code: Oasa Town\n"  # 5
        "  name: 大朝\n"  # 6
        "  households: -1\n"  # 7
        "schools:\n"  # 8
        "- {code: oasa-es, name: 大朝小学校, district: oasa, pupils: 60}\n",  # 9
        encoding="utf-8",
    )
    with pytest.raises(InventoryImportError) as caught, db.session_scope(engine) as session:
        import_path(session, path)
    assert [str(p) for p in caught.value.problems] == [
        "town.yaml line 5 (districts): code: 'Oasa Town' is not valid (want e.g. chiyoda)",
        "town.yaml line 5 (districts): households: -1 is out of range (>= 0)",
        "town.yaml line 9 (schools): district 'oasa' is not in the database or in this import",
    ]
    assert set(table_counts(engine).values()) == {0}


def test_broken_csv_row_is_refused_with_its_line(engine: Engine, sample: Doc, tmp_path: Path) -> None:
    _import(engine, sample)
    before = table_snapshot(engine, skip=())
    path = tmp_path / "tablets.csv"
    path.write_text(
        "school,asset_no,serial,mac,os,grade,class_name\n"  # line 1
        "\n"  # line 2: blank lines are skipped but counted
        'oasa-es,T-0010,SER10,00:1a:2b:3c:4d:10,ChromeOS,3,"3\n組"\n'  # lines 3-4: a quoted line break
        "oasa-es,T-0011,SER11,00:1a:2b:3c:4d:11,ChromeOS,3\n"  # line 5: one cell short
        "oasa-es,T-0012,SER12,00:1a:2b:3c:4d:12,ChromeOS,,\n",  # line 6: fine
        encoding="utf-8",
    )
    with pytest.raises(InventoryImportError) as caught, db.session_scope(engine) as session:
        import_path(session, path)
    assert [str(p) for p in caught.value.problems] == [
        "tablets.csv line 5: has 6 field(s) but the header has 7 (a missing or extra column)"
    ]
    assert table_snapshot(engine, skip=()) == before


def test_csv_rows_report_their_own_lines(engine: Engine, sample: Doc, tmp_path: Path) -> None:
    _import(engine, sample)
    path = tmp_path / "tablets.csv"
    path.write_text(
        "school,asset_no,serial,mac,os,grade,class_name\n"
        "oasa-es,T-0010,SER10,00:1a:2b:3c:4d:10,ChromeOS,3,3-1\n"
        "oasa-es,T-0011,SER11,not-a-mac,ChromeOS,three,3-1\n",
        encoding="utf-8",
    )
    with pytest.raises(InventoryImportError) as caught, db.session_scope(engine) as session:
        import_path(session, path)
    assert [(p.row, p.message.split(":")[0]) for p in caught.value.problems] == [(3, "mac"), (3, "grade")]


def test_csv_directory_and_single_files(engine: Engine, sample: Doc, tmp_path: Path) -> None:
    directory = tmp_path / "town"
    write_csv({k: v for k, v in sample.items() if k != "tablets"}, directory)
    with db.session_scope(engine) as session:
        import_path(session, directory)
    assert table_counts(engine)["tablets"] == 0

    single = tmp_path / "pupils-devices.csv"
    write_csv({"tablets": sample["tablets"]}, tmp_path / "tmp")
    (tmp_path / "tmp" / "tablets.csv").rename(single)
    with pytest.raises(InventoryError, match="--section"), db.session_scope(engine) as session:
        import_path(session, single)
    with db.session_scope(engine) as session:
        result = import_path(session, single, section="tablets")
    assert result.created == {"tablets": 3}
    assert _export(engine) == SAMPLE
    with db.session_scope(engine) as session:
        grades = sorted((t.grade is None, t.class_name is None) for t in session.scalars(select(Tablet)))
    assert grades == [(False, False), (False, False), (True, True)]


def test_csv_directory_with_an_unknown_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "routers.csv").write_text("name\nr1\n", encoding="utf-8")
    with pytest.raises(InventoryError, match="unknown section"), db.session_scope(engine) as session:
        import_path(session, tmp_path)


def test_shift_jis_csv_from_a_spreadsheet_is_read(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "districts.csv"
    path.write_bytes("code,name,households\r\ngeihoku,芸北,1200\r\n".encode("cp932"))
    with db.session_scope(engine) as session:
        import_path(session, path)
    assert _export(engine)["districts"] == [{"code": "geihoku", "name": "芸北", "households": 1200}]


def test_load_document_reads_files_without_a_database(sample: Doc, tmp_path: Path) -> None:
    write_yaml(sample, tmp_path / "town.yaml")
    assert load_document(tmp_path / "town.yaml") == sample
    assert load_document(tmp_path / "town.yaml", section="olts") == {"olts": sample["olts"]}


def test_row_problem_locations() -> None:
    assert str(RowProblem("onus", 3, "bad")) == "onus row 3: bad"
    assert str(RowProblem("onus", 3, "bad", "onus.csv")) == "onus.csv line 3: bad"
    assert str(RowProblem("onus", 3, "bad", "town.yaml")) == "town.yaml line 3 (onus): bad"


def test_a_bad_csv_header_is_one_problem_not_one_per_row(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "districts.csv"
    path.write_text("code,name,colour\nchiyoda,千代田,red\noasa,大朝,blue\n", encoding="utf-8")
    with pytest.raises(InventoryImportError) as caught, db.session_scope(engine) as session:
        import_path(session, path)
    assert [str(p) for p in caught.value.problems] == [
        "districts.csv line 1: unknown column(s) colour; expected code, name, households",
        "districts.csv line 1: the header lacks required column(s) households",
    ]
    assert table_counts(engine)["districts"] == 0


def test_optional_columns_may_be_left_out_of_a_csv(engine: Engine, sample: Doc, tmp_path: Path) -> None:
    _import(engine, {k: sample[k] for k in ("districts", "schools")})
    path = tmp_path / "tablets.csv"
    path.write_text(
        "school,asset_no,serial,mac,os\noasa-es,T-0050,S50,00:1a:2b:3c:4d:50,ChromeOS\n", encoding="utf-8"
    )
    with db.session_scope(engine) as session:
        assert import_path(session, path).created == {"tablets": 1}
    assert _export(engine)["tablets"][0]["grade"] is None


def test_numbers_beyond_the_database_integer_are_row_problems(engine: Engine, sample: Doc) -> None:
    sample["districts"][0]["households"] = 2**31
    with pytest.raises(InventoryImportError, match="out of range"):
        _import(engine, sample)
    assert set(table_counts(engine).values()) == {0}


def test_the_simulated_towns_document_imports_and_round_trips(engine: Engine) -> None:
    """Contract with simulator: its generator writes exactly the document this importer reads."""
    town_mod = pytest.importorskip("simulator.town")
    from ftthnoc.normalise import normalise_serial

    document = town_mod.generate_town(onus=300, schools=2).inventory_document()
    result = _import(engine, document)
    assert result.created["onus"] == 300
    assert result.created["households"] == len(document["households"])
    exported = _export(engine)
    for record in document["onus"]:
        record["serial"] = normalise_serial(record["serial"])  # stored in one canonical spelling

    def key(record: dict[str, Any]) -> str:
        return repr(sorted(record.items()))

    for name, records in document.items():
        assert sorted(exported[name], key=key) == sorted(records, key=key), name


def test_errors_on_personal_fields_never_echo_the_values(tmp_path: Path) -> None:
    from ftthnoc.inventory import db
    from ftthnoc.inventory.io import import_document

    url = f"sqlite:///{tmp_path}/pii.db"
    db.upgrade(url)
    doc = {
        "districts": [{"code": "chiyoda", "name": "千代田", "households": 10}],
        "households": [{"code": "HH-000001", "district": "chiyoda", "plan": "fiber-1g", "status": "applied"}],
        "household_contacts": [{"household": "HH-000001", "name": "山田太郎", "address": "北広島町有田1234",
                                "phone": "0826-72-99999-bad"}],
    }
    with pytest.raises(ImportRowError) as info, db.session_scope(db.make_engine(url)) as s:
        import_document(s, doc)
    text = str(info.value) + " ".join(str(p) for p in getattr(info.value, "problems", []))
    assert "phone" in text
    assert "0826-72-99999-bad" not in text and "山田太郎" not in text and "有田1234" not in text


# --------------------------------------------------------------------------------------------------
# Values the row models refuse that the database would have taken (or choked on)


def test_control_characters_are_refused_in_any_text(engine: Engine, sample: Doc) -> None:
    sample["districts"][1]["name"] = "大朝\x00"
    sample["tablets"][0]["asset_no"] = "T-\x1b[31m"
    with pytest.raises(InventoryImportError) as caught:
        _import(engine, sample)
    assert [str(p) for p in caught.value.problems] == [
        "districts row 2: name: contains a control character (U+0000)",
        "tablets row 1: asset_no: contains a control character (U+001B)",
    ]
    assert set(table_counts(engine).values()) == {0}


def test_a_school_code_must_fit_its_column(engine: Engine, sample: Doc) -> None:
    sample["schools"][1]["code"] = "oasa-elementary-school-of-the-town"  # 34 characters: VARCHAR(32)
    with pytest.raises(InventoryImportError) as caught:
        _import(engine, sample)
    assert str(caught.value.problems[0]) == "schools row 2: code: is longer than 32 characters"


def test_whole_numbers_may_be_text_but_not_fractions_or_booleans(engine: Engine, sample: Doc) -> None:
    sample["districts"][0]["households"] = " 3900 "
    sample["districts"][1]["households"] = 1100.0
    sample["schools"][0]["pupils"] = True
    with pytest.raises(InventoryImportError) as caught:
        _import(engine, sample)
    assert [str(p) for p in caught.value.problems] == [
        "districts row 2: households: must be a whole number, not 1100.0",
        "schools row 1: pupils: must be a whole number, not True",
    ]


def test_a_key_given_twice_in_yaml_is_refused_not_silently_the_last(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "town.yaml"
    path.write_text(
        "districts:\n- code: chiyoda\n  name: 千代田\n  households: 3900\n  households: 39000\n", encoding="utf-8"
    )
    with pytest.raises(InventoryError) as caught, db.session_scope(engine) as session:
        import_path(session, path)
    assert str(caught.value) == "town.yaml line 5: not valid YAML: found the key 'households' twice in one mapping"
    assert table_counts(engine)["districts"] == 0


def test_a_section_given_twice_in_yaml_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "town.yaml"
    path.write_text("districts: []\nolts: []\ndistricts:\n- {code: chiyoda, name: x, households: 1}\n")
    with pytest.raises(InventoryError, match="line 3: not valid YAML: found the key 'districts' twice"):
        load_document(path)


def test_broken_yaml_is_one_line_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "town.yaml"
    path.write_text("districts:\n- {code: chiyoda, name: [千代田}\n", encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        load_document(path)
    assert str(caught.value).startswith("town.yaml line 2: not valid YAML: ")
    assert "\n" not in str(caught.value)
