"""``ftthnoc enroll ...`` and ``ftthnoc audit list`` as support staff run them, against the simulated OLTs
and school router over real SSH."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from app.cli import main
from ftthnoc.inventory import db
from ftthnoc.inventory.models import School, Tablet
from ftthnoc.timezone import JST
from simulator.cli.olt_state import serial_hex
from simulator.cli.router_state import RouterState
from simulator.cli.server import SshDeviceServer
from simulator.cli.town import CLI_PASSWORD, CLI_USER, ROUTER_ADMIN_PASSWORD
from simulator.cli.yamaha import YamahaShell
from tests.provisioning.conftest import Env

pytestmark = pytest.mark.usefixtures("clean_faults")


@pytest.fixture
def config_file(env: Env, tmp_path: Path) -> Path:
    path = tmp_path / "ftthnoc.yaml"
    path.write_text(yaml.safe_dump(env.config_dict()), encoding="utf-8")
    return path


def _run(env: Env, config_file: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--config", str(config_file), "--database-url", env.url,
                                       "--actor", "desk-1"])
    return result.exit_code, result.output


def test_enroll_household_dry_run_then_for_real_then_audit(env: Env, config_file: Path) -> None:
    olt = env.olt("huawei")
    code, serial, _port = env.install(olt)
    state = env.state(olt)
    before = state.changes

    rc, out = _run(env, config_file, "enroll", "household", code, "--serial", serial, "--dry-run")
    assert rc == 0, out
    assert "would send: ont add" in out and serial_hex(serial) in out and "would send: save" in out
    assert state.changes == before and env.status(code) == "installed"

    rc, out = _run(env, config_file, "enroll", "household", code, "--serial", serial)
    assert rc == 0, out
    assert f"{code}: done:" in out and "[verify]" in out
    assert env.status(code) == "active"

    rc, out = _run(env, config_file, "enroll", "household", code, "--serial", serial)
    assert rc == 0 and "nothing was changed" in out

    result = CliRunner().invoke(main, ["audit", "list", "--entity", f"household:{code}", "--database-url",
                                       env.url])
    assert result.exit_code == 0, result.output
    header, *lines = result.output.strip().splitlines()
    assert "at (JST)" in header  # incidents and the pages show JST: so does the audit
    assert len(lines) == 1 and "desk-1" in lines[0] and " ok " in lines[0] and f"to {olt}" in lines[0]
    shown = datetime.strptime(lines[0].split()[1] + " " + lines[0].split()[2], "%Y-%m-%d %H:%M:%S")
    assert abs(shown - datetime.now(JST).replace(tzinfo=None)) < timedelta(hours=1)
    result = CliRunner().invoke(main, ["audit", "list", "--entity", f"household:{code}", "--json",
                                       "--database-url", env.url])
    entry = json.loads(result.output.strip().splitlines()[0])
    assert entry["outcome"] == "ok" and any(e["command"].startswith("ont add") for e in entry["detail"]["transcript"])
    assert CLI_PASSWORD not in result.output


def test_enroll_household_failure_exits_1_with_the_reason(env: Env, config_file: Path) -> None:
    code, _serial, _port = env.install(env.olt("huawei"))
    rc, out = _run(env, config_file, "enroll", "household", code, "--serial", "HWTC-00000BAD")
    assert rc == 1
    assert "not in the autofind list" in out
    rc, out = _run(env, config_file, "enroll", "household", "HH-NOPE", "--serial", "HWTC-00000BAD")
    assert rc == 1 and "no household 'HH-NOPE'" in out


def test_suspend_resume_cancel_commands(env: Env, config_file: Path) -> None:
    code, serial, _port = env.install(env.olt("zte"))
    assert _run(env, config_file, "enroll", "household", code, "--serial", serial)[0] == 0
    for verb, status in (("suspend", "suspended"), ("resume", "active"), ("cancel", "cancelled")):
        rc, out = _run(env, config_file, "enroll", verb, code)
        assert rc == 0, out
        assert env.status(code) == status


def test_enroll_without_configuration_is_one_clear_line(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FTTHNOC_CONFIG", raising=False)
    result = CliRunner().invoke(main, ["enroll", "household", "HH-000001", "--serial", "HWTC-00000001",
                                       "--database-url", env.url])
    assert result.exit_code == 1
    assert "--config" in result.output


def test_enroll_tablets_csv_binds_them_on_the_school_router(env: Env, config_file: Path, tmp_path: Path) -> None:
    school_code = env.town.schools[0].code
    router = RouterState({1: ("10.200.0.10", "10.200.0.250", 24)}, lan_address="10.200.0.1/24")
    server = SshDeviceServer(lambda _u: YamahaShell(router, admin_password=ROUTER_ADMIN_PASSWORD),
                             users={CLI_USER: CLI_PASSWORD}, name="rtx").start()
    try:
        with db.session_scope(env.engine) as s:
            school = s.scalar(select(School).where(School.code == school_code))
            assert school is not None
            school.router_address, school.router_auth, school.dhcp_scope = f"127.0.0.1:{server.port}", \
                "school_router", 1
            known = set(s.scalars(select(Tablet.mac).where(Tablet.school_id == school.id,
                                                           Tablet.status == "active")))
        csv_file = tmp_path / "tablets.csv"
        rows = ["school,asset_no,serial,mac,os,grade,class_name"] + [
            f"{school_code},CLI-{i:03d},SER{i:05d},02:cc:00:00:01:{i:02x},iPadOS,{1 + i % 6},{1 + i % 6}-1"
            for i in range(12)
        ]
        csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")

        rc, out = _run(env, config_file, "enroll", "tablets", str(csv_file), "--dry-run")
        assert rc == 0, out
        assert out.count("would send: dhcp scope bind 1 ") == len(known) + 12 and router.bindings(1) == {}

        rc, out = _run(env, config_file, "enroll", "tablets", str(csv_file))
        assert rc == 0, out
        assert f"{school_code}: {len(known) + 12} binding(s) added" in out
        new = {f"02:cc:00:00:01:{i:02x}" for i in range(12)}
        assert sorted(router.bindings(1).values()) == sorted(known | new)

        bad = tmp_path / "bad.csv"
        bad.write_text("\n".join([*rows[:3], f"{school_code},CLI-900,SERX,not-a-mac,iPadOS,1,1-1"]) + "\n",
                       encoding="utf-8")
        rc, out = _run(env, config_file, "enroll", "tablets", str(bad))
        assert rc == 1 and "bad.csv line 4 (tablets): mac" in out and "nothing was applied" in out
    finally:
        server.stop()
