"""Fault classes from the modules' cause labels and from events; events from consecutive polls.

A vendor's raw codes become labels in its pack (the module's enum, the trap rules' causes), never here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ftthnoc.events import DeviceEvent
from ftthnoc.incidents.classify import (
    PollDiffer,
    classify_event,
    classify_label,
    read_onus,
)
from ftthnoc.samples import MetricFamily

T0 = datetime(2026, 8, 10, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("label", "want"),
    [("dying_gasp", "dying_gasp"), ("los", "los"), ("losi_lobi", "los"), ("LOS", "los"), ("lofi", "other"),
     ("reset", "other"), ("", "other"), (None, "other")],
)  # fmt: skip
def test_module_labels(label: str | None, want: str) -> None:
    assert classify_label(label) == want


def test_event_cause_wins_then_detail_then_other() -> None:
    assert classify_event(DeviceEvent(T0, "x", "onu_down", cause="dying_gasp", detail={"cause": "los"})) == "dying_gasp"
    assert classify_event(DeviceEvent(T0, "x", "onu_down", detail={"cause": "losi_lobi"})) == "los"
    assert classify_event(DeviceEvent(T0, "x", "onu_down")) == "other"


def poll(olt: str, state: dict[tuple[str, str], tuple[int, str | None]]) -> list[MetricFamily]:
    """Families as the huawei_gpon/zte_gpon modules produce them: (up, cause label) per ONU."""
    up = MetricFamily("ftth_onu_up", "")
    cause = MetricFamily("ftth_onu_last_down_cause", "", "info")
    for (port, onu), (value, label) in state.items():
        labels = {"olt": olt, "pon_port": port, "onu_id": onu, "district": "chiyoda"}
        up.add(labels, value)
        if label is not None:
            cause.add({**labels, "cause": label}, 1)
    return [up, cause]


def test_first_poll_is_a_baseline_then_changes_become_events() -> None:
    differ = PollDiffer()
    first = {("0/1/0", "0"): (1, None), ("0/1/0", "1"): (0, "los"), ("0/1/0", "2"): (1, "dying_gasp")}
    assert differ.diff("olt", poll("olt", first), T0) == []
    second = {("0/1/0", "0"): (0, "dying_gasp"), ("0/1/0", "1"): (1, "los"), ("0/1/0", "2"): (0, "losi_lobi")}
    events = differ.diff("olt", poll("olt", second), T0 + timedelta(minutes=5))
    assert [(e.kind, e.onu_id, e.cause) for e in events] == [
        ("onu_down", "0", "dying_gasp"),
        ("onu_up", "1", None),
        ("onu_down", "2", "los"),
    ]
    assert all(e.at == T0 + timedelta(minutes=5) and e.olt == "olt" and e.pon_port == "0/1/0" for e in events)
    assert events[0].detail == {"via": "poll", "district": "chiyoda", "cause_label": "dying_gasp"}


def test_a_failed_poll_is_not_every_onu_gone() -> None:
    differ = PollDiffer()
    differ.diff("olt", poll("olt", {("0/1/0", "0"): (1, None)}), T0)
    assert read_onus("olt", []) is None
    assert differ.diff("olt", [], T0 + timedelta(minutes=5)) == []
    assert differ.diff("olt", [MetricFamily("ftth_onu_up", "")], T0 + timedelta(minutes=5)) == []
    # the ONU is still remembered as up: its next real change is an event
    events = differ.diff("olt", poll("olt", {("0/1/0", "0"): (0, "los")}), T0 + timedelta(minutes=10))
    assert [(e.kind, e.cause) for e in events] == [("onu_down", "los")]


def test_onus_missing_from_a_poll_or_new_make_no_event() -> None:
    differ = PollDiffer()
    differ.diff("olt", poll("olt", {("0/1/0", "0"): (1, None), ("0/1/0", "1"): (1, None)}), T0)
    # ONU 1 not listed, ONU 5 listed for the first time while down
    events = differ.diff("olt", poll("olt", {("0/1/0", "0"): (1, None), ("0/1/0", "5"): (0, "los")}), T0)
    assert events == []


def test_down_without_a_cause_is_other_and_events_are_in_numeric_order() -> None:
    differ = PollDiffer()
    state = {(f"0/1/{p}", str(o)): (1, None) for p in (2, 10) for o in (2, 10)}
    differ.diff("olt", poll("olt", state), T0)
    events = differ.diff("olt", poll("olt", {k: (0, None) for k in state}), T0)
    assert [(e.pon_port, e.onu_id) for e in events] == [("0/1/2", "2"), ("0/1/2", "10"), ("0/1/10", "2"),
                                                         ("0/1/10", "10")]  # fmt: skip
    assert {e.cause for e in events} == {"other"}


def test_other_olts_samples_are_ignored() -> None:
    fams = poll("other-olt", {("0/1/0", "0"): (1, None)})
    assert read_onus("olt", fams) == {}
