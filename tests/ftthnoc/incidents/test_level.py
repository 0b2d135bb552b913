"""The engine reads each poll as a state: replayed polls, hours apart, in milliseconds.

A fault already there at the first poll (or at a restart) opens its incident as one that starts while
ftthnoc watches; an OLT that cannot be polled is an incident, not silence. Every test runs on SQLite and,
with FTTHNOC_TEST_POSTGRES_URL, on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from ftthnoc.incidents.models import Incident
from ftthnoc.inventory import db
from ftthnoc.samples import MetricFamily

from .conftest import LAYOUT, T0, MakeIncidentEngine, household

#: (pon_port, onu_id) -> (up, last-down cause label, the OLT's last-down time or None)
State = Mapping[tuple[str, int], tuple[bool, str, datetime | None]]


def poll(olt: str, state: State) -> list[MetricFamily]:
    """One GPON poll of ``olt``: every ONU of the layout up unless ``state`` says otherwise."""
    up_f = MetricFamily("ftth_onu_up", "")
    cause_f = MetricFamily("ftth_onu_last_down_cause", "", "info")
    time_f = MetricFamily("ftth_onu_last_down_timestamp_seconds", "")
    for port, (_district, count) in LAYOUT[olt].items():
        for n in range(count):
            up, label, at = state.get((port, n), (True, "dying_gasp", None))
            lab = {"olt": olt, "pon_port": port, "onu_id": str(n)}
            up_f.add(lab, 1.0 if up else 0.0)
            cause_f.add({**lab, "cause": label}, 1.0)
            if at is not None:
                time_f.add(lab, at.timestamp())
    return [up_f, cause_f, time_f]


def scrape(olt: str, ok: bool, module: str = "huawei_gpon", answered: bool = False) -> list[MetricFamily]:
    """The poll's report on itself, as the poller publishes it (module ``_scrape``); a failed poll is a
    timeout unless ``answered`` (the OLT answered, and the poll failed all the same)."""
    fam = MetricFamily("ftthnoc_scrape_success", "")
    silent = MetricFamily("ftthnoc_scrape_unanswered", "")
    for m in (module, "if_mib"):
        fam.add({"target": olt, "module": m}, 1.0 if ok else 0.0)
        silent.add({"target": olt, "module": m}, 0.0 if ok or answered else 1.0)
    return [fam, silent]


def los(port: str, onus: range | list[int], at: datetime | None = None) -> State:
    return {(port, n): (False, "losi_lobi", at) for n in onus}


def gasps(port: str, onus: range | list[int], at: datetime | None) -> State:
    return {(port, n): (False, "dying_gasp", at) for n in onus}


def rows(engine: Engine) -> list[tuple[str, str, str | None, datetime, int]]:
    with db.session(engine) as session:
        return [(i.kind, i.status, i.pon_port, db_utc(i.started_at), i.affected_count)
                for i in session.scalars(select(Incident).order_by(Incident.id))]  # fmt: skip


def db_utc(value: datetime) -> datetime:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def open_series(families: list[MetricFamily]) -> list[dict[str, str]]:
    fam = next(f for f in families if f.name == "ftthnoc_incident_open")
    assert {s.value for s in fam.samples} <= {1.0}
    return [dict(s.labels) for s in fam.samples]


H = timedelta(hours=1)


# ----------------------------------------------------------------------------------- present at the first poll
def test_a_feeder_cut_present_at_the_first_poll_opens_at_the_olts_own_time(
    make_engine: MakeIncidentEngine, network: Engine
) -> None:
    eng = make_engine()
    cut_at = T0 - 3 * H  # the OLT says: these five went down within seconds of each other, 3 hours ago
    state = {**los("0/1/0", range(5), cut_at), ("0/1/0", 7): (False, "los", T0 - 50 * H)}  # 7: its own ticket
    # three hours old already: reportable at once
    [opened, reportable] = eng.observe_readings("olt-a", poll("olt-a", state), T0)
    assert (opened.change, opened.kind, opened.olt, opened.pon_port) == ("opened", "feeder_cut", "olt-a", "0/1/0")
    assert reportable.change == "reportable" and eng.open_incidents()[0].reportable
    assert set(opened.households) == {household("olt-a", "0/1/0", n) for n in range(5)}
    assert rows(network) == [("feeder_cut", "open", "0/1/0", cut_at, 5)]
    assert open_series(eng.families()) == [
        {"kind": "feeder_cut", "district": "chiyoda", "olt": "olt-a", "pon_port": "0/1/0", "splitter": "",
         "scope": "pon_port"}]


def test_without_the_olts_times_the_first_poll_dates_the_cut(make_engine: MakeIncidentEngine, network: Engine) -> None:
    eng = make_engine()
    [opened] = eng.observe_readings("olt-b", poll("olt-b", los("1/1/1", range(4))), T0)
    assert (opened.kind, opened.pon_port, opened.district) == ("feeder_cut", "1/1/1", "oasa")
    assert rows(network) == [("feeder_cut", "open", "1/1/1", T0, 4)]


def test_below_the_thresholds_or_spread_over_days_the_first_poll_opens_nothing(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine()
    spread = {("0/1/0", n): (False, "los", T0 - n * 24 * H) for n in range(1, 6)}  # five LOS, a day apart
    assert eng.observe_readings("olt-a", poll("olt-a", {**spread, **los("0/1/1", range(4))}), T0) == []  # 4 of 11
    assert eng.observe_readings("olt-b", poll("olt-b", los("1/1/1", range(3))), T0) == []
    assert open_series(eng.families()) == []


def test_onus_without_a_time_keep_the_poll_that_first_showed_them_down(make_engine: MakeIncidentEngine) -> None:
    """Three ONUs of a six-ONU ZTE port down since before ftthnoc started (dated by its first poll), a fourth
    an hour later, two more an hour after that: six down, but never four within the 60 s window, as the
    event rule counts them: each household's own ticket, no cut."""
    eng = make_engine()
    assert eng.observe_readings("olt-b", poll("olt-b", los("1/1/1", range(3))), T0) == []
    assert eng.observe_readings("olt-b", poll("olt-b", los("1/1/1", range(4))), T0 + H) == []
    assert eng.observe_readings("olt-b", poll("olt-b", los("1/1/1", range(6))), T0 + 2 * H) == []
    assert open_series(eng.families()) == []
    # a whole port going dark in one poll is a cut, whatever was down before
    [opened] = eng.observe_readings("olt-b", poll("olt-b", los("1/1/2", range(6))), T0 + 2 * H)
    assert (opened.kind, opened.pon_port, opened.onu_count) == ("feeder_cut", "1/1/2", 6)


def test_a_power_cut_present_at_the_first_poll_opens_when_the_olt_dates_it(
    make_engine: MakeIncidentEngine, network: Engine
) -> None:
    eng = make_engine()
    went = T0 - 2 * H
    state = {**gasps("0/1/0", range(3), went), **gasps("0/1/1", range(3), went + timedelta(seconds=90))}
    # two hours old already, but a power cut at the homes is never reportable (reporting.verdict)
    [opened] = eng.observe_readings("olt-a", poll("olt-a", state), T0)
    assert (opened.kind, opened.district, opened.affected_count) == ("power_outage", "chiyoda", 6)
    assert not eng.open_incidents()[0].reportable
    assert rows(network) == [("power_outage", "open", None, went, 6)]
    assert open_series(eng.families()) == [
        {"kind": "power_outage", "district": "chiyoda", "olt": "", "pon_port": "", "splitter": "", "scope": "district"}]


def test_dying_gasps_days_apart_or_without_a_time_are_no_power_cut_at_the_first_poll(
    make_engine: MakeIncidentEngine,
) -> None:
    eng = make_engine()
    apart = {("0/1/1", n): (False, "dying_gasp", T0 - n * 24 * H) for n in range(1, 8)}  # homes dark for days
    assert eng.observe_readings("olt-a", poll("olt-a", apart), T0) == []
    assert eng.observe_readings("olt-b", poll("olt-b", gasps("1/1/1", range(6), None)), T0) == []
    # the same ONUs of olt-b seen going down between two polls are a power cut (dated by the poll)
    assert eng.observe_readings("olt-b", poll("olt-b", {}), T0 + H) == []
    [opened] = eng.observe_readings("olt-b", poll("olt-b", gasps("1/1/1", range(6), None)), T0 + 2 * H)
    assert (opened.kind, opened.district) == ("power_outage", "oasa")


# ----------------------------------------------------------------------------------- restart and recovery
def test_a_restart_reloads_the_open_incident_and_never_opens_it_twice(
    make_engine: MakeIncidentEngine, network: Engine
) -> None:
    cut_at = T0 - timedelta(minutes=30)
    state = los("0/1/0", range(6), cut_at)
    first = make_engine()
    assert [c.change for c in first.observe_readings("olt-a", poll("olt-a", state), T0)] == ["opened"]
    del first
    second = make_engine()  # a new engine on the same database, its first poll a baseline again
    assert [(i.kind, i.pon_port) for i in second.open_incidents()] == [("feeder_cut", "0/1/0")]
    assert second.observe_readings("olt-a", poll("olt-a", state), T0 + H) == []
    assert [c.change for c in second.observe_readings("olt-a", poll("olt-a", state), T0 + 2 * H)] == ["reportable"]
    assert len(rows(network)) == 1
    assert len(open_series(second.families())) == 1
    # the fibre is spliced: the next poll shows the ONUs back and closes it
    [closed] = second.observe_readings("olt-a", poll("olt-a", {}), T0 + 3 * H)
    assert closed.change == "closed"
    assert rows(network) == [("feeder_cut", "closed", "0/1/0", cut_at, 6)]
    assert open_series(second.families()) == []
    third = make_engine()
    assert third.open_incidents() == [] and third.observe_readings("olt-a", poll("olt-a", {}), T0 + 4 * H) == []


def test_recovery_closes_the_incident_the_first_poll_opened(make_engine: MakeIncidentEngine, network: Engine) -> None:
    eng = make_engine()
    eng.observe_readings("olt-b", poll("olt-b", los("1/1/2", range(5))), T0)
    # three back: still open
    assert eng.observe_readings("olt-b", poll("olt-b", los("1/1/2", range(2))), T0 + timedelta(minutes=20)) == []
    assert len(eng.open_incidents()) == 1
    [closed] = eng.observe_readings("olt-b", poll("olt-b", {}), T0 + timedelta(minutes=40))
    assert closed.change == "closed" and closed.kind == "feeder_cut"
    assert rows(network) == [("feeder_cut", "closed", "1/1/2", T0, 5)]


# ----------------------------------------------------------------------------------- an OLT that does not answer
def test_an_unreachable_olt_is_an_incident_until_it_answers(make_engine: MakeIncidentEngine, network: Engine) -> None:
    eng = make_engine()
    assert eng.observe_readings("olt-b", poll("olt-b", {}), T0) == []
    assert eng.observe_readings("olt-b", scrape("olt-b", True, "zte_gpon"), T0) == []
    # one failed poll is a blip (a timeout on a busy OLT), and the next answer forgets it
    assert eng.observe_readings("olt-b", scrape("olt-b", False, "zte_gpon"), T0 + H / 4) == []
    assert eng.observe_readings("olt-b", scrape("olt-b", True, "zte_gpon"), T0 + H / 2) == []
    # two in a row are an incident, started at the first of them
    assert eng.observe_readings("olt-b", scrape("olt-b", False, "zte_gpon"), T0 + H) == []
    [opened] = eng.observe_readings("olt-b", scrape("olt-b", False, "zte_gpon"), T0 + H + H / 4)
    assert (opened.kind, opened.olt, opened.district) == ("olt_unreachable", "olt-b", "oasa")
    homes = sum(count for _district, count in LAYOUT["olt-b"].values())
    assert opened.affected_count == opened.onu_count == homes  # every home on it is dark to the poller
    assert open_series(eng.families()) == [
        {"kind": "olt_unreachable", "district": "oasa", "olt": "olt-b", "pon_port": "", "splitter": "", "scope": "olt"}]
    assert eng.observe_readings("olt-b", scrape("olt-b", False, "zte_gpon"), T0 + 2 * H) == []  # still one
    assert eng.observe_readings("olt-b", [], T0 + 2 * H) == []  # a failed module poll publishes nothing
    # an ONU alarm from a trap while the OLT is unreachable opens nothing of its own
    from .conftest import down

    assert eng.observe_many([down(T0 + 2 * H, "olt-b", "1/1/1", n) for n in range(6)]) == []
    [reportable, closed] = eng.observe_readings("olt-b", scrape("olt-b", True, "zte_gpon"), T0 + 3 * H)
    assert (reportable.change, closed.change, closed.kind) == ("reportable", "closed", "olt_unreachable")
    assert rows(network) == [("olt_unreachable", "closed", None, T0 + H, homes)]
    assert open_series(eng.families()) == []


def test_an_olt_unreachable_at_the_first_poll_opens_and_its_first_answer_closes(
    make_engine: MakeIncidentEngine, network: Engine
) -> None:
    eng = make_engine(unreachable_polls=1)  # configured to open on the first failed poll
    [opened] = eng.observe_readings("olt-a", scrape("olt-a", False), T0)
    assert opened.kind == "olt_unreachable"
    restarted = make_engine(unreachable_polls=1)  # reloaded, not opened twice
    assert restarted.observe_readings("olt-a", scrape("olt-a", False), T0 + H) == []
    # the OLT answers with a cut port: the unreachable incident closes and the cut opens in the same poll
    changes = restarted.observe_readings("olt-a", poll("olt-a", los("0/1/0", range(8), T0 + H / 2)), T0 + 2 * H)
    assert [(c.change, c.kind) for c in changes] == [
        ("reportable", "olt_unreachable"), ("closed", "olt_unreachable"), ("opened", "feeder_cut")]  # fmt: skip
    assert [(k, s, p) for k, s, p, _t, _n in rows(network)] == [
        ("olt_unreachable", "closed", None), ("feeder_cut", "open", "0/1/0")]  # fmt: skip


def test_an_unknown_target_or_another_module_failing_is_no_olt_incident(make_engine: MakeIncidentEngine) -> None:
    eng = make_engine()
    assert eng.observe_readings("school-01", scrape("school-01", False, "if_mib"), T0) == []
    fam = MetricFamily("ftthnoc_scrape_success", "")
    fam.add({"target": "olt-a", "module": "if_mib"}, 0.0)
    assert eng.observe_readings("olt-a", [fam], T0) == []


def test_a_poll_that_fails_although_the_olt_answers_is_no_unreachable_olt(make_engine: MakeIncidentEngine) -> None:
    """A poll that overran its bound on a busy poller (or got a malformed answer) reached the OLT: a failing
    poll for FtthnocPollFailing, not an outage of every home on the OLT."""
    eng = make_engine(unreachable_polls=1)
    assert eng.observe_readings("olt-a", scrape("olt-a", False, answered=True), T0) == []
    assert eng.observe_readings("olt-a", scrape("olt-a", False, answered=True), T0 + H) == []
    changes = eng.observe_readings("olt-a", scrape("olt-a", False), T0 + 2 * H)  # then it falls silent
    assert [(c.change, c.kind) for c in changes] == [("opened", "olt_unreachable")]


def test_a_failure_without_the_unanswered_family_counts_as_silence(make_engine: MakeIncidentEngine) -> None:
    """A report from before ftthnoc_scrape_unanswered existed (a recording, a replay) keeps its meaning."""
    eng = make_engine(unreachable_polls=1)
    [success, _unanswered] = scrape("olt-a", False)
    assert [(c.change, c.kind) for c in eng.observe_readings("olt-a", [success], T0)] == [
        ("opened", "olt_unreachable")]
