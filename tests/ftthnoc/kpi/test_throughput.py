"""The MEXT verdict reads the latest measured throughput test, never utilisation: met, not met with the
gap, no test, and a failed test after a good one (stored, shown, not a verdict of its own)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ftthnoc.inventory import db
from ftthnoc.kpi import figures, throughput
from ftthnoc.kpi.models import SchoolThroughputTest
from ftthnoc.kpi.throughput import ThroughputResult
from tests.ftthnoc.kpi.test_figures import NOW
from tests.ftthnoc.kpi.test_figures import engine as engine

# es-1: 250 pupils, 382.5 Mbps; es-2: 40 pupils, 108 Mbps


def result(school: str, direction: str, mbps: float | None, minutes: int = 0,
           error: str | None = None) -> ThroughputResult:  # fmt: skip
    return ThroughputResult(school, direction, NOW + timedelta(minutes=minutes), "192.0.2.10:5201", 4, 10.0,  # type: ignore[arg-type]
                            None if mbps is None else mbps * 1e6, error)  # fmt: skip


def rows(engine: Engine, peaks: dict[str, float] | None = None) -> dict[str, dict[str, object]]:
    with db.session_scope(engine) as s:
        return {r["school"]: r for r in figures.school_bandwidth(s, peaks)}


def test_no_test_means_no_verdict_even_with_a_utilisation_peak(engine: Engine) -> None:
    got = rows(engine, {"es-1": 900.0})
    assert got["es-1"]["meets"] is None and got["es-1"]["measured_mbps"] is None and got["es-1"]["gap_mbps"] is None
    assert got["es-1"]["peak_mbps"] == 900.0 and got["es-1"]["last_failure"] is None


def test_met_and_not_met_with_the_gap(engine: Engine) -> None:
    throughput.record(engine, [result("es-1", "download", 190.04), result("es-1", "upload", 180.0),
                               result("es-2", "download", 120.0), result("es-2", "upload", 95.0)])
    got = rows(engine, {"es-1": 20.0})  # a quiet uplink says nothing about what it can carry
    assert (got["es-1"]["measured_mbps"], got["es-1"]["meets"], got["es-1"]["gap_mbps"]) == (190.0, False, 192.5)
    assert got["es-1"]["upload_mbps"] == 180.0 and got["es-1"]["measured_at"] == NOW
    assert (got["es-1"]["streams"], got["es-1"]["test_seconds"], got["es-1"]["server"]) == (4, 10.0, "192.0.2.10:5201")
    assert (got["es-2"]["measured_mbps"], got["es-2"]["meets"], got["es-2"]["gap_mbps"]) == (120.0, True, 0.0)


def test_the_latest_test_decides(engine: Engine) -> None:
    throughput.record(engine, [result("es-2", "download", 50.0), result("es-2", "download", 150.0, minutes=60)])
    assert rows(engine)["es-2"]["measured_mbps"] == 150.0
    throughput.record(engine, [result("es-2", "download", 80.0, minutes=120)])
    assert (rows(engine)["es-2"]["measured_mbps"], rows(engine)["es-2"]["gap_mbps"]) == (80.0, 28.0)


def test_a_failed_test_is_stored_and_shown_but_the_last_measurement_stands(engine: Engine) -> None:
    throughput.record(engine, [result("es-2", "download", 150.0)])
    throughput.record(engine, [result("es-2", "download", None, minutes=60, error="iperf3: unable to connect to "
                                                                                  "server: Connection refused")])
    got = rows(engine)["es-2"]
    assert got["measured_mbps"] == 150.0 and got["meets"] is True
    failure = got["last_failure"]
    assert isinstance(failure, dict) and failure["direction"] == "download"
    assert failure["at"] == NOW + timedelta(minutes=60) and "Connection refused" in failure["error"]
    with db.session_scope(engine) as s:
        assert s.scalar(select(func.count(SchoolThroughputTest.id))) == 2  # nothing lost, the failure included


def test_only_failures_give_no_verdict_and_say_why(engine: Engine) -> None:
    throughput.record(engine, [result("es-1", "upload", None, error="x" * 1000 + "\nTraceback")])
    got = rows(engine)["es-1"]
    assert got["meets"] is None and got["measured_mbps"] is None
    failure = got["last_failure"]
    assert isinstance(failure, dict) and len(failure["error"]) == throughput.ERROR_CHARS  # one clipped line
    assert "\n" not in failure["error"]


def test_gauges_carry_school_and_direction_only() -> None:
    fams = {f.name: f for f in throughput.throughput_families(
        [result("es-1", "download", 190.0), result("es-1", "upload", None, error="refused")])}
    rate = fams[throughput.THROUGHPUT]
    assert [(dict(s.labels), s.value) for s in rate.samples] == [({"school": "es-1", "direction": "download"}, 190e6)]
    assert [s.value for s in fams[throughput.SUCCESS].samples] == [1.0, 0.0]
    assert {s.value for s in fams[throughput.TIMESTAMP].samples} == {NOW.timestamp()}
