"""Telework from each source, a small month worked out by hand in the comments, not by the code under test.

The week of 2–7 November 2026 (JST): Mon 2, Tue 3 = 文化の日 (a national holiday), Wed 4, Thu 5, Fri 6, Sat 7.
Working days: 2, 4, 5, 6. Working hours 08:30–17:15. Every figure below is checked on the PostgreSQL and
SQLite databases the other telework tests use (the ``engine`` fixture).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from app.cli.telework import telework
from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.module import get_module
from collectors.snmp.poll import ModuleResult, poll_module
from collectors.snmp.recorded import RecordedAgent
from ftthnoc.config import Auth
from ftthnoc.consumers import Fanout, Poll
from ftthnoc.inventory import db
from ftthnoc.kpi.figures import telework as telework_figure
from ftthnoc.samples import is_private
from ftthnoc.telework.kpi import TeleworkKpi
from ftthnoc.telework.models import TeleworkSourceDay, TeleworkUserDay
from ftthnoc.telework.sources import month_figure

from .conftest import Clock, config, jst

NOV = (2026, 11)
MID_NOVEMBER = jst(date(2026, 11, 20), 12)
KEY = b"k" * 32


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(telework, list(args))
    return result.exit_code, result.stdout, result.stderr


def month_of(engine: Engine, source: str | None = None) -> dict[str, object]:
    with db.session(engine) as session:
        fig = month_figure(session, *NOV, 0.30, source)  # type: ignore[arg-type]
        return {"source": fig.source, "days": fig.days_with_figure, "teleworkers": fig.teleworkers,
                "staff_days": fig.staff_days, "share": fig.remote_share, "reduction": fig.office_reduction,
                "attainment": fig.target_attainment,
                "per_day": {d.day.day: (d.teleworkers, d.staff) for d in fig.days}}


# ---------------------------------------------------------------------------------------------- LGWAN CSV
LGWAN_CSV = """\
date,user_id,start,end
2026-11-02,u1,09:00,12:00
2026-11-02,u2,13:00,17:00
2026-11-02,u1,14:00,15:00
2026-11-02,u3,18:00,20:00
2026-11-02,u4,07:00,08:45
2026-11-03,u1,09:00,17:00
2026-11-04,u5,22:00,02:00
2026-11-04,U1,08:30,09:00
2026-11-04,u2,17:15,18:00
2026-11-06,u1,09:00,10:00
2026-11-06,u2,09:00,10:00
2026-11-06,u3,09:00,10:00
2026-11-06,u6,09:00,10:00
2026-11-07,u1,09:00,12:00
"""
# By hand, headcount 10:
#   2 Nov: u1 (twice: one person), u2, u4 (07:00–08:45 overlaps 08:30) = 3; u3 at 18:00 is after hours.
#   3 Nov: 文化の日, ignored.   4 Nov: U1 = u1 = 1; u5 22:00–02:00 and u2 from 17:15 (the end) do not overlap.
#   5 Nov: nobody = 0 (inside the file's dates: a day with no logins).   6 Nov: u1, u2, u3, u6 = 4.
#   7 Nov: Saturday, ignored. Ignored rows: u3 18:00, 3 Nov, u5, u2 17:15, 7 Nov = 5 of 14.
#   Month: 3 + 1 + 0 + 4 = 8 telework staff-days of 4 × 10 = 40: share 0.20, reduction 0.20, attainment 0.20 / 0.30.
LGWAN_SHARE = 8 / 40


def test_lgwan_csv_month_by_hand(engine: Engine, database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "lgwan-2026-11.csv"
    path.write_text(LGWAN_CSV, encoding="utf-8")
    code, out, err = run("import", "--source", "lgwan", str(path), "--staff", "10", "--database-url", database_url)
    assert code == 0, err
    assert out.strip() == ("lgwan_csv: 14 rows (5 outside working days or hours); stored 4 working days 2026-11-02 to "
                           "2026-11-06: 8 telework staff-days of 40")
    got = month_of(engine)
    assert got["source"] == "lgwan_csv" and got["days"] == 4
    assert got["per_day"] == {2: (3, 10), 4: (1, 10), 5: (0, 10), 6: (4, 10)}
    assert (got["teleworkers"], got["staff_days"]) == (8, 40)
    assert got["share"] == pytest.approx(0.20) and got["reduction"] == pytest.approx(LGWAN_SHARE)
    assert got["attainment"] == pytest.approx(0.20 / 0.30)
    # The API's figure (what /api/kpis and the KPI page show) names the source.
    with db.session(engine) as session:
        api = telework_figure(session, MID_NOVEMBER)
    assert api["source"] == "lgwan_csv" and api["reduction"] == 0.2 and api["attainment"] == pytest.approx(0.6667)
    assert (api["teleworkers"], api["staff_days"], api["days"]) == (8, 40, 4)
    # No id reached the database: the rows hold counts only.
    with db.session(engine) as session:
        assert session.scalar(select(func.count()).select_from(TeleworkUserDay)) == 0
    # The report says where the figure comes from.
    code, out, err = run("report", "--month", "2026-11", "--database-url", database_url)
    assert code == 0, err
    assert out.splitlines()[0].startswith("telework 2026-11 from lgwan_csv (")
    assert out.splitlines()[-1].startswith("month 2026-11: 4 finished working days; 8 telework staff-days of 40: "
                                           "remote share 20.0%")


def test_lgwan_import_again_replaces_its_days_and_needs_a_headcount(database_url: str, engine: Engine,
                                                                     tmp_path: Path) -> None:
    path = tmp_path / "lgwan.csv"
    path.write_text(LGWAN_CSV, encoding="utf-8")
    code, _, err = run("import", "--source", "lgwan", str(path), "--database-url", database_url)
    assert code == 1 and "needs the headcount" in err
    for _ in range(2):
        code, _, err = run("import", "--source", "lgwan", str(path), "--staff", "10", "--database-url", database_url)
        assert code == 0, err
    assert month_of(engine)["teleworkers"] == 8  # not 16


# ---------------------------------------------------------------------------------------------- attendance CSV
ATTENDANCE_CSV = """\ufeffdate,staff_id,status
2026-11-02,s1,telework
2026-11-02,s2,telework
2026-11-02,s3,in_office
2026-11-02,s4,leave
2026-11-02,s5,in_office
2026-11-03,s1,telework
2026-11-04,s1,in_office
2026-11-04,s2,telework
2026-11-04,s3,in_office
2026-11-04,s4,in_office
2026-11-04,s5,leave
2026-11-05,s1,in_office
2026-11-05,s2,in_office
2026-11-05,s3,in_office
2026-11-05,s4,in_office
2026-11-05,s5,in_office
2026-11-06,s1,telework
2026-11-06,s2,telework
2026-11-06,s3,telework
2026-11-06,s4,leave
2026-11-06,s5,leave
"""
# By hand (staff-days = in_office + telework; leave is no day that could have been in the office):
#   2 Nov: telework s1, s2 = 2 of 4 (s4 on leave).   3 Nov: 文化の日, ignored.
#   4 Nov: telework s2 = 1 of 4 (s5 on leave).       5 Nov: 0 of 5.       6 Nov: 3 of 3 (s4, s5 on leave).
#   Month: 2 + 1 + 0 + 3 = 6 of 4 + 4 + 5 + 3 = 16: share 0.375, reduction 0.375, attainment 1.25.
#   (The mean of the day shares, (0.5 + 0.25 + 0 + 1) / 4 = 0.4375, would weigh a day of 3 like a day of 5.)


def test_attendance_csv_month_by_hand(engine: Engine, database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "attendance.csv"
    path.write_text(ATTENDANCE_CSV, encoding="utf-8")
    code, out, err = run("import", "--source", "attendance", str(path), "--database-url", database_url)
    assert code == 0, err
    assert out.strip() == ("attendance: 21 rows (1 outside working days or hours); stored 4 working days 2026-11-02 "
                           "to 2026-11-06: 6 telework staff-days of 16")
    got = month_of(engine)
    assert got["source"] == "attendance" and got["days"] == 4
    assert got["per_day"] == {2: (2, 4), 4: (1, 4), 5: (0, 5), 6: (3, 3)}
    assert (got["teleworkers"], got["staff_days"]) == (6, 16)
    assert got["share"] == pytest.approx(0.375) and got["reduction"] == pytest.approx(0.375)
    assert got["attainment"] == pytest.approx(1.25)
    with db.session(engine) as session:
        row = session.scalars(select(TeleworkSourceDay).where(TeleworkSourceDay.day == date(2026, 11, 2))).one()
        assert (row.in_office, row.on_leave) == (2, 1)
        api = telework_figure(session, MID_NOVEMBER)
    assert api["source"] == "attendance" and api["reduction"] == 0.375 and api["attainment"] == 1.25


def test_attendance_wins_over_lgwan_and_either_can_be_asked_for(engine: Engine, database_url: str,
                                                                tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(ATTENDANCE_CSV, encoding="utf-8")
    (tmp_path / "l.csv").write_text(LGWAN_CSV, encoding="utf-8")
    assert run("import", "--source", "lgwan", str(tmp_path / "l.csv"), "--staff", "10",
               "--database-url", database_url)[0] == 0
    assert run("import", "--source", "attendance", str(tmp_path / "a.csv"), "--database-url", database_url)[0] == 0
    assert month_of(engine)["source"] == "attendance"
    assert month_of(engine, "lgwan_csv")["share"] == pytest.approx(LGWAN_SHARE)


def test_a_bad_file_writes_nothing_and_names_every_bad_row(engine: Engine, database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "attendance.csv"
    bad.write_text("date,staff_id,status\n"
                   "2026-11-02,s1,telework\n"
                   "2026-11-31,s2,telework\n"
                   "2026-11-02,s3,remote\n"
                   "2026-11-02,,leave\n"
                   "2026-11-02,S1,in_office\n", encoding="utf-8")
    code, out, err = run("import", "--source", "attendance", str(bad), "--database-url", database_url)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "ftthnoc: attendance.csv: line 3: date '2026-11-31' is not YYYY-MM-DD",
        "ftthnoc: attendance.csv: line 4: status 'remote' is not one of in_office, telework, leave",
        "ftthnoc: attendance.csv: line 5: staff_id is empty",
        "ftthnoc: attendance.csv: line 6: the same staff_id on 2026-11-02 as line 2",
        "ftthnoc: attendance.csv: 4 bad row(s); nothing imported",
    ]
    lgwan = tmp_path / "lgwan.csv"
    lgwan.write_text("date,user,start,end\n2026-11-02,u1,09:00,10:00\n", encoding="utf-8")
    code, _, err = run("import", "--source", "lgwan", str(lgwan), "--staff", "10", "--database-url", database_url)
    assert code == 1 and "line 1: the header lacks column(s) user_id" in err
    lgwan.write_text("date,user_id,start,end\n2026-11-02,u1,9時,10:00\n2026-11-02,u2,09:00,10:00+09:00\n",
                     encoding="utf-8")
    code, _, err = run("import", "--source", "lgwan", str(lgwan), "--staff", "10", "--database-url", database_url)
    assert code == 1
    assert "line 2: start '9時' is not HH:MM (JST)" in err and "line 3: end '10:00+09:00': give JST wall time" in err
    with db.session(engine) as session:
        assert session.scalar(select(func.count()).select_from(TeleworkSourceDay)) == 0


# ---------------------------------------------------------------------------------------------- VPN users
ASA = "1.3.6.1.4.1.9.9.392.1"
FG = "1.3.6.1.4.1.12356.101.12"


def _octets(text: str) -> str:
    return ".".join(map(str, [len(text), *text.encode()]))


def asa_walk(users: list[str]) -> str:
    """An ASA's remote-access counters and crasSessionTable (crasSessionDuration, indexed by the user's name)."""
    lines = [f"{ASA}.1.1.1.0|2|500", f"{ASA}.3.1.0|66|{len(users)}", f"{ASA}.3.26.0|66|0",
             f"{ASA}.3.35.0|66|{len(users)}", f"{ASA}.3.38.0|66|0"]
    lines += [f"{ASA}.3.21.1.6.{_octets(u)}.{i}|66|600" for i, u in enumerate(users, 1)]
    return "\n".join(sorted(lines, key=lambda x: tuple(int(p) for p in x.split("|")[0].split(".")))) + "\n"


def fortigate_walk(users: list[str]) -> str:
    """A FortiGate's SSL-VPN users of VDOM 1 and its fgVpnSslTunnelTable user names."""
    lines = [f"{FG}.2.3.1.2.1|66|{len(users)}"]
    lines += [f"{FG}.2.4.1.3.{i}|4|{u}" for i, u in enumerate(users, 1)]
    return "\n".join(lines) + "\n"


def poll_recorded(module: str, name: str, walk: Path) -> ModuleResult:
    device = Device(name, "walk", 0, Auth())
    client = SnmpClient({device.key: RecordedAgent.from_snmprec(walk)})
    result = asyncio.run(poll_module(client, device, get_module(module)))
    assert result.success, result.error
    return result


# The polls (JST), headcount 10; an IP address as a "user" is the ASA's LAN-to-LAN peer, not staff:
#   2 Nov 09:00  asa: tanaka, suzuki, 203.0.113.5      fg: sato
#   2 Nov 11:00  asa: Tanaka                           fg: sato, ito
#   2 Nov 19:00  asa: kato (after hours: not counted)
#   4 Nov 10:00  asa: tanaka                           fg: (none)
#   5 Nov        no poll at all (an outage: no figure, not 0)
#   6 Nov 09:00  asa: suzuki, kato                     fg: tanaka (the same name on either gateway: one user)
# By hand: 2 Nov {tanaka, suzuki, sato, ito} = 4; 4 Nov {tanaka} = 1; 6 Nov {suzuki, kato, tanaka} = 3.
#   Month: 4 + 1 + 3 = 8 of 3 × 10 = 30: share 8/30 = 0.2667, attainment 0.2667 / 0.30 = 0.8889.
POLLS: list[tuple[date, int, list[str], list[str] | None]] = [
    (date(2026, 11, 2), 9, ["tanaka", "suzuki", "203.0.113.5"], ["sato"]),
    (date(2026, 11, 2), 11, ["Tanaka"], ["sato", "ito"]),
    (date(2026, 11, 2), 19, ["kato"], None),
    (date(2026, 11, 4), 10, ["tanaka"], []),
    (date(2026, 11, 6), 9, ["suzuki", "kato"], ["tanaka"]),
]


def test_vpn_users_from_recorded_asa_and_fortigate_polls(engine: Engine, clock: Clock, tmp_path: Path) -> None:
    kpi = TeleworkKpi(db.session_factory(engine), config(staff=10), clock=clock, user_key=KEY)
    for n, (day, hour, asa_users, fg_users) in enumerate(POLLS):
        clock.now = jst(day, hour)
        polls = [("cisco_asa_vpn", "asa-1", asa_walk(asa_users))]
        if fg_users is not None:
            polls.append(("fortigate_vpn", "fg-1", fortigate_walk(fg_users)))
        for module, name, text in polls:
            walk = tmp_path / f"{n}-{name}.snmprec"
            walk.write_text(text, encoding="utf-8")
            result = poll_recorded(module, name, walk)
            # What every exporter gets: the count, never a name, no private family.
            assert not any(is_private(f.name) for f in result.families)
            assert all("user" not in s.labels for f in result.families for s in f.samples)
            users = next(f for f in result.families if f.name == "ftth_vpn_users")
            assert users.samples[0].value == len({u.casefold() for u in (asa_users if name == "asa-1"
                                                                            else fg_users or [])} - {"203.0.113.5"})
            kpi.observe_poll(Poll(name, module, result.families, clock.now))
            kpi.observe_private_poll(Poll(name, module, result.private, clock.now))
        if (day, hour) == (date(2026, 11, 2), 11):  # today so far: tanaka, suzuki, sato, ito of 10
            share = {s.labels["period"]: (s.labels["source"], s.value) for f in kpi.families()
                     if f.name == "ftthnoc_telework_remote_share_ratio" for s in f.samples}
            assert share["day"][0] == "vpn_users" and share["day"][1] == pytest.approx(0.4)
    clock.now = jst(date(2026, 11, 20), 12)
    kpi.refresh()
    got = month_of(engine, "vpn_users")
    assert got["per_day"] == {2: (4, 10), 4: (1, 10), 6: (3, 10)}
    assert got["days"] == 3 and (got["teleworkers"], got["staff_days"]) == (8, 30)
    assert got["share"] == pytest.approx(8 / 30) and got["attainment"] == pytest.approx(8 / 30 / 0.30)
    assert month_of(engine)["source"] == "vpn_users"  # no import this month: the VPN users are the source
    with db.session(engine) as session:
        keys = list(session.scalars(select(TeleworkUserDay.user_key)))
    assert len(keys) == 8 and all(len(k) == 64 and "tanaka" not in k for k in keys)
    # The gauges say which source the month uses.
    fams = {f.name: f for f in kpi.families()}
    month = [s for s in fams["ftthnoc_telework_remote_share_ratio"].samples if s.labels["period"] == "month"]
    assert [(dict(s.labels), round(s.value, 4)) for s in month] == [
        ({"period": "month", "source": "vpn_users"}, round(8 / 30, 4))]


def test_dry_run_and_the_configuration(engine: Engine, database_url: str, tmp_path: Path) -> None:
    (tmp_path / "l.csv").write_text(LGWAN_CSV, encoding="utf-8")
    # The headcount and a closed day from the configuration: 6 Nov closed leaves 2, 4, 5 Nov = 4 of 3 × 20.
    (tmp_path / "ftthnoc.yaml").write_text("telework:\n  staff: 20\n  closed_days: ['2026-11-06']\n",
                                           encoding="utf-8")
    code, out, err = run("import", "--source", "lgwan", str(tmp_path / "l.csv"), "--config",
                         str(tmp_path / "ftthnoc.yaml"), "--dry-run", "--database-url", database_url)
    assert code == 0, err
    assert "would store 3 working days 2026-11-02 to 2026-11-05: 4 telework staff-days of 60" in out
    with db.session(engine) as session:
        assert session.scalar(select(func.count()).select_from(TeleworkSourceDay)) == 0


def test_a_restart_does_not_count_a_user_twice_in_a_day(engine: Engine, clock: Clock, tmp_path: Path) -> None:
    walk = tmp_path / "asa.snmprec"
    walk.write_text(asa_walk(["tanaka", "suzuki"]), encoding="utf-8")
    result = poll_recorded("cisco_asa_vpn", "asa-1", walk)
    day = date(2026, 11, 26)
    for hour in (9, 10):  # a new engine each time, the same key (FTTHNOC_TELEWORK_USER_KEY or the kept file)
        clock.now = jst(day, hour)
        kpi = TeleworkKpi(db.session_factory(engine), config(staff=10), clock=clock, user_key=KEY)
        fig = kpi.observe_users("asa-1", result.private, clock.now)
        assert fig is not None and fig.teleworkers == 2
    # A poll whose gateway did not list its users (the table unreadable: sessions but no rows) adds nothing.
    assert kpi.observe_users("asa-1", [], jst(day, 11)) is None


class Recorder:
    def __init__(self) -> None:
        self.public: list[Poll] = []

    def observe_poll(self, poll: Poll) -> None:
        self.public.append(poll)


class PrivateRecorder(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.private: list[Poll] = []

    def observe_private_poll(self, poll: Poll) -> None:
        self.private.append(poll)


def test_the_fanout_hands_private_families_only_to_who_asks(tmp_path: Path) -> None:
    walk = tmp_path / "fg.snmprec"
    walk.write_text(fortigate_walk(["sato"]), encoding="utf-8")
    result = poll_recorded("fortigate_vpn", "fg-1", walk)
    exporter, telework_kpi = Recorder(), PrivateRecorder()
    fanout = Fanout([exporter, telework_kpi])
    fanout.publish("fg-1", "fortigate_vpn", result.families)
    fanout.publish_private("fg-1", "fortigate_vpn", result.private)
    assert len(exporter.public) == 1 and len(telework_kpi.public) == 1 and len(telework_kpi.private) == 1
    assert not any(is_private(f.name) for p in exporter.public for f in p.families)
    assert [dict(s.labels) for f in telework_kpi.private[0].families for s in f.samples] == [
        {"gateway": "fg-1"}, {"gateway": "fg-1", "user": "sato"}]


def test_the_session_mean_is_still_the_fallback(engine: Engine) -> None:
    with db.session(engine) as session:
        fig = telework_figure(session, datetime(2026, 11, 20, 3, tzinfo=UTC))
    assert fig["source"] == "vpn_sessions" and fig["reduction"] is None and fig["staff_days"] is None


def test_the_poll_printout_counts_users_and_names_none(tmp_path: Path) -> None:
    from app.cli.poll import poll

    walk = tmp_path / "townhall-asa.snmprec"
    walk.write_text(asa_walk(["tanaka", "suzuki", "tanaka"]), encoding="utf-8")
    result = CliRunner().invoke(poll, ["--once", "--module", "cisco_asa_vpn", "--walk", str(walk)])
    assert result.exit_code == 0, result.stderr
    assert 'ftth_vpn_users{gateway="townhall-asa"} 2.0' in result.stdout
    assert "tanaka" not in result.stdout and "_private_" not in result.stdout


def test_serve_wires_the_users_to_the_telework_kpi_only(engine: Engine, tmp_path: Path) -> None:
    from app.wiring import build
    from ftthnoc.config import Config
    from ftthnoc.settings import Settings

    settings = Settings(data_dir=tmp_path / "var", database_url="sqlite://")
    deployment = build(Config.model_validate({"telework": {"staff": 10}}), settings, engine)
    try:
        assert deployment.poller.publish_private is not None
        key = tmp_path / "var" / "telework-user-key"
        assert key.stat().st_mode & 0o777 == 0o600  # kept for the next start: no user counted twice a day
        kpi = next(c.consumer for c in deployment.off_loop if c.name == "telework")
        assert isinstance(kpi, TeleworkKpi)
        assert [type(c).__name__ for c in deployment.fanout.polls if hasattr(c, "observe_private_poll")] == \
            ["OffLoop"] * len(deployment.off_loop)
        assert not hasattr(deployment.snapshot, "observe_private_poll")
    finally:
        deployment.close()


def test_an_import_reaches_the_running_kpis_gauges(engine: Engine, clock: Clock, database_url: str,
                                                  tmp_path: Path) -> None:
    from datetime import timedelta

    clock.now = MID_NOVEMBER
    kpi = TeleworkKpi(db.session_factory(engine), config(staff=10), clock=clock, user_key=KEY)

    def month_share() -> list[tuple[str, float]]:
        return [(s.labels["source"], round(s.value, 4)) for f in kpi.families()
                if f.name == "ftthnoc_telework_office_reduction_ratio" for s in f.samples
                if s.labels["period"] == "month"]

    assert month_share() == []  # nothing this month yet: no sample, not 0
    (tmp_path / "a.csv").write_text(ATTENDANCE_CSV, encoding="utf-8")
    assert run("import", "--source", "attendance", str(tmp_path / "a.csv"), "--database-url", database_url)[0] == 0
    clock.now = MID_NOVEMBER + timedelta(seconds=300)  # the next poll after the refresh interval
    kpi.observe_poll(Poll("olt-1", "huawei_gpon", [], clock.now))
    assert month_share() == [("attendance", 0.375)]
