"""``splitter_cut``: with the inventory's splitter tree, the homes below one splitter dark together are one
incident at that splitter (not nothing, not one ticket each), a whole port stays a feeder cut, and without
splitters the per-port rules are unchanged."""

from __future__ import annotations

import io
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import Engine, select

from app.cli.incidents import incidents
from ftthnoc.incidents.export import export_quarter
from ftthnoc.incidents.models import Incident
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document

from .conftest import T0, MakeIncidentEngine, down, household
from .test_level import gasps, los, open_series, poll

S = timedelta(seconds=1)

#: olt-a 0/1/1 (11 ONUs: 0..9 and the spare 10): one 1:4 stage-1 splitter, three 1:8 stage-2 ones.
#: olt-b 1/1/1 (6 ONUs): two stage-1 splitters, the first with two stage-2 children.
TOPOLOGY = {
    "splitters": [
        {"name": "a1", "olt": "olt-a", "pon_port": "0/1/1", "stage": 1, "ratio": "1:4", "cabinet": "CAB-7"},
        {"name": "a1-1", "olt": "olt-a", "pon_port": "0/1/1", "stage": 2, "parent": "a1", "ratio": 8,
         "cabinet": "CL-7-1"},
        {"name": "a1-2", "olt": "olt-a", "pon_port": "0/1/1", "stage": 2, "parent": "a1", "ratio": 8},
        {"name": "a1-3", "olt": "olt-a", "pon_port": "0/1/1", "stage": 2, "parent": "a1", "ratio": 8},
        {"name": "b1", "olt": "olt-b", "pon_port": "1/1/1", "stage": 1, "ratio": 2, "cabinet": "CAB-9"},
        {"name": "b1-1", "olt": "olt-b", "pon_port": "1/1/1", "stage": 2, "parent": "b1", "ratio": 2},
        {"name": "b1-2", "olt": "olt-b", "pon_port": "1/1/1", "stage": 2, "parent": "b1", "ratio": 2},
        {"name": "b2", "olt": "olt-b", "pon_port": "1/1/1", "stage": 1, "ratio": 2},
    ],
}
DROPS = {("olt-a", "0/1/1"): {**dict.fromkeys((0, 1, 2), "a1-1"), **dict.fromkeys((3, 4, 5, 6), "a1-2"),
                              **dict.fromkeys((7, 8, 9, 10), "a1-3")},
         ("olt-b", "1/1/1"): {0: "b1-1", 1: "b1-1", 2: "b1-2", 3: "b1-2", 4: "b2", 5: "b2"}}  # fmt: skip


def with_topology(network: Engine) -> None:
    """Add the splitters and every ONU's drop to the network (an upsert of the ONUs with their splitter)."""
    from .conftest import network_document

    onus = [{**u, "splitter": DROPS.get((u["olt"], u["pon_port"]), {}).get(u["onu_id"])}
            for u in network_document()["onus"]]  # fmt: skip
    with db.session_scope(network) as session:
        import_document(session, {**TOPOLOGY, "onus": onus})


def stored(engine: Engine) -> list[tuple[str, str, str | None, str | None, str | None, int]]:
    with db.session(engine) as session:
        return [(i.kind, i.status, i.pon_port, i.splitter, i.cabinet, i.affected_count)
                for i in session.scalars(select(Incident).order_by(Incident.id))]  # fmt: skip


def test_the_homes_of_one_second_stage_splitter_are_one_incident_until_they_return(
    make_engine: MakeIncidentEngine, network: Engine
) -> None:
    with_topology(network)
    eng = make_engine()
    assert eng.observe_readings("olt-a", poll("olt-a", {}), T0) == []
    # 3 of the port's 11 ONUs: below the feeder cut's half, all of splitter a1-1's homes
    changes = eng.observe_readings("olt-a", poll("olt-a", los("0/1/1", [0, 1, 2])), T0 + 60 * S)
    assert [(c.change, c.kind, c.pon_port, c.splitter) for c in changes] == [
        ("opened", "splitter_cut", "0/1/1", "a1-1")]
    assert set(changes[0].households) == {household("olt-a", "0/1/1", n) for n in (0, 1, 2)}
    [snap] = eng.open_incidents()
    assert (snap.scope, snap.splitter, snap.cabinet) == ("splitter", "a1-1", "CL-7-1")
    assert open_series(eng.families()) == [{"kind": "splitter_cut", "district": "chiyoda", "olt": "olt-a",
                                            "pon_port": "0/1/1", "splitter": "a1-1", "scope": "splitter"}]
    assert stored(network) == [("splitter_cut", "open", "0/1/1", "a1-1", "CL-7-1", 3)]
    # a restart reloads it, and the next poll of the same state opens nothing more
    eng = make_engine()
    assert eng.observe_readings("olt-a", poll("olt-a", los("0/1/1", [0, 1, 2])), T0 + 120 * S) == []
    assert [(s.kind, s.splitter) for s in eng.open_incidents()] == [("splitter_cut", "a1-1")]
    closed = eng.observe_readings("olt-a", poll("olt-a", {}), T0 + 600 * S)
    assert [(c.change, c.kind, c.splitter) for c in closed] == [("closed", "splitter_cut", "a1-1")]
    assert stored(network) == [("splitter_cut", "closed", "0/1/1", "a1-1", "CL-7-1", 3)]
    with db.session(network) as session:
        out = io.StringIO()
        export_quarter(session, "2026Q3", out)
    assert "OLT olt-a PON 0/1/1 splitter a1-1 (cabinet CL-7-1)" in out.getvalue()
    url = network.url.render_as_string(hide_password=False)
    listed = CliRunner().invoke(incidents, ["list", "--database-url", url])
    header, row = listed.output.splitlines()
    assert header.split()[4:8] == ["olt", "pon_port", "splitter", "cabinet"]
    assert row.split()[1:8] == ["splitter_cut", "closed", "chiyoda", "olt-a", "0/1/1", "a1-1", "CL-7-1"]


def test_a_home_already_dark_is_not_online_and_a_share_short_opens_nothing(
    make_engine: MakeIncidentEngine, network: Engine
) -> None:
    with_topology(network)
    eng = make_engine()
    eng.observe_readings("olt-a", poll("olt-a", gasps("0/1/1", [3], T0 - 3600 * S)), T0)
    # 2 of a1-2's 4 ONUs: short of all its online ones (3: ONU 3 has no power)
    assert eng.observe_readings("olt-a", poll("olt-a", {**gasps("0/1/1", [3], T0 - 3600 * S),
                                                        **los("0/1/1", [4, 5])}), T0 + 60 * S) == []  # fmt: skip
    changes = eng.observe_readings("olt-a", poll("olt-a", {**gasps("0/1/1", [3], T0 - 3600 * S),
                                                           **los("0/1/1", [4, 5, 6])}), T0 + 90 * S)  # fmt: skip
    assert [(c.change, c.kind, c.splitter, c.affected_count) for c in changes] == [
        ("opened", "splitter_cut", "a1-2", 3)]


def test_a_home_dark_since_an_earlier_poll_stays_out_though_its_olts_clock_runs_ahead(
    make_engine: MakeIncidentEngine, network: Engine
) -> None:
    """The OLT dates every down a day ahead of the poller: ONU 3, dark since the first poll, is still not one
    of the homes of the cut that darkens the rest of its splitter ten minutes later."""
    with_topology(network)
    eng = make_engine()
    ahead = timedelta(days=1)
    dark = los("0/1/1", [3], T0 + ahead)
    assert eng.observe_readings("olt-a", poll("olt-a", dark), T0) == []
    changes = eng.observe_readings("olt-a", poll("olt-a", {**dark, **los("0/1/1", [4, 5, 6], T0 + 600 * S + ahead)}),
                                   T0 + 600 * S)  # fmt: skip
    assert [(c.change, c.kind, c.splitter) for c in changes] == [("opened", "splitter_cut", "a1-2")]
    assert set(changes[0].households) == {household("olt-a", "0/1/1", n) for n in (4, 5, 6)}


def test_a_lower_share_opens_early_and_the_rest_join(make_engine: MakeIncidentEngine, network: Engine) -> None:
    with_topology(network)
    eng = make_engine(splitter_min_share=0.5)
    eng.observe_readings("olt-a", poll("olt-a", {}), T0)
    [opened] = eng.observe_readings("olt-a", poll("olt-a", los("0/1/1", [7, 8])), T0 + 10 * S)
    assert (opened.kind, opened.splitter, opened.onu_count) == ("splitter_cut", "a1-3", 2)
    grown = eng.observe(down(T0 + 20 * S, "olt-a", "0/1/1", 10))  # the spare ONU on the same splitter
    assert [(c.change, c.kind, c.splitter, c.onu_count) for c in grown] == [("grown", "splitter_cut", "a1-3", 3)]
    assert len(eng.open_incidents()) == 1


def test_the_highest_splitter_that_explains_the_homes_wins(
    make_engine: MakeIncidentEngine, network: Engine
) -> None:
    with_topology(network)
    eng = make_engine(feeder_min_share=0.9)  # 4 of 6 would otherwise be half the port: a feeder cut
    eng.observe_readings("olt-b", poll("olt-b", {}), T0)
    changes = eng.observe_readings("olt-b", poll("olt-b", los("1/1/1", [0, 1, 2, 3])), T0 + 60 * S)
    assert [(c.change, c.kind, c.splitter, c.onu_count) for c in changes] == [("opened", "splitter_cut", "b1", 4)]
    # a cut of one second-stage splitter alone is that splitter's
    changes = eng.observe_readings("olt-b", poll("olt-b", los("1/1/1", [0, 1, 2, 3, 4, 5])), T0 + 120 * S)
    assert [(c.change, c.kind, c.splitter) for c in changes] == [("opened", "splitter_cut", "b2")]


def test_a_whole_port_stays_a_feeder_cut(make_engine: MakeIncidentEngine, network: Engine) -> None:
    with_topology(network)
    eng = make_engine()
    eng.observe_readings("olt-a", poll("olt-a", {}), T0)
    # every ONU the poll lists (the spare ONU 10 is not polled): the stage-1 splitter over the port is the feeder's
    changes = eng.observe_readings("olt-a", poll("olt-a", los("0/1/1", range(10))), T0 + 60 * S)
    assert [(c.change, c.kind, c.splitter, c.onu_count) for c in changes] == [("opened", "feeder_cut", None, 10)]
    assert [s.kind for s in eng.open_incidents()] == ["feeder_cut"]


def test_without_splitters_the_port_rules_are_unchanged(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine()
    eng.observe_readings("olt-a", poll("olt-a", {}), T0)
    # the same 3 homes without a topology: the households' own tickets
    assert eng.observe_readings("olt-a", poll("olt-a", los("0/1/1", [0, 1, 2])), T0 + 60 * S) == []
    assert eng.open_incidents() == []
