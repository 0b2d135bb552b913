"""The kinds above the ONUs (issue #11): a board, a PON port, an OLT's uplinks, a rogue ONU, a town service.

Each opens exactly one incident, holds what is under it (no feeder cut for the ports of a dead board or a
dead port, none for a port jammed by a rogue ONU) and closes when the poll no longer shows it. Replayed
polls on SQLite and, with FTTHNOC_TEST_POSTGRES_URL, on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable

from click.testing import CliRunner
from sqlalchemy import Engine

from app.cli.incidents import incidents
from ftthnoc.incidents.engine import IncidentChange, IncidentEngine
from ftthnoc.samples import MetricFamily

from .conftest import LAYOUT, T0, MakeIncidentEngine, household
from .test_level import H, State, los, open_series, poll

M = H / 60


def ports(olt: str, dead: Iterable[str] = (), *, quiet: Iterable[str] = (), laser_off: Iterable[str] = ()) -> list[
        MetricFamily]:  # fmt: skip
    """Huawei's port rows: ``dead`` ports faulty without a transmit reading (the optic is dead), ``quiet``
    ports faulty but transmitting (no ONU answers: a cut feeder), ``laser_off`` switched off."""
    dead, quiet, laser_off = set(dead), set(quiet), set(laser_off)
    up_f, laser_f, tx_f = (MetricFamily("ftth_pon_port_up", ""), MetricFamily("ftth_pon_port_laser_on", ""),
                           MetricFamily("ftth_pon_port_tx_power_dbm", ""))  # fmt: skip
    for port in LAYOUT[olt]:
        lab = {"olt": olt, "pon_port": port}
        up_f.add(lab, 0.0 if port in dead | quiet | laser_off else 1.0)
        laser_f.add(lab, 0.0 if port in laser_off else 1.0)
        if port not in dead:
            tx_f.add(lab, 3.2)
    return [up_f, laser_f, tx_f]


def all_down(olt: str, label: str = "los") -> State:
    return {(p, n): (False, label, None) for p, (_d, count) in LAYOUT[olt].items() for n in range(count)}


def homes(olt: str, *port_names: str) -> set[str]:
    names = port_names or tuple(LAYOUT[olt])
    return {household(olt, p, n) for p in names for n in range(LAYOUT[olt][p][1])}


def opened(changes: list[IncidentChange]) -> list[tuple[str, str | None, str | None]]:
    return [(c.kind, c.olt, c.pon_port) for c in changes if c.change == "opened"]


def kinds_open(eng: IncidentEngine) -> list[tuple[str, str | None, str | None]]:
    return sorted((i.kind, i.olt, i.pon_port) for i in eng.open_incidents())


def test_a_dead_board_is_one_incident_not_one_per_port(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine()
    assert eng.observe_readings("olt-a", [*poll("olt-a", {}), *ports("olt-a")], T0) == []
    changes = eng.observe_readings("olt-a", [*poll("olt-a", all_down("olt-a")), *ports("olt-a", LAYOUT["olt-a"])],
                                   T0 + M)  # fmt: skip
    assert opened(changes) == [("board_down", "olt-a", "0/1")]
    [board] = [c for c in changes if c.change == "opened"]
    assert set(board.households) == homes("olt-a") and board.affected_count == 21
    assert kinds_open(eng) == [("board_down", "olt-a", "0/1")]
    assert [(s["kind"], s["scope"], s["pon_port"]) for s in open_series(eng.families())] == [
        ("board_down", "board", "0/1")]  # fmt: skip
    # nothing more while it lasts; the board back closes it, and nothing else opens
    down_again = [*poll("olt-a", all_down("olt-a")), *ports("olt-a", LAYOUT["olt-a"])]
    assert eng.observe_readings("olt-a", down_again, T0 + 2 * M) == []
    closed = eng.observe_readings("olt-a", [*poll("olt-a", {}), *ports("olt-a")], T0 + 30 * M)
    assert [(c.change, c.kind) for c in closed] == [("closed", "board_down")]
    assert eng.open_incidents() == []


def test_a_board_without_port_rows_is_read_from_its_onus(make_engine: MakeIncidentEngine) -> None:
    """ZTE's modules read no port state: every ONU of every port of the board down is the board."""
    eng = make_engine()
    changes = eng.observe_readings("olt-b", poll("olt-b", all_down("olt-b")), T0)
    assert opened(changes) == [("board_down", "olt-b", "1/1")]
    # one port of the board still lit: no board, and the dark ports are feeder cuts (their own rule)
    eng2 = make_engine()
    state = {k: v for k, v in all_down("olt-b").items() if k[0] != "1/1/3"}
    assert ("board_down", "olt-b", "1/1") not in opened(eng2.observe_readings("olt-b", poll("olt-b", state), T0 + H))


def test_a_dead_port_is_its_own_incident_and_a_cut_feeder_is_not(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine()
    eng.observe_readings("olt-a", [*poll("olt-a", {}), *ports("olt-a")], T0)
    dark = los("0/1/1", range(10))
    changes = eng.observe_readings("olt-a", [*poll("olt-a", dark), *ports("olt-a", ["0/1/1"])], T0 + M)
    assert opened(changes) == [("pon_port_down", "olt-a", "0/1/1")]
    assert kinds_open(eng) == [("pon_port_down", "olt-a", "0/1/1")]
    assert {s["kind"] for s in open_series(eng.families())} == {"pon_port_down"}
    closed = eng.observe_readings("olt-a", [*poll("olt-a", {}), *ports("olt-a")], T0 + H)
    assert [(c.change, c.kind) for c in closed] == [("closed", "pon_port_down")]
    # the same dark port still transmitting is a cut feeder; with its laser switched off, no port fault
    cut = make_engine()
    cut.observe_readings("olt-a", [*poll("olt-a", {}), *ports("olt-a")], T0 + 2 * H)
    changes = cut.observe_readings("olt-a", [*poll("olt-a", dark), *ports("olt-a", quiet=["0/1/1"])], T0 + 2 * H + M)
    assert opened(changes) == [("feeder_cut", "olt-a", "0/1/1")]
    off = make_engine()
    off.observe_readings("olt-a", [*poll("olt-a", {}), *ports("olt-a")], T0 + 3 * H)
    changes = off.observe_readings("olt-a", [*poll("olt-a", dark), *ports("olt-a", laser_off=["0/1/1"])],
                                   T0 + 3 * H + M)  # fmt: skip
    assert "pon_port_down" not in {k for k, _o, _p in opened(changes)}


def test_a_rogue_onu_is_one_incident_not_a_feeder_cut(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine()
    eng.observe_readings("olt-a", poll("olt-a", {}), T0)
    jammed = {**los("0/1/1", range(9)), ("0/1/1", 9): (False, "rogue_ont", None)}
    changes = eng.observe_readings("olt-a", poll("olt-a", jammed), T0 + M)
    assert opened(changes) == [("rogue_onu", "olt-a", "0/1/1")]
    [rogue] = [c for c in changes if c.change == "opened"]
    assert set(rogue.households) == homes("olt-a", "0/1/1")
    assert eng.observe_readings("olt-a", poll("olt-a", jammed), T0 + 2 * M) == []
    # the rogue unplugged: the others come back, the rogue stays down with its alarm as a last cause
    back = {("0/1/1", 9): (False, "rogue_ont", None)}
    closed = eng.observe_readings("olt-a", poll("olt-a", back), T0 + H)
    assert [(c.change, c.kind) for c in closed] == [("closed", "rogue_onu")]
    assert eng.open_incidents() == []
    # the same LOSi without the rogue-ONT alarm is a feeder cut
    cut = make_engine()
    cut.observe_readings("olt-a", poll("olt-a", {}), T0 + 2 * H)
    changes = cut.observe_readings("olt-a", poll("olt-a", los("0/1/1", range(10))), T0 + 2 * H + M)
    assert opened(changes) == [("feeder_cut", "olt-a", "0/1/1")]


def interfaces(olt: str, up: tuple[bool, bool], admin: tuple[bool, bool] = (True, True)) -> list[MetricFamily]:
    """``if_mib``'s status families for two uplinks and one PON interface of ``olt``."""
    oper, adm = MetricFamily("ifOperStatus", ""), MetricFamily("ifAdminStatus", "")
    rows = [("1", "0/9/0", f"{olt} uplink 1", up[0], admin[0]), ("2", "0/9/1", f"{olt} uplink 2", up[1], admin[1]),
            ("3", "GPON 0/1/0", "chiyoda feeder 0/1/0", False, True)]  # fmt: skip
    for index, name, alias, is_up, is_on in rows:
        lab = {"device": olt, "ifIndex": index, "ifAlias": alias, "ifDescr": name, "ifName": name}
        oper.add(lab, 1.0 if is_up else 2.0)
        adm.add(lab, 1.0 if is_on else 2.0)
    return [adm, oper]


def test_uplinks_all_down_cut_every_home_of_the_olt(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine()
    assert eng.observe_readings("olt-a", interfaces("olt-a", (True, True)), T0) == []
    assert eng.observe_readings("olt-a", interfaces("olt-a", (False, True)), T0 + M) == []  # one of two: redundant
    changes = eng.observe_readings("olt-a", interfaces("olt-a", (False, False)), T0 + 2 * M)
    assert opened(changes) == [("uplink_down", "olt-a", None)]
    assert changes[0].affected_count == 21 and changes[0].onu_count == 22  # every ONU, the spare one too
    assert eng.observe_readings("olt-a", interfaces("olt-a", (False, False)), T0 + 3 * M) == []
    # the ONUs are still up on the PON: a feeder cut under it is another fault and opens all the same
    eng.observe_readings("olt-a", poll("olt-a", {}), T0 + 3 * M)
    cut = eng.observe_readings("olt-a", poll("olt-a", los("0/1/1", range(10))), T0 + 4 * M)
    assert opened(cut) == [("feeder_cut", "olt-a", "0/1/1")]
    closed = eng.observe_readings("olt-a", interfaces("olt-a", (True, False)), T0 + H)
    assert [(c.change, c.kind) for c in closed] == [("closed", "uplink_down")]
    # an uplink the operator shut is no outage; the other one down still cuts the OLT off
    assert eng.observe_readings("olt-b", interfaces("olt-b", (False, True), admin=(False, True)), T0) == []
    changes = eng.observe_readings("olt-b", interfaces("olt-b", (False, False), admin=(False, True)), T0 + M)
    assert opened(changes) == [("uplink_down", "olt-b", None)]


def services(failed: dict[tuple[str, str], int]) -> list[MetricFamily]:
    fam = MetricFamily("ftthnoc_probe_service_failed_cycles", "")
    for (target, probe), n in failed.items():
        fam.add({"target": target, "kind": "town_service", "probe": probe}, float(n))
    return [fam]


def test_a_town_service_failing_twice_is_one_incident(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine()
    assert eng.observe_readings("_probes", services({("portal", "http"): 1}), T0) == []
    changes = eng.observe_readings("_probes", services({("portal", "http"): 2}), T0 + M)
    assert [(c.change, c.kind, c.olt, c.district, c.at) for c in changes] == [
        ("opened", "service_down", "portal", "town", T0)]  # fmt: skip
    # its DNS check failing too is the same service: no second incident
    assert eng.observe_readings("_probes", services({("portal", "dns"): 2}), T0 + 2 * M) == []
    assert eng.observe_readings("_probes", services({("portal", "http"): 0}), T0 + 3 * M) == []  # dns still fails
    assert [s["scope"] for s in open_series(eng.families())] == ["service"]
    closed = eng.observe_readings("_probes", services({("portal", "dns"): 0}), T0 + 4 * M)
    assert [(c.change, c.kind) for c in closed] == [("closed", "service_down")]


def test_a_restart_keeps_the_open_port_incident_and_the_cli_lists_it(make_engine: MakeIncidentEngine,
                                                                      network: Engine) -> None:  # fmt: skip
    first = make_engine()
    first.observe_readings("olt-a", [*poll("olt-a", {}), *ports("olt-a")], T0)
    dark = [*poll("olt-a", los("0/1/1", range(10))), *ports("olt-a", ["0/1/1"])]
    assert opened(first.observe_readings("olt-a", dark, T0 + M)) == [("pon_port_down", "olt-a", "0/1/1")]
    second = make_engine()  # a restart: loads it, never opens it twice, nor a feeder cut under it
    assert second.observe_readings("olt-a", dark, T0 + 2 * M) == []
    assert kinds_open(second) == [("pon_port_down", "olt-a", "0/1/1")]
    url = network.url.render_as_string(hide_password=False)
    listed = CliRunner().invoke(incidents, ["list", "--open", "--database-url", url])
    assert listed.exit_code == 0, listed.output
    [row] = listed.output.splitlines()[1:]
    assert row.split()[1:6] == ["pon_port_down", "open", "chiyoda", "olt-a", "0/1/1"]
    closed = second.observe_readings("olt-a", [*poll("olt-a", {}), *ports("olt-a")], T0 + H)
    assert [(c.change, c.kind) for c in closed] == [("closed", "pon_port_down")]
