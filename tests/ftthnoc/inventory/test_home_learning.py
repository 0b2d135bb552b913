"""Home learning (issue #15): a leases CSV (which household line held which IPv4 address when) and a Google
Admin export with each tablet's last known IP give "tablets seen at home" per district, by hand-computed
expectation; never a household, small counts suppressed. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from ftthnoc.inventory import db, leases
from ftthnoc.inventory.mdm import import_text
from ftthnoc.inventory.models import (
    AuditEntry,
    District,
    Household,
    HouseholdStatus,
    LineLease,
    Olt,
    Onu,
    PonPort,
    School,
    Tablet,
    TabletAddress,
)
from ftthnoc.inventory.rows import InventoryImportError
from ftthnoc.kpi import figures
from ftthnoc.kpi.families import AT_HOME, school_families

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # 11:00 JST
CODES = ("KT-A-0001", "KT-A-0002", "KT-A-0003", "KT-B-0001", "KT-C-0001")
ONU_SERIAL = "HWTC0000A003"  # the line of KT-A-0003, named by its ONU

# times without an offset are JST; the A-2 address moves to the B line on 12-02 (same IP, another home)
LEASES = f"""start,stop,ip,line
2026-11-30 00:00,,198.51.100.1,{CODES[0]}
2026-12-01 00:00,2026-12-02 00:00,198.51.100.2,{CODES[1]}
2026-12-02 00:00,,198.51.100.2,{CODES[3]}
2026-12-01 00:00,,198.51.100.3,{ONU_SERIAL}
2026-11-20 00:00,2026-11-25 00:00,198.51.100.9,{CODES[4]}
"""

# (serial, last sync JST, WAN IP); Google's console columns, a user column that must never be kept
GOOGLE_ROWS = [
    ("SA01", "2026-12-03 19:00:00", "198.51.100.1"),  # home A-1
    ("SA02", "2026-12-03 20:00:00", "198.51.100.1"),  # home A-1 too (a sibling)
    ("SA03", "2026-12-01 12:00:00", "198.51.100.2"),  # A-2 held .2 then
    ("SA04", "2026-12-03 12:00:00", "198.51.100.2"),  # B-1 holds .2 now: district B, though its school is in A
    ("SA05", "2026-12-02 09:00:00", "203.0.113.50"),  # no line's address (the school's): not at home
    ("SA06", "2026-11-30 10:00:00", "198.51.100.3"),  # before A-3's lease started: not at home
    ("SA07", "2026-12-02 18:00:00", "198.51.100.3"),  # A-3, found by its ONU serial
    ("SA08", "2026-12-03 18:00:00", "198.51.100.9"),  # C-1's lease stopped on 11-25: not at home
    ("SA09", "2026-11-21 18:00:00", "198.51.100.9"),  # C-1 then, but more than 7 days ago: not counted
    ("SA10", "2026-12-03 19:30:00", "198.51.100.1"),  # retired tablet: not counted
    ("SB01", "2026-12-03 17:00:00", ""),  # no address reported
]
USER = "山田太郎"


def google_export(rows: list[tuple[str, str, str]]) -> str:
    head = "Serial Number,Status,Last Sync,Annotated User,Model,Wifi MAC,WAN IP Address\n"
    return head + "".join(f"{serial},ACTIVE,{sync},{USER},Chromebook,,{ip}\n" for serial, sync, ip in rows)


@pytest.fixture
def town(engine: Engine) -> Engine:
    with db.session_scope(engine) as s:
        ds = {code: District(code=code, name=name, households=10)
              for code, name in (("a", "千代田"), ("b", "大朝"), ("c", "芸北"))}  # fmt: skip
        es_a = School(code="ES-A", name="A 小", district=ds["a"], pupils=100)
        es_b = School(code="ES-B", name="B 小", district=ds["b"], pupils=100)
        s.add_all([*ds.values(), es_a, es_b])
        s.flush()
        homes = {code: Household(code=code, district_id=ds[code[3].lower()].id, plan="1G",
                                 status=HouseholdStatus.ACTIVE) for code in CODES}  # fmt: skip
        s.add_all(homes.values())
        olt = Olt(name="olt-a", district_id=ds["a"].id, vendor="huawei", model="MA5800", address="192.0.2.1",
                  pon_class="C+", auth="olt_v3", modules=["huawei_gpon"])  # fmt: skip
        s.add(olt)
        s.flush()
        port = PonPort(olt_id=olt.id, port="0/1/0")
        s.add(port)
        s.flush()
        s.add(Onu(serial=ONU_SERIAL, pon_port_id=port.id, onu_id=1, household_id=homes[CODES[2]].id))
        for n in range(1, 11):  # SA01..SA10 at ES-A (SA10 retired), SB01 at ES-B
            s.add(Tablet(school_id=es_a.id, asset_no=f"T-{n:02d}", serial=f"SA{n:02d}", mac=f"02:00:00:00:00:{n:02x}",
                         os="ChromeOS", status="retired" if n == 10 else "active"))  # fmt: skip
        s.add(Tablet(school_id=es_b.id, asset_no="T-B1", serial="SB01", mac="02:00:00:00:01:01", os="ChromeOS"))
    return engine


def load(engine: Engine, lease_text: str = LEASES, rows: list[tuple[str, str, str]] = GOOGLE_ROWS) -> None:
    with db.session_scope(engine, actor="test") as s:
        leases.import_text(s, lease_text, "leases.csv", actor="test", now=NOW)
        import_text(s, "google", google_export(rows), "google.csv", actor="test", now=NOW)


def test_districts_count_the_tablets_seen_on_their_lines(town: Engine) -> None:
    load(town)
    with db.session_scope(town) as s:
        seen, everywhere = figures.at_home(s, NOW)
        ids = dict(s.execute(select(Tablet.id, Tablet.serial)).all())
        kpi = figures.tablets_at_home(s, NOW)
        assert s.scalar(select(func.count(LineLease.id))) == 5
        assert s.scalar(select(func.count(TabletAddress.id))) == 10  # SB01 reported none
    by_serial = {d: sorted(ids[t] for t in tablets) for d, tablets in seen.items()}
    assert by_serial == {"a": ["SA01", "SA02", "SA03", "SA07"], "b": ["SA04"]}
    assert len(everywhere) == 5
    rows = {r["district"]: r for r in kpi["districts"]}
    # A: 4 of ES-A's 9 active tablets; B: 1, shown only as "<3" and with no share; C: none
    assert rows["a"] == {"district": "a", "name": "千代田", "tablets": 9, "seen_7d": 4, "share_7d": round(4 / 9, 4)}
    assert rows["b"] == {"district": "b", "name": "大朝", "tablets": 1, "seen_7d": "<3", "share_7d": None}
    assert rows["c"] == {"district": "c", "name": "芸北", "tablets": 0, "seen_7d": 0, "share_7d": None}
    assert kpi["town"] == {"tablets": 10, "seen_7d": 5, "share_7d": 0.5}
    # the gauge: no sample for a suppressed district
    fams = {f.name: f for f in school_families([], {}, {}, kpi["districts"])}
    assert {tuple(sorted(x.labels.items())): x.value for x in fams[AT_HOME].samples} == {
        (("district", "a"),): 4.0, (("district", "c"),): 0.0}


def test_the_overview_holds_counts_only_and_the_town_is_suppressed_too(town: Engine) -> None:
    load(town, rows=[r for r in GOOGLE_ROWS if r[0] in ("SA01", "SA04")])
    with db.session_scope(town) as s:
        kpi = figures.all_kpis(s, NOW)["tablets_at_home"]
    assert [r["seen_7d"] for r in kpi["districts"]] == ["<3", "<3", 0]
    assert kpi["town"]["seen_7d"] == "<3" and kpi["town"]["share_7d"] is None
    text = repr(kpi)
    assert not any(code in text for code in CODES) and ONU_SERIAL not in text and "198.51.100" not in text


def test_an_import_twice_adds_nothing_and_a_stop_is_updated(town: Engine) -> None:
    load(town)
    stopped = LEASES.replace(f"2026-11-30 00:00,,198.51.100.1,{CODES[0]}",
                             f"2026-11-30 00:00,2026-12-03 00:00,198.51.100.1,{CODES[0]}")  # fmt: skip
    with db.session_scope(town, actor="test") as s:
        result = leases.import_text(s, stopped, "leases.csv", actor="test", now=NOW)
        assert (result.added, result.updated, result.unchanged) == (0, 1, 4)
        import_text(s, "google", google_export(GOOGLE_ROWS), "google.csv", actor="test", now=NOW)
    with db.session_scope(town) as s:
        assert s.scalar(select(func.count(TabletAddress.id))) == 10
        seen, _ = figures.at_home(s, NOW)
    # A-1 gave .1 back on 12-03 00:00 JST: SA01 and SA02 synced after that
    assert {d: len(t) for d, t in seen.items()} == {"a": 2, "b": 1}


BAD = f"""start,stop,ip,line
2026-12-01 00:00,,198.51.100.1,{CODES[0]}
yesterday,,198.51.100.4,{CODES[1]}
2026-12-02 00:00,2026-12-01 00:00,198.51.100.5,{CODES[1]}
2026-12-01 00:00,,198.51.100.300,{CODES[1]}
2026-12-01 00:00,,198.51.100.6,KT-Z-9999
2026-12-01 00:00,,198.51.100.7,
2026-12-02 00:00,,198.51.100.1,{CODES[3]}
2027-01-01 00:00,,198.51.100.8,{CODES[1]}
"""


def test_bad_lease_rows_are_named_by_line_and_nothing_is_written(town: Engine) -> None:
    with db.session_scope(town, actor="test") as s, pytest.raises(InventoryImportError) as err:
        leases.import_text(s, BAD, "leases.csv", actor="test", now=NOW)
    problems = [str(p) for p in err.value.problems]
    assert [p.row for p in err.value.problems] == [3, 4, 5, 6, 7, 8, 9]
    assert problems[0].startswith("leases.csv line 3: start:")
    assert problems[1] == "leases.csv line 4: stop is before start"
    assert "not an IPv4 address" in problems[2]
    assert problems[3] == "leases.csv line 6: the line id is no household's code nor an ONU's serial"
    assert "no line id" in problems[4]
    assert "also held by another line from line 2" in problems[5]
    assert "in the future" in problems[6]
    assert not any("KT-" in p for p in problems)  # no line id is ever repeated
    with db.session_scope(town) as s:
        assert s.scalar(select(func.count(LineLease.id))) == 0
        assert s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.entity == "leases")) == 0
    with pytest.raises(Exception, match="not a lease export"), db.session_scope(town) as s:
        leases.import_text(s, "when,address\n", "x.csv", actor="test", now=NOW)


def test_no_household_code_or_user_reaches_a_log_or_the_audit(town: Engine, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    load(town)
    with db.session_scope(town) as s:
        figures.tablets_at_home(s, NOW)
        audits = [repr(a.detail) for a in s.scalars(select(AuditEntry))]
    text = "\n".join([*(r.getMessage() for r in caplog.records), *audits])
    assert "leases: 5 row(s), 5 added" in text
    for secret in (*CODES, ONU_SERIAL, USER):
        assert secret not in text


def test_radius_and_kea_exports_map_onto_the_same_leases(town: Engine) -> None:
    radacct = ("radacctid,acctsessionid,username,nasipaddress,acctstarttime,acctstoptime,framedipaddress\n"
               f"1,s1,{CODES[0]},192.0.2.9,2026-11-30 00:00:00,NULL,198.51.100.1\n"
               f"2,s2,{ONU_SERIAL},192.0.2.9,2026-12-01 00:00:00,\\N,198.51.100.3\n")  # fmt: skip
    # Kea's memfile: expire in Unix seconds, start = expire - valid_lifetime; state 1 (declined) skipped
    expire = int(datetime(2026, 12, 5, 0, 0, tzinfo=UTC).timestamp())
    kea = ("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n"
           f"198.51.100.2,aa:bb:cc:00:00:01,,864000,{expire},1,0,0,{CODES[3].lower()},0,\n"
           f"198.51.100.7,aa:bb:cc:00:00:02,,3600,{expire},1,0,0,,1,\n")  # fmt: skip
    with db.session_scope(town, actor="test") as s:
        r1 = leases.import_text(s, radacct, "radacct.csv", actor="test", now=NOW)
        r2 = leases.import_text(s, kea, "kea-leases4.csv", actor="test", now=NOW)
        assert (r1.added, r2.added, r2.skipped) == (2, 1, 1)
        import_text(s, "google", google_export(GOOGLE_ROWS), "google.csv", actor="test", now=NOW)
    with db.session_scope(town) as s:
        seen, _ = figures.at_home(s, NOW)
        ids = dict(s.execute(select(Tablet.id, Tablet.serial)).all())
    # .2 held by B-1 from 11-25 to 12-05 UTC: SA03 (12-01) and SA04 (12-03) are both in B now
    assert {d: sorted(ids[t] for t in v) for d, v in seen.items()} == {
        "a": ["SA01", "SA02", "SA07"], "b": ["SA03", "SA04"]}


def test_the_cli_imports_leases(town: Engine, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from app.cli.tablets import tablets

    path = tmp_path / "leases.csv"
    path.write_text(LEASES, encoding="utf-8")
    url = town.url.render_as_string(hide_password=False)
    out = CliRunner().invoke(tablets, ["import-leases", str(path), "--database-url", url, "--actor", "t"])
    assert out.exit_code == 0, out.output
    assert "5 added" in out.output and not any(code in out.output for code in CODES)


def test_the_kpi_recorder_exports_the_gauge_without_suppressed_districts(town: Engine) -> None:
    from ftthnoc.kpi.recorder import KpiRecorder

    load(town)
    recorder = KpiRecorder(town, 60.0, gauges_seconds=0.0)
    recorder.record_poll("nothing", [], now=NOW)  # a poll refreshes the gauges' figures at its time
    fams = {f.name: f for f in recorder.families()}
    assert {tuple(sorted(x.labels.items())): x.value for x in fams[AT_HOME].samples} == {
        (("district", "a"),): 4.0, (("district", "c"),): 0.0}


def test_a_bad_address_in_an_mdm_export_is_named_by_line(town: Engine) -> None:
    rows = [("SA01", "2026-12-03 19:00:00", "198.51.100.1"), ("SA02", "2026-12-03 19:00:00", "home")]
    with pytest.raises(InventoryImportError) as err, db.session_scope(town) as s:
        import_text(s, "google", google_export(rows), "google.csv", actor="test", now=NOW)
    assert [str(p) for p in err.value.problems] == [
        "google.csv line 3 (mdm:google): IP address: 'home' is not an IP address"]
