"""Tablet CSV import (row-level validation, nothing written on a bad row) and the router reconcile,
on a real SQLite inventory and over real SSH to the simulated RTX."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ftthnoc.inventory.db import make_engine, session_scope
from ftthnoc.inventory.io import InventoryImportError, SourceRow
from ftthnoc.inventory.models import AuditEntry, Base, District, School, Tablet
from provisioning.drivers.base import Binding, DeviceRefused, SessionLost
from provisioning.drivers.yamaha import YamahaDriver
from provisioning.tablets import (
    ScopeFull,
    apply_tablets,
    plan_bindings,
    read_tablets,
    reconcile_school,
    router_target,
)
from simulator.cli.router_state import RouterEvent, RouterState
from simulator.cli.server import SshDeviceServer
from simulator.cli.yamaha import YamahaShell

SCHOOLS = ("chiyoda-es", "oasa-es", "toyohira-es", "geihoku-es", "chiyoda-jhs")
PER_SCHOOL = 300  # 5 x 300 = 1,500 rows
HEADER = "school,asset_no,serial,mac,os,grade,class_name,status"
#: the router of chiyoda-es: a /23 scope with room for its 300 tablets
SCOPE = ("10.20.0.10", "10.20.1.250", 23)


def mac_of(n: int) -> str:
    return f"00:a0:de:{(n >> 16) & 0xFF:02x}:{(n >> 8) & 0xFF:02x}:{n & 0xFF:02x}"


def row(n: int, school: str, *, status: str = "active", mac: str | None = None) -> str:
    grade = 1 + n % 6 if not school.endswith("jhs") else 7 + n % 3
    os_name = ("iPadOS", "chromeos", "Windows")[n % 3]
    return f"{school},A{n:05d},SN{n:08d},{mac or mac_of(n)},{os_name},{grade},{grade}-{1 + n % 3},{status}"


def town_csv(retired: frozenset[int] = frozenset()) -> str:
    lines = [HEADER]
    for i, school in enumerate(SCHOOLS):
        for j in range(PER_SCHOOL):
            n = i * PER_SCHOOL + j
            lines.append(row(n, school, status="retired" if n in retired else "active"))
    return "\n".join(lines) + "\n"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'inventory.db'}")
    Base.metadata.create_all(engine)
    with session_scope(engine) as s:
        district = District(code="chiyoda", name="千代田", households=3900)
        s.add(district)
        for code in SCHOOLS:
            s.add(School(code=code, name=code, district=district, pupils=250, dhcp_scope=1))
    yield engine
    engine.dispose()


class Rtx:
    def __init__(self) -> None:
        self.state = RouterState({1: SCOPE})
        self.server = SshDeviceServer(
            lambda _user: YamahaShell(self.state, admin_password="adm"), users={"noc": "pw"}, name="rtx-chiyoda"
        )

    def driver(self, school: School, *, dry_run: bool = False) -> YamahaDriver:
        school.router_address = f"127.0.0.1:{self.server.port}"
        target = router_target(school, username="noc", password=SecretStr("pw"), secret=SecretStr("adm"))
        return YamahaDriver(target, dry_run=dry_run)


@pytest.fixture(scope="module")
def module_rtx() -> Iterator[Rtx]:
    rtx = Rtx()
    with rtx.server:
        yield rtx


@pytest.fixture
def rtx(module_rtx: Rtx) -> Rtx:
    module_rtx.state = RouterState({1: SCOPE})
    module_rtx.server.faults.clear()
    return module_rtx


_files = iter(range(10**9))


def rows_of(text: str, directory: Path | None = None) -> list[SourceRow]:
    """The rows of ``text`` as a school's CSV file on disk, read the way the command reads it."""
    path = (directory or Path(tempfile.mkdtemp(prefix="tablets-"))) / f"tablets-{next(_files)}.csv"
    path.write_text(text, encoding="utf-8")
    return read_tablets(path)


def count(engine: Engine, model: type[Base]) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def school(s: Session, code: str) -> School:
    found = s.scalar(select(School).where(School.code == code))
    assert found is not None
    return found


# -- parsing and validation --------------------------------------------------------------------------


def test_rows_are_numbered_by_line_and_a_wrong_column_count_is_that_rows_problem(engine: Engine) -> None:
    text = "\ufeff" + HEADER + "\n" + row(1, "oasa-es") + "\n\n" + "oasa-es,A2,only-three\n" + row(3, "oasa-es") + "\n"
    rows = rows_of(text)
    assert [r.row for r in rows] == [2, 4, 5]
    assert rows[1].error is not None and "3 field(s) but the header has 8" in rows[1].error
    with session_scope(engine) as s, pytest.raises(InventoryImportError) as info:
        apply_tablets(s, rows, "test")
    assert [p.row for p in info.value.problems] == [4]


def test_a_header_without_a_required_column_is_line_1() -> None:
    with pytest.raises(InventoryImportError) as info:
        rows_of("school,asset_no,serial,os,grade\n")
    (problem,) = info.value.problems
    assert problem.row == 1 and "mac" in problem.message


def test_row_level_problems(engine: Engine) -> None:
    text = "\n".join(
        [
            HEADER,
            row(1, "oasa-es"),  # 2 good
            "oasa-es,,SN1,00:a0:de:00:00:02,iPadOS,1,1-1,active",  # 3 missing asset_no
            row(3, "nowhere-es"),  # 4 unknown school
            row(4, "oasa-es", mac="00:a0:de:zz:00:04"),  # 5 bad MAC
            row(5, "oasa-es", mac=mac_of(1).upper().replace(":", "-")),  # 6 MAC of row 2, spelt otherwise
            row(1, "oasa-es", mac=mac_of(6)),  # 7 asset repeats row 2
            "oasa-es,A7,SN7,00:a0:de:00:00:07,Android,12,1-1,lost",  # 8 os, grade, status
        ]
    )
    with session_scope(engine) as s, pytest.raises(InventoryImportError) as info:
        apply_tablets(s, rows_of(text), "test")
    problems = [(p.row, p.message) for p in info.value.problems]
    assert sorted({r for r, _m in problems}) == [3, 4, 5, 6, 7, 8]
    by_row: dict[int, str] = {}
    for r, m in problems:
        by_row[r] = by_row.get(r, "") + " | " + m
    assert "asset_no is missing" in by_row[3]
    assert "school 'nowhere-es'" in by_row[4]
    assert "mac" in by_row[5] and "not a MAC address" in by_row[5]
    assert "00:a0:de:00:00:01" in by_row[6]  # the MAC both rows use, in the stored spelling
    assert "A00001" in by_row[7]
    assert "grade" in by_row[8] and "os" in by_row[8] and "status" in by_row[8]
    assert not any("SN" in message for _row, message in problems)  # the serial of a row is never echoed
    assert count(engine, Tablet) == 0


def test_mac_already_registered_elsewhere_in_town(engine: Engine) -> None:
    with session_scope(engine) as s:
        apply_tablets(s, rows_of(HEADER + "\n" + row(1, "oasa-es") + "\n"), "test")
    clash = HEADER + "\n" + row(2, "geihoku-es", mac=mac_of(1)) + "\n"
    with session_scope(engine) as s, pytest.raises(InventoryImportError) as info:
        apply_tablets(s, rows_of(clash), "test")
    (problem,) = info.value.problems
    assert problem.row == 2 and mac_of(1) in problem.message
    # the same tablet keeping its MAC is no clash
    with session_scope(engine) as s:
        assert apply_tablets(s, rows_of(HEADER + "\n" + row(1, "oasa-es") + "\n"), "test").unchanged == 1


# -- the 1,500-row import ----------------------------------------------------------------------------


def test_bad_rows_apply_nothing_and_are_named(engine: Engine) -> None:
    lines = town_csv().splitlines()
    lines[100] = lines[100].replace(",A00099,", ",,")  # line 101: missing asset_no
    lines[700] = lines[700].replace("chiyoda-jhs", "x").replace("toyohira-es", "nowhere")  # line 701
    lines[1400] = lines[1400].replace(mac_of(1399), mac_of(5))  # line 1401: MAC of line 7
    rows = rows_of("\n".join(lines) + "\n")
    assert len(rows) == 1500
    with session_scope(engine) as s, pytest.raises(InventoryImportError) as info:
        apply_tablets(s, rows, "test")
    assert [p.row for p in info.value.problems] == [101, 701, 1401]
    assert mac_of(5) in info.value.problems[2].message
    assert count(engine, Tablet) == 0 and count(engine, AuditEntry) == 0


def test_import_reconcile_reapply_and_retire(engine: Engine, rtx: Rtx) -> None:
    # the good file applies
    with session_scope(engine) as s:
        changes = apply_tablets(s, rows_of(town_csv()), "staff-1")
    assert (changes.added, changes.updated, changes.retired, changes.unchanged) == (1500, 0, 0, 0)
    assert changes.schools == set(SCHOOLS)
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).where(Tablet.os == "ChromeOS")) == 500

    # the router learns chiyoda-es's 300 tablets, and only they get addresses
    with session_scope(engine) as s, rtx.driver(school(s, "chiyoda-es")) as driver:
        result = reconcile_school(s, school(s, "chiyoda-es"), driver, "staff-1")
    assert len(result.added) == PER_SCHOOL and result.removed == [] and result.restricted and result.saved
    bound = rtx.state.bindings(1)
    assert sorted(bound.values()) == sorted(mac_of(n) for n in range(PER_SCHOOL))
    assert bound["10.20.0.10"] == mac_of(0)  # lowest addresses, in asset order
    assert rtx.state.scope(1).lease_type == "bind-only" and rtx.state.saved
    changes_before, saves_before = rtx.state.changes, rtx.state.saves

    # re-applying the same file changes nothing, and the reconcile sends no change and saves nothing
    with session_scope(engine) as s:
        again = apply_tablets(s, rows_of(town_csv()), "staff-1")
    assert (again.added, again.updated, again.retired, again.unchanged) == (0, 0, 0, 1500)
    with session_scope(engine) as s, rtx.driver(school(s, "chiyoda-es")) as driver:
        result = reconcile_school(s, school(s, "chiyoda-es"), driver, "staff-1")
    assert not result.changed and not result.saved
    assert driver.transcript.changes() == []
    assert (rtx.state.changes, rtx.state.saves) == (changes_before, saves_before)

    # retiring 10 tablets removes exactly their 10 bindings
    retired = frozenset(range(20, 30))
    with session_scope(engine) as s:
        ret = apply_tablets(s, rows_of(town_csv(retired)), "staff-2")
    assert (ret.retired, ret.unchanged, ret.schools) == (10, 1490, {"chiyoda-es"})
    before = rtx.state.bindings(1)
    with session_scope(engine) as s, rtx.driver(school(s, "chiyoda-es")) as driver:
        result = reconcile_school(s, school(s, "chiyoda-es"), driver, "staff-2")
    assert sorted(b.mac for b in result.removed) == sorted(mac_of(n) for n in retired)
    assert result.added == [] and result.saved
    after = rtx.state.bindings(1)
    assert {ip: mac for ip, mac in before.items() if ip not in after} == {
        ip: mac for ip, mac in before.items() if mac in {mac_of(n) for n in retired}
    }
    assert len(after) == PER_SCHOOL - 10 and all(before[ip] == mac for ip, mac in after.items())

    with session_scope(engine) as s:
        audits = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "reconcile").order_by(AuditEntry.id)))
        assert [a.outcome for a in audits] == ["ok", "noop", "ok"]
        assert audits[2].entity == "school:chiyoda-es" and audits[2].detail["removed"] == 10
        assert audits[2].detail["transcript"][1]["command"].startswith("no dhcp scope bind 1 ")
        imports = s.scalar(select(func.count()).where(AuditEntry.action == "import"))
        assert imports == 2  # the unchanged re-import wrote no entry


def _seed(engine: Engine, n: int, code: str = "oasa-es") -> None:
    text = HEADER + "\n" + "\n".join(row(i, code) for i in range(n)) + "\n"
    with session_scope(engine) as s:
        apply_tablets(s, rows_of(text), "test")


def test_dry_run_reconcile_sends_no_change(engine: Engine, rtx: Rtx) -> None:
    _seed(engine, 5)
    rtx.state.bind(1, "10.20.0.99", "00:a0:de:ff:ff:ff")  # an unregistered device
    with session_scope(engine) as s, rtx.driver(school(s, "oasa-es"), dry_run=True) as driver:
        result = reconcile_school(s, school(s, "oasa-es"), driver, "test")
    assert len(result.added) == 5 and len(result.removed) == 1 and result.dry_run
    assert rtx.state.bindings(1) == {"10.20.0.99": "00:a0:de:ff:ff:ff"} and rtx.state.changes == 1
    unsent = driver.transcript.changes()
    assert unsent and not any(e.sent for e in unsent)
    assert unsent[0].command == "no dhcp scope bind 1 10.20.0.99" and unsent[-1].command == "save"


def test_session_lost_midway_is_audited_and_the_next_run_completes(engine: Engine, rtx: Rtx) -> None:
    _seed(engine, 8)
    rtx.server.faults.drop(r"^dhcp scope bind 1 10\.20\.0\.13 ", when="before")
    with session_scope(engine) as s, rtx.driver(school(s, "oasa-es")) as driver, pytest.raises(SessionLost):
        reconcile_school(s, school(s, "oasa-es"), driver, "test")
    assert len(rtx.state.bindings(1)) == 3 and not rtx.state.saved
    with session_scope(engine) as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "reconcile")).one()
        assert audit.outcome is not None and audit.outcome.startswith("failed: ")
        assert audit.detail["added"] == 3
    with session_scope(engine) as s, rtx.driver(school(s, "oasa-es")) as driver:
        result = reconcile_school(s, school(s, "oasa-es"), driver, "test")
    assert len(result.added) == 5 and sorted(rtx.state.bindings(1).values()) == [mac_of(i) for i in range(8)]
    assert rtx.state.saved


def test_device_refusal_is_audited_with_its_words(engine: Engine, rtx: Rtx) -> None:
    _seed(engine, 2)

    def squatter(event: RouterEvent) -> None:  # another administrator binds the next address first
        if event.kind == "bind" and event.ip == "10.20.0.10":
            rtx.state.bind(1, "10.20.0.11", "00:a0:de:ee:ee:ee")

    rtx.state.add_listener(squatter)
    with session_scope(engine) as s, rtx.driver(school(s, "oasa-es")) as driver, pytest.raises(DeviceRefused):
        reconcile_school(s, school(s, "oasa-es"), driver, "test")
    with session_scope(engine) as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "reconcile")).one()
        assert audit.outcome is not None and "Error: IP address 10.20.0.11 is already bound" in audit.outcome
    with session_scope(engine) as s, rtx.driver(school(s, "oasa-es")) as driver:
        result = reconcile_school(s, school(s, "oasa-es"), driver, "test")
    assert result.removed == [Binding("10.20.0.11", "00:a0:de:ee:ee:ee")]
    assert sorted(rtx.state.bindings(1).values()) == [mac_of(0), mac_of(1)]


# -- planning ----------------------------------------------------------------------------------------


def test_plan_keeps_addresses_and_fills_lowest_free() -> None:
    current = [Binding("10.0.0.5", "00:a0:de:00:00:01"), Binding("10.0.0.2", "00:a0:de:00:00:09")]
    add, remove = plan_bindings(current, ["00:A0:DE:00:00:01", "00:a0:de:00:00:02"], ("10.0.0.2", "10.0.0.6"))
    assert remove == [Binding("10.0.0.2", "00:a0:de:00:00:09")]
    assert add == [Binding("10.0.0.2", "00:a0:de:00:00:02")]
    assert plan_bindings(current[:1], ["00:a0:de:00:00:01"], ("10.0.0.2", "10.0.0.6")) == ([], [])


def test_plan_scope_full() -> None:
    with pytest.raises(ScopeFull, match="3 addresses but 4 tablets"):
        plan_bindings([], [mac_of(i) for i in range(4)], ("10.0.0.2", "10.0.0.4"))



def test_a_learned_wifi_mac_is_bound_too(engine: Engine, rtx: Rtx) -> None:
    """The private Wi-Fi MAC an MDM reported (``Tablet.network_mac``) gets its own address right after the
    tablet's registered one: a bind-only scope would give the tablet none under its private address."""
    _seed(engine, 3, "chiyoda-es")
    with session_scope(engine) as s:
        s.scalars(select(Tablet).where(Tablet.asset_no == "A00001")).one().network_mac = "3A-1B-2C-3D-4E-01"
    with session_scope(engine) as s, rtx.driver(school(s, "chiyoda-es")) as driver:
        result = reconcile_school(s, school(s, "chiyoda-es"), driver, "test")
    assert [b.mac for b in result.added] == [mac_of(0), mac_of(1), "3a:1b:2c:3d:4e:01", mac_of(2)]
    assert rtx.state.bindings(1)["10.20.0.12"] == "3a:1b:2c:3d:4e:01"
