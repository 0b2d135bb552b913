"""iperf3 as a subprocess: its JSON read, every failure turned into a one-line error stored as a failed
test (never a traceback), the schedule, and results kept while the database refuses them.

The real runs here go to an ``iperf3 -s`` on loopback only (the shaped links are in ``test_netns``)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from collectors.throughput import Iperf3Run, Schedule, ThroughputConfig, ThroughputTester, parse, run_iperf3
from collectors.throughput.tester import BUSY, MODULE
from ftthnoc.kpi.throughput import THROUGHPUT, ThroughputResult
from ftthnoc.samples import MetricFamily
from tests.collectors.throughput.lab import missing_tools
from tests.ports import free_port
from tests.waiting import wait_until


def report(bps: float) -> str:
    return json.dumps({"start": {}, "intervals": [], "end": {"sum_sent": {"bits_per_second": bps * 1.01},
                                                             "sum_received": {"bits_per_second": bps}}})


# ---------------------------------------------------------------------------------------- parsing
def test_the_receivers_total_is_the_figure() -> None:
    assert parse(report(191e6)) == (191e6, None)


@pytest.mark.parametrize(("stdout", "stderr", "rc", "words"), [
    (json.dumps({"start": {}, "end": {}, "error": "unable to connect to server: Connection refused"}), "", 1,
     "iperf3: unable to connect to server: Connection refused"),
    (json.dumps({"error": "the server is busy running a test. try again later"}), "", 1, "server is busy"),
    ("", "iperf3: parameter error - bad\nmore", 1, "iperf3 exited 1 without a JSON report: iperf3: parameter error"),
    ("Traceback (most recent call last):\n  garbage", "", 2, "without a JSON report"),
    (json.dumps({"end": {}}), "", 0, "no received total"),
    (report(1e6), "killed", -9, "iperf3 exited -9: killed"),
])  # fmt: skip
def test_every_failure_is_one_line(stdout: str, stderr: str, rc: int, words: str) -> None:
    bps, error = parse(stdout, stderr, rc)
    assert bps is None and error is not None and words in error and "\n" not in error


def test_the_command_line() -> None:
    run = Iperf3Run("192.0.2.10", 5202, streams=8, seconds=5, bind="10.0.0.5", command=("ssh", "probe@school"))
    down, up = run.argv("download"), run.argv("upload")
    assert down[:3] == ["ssh", "probe@school", "iperf3"] and "--reverse" in down and "--reverse" not in up
    assert down[down.index("--parallel") + 1] == "8" and down[down.index("--bind") + 1] == "10.0.0.5"
    assert "--json" in up and run.server == "192.0.2.10:5202" and "--bitrate" not in up
    capped = Iperf3Run("192.0.2.10", streams=4, bitrate_mbps=200).argv("upload")
    assert capped[capped.index("--bitrate") + 1] == "50000000"  # shared by the streams


# ------------------------------------------------------------------------------------- real failures
def test_an_unreachable_server_is_a_failed_test() -> None:
    if missing_tools():
        pytest.skip(missing_tools())
    run = Iperf3Run("127.0.0.1", free_port(), seconds=1, omit_seconds=0, connect_timeout_seconds=2)
    r = asyncio.run(run_iperf3(run, "es-1", "download"))
    assert not r.ok and r.bits_per_second is None and r.error is not None and "Connection refused" in r.error


def test_iperf3_not_installed_is_a_failed_test() -> None:
    r = asyncio.run(run_iperf3(Iperf3Run("127.0.0.1", iperf3="/nonexistent/iperf3"), "es-1", "upload"))
    assert not r.ok and r.error == "cannot start /nonexistent/iperf3: No such file or directory"


def test_a_run_that_hangs_is_killed_and_a_failed_test() -> None:
    # the probe point's prefix hangs (an ssh that never answers): the run's own time bound ends it
    run = Iperf3Run("127.0.0.1", seconds=1, omit_seconds=0, connect_timeout_seconds=0.5, margin_seconds=0.5,
                    command=("sh", "-c", "sleep 60", "--"))
    r = asyncio.run(run_iperf3(run, "es-1", "download"))
    assert not r.ok and r.error == "iperf3 did not finish within 2 s"


# -------------------------------------------------------------------------------------- scheduling
def jst(day: int, hour: int, minute: int = 0) -> datetime:
    from ftthnoc.timezone import JST

    return datetime(2026, 12, day, hour, minute, tzinfo=JST)  # 7 Dec 2026 is a Monday


def test_class_hours_in_jst() -> None:
    s = Schedule()
    assert s.open_at(jst(7, 9)) and s.open_at(jst(11, 14, 59)) and s.open_at(datetime(2026, 12, 7, 3, tzinfo=UTC))
    assert not s.open_at(jst(7, 8, 59)) and not s.open_at(jst(7, 15)) and not s.open_at(jst(12, 10))  # a Saturday
    with pytest.raises(ValueError, match="after its start"):
        Schedule(start="15:00", end="09:00")  # type: ignore[arg-type]


def test_each_school_is_due_once_per_interval_inside_its_window() -> None:
    config = ThroughputConfig.model_validate({
        "server": "192.0.2.10", "schedule": {"every_minutes": 30},
        "schools": {"es-1": {}, "es-2": {"server": "192.0.2.11:5300", "schedule": {"start": "13:00", "end": "14:00"}}},
    })  # fmt: skip
    tester = ThroughputTester(config)
    assert tester.due(jst(7, 10)) == ["es-1"]
    assert tester.due(jst(7, 13)) == ["es-1", "es-2"]
    tester._attempted["es-1"] = jst(7, 13)
    assert tester.due(jst(7, 13, 29)) == ["es-2"] and tester.due(jst(7, 13, 30)) == ["es-1", "es-2"]
    assert config.run_for("es-2").server == "192.0.2.11:5300" and config.run_for("es-1").port == 5201
    with pytest.raises(ValueError, match="port"):
        ThroughputConfig.model_validate({"server": "192.0.2.10:99999"})


# --------------------------------------------------------------------------- real runs on loopback
@pytest.fixture
def loopback_server() -> Iterator[int]:
    if missing_tools():
        pytest.skip(missing_tools())
    port = free_port()
    proc = subprocess.Popen(["iperf3", "--server", "--bind", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def listening() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0 or proc.poll() is not None

    try:
        # a bare connect would be taken for a test by iperf3 -s: look at the listening sockets instead
        wait_until(lambda: proc.poll() is not None or f":{port}" in subprocess.run(
            ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=False).stdout, 10.0,
            "iperf3 -s on loopback")  # fmt: skip
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


def test_a_school_test_publishes_and_stores_both_directions(loopback_server: int) -> None:
    config = ThroughputConfig.model_validate({"server": f"127.0.0.1:{loopback_server}", "streams": 2,
                                              "seconds": 1, "omit_seconds": 0, "schools": {"es-1": {}}})
    stored: list[ThroughputResult] = []
    published: list[tuple[str, str, list[MetricFamily]]] = []
    tester = ThroughputTester(config, record=stored.extend)
    results = asyncio.run(tester.test_school("es-1", lambda t, m, f: published.append((t, m, f))))
    assert [(r.direction, r.ok) for r in results] == [("download", True), ("upload", True)]
    assert all(r.bits_per_second and r.bits_per_second > 1e6 for r in results)
    assert stored == results and tester.pending == []
    (target, module, families), = published
    assert (target, module) == ("es-1", MODULE)
    rate = next(f for f in families if f.name == THROUGHPUT)
    assert {s.labels["direction"] for s in rate.samples} == {"download", "upload"}


def test_results_wait_for_a_database_that_refuses_them(loopback_server: int) -> None:
    config = ThroughputConfig.model_validate({"server": f"127.0.0.1:{loopback_server}", "streams": 1,
                                              "seconds": 1, "omit_seconds": 0, "schools": {"es-1": {}}})
    stored: list[ThroughputResult] = []
    refusing = {"on": True}

    def record(results: list[ThroughputResult]) -> Any:
        if refusing["on"]:
            raise OSError("database is away")
        stored.extend(results)

    tester = ThroughputTester(config, record=record)
    first = asyncio.run(tester.test_school("es-1"))
    assert stored == [] and tester.pending == first
    refusing["on"] = False
    second = asyncio.run(tester.test_school("es-1"))
    assert stored == first + second and tester.pending == []  # nothing measured was lost


def test_a_server_busy_with_another_client_is_tried_again(loopback_server: int) -> None:
    """iperf3 -s serves one client at a time: a school's test that finds it busy waits (``BUSY_WAITS``) and
    measures once the other client is done, instead of storing "the server is busy" as the school's figure."""
    other = subprocess.Popen(["iperf3", "--client", "127.0.0.1", "--port", str(loopback_server), "--time", "4"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: other.poll() is not None or bool(subprocess.run(
            ["ss", "-Htn", "state", "established", f"sport = :{loopback_server}"], capture_output=True, text=True,
            check=False).stdout.strip()), 10.0, "the other client to hold the server")  # fmt: skip
        busy = asyncio.run(run_iperf3(Iperf3Run("127.0.0.1", loopback_server, streams=1, seconds=1, omit_seconds=0),
                                      "es-1", "download", datetime.now(UTC)))
        config = ThroughputConfig.model_validate({"server": f"127.0.0.1:{loopback_server}", "streams": 1,
                                                  "seconds": 1, "omit_seconds": 0, "schools": {"es-1": {}}})
        results = asyncio.run(ThroughputTester(config).test_school("es-1"))
    finally:
        other.wait(30)
    assert not busy.ok and BUSY in (busy.error or ""), busy  # the other client really held the server
    assert [(r.direction, r.ok) for r in results] == [("download", True), ("upload", True)], results
