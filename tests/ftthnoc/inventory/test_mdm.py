"""MDM exports as a source of "seen": sample Google Admin, Intune and Jamf Pro exports (tests/fixtures/mdm/,
invented rows under the consoles' headers) mark the tablets seen by serial, learn the Wi-Fi MACs the MDM
reports, and a router's ARP table then finds a tablet by its private MAC while other random MACs are
counted as "private, not identified", never as unknown devices. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from ftthnoc.inventory import db
from ftthnoc.inventory.mdm import LAYOUTS, import_export, parse_time, read_export
from ftthnoc.inventory.models import AuditEntry, District, School, SchoolArpCount, Tablet, TabletSighting
from ftthnoc.inventory.rows import InventoryImportError
from ftthnoc.kpi import figures
from ftthnoc.kpi.recorder import KpiRecorder
from ftthnoc.samples import MetricFamily
from ftthnoc.timezone import JST

from .conftest import table_snapshot

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mdm"
NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # 11:00 JST
#: every personal value the sample exports carry: none may be stored or logged
PERSONAL = ("山田太郎", "鈴木花子", "佐藤一郎", "田中次郎", "伊藤三郎", "taro.yamada", "hanako.suzuki",
            "ichiro.sato", "jiro.tanaka", "saburo.ito", "jtanaka", "example.ed.jp")  # fmt: skip

TABLETS = [  # (school, asset, serial, registered MAC, os)
    ("ES-CHIYODA", "T-0001", "5CD1230AAA", "a4:5e:60:00:00:01", "ChromeOS"),
    ("ES-CHIYODA", "T-0002", "5CD1230AAB", "a4:5e:60:00:00:02", "ChromeOS"),
    ("ES-CHIYODA", "T-0003", "5CD1230AAC", "a4:5e:60:00:00:03", "ChromeOS"),  # no grade: its org unit says
    ("ES-CHIYODA", "T-0004", "5CD1230AAD", "a4:5e:60:00:00:04", "ChromeOS"),
    ("ES-CHIYODA", "T-0005", "5CD1230AAE", "a4:5e:60:00:00:05", "ChromeOS"),  # in no export
    ("JH-OASA", "T-0101", "DMPXK0101ABC", "f0:99:b6:00:01:01", "iPadOS"),  # the MDM reports a private MAC
    ("JH-OASA", "T-0102", "DMPXK0102ABC", "f0:99:b6:00:01:02", "iPadOS"),  # reports its registered MAC
    ("JH-OASA", "T-0103", "R58T0103XYZ", "5c:e8:b7:00:01:03", "Windows"),  # reports no MAC
]


@pytest.fixture
def town(engine: Engine) -> Engine:
    with db.session_scope(engine) as s:
        d = District(code="chiyoda", name="千代田", households=10)
        schools = {code: School(code=code, name=code, district=d, pupils=100, uplink_target=f"{code}-rtx",
                                uplink_interface="LAN2") for code in ("ES-CHIYODA", "JH-OASA")}  # fmt: skip
        s.add_all([d, *schools.values()])
        s.flush()
        for school, asset, serial, mac, os_name in TABLETS:
            registered = (None, None) if asset == "T-0003" else (3, "3-1")
            s.add(Tablet(school_id=schools[school].id, asset_no=asset, serial=serial, mac=mac, os=os_name,
                         grade=registered[0], class_name=registered[1]))  # fmt: skip
    return engine


def state(engine: Engine) -> dict[str, tuple[datetime | None, str | None, dict[str, datetime]]]:
    """asset → (last seen, learned MAC, {source: seen at})"""
    with db.session_scope(engine) as s:
        sightings: dict[int, dict[str, datetime]] = {}
        for row in s.scalars(select(TabletSighting)):
            sightings.setdefault(row.tablet_id, {})[row.source] = _utc(row.seen_at)
        return {t.asset_no: (None if t.last_seen_at is None else _utc(t.last_seen_at), t.network_mac,
                             sightings.get(t.id, {})) for t in s.scalars(select(Tablet))}  # fmt: skip


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def do_import(engine: Engine, kind: str, name: str) -> str:
    with db.session_scope(engine, actor="test") as s:
        return import_export(s, kind, FIXTURES / name, actor="test", now=NOW).summary()


def arp_table(*macs: str) -> list[MetricFamily]:
    fam = MetricFamily("ftth_router_arp_entry_info", "The router's ARP table.", "info")
    for i, mac in enumerate(macs):
        fam.add({"device": "rtx", "if_index": "1", "ip": f"10.128.0.{16 + i}", "mac": mac}, 1.0)
    return [fam]


def test_google_and_intune_exports_mark_the_right_tablets_seen_and_random_macs_are_not_strangers(
        town: Engine, caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    summary = do_import(town, "google", "google_chromeos.csv")
    assert summary == ("mdm:google: 5 device(s), 4 tablet(s) matched by serial, 3 seen later than before, "
                       "1 never synced, 0 Wi-Fi MAC(s) learned, 1 grade/class filled in, "
                       "1 not in the inventory")  # fmt: skip
    summary = do_import(town, "intune", "intune_devices.csv")
    assert summary == ("mdm:intune: 3 device(s), 3 tablet(s) matched by serial, 3 seen later than before, "
                       "0 never synced, 1 Wi-Fi MAC(s) learned, 0 grade/class filled in, "
                       "0 not in the inventory")  # fmt: skip
    got = state(town)
    t1 = datetime(2026, 12, 4, 0, 15, tzinfo=UTC)
    t2 = datetime(2026, 12, 3, 23, 40, 12, tzinfo=UTC)
    t3 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    i1 = datetime(2026, 12, 4, 0, 30, tzinfo=UTC)  # Intune writes UTC without an offset
    i2 = datetime(2026, 12, 2, 7, 5, 31, 123456, tzinfo=UTC)
    i3 = datetime(2026, 12, 3, 22, 10, tzinfo=UTC)
    assert got == {
        "T-0001": (t1, None, {"mdm:google": t1}),
        "T-0002": (t2, None, {"mdm:google": t2}),
        "T-0003": (t3, None, {"mdm:google": t3}),
        "T-0004": (None, None, {}),  # enrolled, never synced
        "T-0005": (None, None, {}),
        "T-0101": (i1, "3a:1b:2c:3d:4e:01", {"mdm:intune": i1}),  # the private Wi-Fi MAC is learned
        "T-0102": (i2, None, {"mdm:intune": i2}),  # the MDM reports the registered MAC: nothing to learn
        "T-0103": (i3, None, {"mdm:intune": i3}),
    }
    with db.session_scope(town) as s:  # the org unit filled in T-0003's grade and class, and nothing else
        classes = {t.asset_no: (t.grade, t.class_name) for t in s.scalars(select(Tablet))}
        seen = figures.tablets_seen(s, NOW)
    assert classes["T-0003"] == (4, "4-1") and classes["T-0001"] == (3, "3-1")
    per = {r["school"]: (r["tablets"], r["seen_24h"], r["seen_7d"]) for r in seen["schools"]}
    assert per == {"ES-CHIYODA": (5, 2, 2), "JH-OASA": (3, 2, 3)}

    # the router of the junior high: T-0101 under its private MAC, T-0103 under its registered one, a
    # visiting ES-CHIYODA tablet, two random MACs of unidentified devices and one vendor MAC
    rec = KpiRecorder(town, 60.0)
    at = NOW + timedelta(minutes=1)
    rec.record_poll("JH-OASA-rtx", arp_table("3a:1b:2c:3d:4e:01", "5c:e8:b7:00:01:03", "a4:5e:60:00:00:05",
                                             "da:a1:19:00:00:01", "02:00:5e:10:00:01", "00:1b:21:aa:bb:cc"),
                    now=at)  # fmt: skip
    got = state(town)
    assert got["T-0101"] == (at, "3a:1b:2c:3d:4e:01", {"mdm:intune": i1, "router_arp": at})
    assert got["T-0103"] == (at, None, {"mdm:intune": i3, "router_arp": at})
    assert got["T-0102"] == (i2, None, {"mdm:intune": i2})
    assert got["T-0005"] == (None, None, {})  # another school's tablet: not seen by this school's router
    with db.session_scope(town) as s:
        counts = [(c.school, c.source, c.unknown, c.private) for c in s.scalars(select(SchoolArpCount))]
    assert counts == [("JH-OASA", "router_arp", 1, 2)]  # the visiting tablet is neither

    # nothing personal stored anywhere or logged; the audit entries carry counts
    with db.session_scope(town) as s:
        audits = s.scalars(select(AuditEntry).where(AuditEntry.entity.like("mdm:%"))).all()
        assert [(a.actor, a.action, a.entity) for a in audits] == [("test", "import", "mdm:google"),
                                                                   ("test", "import", "mdm:intune")]
    dump = repr(table_snapshot(town, skip=())) + caplog.text
    assert not [p for p in PERSONAL if p in dump]
    assert "mdm:google: 5 device(s)" in caplog.text


def test_a_later_export_moves_forward_an_older_one_never_back(town: Engine) -> None:
    do_import(town, "intune", "intune_devices.csv")
    do_import(town, "jamf", "jamf_mobile_devices.csv")  # 09:40 JST is 00:40 UTC, after Intune's 00:30
    got = state(town)["T-0101"]
    jamf = datetime(2026, 12, 4, 0, 40, tzinfo=UTC)
    assert got == (jamf, "3a:1b:2c:3d:4e:01", {"mdm:intune": datetime(2026, 12, 4, 0, 30, tzinfo=UTC),
                                               "mdm:jamf": jamf})  # fmt: skip
    before = state(town)
    do_import(town, "intune", "intune_devices.csv")  # the same export again: nothing moves
    assert state(town) == before


def test_bad_lines_are_named_and_nothing_is_written(town: Engine) -> None:
    before = table_snapshot(town)
    with pytest.raises(InventoryImportError) as exc, db.session_scope(town) as s:
        import_export(s, "google", FIXTURES / "google_bad.csv", actor="test", now=NOW)
    assert [str(p) for p in exc.value.problems] == [
        "google_bad.csv line 3 (mdm:google): last sync: 'yesterday' is not a time (want e.g. 2026-12-03T08:15:00Z)",
        "google_bad.csv line 4 (mdm:google): no serial number",
        "google_bad.csv line 5 (mdm:google): Wi-Fi MAC: 'not-a-mac' is not a MAC address (want e.g. 00:1a:2b:3c:4d:5e)",
    ]  # fmt: skip
    assert table_snapshot(town) == before  # line 2 was good, and it is not written either
    with db.session_scope(town) as s:
        assert s.scalars(select(AuditEntry)).all() == []


def test_a_wifi_mac_of_another_tablet_or_a_future_sync_is_refused(town: Engine, tmp_path: Path) -> None:
    path = tmp_path / "intune.csv"
    header = (FIXTURES / "intune_devices.csv").read_text().splitlines()[0]
    path.write_text(header + "\n"
                    ",,,,,iPadOS,,2026-12-04 00:30:00,,,,DMPXK0101ABC,Apple,iPad,f0:99:b6:00:01:02,\n"
                    ",,,,,iPadOS,,2026-12-05 00:30:00,,,,DMPXK0102ABC,Apple,iPad,,\n")
    before = table_snapshot(town)
    with pytest.raises(InventoryImportError) as exc, db.session_scope(town) as s:
        import_export(s, "intune", path, actor="test", now=NOW)
    assert [str(p) for p in exc.value.problems] == [
        "intune.csv line 2 (mdm:intune): Wi-Fi MAC f0:99:b6:00:01:02 is tablet JH-OASA/T-0102's",
        "intune.csv line 3 (mdm:intune): last sync 2026-12-05T00:30:00+00:00 is in the future (a wrong time zone?)",
    ]  # fmt: skip
    assert table_snapshot(town) == before


def test_a_header_without_the_needed_columns_is_refused() -> None:
    from ftthnoc.errors import InventoryError

    with pytest.raises(InventoryError, match="is not a jamf export: no column 'Serial Number'"):
        read_export("Name,Last Inventory Update\nx,2026-12-04 09:40:00\n", "jamf", "x.csv")


def test_times_as_the_consoles_write_them() -> None:
    want = datetime(2026, 12, 3, 8, 15, tzinfo=UTC)
    assert parse_time("2026-12-03T08:15:00.000Z", JST) == want
    assert parse_time("2026-12-03 08:15:00.0000000", UTC) == want
    assert parse_time("2026-12-03 17:15:00", JST) == want
    assert parse_time("12/3/2026 8:15:00 AM", UTC) == want
    assert parse_time("2026-12-03T17:15:00+09:00", UTC) == want
    assert LAYOUTS["intune"].naive_tz is UTC and LAYOUTS["jamf"].naive_tz is JST


def test_duplicate_records_of_one_serial_count_the_later_sync(town: Engine, tmp_path: Path) -> None:
    """Jamf keeps two records of a serial after a logic-board repair."""
    path = tmp_path / "jamf.csv"
    header = (FIXTURES / "jamf_mobile_devices.csv").read_text().splitlines()[0]
    path.write_text(header + "\n"
                    "1,a,DMPXK0102ABC,iPad,17,2026-11-01 09:00:00,,,,,,\n"
                    "2,a,dmpxk-0102abc,iPad,17,2026-12-04 09:00:00,,,,,,\n")
    with db.session_scope(town) as s:
        result = import_export(s, "jamf", path, actor="test", now=NOW)
    assert (result.devices, result.matched, result.seen) == (2, 1, 1)
    assert state(town)["T-0102"][0] == datetime(2026, 12, 4, 0, 0, tzinfo=UTC)


def test_personal_columns_are_named_for_every_kind() -> None:
    headers = {kind: (FIXTURES / name).read_text().splitlines()[0].split(",") for kind, name in
               (("google", "google_chromeos.csv"), ("intune", "intune_devices.csv"),
                ("jamf", "jamf_mobile_devices.csv"))}  # fmt: skip
    for kind, header in headers.items():
        personal = {h for h in header if h in LAYOUTS[kind].personal}
        assert personal, kind  # each sample carries personal columns, and the importer never reads them


def test_sqlite_and_postgres_agree_on_the_sightings_table(town: Engine) -> None:
    do_import(town, "google", "google_chromeos.csv")
    with town.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM tablet_sightings WHERE source = 'mdm:google'")).scalar_one()
    assert n == 3


# ------------------------------------------------------------------------------------ the command
def _cli(*args: str) -> Any:
    from click.testing import CliRunner

    from app.cli.tablets import tablets

    return CliRunner().invoke(tablets, list(args), catch_exceptions=False)


def test_the_command_imports_audits_and_refuses_bad_lines(town: Engine) -> None:
    url = town.url.render_as_string(hide_password=False)
    before = table_snapshot(town)
    result = _cli("import-mdm", "--kind", "google", str(FIXTURES / "google_bad.csv"), "--database-url", url)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "google_bad.csv line 3 (mdm:google): last sync: 'yesterday' is not a time (want e.g. 2026-12-03T08:15:00Z)",
        "google_bad.csv line 4 (mdm:google): no serial number",
        "google_bad.csv line 5 (mdm:google): Wi-Fi MAC: 'not-a-mac' is not a MAC address (want e.g. 00:1a:2b:3c:4d:5e)",
        "ftthnoc: 3 problem(s) in google_bad.csv; nothing was written",
    ]  # fmt: skip
    assert table_snapshot(town) == before

    args = ("import-mdm", "--kind", "intune", str(FIXTURES / "intune_devices.csv"), "--database-url", url,
            "--actor", "kyoiku-iinkai")  # fmt: skip
    result = _cli(*args, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("0 not in the inventory (dry run: nothing written)\n")
    assert table_snapshot(town) == before
    result = _cli(*args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("mdm:intune: 3 device(s), 3 tablet(s) matched by serial")
    assert state(town)["T-0101"][1] == "3a:1b:2c:3d:4e:01"
    with db.session_scope(town) as s:
        audit = s.scalars(select(AuditEntry)).one()
    assert (audit.actor, audit.action, audit.entity, audit.outcome) == ("kyoiku-iinkai", "import", "mdm:intune", "ok")
    assert audit.detail == {"devices": 3, "matched": 3, "seen": 3, "never_synced": 0, "macs_learned": 1,
                            "classes_filled": 0, "not_in_inventory": 0, "schools": ["JH-OASA"],
                            "file": "intune_devices.csv", "via": "cli"}  # fmt: skip
    assert not [p for p in PERSONAL if p in result.output]


def test_an_inventory_import_may_not_give_a_tablet_another_ones_learned_wifi_mac(town: Engine) -> None:
    from ftthnoc.inventory.io import import_document

    do_import(town, "intune", "intune_devices.csv")  # T-0101 learns 3a:1b:2c:3d:4e:01
    row = {"school": "JH-OASA", "asset_no": "T-0199", "serial": "NEW1", "mac": "3A-1B-2C-3D-4E-01", "os": "iPadOS",
           "grade": 1, "class_name": "1-1"}  # fmt: skip
    before = table_snapshot(town)
    with pytest.raises(InventoryImportError) as exc, db.session_scope(town) as s:
        import_document(s, {"tablets": [row]})
    assert [str(p) for p in exc.value.problems] == [
        "tablets row 1: mac 3a:1b:2c:3d:4e:01 is the Wi-Fi MAC an MDM reported for tablet JH-OASA/T-0101"]
    assert table_snapshot(town) == before
    with db.session_scope(town) as s:  # the tablet itself may be imported again unchanged
        import_document(s, {"tablets": [{**row, "asset_no": "T-0101", "serial": "DMPXK0101ABC",
                                         "mac": "f0:99:b6:00:01:01"}]})  # fmt: skip
    assert state(town)["T-0101"][1] == "3a:1b:2c:3d:4e:01"


def test_grade_and_class_from_an_org_unit_or_a_department() -> None:
    from ftthnoc.inventory.mdm import grade_class

    assert grade_class("/小学校/ES-CHIYODA/3年/3-1") == (3, "3-1")
    assert grade_class("/中学校/JH-OASA/２年/２年１組") == (2, "2-1")  # full-width digits
    assert grade_class("2年1組") == (2, "2-1")
    assert grade_class("/Students/Grade 5") == (5, None)
    assert grade_class("/教職員") == (None, None)
    assert grade_class("/Students/12-1") == (None, None)  # not a grade of the inventory (1-9)
