"""The writer against a real VictoriaMetrics over HTTP: exact round trips, outages, crashes, the spool
bound, rejected batches and a hanging server. No mock of the server or of influxdb-client; the small
HTTP servers in conftest stand in only for answers VictoriaMetrics never gives (400, 401) or for a
server that hangs."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporters.influx import InfluxWriter, PointEncoder, Spool
from ftthnoc.samples import MetricFamily

from .conftest import (
    BASE_NS,
    HangingServer,
    MiniInflux,
    RecordingProxy,
    StartVM,
    VictoriaMetrics,
    onu_families,
    poll_ns,
    timestamps_of,
    wait_for,
)

FAST = {"flush_interval": 0.02, "backoff_initial": 0.05, "backoff_max": 0.2, "timeout": 2.0}


@pytest.fixture
def writers() -> Iterator[list[InfluxWriter]]:
    made: list[InfluxWriter] = []
    yield made
    for w in made:
        w.close(1)


def make(writers: list[InfluxWriter], url: str, spool: Path, **kw: object) -> InfluxWriter:
    w = InfluxWriter(url, "ftthnoc", "ftthnoc", "", spool, **{**FAST, **kw})  # type: ignore[arg-type]
    writers.append(w)
    return w


def ms(i: int) -> int:
    return poll_ns(i) // 1_000_000


def assert_each_poll_once(vm: VictoriaMetrics, name: str, n_series: int, polls: range | list[int]) -> None:
    """Every series of ``name`` holds exactly the given polls, once each, with their values."""
    series = {k: v for k, v in vm.series(f'{{__name__="{name}"}}').items()}
    assert len(series) == n_series
    for (_, labels), samples in series.items():
        onu = int(dict(labels)["onu_id"])
        assert [t for t, _ in samples] == [ms(i) for i in polls]
        assert [v for _, v in samples] == [round(-20.0 - onu * 0.01 - i * 0.001, 3) for i in polls]


# --------------------------------------------------------------------------- round trip
def test_every_value_is_read_back_exactly(vm: VictoriaMetrics, tmp_path: Path, writers: list[InfluxWriter]) -> None:
    w = make(writers, vm.url, tmp_path / "spool", batch_size=7)
    written: list[tuple[str, dict[str, str], float, int]] = []  # (name in VictoriaMetrics, labels, value, ts)
    for poll in range(3):
        fams = onu_families("chiyoda-olt1", 5, poll, district="千代田") + onu_families("oasa-olt1", 4, poll, "大朝")
        octets = MetricFamily("ifHCInOctets", "octets", "counter")
        octets.add({"device": "chiyoda-olt1", "ifIndex": "4194312448", "ifName": "GPON 0/1/0",
                    "ifAlias": "千代田 幹線, 北"}, 98765432109 + poll)
        bias = MetricFamily("ftth_pon_port_bias_current_amperes", "bias")
        # readings as devices give them (VictoriaMetrics keeps ~15 significant digits, not 0.004699999999999999)
        bias.add({"olt": "chiyoda-olt1", "pon_port": "0/1/0", "district": "千代田"}, round(0.0045 + poll / 10000, 6))
        fams += [octets, bias]
        w.write(fams, poll_ns(poll))
        for f in fams:
            name = ("snmp_" + f.name) if f.name.startswith("if") else f.name
            for s in f.samples:
                written.append((name, dict(s.labels), 1.0 if f.type == "info" else float(s.value), ms(poll)))
    assert w.flush(10)
    stored = vm.series()
    expected: dict[tuple[str, frozenset[tuple[str, str]]], list[tuple[int, float]]] = {}
    for name, labels, value, ts in written:
        expected.setdefault((name, frozenset(labels.items())), []).append((ts, value))
    assert stored == expected  # names, Japanese and escaped label values, every value, every timestamp
    assert w.written_points == 3 * (9 * 2 + 2) and w.up == 1
    assert w.errors == {"connection": 0, "server": 0, "rejected": 0}


def test_self_metrics_are_neutral_families(tmp_path: Path, writers: list[InfluxWriter]) -> None:
    w = make(writers, "http://127.0.0.1:9", tmp_path / "spool")
    fams = {f.name: f for f in w.families()}
    assert {n: f.type for n, f in fams.items()} == {
        "ftthnoc_influx_spool_bytes": "gauge", "ftthnoc_influx_spool_dropped_points_total": "counter",
        "ftthnoc_influx_written_points_total": "counter", "ftthnoc_influx_write_errors_total": "counter",
        "ftthnoc_influx_queue_points": "gauge", "ftthnoc_influx_up": "gauge"}
    assert [s.labels["kind"] for s in fams["ftthnoc_influx_write_errors_total"].samples] == [
        "connection", "server", "rejected"]
    assert fams["ftthnoc_influx_up"].samples[0].value == 0  # nothing written yet


# --------------------------------------------------------------------------- outages
def test_server_killed_during_writes(start_vm: StartVM, tmp_path: Path, writers: list[InfluxWriter]) -> None:
    """SIGKILL the server for a while: every poll arrives once, in the order written."""
    vm = start_vm()
    proxy = RecordingProxy(lambda: vm.url)
    try:
        w = make(writers, proxy.url, tmp_path / "spool", batch_size=100)
        onus = 10
        for i in range(5):
            w.write(onu_families("chiyoda-olt2", onus, i), poll_ns(i))
        assert w.flush(10)
        vm.persist()  # what VictoriaMetrics acknowledged before the kill is on its disk (see conftest)
        vm.kill()
        for i in range(5, 25):  # the poller goes on during the outage
            w.write(onu_families("chiyoda-olt2", onus, i), poll_ns(i))
            time.sleep(0.02)
        wait_for(lambda: w.queue_points() == 0 and len(w.spool) > 0, what="the outage's batches in the spool")
        assert w.up == 0 and w.errors["connection"] > 0
        time.sleep(0.3)
        vm.start()  # same port, same data path
        for i in range(25, 30):
            w.write(onu_families("chiyoda-olt2", onus, i), poll_ns(i))
        assert w.flush(15)
        assert w.up == 1 and w.spool.size_bytes == 0 and w.errors["rejected"] == 0
    finally:
        proxy.close()
    assert_each_poll_once(vm, "ftth_onu_rx_power_dbm", onus, range(30))
    delivered = [ts for body in proxy.acked for ts in timestamps_of(body)]
    assert delivered == sorted(delivered)  # in order
    assert Counter(delivered) == {poll_ns(i): 2 * onus for i in range(30)}  # once: one line per ONU + info line
    assert w.written_points == 30 * 2 * onus


def test_writer_killed_during_outage_replays_after_restart(start_vm: StartVM, tmp_path: Path,
                                                           writers: list[InfluxWriter]) -> None:
    """ftthnoc SIGKILLed while the server is down: the next start replays its spool, each point once."""
    vm = start_vm()
    vm.kill()
    spool = tmp_path / "spool"
    polls, onus = 12, 8
    child = subprocess.Popen([sys.executable, "-m", "tests.exporters.influx.spool_child", vm.url, str(spool),
                              str(polls), str(onus), str(BASE_NS)], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).parents[3])
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == f"SPOOLED {polls * onus}"
    finally:
        child.kill()  # SIGKILL: no close(), no flush, no atexit
        child.wait(10)
    vm.start()
    w = make(writers, vm.url, spool)
    assert w.spool.points == polls * onus  # read at start-up
    assert w.flush(10)
    assert not list(spool.glob("*.seg"))
    series = vm.series('{__name__="ftth_onu_rx_power_dbm"}')
    assert len(series) == onus
    for (_, labels), samples in series.items():
        assert dict(labels)["district"] == "芸北"
        onu = int(dict(labels)["onu_id"])
        assert samples == [(ms(i), round(-20.0 - onu * 0.01 - i * 0.001, 3)) for i in range(polls)]


def test_spool_bound_drops_oldest_and_counts(start_vm: StartVM, tmp_path: Path, writers: list[InfluxWriter]) -> None:
    vm = start_vm()
    vm.kill()
    spool_dir = tmp_path / "spool"
    bound = 4000
    w = make(writers, vm.url, spool_dir, spool_max_bytes=bound, backoff_initial=30, backoff_max=30)
    onus = 10
    for i in range(20):
        w.write(onu_families("toyohira-olt1", onus, i), poll_ns(i))
        wait_for(lambda: w.queue_points() == 0, what="the poll in the spool")
        assert w.spool.size_bytes <= bound
        assert sum(p.stat().st_size for p in spool_dir.glob("*.seg")) <= bound
    dropped = {f.name: f.samples[0].value for f in w.families()}["ftthnoc_influx_spool_dropped_points_total"]
    assert dropped > 0 and dropped == w.dropped_points
    assert dropped + w.spool.points == 20 * 2 * onus  # every point either waits or was counted
    kept = w.spool.points // (2 * onus)
    w.close(1)
    vm.start()
    w2 = make(writers, vm.url, spool_dir, spool_max_bytes=bound)
    assert w2.flush(10)
    assert_each_poll_once(vm, "ftth_onu_rx_power_dbm", onus, range(20 - kept, 20))  # the newest polls survive


def test_replayed_batch_is_stored_once(start_vm: StartVM, tmp_path: Path, writers: list[InfluxWriter]) -> None:
    """A batch sent again (answer lost, or a crash between the 2xx and the delete) overwrites itself.

    Points carry the poll time, so a re-sent batch repeats identical (series, timestamp) pairs: InfluxDB
    overwrites them, and so does VictoriaMetrics with -dedup.minScrapeInterval. Without that flag it
    keeps both copies, which is why the README asks for it.
    """
    dedup, plain = start_vm(dedup=True), start_vm(dedup=False)
    onus = 6
    body = "\n".join(PointEncoder().encode(onu_families("oasa-olt1", onus, 0), poll_ns(0)).lines).encode()
    for vm in (dedup, plain):
        spool_dir = tmp_path / f"spool-{vm.port}"
        w = make(writers, vm.url, spool_dir)
        w.write(onu_families("oasa-olt1", onus, 0), poll_ns(0))
        assert w.flush(10)
        w.close(1)
        with Spool(spool_dir, 1 << 20) as spool:
            spool.append(body, 2 * onus)  # the same batch, still in the spool
        w = make(writers, vm.url, spool_dir)
        assert w.flush(10) and w.written_points == 2 * onus
    assert_each_poll_once(dedup, "ftth_onu_rx_power_dbm", onus, [0])
    twice = plain.series('{__name__="ftth_onu_rx_power_dbm"}')
    assert {len(v) for v in twice.values()} == {2}


# --------------------------------------------------------------------------- refusals and hangs
def test_rejected_batch_is_set_aside_and_does_not_block(mini_influx: MiniInflux, tmp_path: Path,
                                                        writers: list[InfluxWriter],
                                                        caplog: pytest.LogCaptureFixture) -> None:
    mini_influx.answer = lambda body: 400 if b"poison" in body else 204
    w = make(writers, mini_influx.url, tmp_path / "spool")
    w.write(onu_families("poison", 2, 0), poll_ns(0))
    wait_for(lambda: w.errors["rejected"] == 1, what="the 400")
    w.write(onu_families("good", 2, 1), poll_ns(1))
    assert w.flush(5)
    assert w.up == 1 and len(mini_influx.accepted()) == 1 and b"good" in mini_influx.accepted()[0]
    rejected = list((tmp_path / "spool" / "rejected").glob("*.lp"))
    assert len(rejected) == 1
    text = rejected[0].read_text()
    assert text.startswith("# HTTP 400: partial write: field type conflict") and "olt=poison" in text
    lines = [r.getMessage() for r in caplog.records if "rejected a batch" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0]

    # the same inside a replay: good, poison, good spooled during an outage; the poison does not stop the rest
    mini_influx.answer = lambda body: 503
    for i, olt in enumerate(("good1", "poison", "good2"), start=2):
        w.write(onu_families(olt, 2, i), poll_ns(i))
        wait_for(lambda: w.queue_points() == 0, what="the batch in the spool")
        time.sleep(0.05)
    assert len(w.spool) >= 2 and w.errors["server"] >= 1
    mini_influx.answer = lambda body: 400 if b"poison" in body else 204
    assert w.flush(5)
    accepted = [b for b in mini_influx.accepted() if b"good" in b]
    assert [b"good1" in accepted[1], b"good2" in accepted[-1]] == [True, True]
    assert w.errors["rejected"] == 2 and w.up == 1 and len(w.spool) == 0


def test_wrong_token_is_retried_not_thrown_away(mini_influx: MiniInflux, tmp_path: Path,
                                                writers: list[InfluxWriter]) -> None:
    answers = iter([401, 401])
    mini_influx.answer = lambda body: next(answers, 204)
    w = make(writers, mini_influx.url, tmp_path / "spool")
    w.write(onu_families("chiyoda-olt1", 3, 0), poll_ns(0))
    assert w.flush(5)
    assert w.errors == {"connection": 0, "server": 2, "rejected": 0}
    assert len(mini_influx.accepted()) == 1


def test_write_never_blocks_on_a_hanging_server(hanging_server: HangingServer, vm: VictoriaMetrics,
                                                tmp_path: Path, writers: list[InfluxWriter]) -> None:
    spool_dir = tmp_path / "spool"
    w = make(writers, hanging_server.url, spool_dir, timeout=1.0)
    onus = 50
    w.write(onu_families("hang-olt", onus, 0), poll_ns(0))
    wait_for(lambda: w._inflight is not None, what="a request in flight")
    slowest = 0.0
    for i in range(1, 40):
        fams = onu_families("hang-olt", onus, i)
        t0 = time.perf_counter()
        w.write(fams, poll_ns(i))
        slowest = max(slowest, time.perf_counter() - t0)
    assert slowest < 0.05
    assert w.queue_points() >= 40 * onus * 2 - 100  # all waiting in memory, nothing lost
    t0 = time.perf_counter()
    w.close(timeout=0.3)  # the request still hangs: close spools everything itself
    assert time.perf_counter() - t0 < 1.0
    with Spool(spool_dir, 1 << 30) as spool:
        assert spool.points == 40 * onus * 2
    w2 = make(writers, vm.url, spool_dir)
    assert w2.flush(10)
    assert_each_poll_once(vm, "ftth_onu_rx_power_dbm", onus, range(40))


# --------------------------------------------------------------------------- configuration
def test_from_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ftthnoc.settings import Settings

    assert InfluxWriter.from_settings(Settings()) is None  # no URL: no writer
    monkeypatch.setenv("FTTHNOC_INFLUX_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("FTTHNOC_INFLUX_TOKEN", "s3cret-token")
    monkeypatch.setenv("FTTHNOC_INFLUX_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("FTTHNOC_INFLUX_BATCH_SIZE", "123")
    settings = Settings()
    assert "s3cret-token" not in repr(settings)
    w = InfluxWriter.from_settings(settings)
    assert w is not None
    try:
        assert (w.batch_size, w.spool.directory, w.bucket) == (123, tmp_path / "spool", "ftthnoc")
    finally:
        w.close(1)


def test_password_in_url_is_never_logged(tmp_path: Path, writers: list[InfluxWriter],
                                        caplog: pytest.LogCaptureFixture) -> None:
    w = make(writers, "http://noc:hunter2@127.0.0.1:9", tmp_path / "spool")
    w.write(onu_families("chiyoda-olt1", 1, 0), poll_ns(0))
    wait_for(lambda: w.errors["connection"] > 0, what="a failed attempt")
    assert "127.0.0.1:9" in caplog.text and "hunter2" not in caplog.text
