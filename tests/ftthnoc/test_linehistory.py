"""An ONU's week for the household page, read two ways that must agree: the in-process history fed by polls
(``PollHistory``: Poll objects as the poller publishes them, and real polls of the simulated town), and the
Prometheus HTTP API (``PrometheusHistory``) against a real Prometheus whose TSDB was backfilled with
``promtool tsdb create-blocks-from openmetrics``, and a real VictoriaMetrics fed through its import API.
A store that is not there is ``HistoryUnavailable`` with the reason, never another exception.

The memory bound of the README (7,000 ONUs) is measured here with tracemalloc.
"""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import tracemalloc
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from ftthnoc.consumers import Poll
from ftthnoc.linehistory import HOURS, STEP_SECONDS, HistoryUnavailable, PollHistory, PrometheusHistory
from ftthnoc.samples import MetricFamily
from tests.ports import free_port
from tests.provisioning.conftest import Env
from tests.provisioning.conftest import env as env
from tests.waiting import wait_until

ONU = {"olt": "chiyoda-olt1", "pon_port": "0/1/0", "onu_id": "7", "district": "chiyoda"}
#: The 7,000 ONUs of the README's bound, and the memory it states for them.
TOWN_ONUS = 7000
BOUND_BYTES = 16 * 1024 * 1024


def poll(at: datetime, up: float | None, rx: float | None, labels: dict[str, str] = ONU) -> Poll:
    fams = []
    for name, value in (("ftth_onu_up", up), ("ftth_onu_rx_power_dbm", rx)):
        fam = MetricFamily(name, "")
        if value is not None:
            fam.add(labels, value)
        fams.append(fam)
    return Poll("chiyoda-olt1", "huawei_gpon", fams, at)


def hour_start(at: datetime) -> datetime:
    return datetime.fromtimestamp(int(at.timestamp()) // STEP_SECONDS * STEP_SECONDS, UTC)


# ------------------------------------------------------------------------------------ the week itself
@dataclass(frozen=True)
class Week:
    """A known week for ONU 7: a reading every 5 minutes with Rx ``rx_at(t)``, down for one reading in each
    of three hours (``down_hours``), so three up->down transitions."""

    now: datetime
    down_hours: tuple[int, ...] = (20, 70, 150)  # hours before now

    def stamps(self) -> list[datetime]:
        # 7 s past each 5 minutes, as scrapes are: never on an hour's edge, which closed and half-open range
        # selectors (Prometheus 2 and 3, VictoriaMetrics) would count in different hours
        first = hour_start(self.now) - timedelta(hours=HOURS - 1) + timedelta(seconds=7)
        out, t = [], first
        while t <= self.now:
            out.append(t)
            t += timedelta(minutes=5)
        return out

    def up_at(self, t: datetime) -> bool:
        ago = int((hour_start(self.now) - hour_start(t)).total_seconds()) // STEP_SECONDS
        return not (ago in self.down_hours and t.minute == 30)

    @staticmethod
    def rx_at(t: datetime) -> float:
        # falls 0.01 dB an hour through the week, plus a 0.25 dB swing within each hour
        hours = t.timestamp() / STEP_SECONDS
        return round(-20.0 - 0.01 * (hours % 1000) - (0.25 if t.minute >= 30 else 0.0), 2)

    def expected(self) -> dict[datetime, tuple[float, float]]:
        lows: dict[datetime, list[float]] = {}
        for t in self.stamps():
            if self.up_at(t):
                lows.setdefault(hour_start(t), []).append(self.rx_at(t))
        return {h: (min(v), max(v)) for h, v in lows.items()}


@pytest.fixture(scope="module")
def week() -> Week:
    return Week(datetime.now(UTC) - timedelta(minutes=1))


def test_the_poll_history_keeps_hourly_low_high_and_counts_up_to_down(week: Week) -> None:
    history = PollHistory()
    for t in week.stamps():
        up = week.up_at(t)
        history.observe_poll(poll(t, 1.0 if up else 0.0, week.rx_at(t) if up else None))
    got = history.history("chiyoda-olt1", "0/1/0", 7, week.now)
    assert got.flaps == 3
    assert {h.at: (round(h.low, 2), round(h.high, 2)) for h in got.rx} == week.expected()
    assert [h.at for h in got.rx] == sorted(week.expected())
    assert got.start <= got.rx[0].at and got.rx[-1].at <= got.end
    # a week later every slot has aged out: nothing is reported for hours outside the window
    later = history.history("chiyoda-olt1", "0/1/0", 7, week.now + timedelta(days=8))
    assert later.rx == [] and later.flaps == 0
    assert history.history("chiyoda-olt1", "0/1/0", 8, week.now).flaps is None  # never seen


def test_the_poll_history_ignores_what_is_not_a_reading() -> None:
    history = PollHistory()
    now = datetime.now(UTC)
    history.observe_poll(poll(now, 1.0, float("nan")))
    history.observe_poll(poll(now, 1.0, -1e9))
    history.observe_poll(poll(now, 1.0, -21.5, {"olt": "chiyoda-olt1", "pon_port": "0/1/0", "onu_id": "x"}))
    history.observe_poll(poll(now, 1.0, -21.5, {"olt": "chiyoda-olt1"}))
    got = history.history("chiyoda-olt1", "0/1/0", 7, now)
    assert got.rx == [] and got.flaps == 0
    history.observe_poll(poll(now, 0.0, None))  # up before, down now: one transition; down again: none more
    history.observe_poll(poll(now, 0.0, None))
    assert history.history("chiyoda-olt1", "0/1/0", 7, now).flaps == 1
    other = {**ONU, "onu_id": "8"}
    history.observe_poll(poll(now, 0.0, None, other))  # first seen down: no transition seen
    history.observe_poll(poll(now, 0.0, None, other))
    assert history.history("chiyoda-olt1", "0/1/0", 8, now).flaps == 0


def test_the_poll_history_of_the_whole_town_stays_within_its_bound() -> None:
    """7,000 ONUs over more than a week of hours: memory is allocated when an ONU is first seen and never
    grows after (the README states the figure)."""
    labels = [{"olt": f"olt{i // 1400}", "pon_port": f"0/{(i // 128) % 16}/{i % 8}", "onu_id": str(i % 128)}
              for i in range(TOWN_ONUS)]  # fmt: skip

    def town_poll(at: datetime, k: int) -> Poll:
        up, rx = MetricFamily("ftth_onu_up", ""), MetricFamily("ftth_onu_rx_power_dbm", "")
        for i, lab in enumerate(labels):
            up.add(lab, 0.0 if (i + k) % 50 == 0 else 1.0)
            rx.add(lab, -18.0 - (i % 90) / 10)
        return Poll("town", "huawei_gpon", [up, rx], at)

    start = datetime(2026, 11, 1, tzinfo=UTC)
    gc.collect()
    tracemalloc.start()
    try:
        history = PollHistory()
        base = tracemalloc.get_traced_memory()[0]
        history.observe_poll(town_poll(start, 0))
        first = tracemalloc.get_traced_memory()[0] - base
        for k, hour in enumerate(range(1, HOURS + 30, 7)):  # past a whole ring of hours
            history.observe_poll(town_poll(start + timedelta(hours=hour), k))
        gc.collect()
        after = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert len(history) == len({(d["olt"], d["pon_port"], d["onu_id"]) for d in labels})
    print(f"PollHistory: {len(history)} ONUs hold {after / 2**20:.1f} MiB ({after / len(history):.0f} B each)")
    assert after <= BOUND_BYTES, f"{after} bytes for {len(history)} ONUs"
    assert after <= first * 1.05 + 64 * 1024, (first, after)  # no growth once every ONU is known


def test_the_poll_history_from_real_polls_of_the_simulated_town(env_polls: list[Poll]) -> None:
    """The families one real poll of the town's OLTs published: every ONU the poll reported is in the
    history, up ones with their Rx as the poll read it."""
    history = PollHistory()
    for p in env_polls:
        history.observe_poll(p)
    rx_families = [f for p in env_polls for f in p.families if f.name == "ftth_onu_rx_power_dbm"]
    readings = {(s.labels["olt"], s.labels["pon_port"], int(s.labels["onu_id"])): s.value
                for f in rx_families for s in f.samples}  # fmt: skip
    assert readings, "the simulated town's poll read no Rx"
    at = max(p.at for p in env_polls)
    for (olt, port, onu), rx in list(readings.items())[:50]:
        got = history.history(olt, port, onu, at)
        assert [(h.low, h.high) for h in got.rx] == [(round(rx, 2), round(rx, 2))]
        assert got.flaps == 0


@pytest.fixture(scope="module")
def env_polls(env: Env) -> list[Poll]:
    """One real poll of the simulated town (snmpsim agents on loopback, ``tests/provisioning/conftest.env``)
    through the fan-out the poller publishes to."""
    import asyncio
    import threading

    from collectors.runner import Poller
    from ftthnoc.consumers import Fanout

    polls: list[Poll] = []

    class Keep:
        def observe_poll(self, p: Poll) -> None:
            polls.append(p)

    fanout = Fanout([Keep()])
    poller = Poller(env.config, fanout.publish)
    thread = threading.Thread(target=lambda: asyncio.run(poller.run(asyncio.Event(), cycles=1)), name="poll-once")
    thread.start()
    thread.join()
    return polls


# ------------------------------------------------------------------------------ Prometheus HTTP API


def _openmetrics(week: Week) -> str:
    label = ",".join(f'{k}="{v}"' for k, v in ONU.items())
    up = [f"ftth_onu_up{{{label}}} {1 if week.up_at(t) else 0} {int(t.timestamp())}" for t in week.stamps()]
    rx = [f"ftth_onu_rx_power_dbm{{{label}}} {week.rx_at(t)} {int(t.timestamp())}"
          for t in week.stamps() if week.up_at(t)]  # fmt: skip
    return "\n".join(["# TYPE ftth_onu_up gauge", *up, "# TYPE ftth_onu_rx_power_dbm gauge", *rx, "# EOF", ""])


@pytest.fixture(scope="module")
def prometheus(week: Week, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus on loopback over a TSDB backfilled with the week."""
    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        pytest.skip("prometheus/promtool not installed (Debian package prometheus)")
    tmp = tmp_path_factory.mktemp("prom-history")
    source = tmp / "week.om"
    source.write_text(_openmetrics(week))
    done = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(source), str(tmp / "tsdb")],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (tmp / "prometheus.yml").write_text("global: {scrape_interval: 1m}\n")
    port = free_port()
    with (tmp / "prometheus.log").open("w") as log:
        proc = subprocess.Popen(["prometheus", f"--config.file={tmp / 'prometheus.yml'}",
                                 f"--storage.tsdb.path={tmp / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}",
                                 "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError((tmp / "prometheus.log").read_text()[-2000:])
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as r:
                return bool(r.status == 200)

        wait_until(ready, 60, "prometheus to be ready", retry_on=(OSError,))
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def victoriametrics(week: Week, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real VictoriaMetrics on loopback with the week imported (JSON lines, millisecond timestamps)."""
    from tests.exporters.influx.conftest import VictoriaMetrics

    binary = shutil.which("victoria-metrics")
    if binary is None:
        pytest.skip("victoria-metrics not installed (Debian package victoria-metrics)")
    tmp = tmp_path_factory.mktemp("vm-history")
    (tmp / "vm").mkdir()
    vm = VictoriaMetrics(binary, tmp / "vm")
    vm.start()
    try:
        lines = []
        ups = [(t, 1.0 if week.up_at(t) else 0.0) for t in week.stamps()]
        rxs = [(t, week.rx_at(t)) for t in week.stamps() if week.up_at(t)]
        for name, rows in (("ftth_onu_up", ups), ("ftth_onu_rx_power_dbm", rxs)):
            lines.append(json.dumps({"metric": {"__name__": name, **ONU}, "values": [v for _t, v in rows],
                                     "timestamps": [int(t.timestamp() * 1000) for t, _v in rows]}))  # fmt: skip
        request = urllib.request.Request(f"{vm.url}/api/v1/import", data="\n".join(lines).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=30) as r:
            assert r.status == 204
        with urllib.request.urlopen(f"{vm.url}/internal/force_flush", timeout=30):
            pass

        def landed() -> bool:
            reader = PrometheusHistory(vm.url)
            return reader.history("chiyoda-olt1", "0/1/0", 7, week.now).flaps == 3

        wait_until(landed, 30, "the week to be searchable in victoria-metrics", retry_on=(HistoryUnavailable,))
        yield vm.url
    finally:
        vm.stop()


def _agrees_with_the_week(url: str, week: Week) -> None:
    got = PrometheusHistory(url).history("chiyoda-olt1", "0/1/0", 7, week.now)
    assert got.flaps == 3
    expected = week.expected()
    hours = {h.at: (h.low, h.high) for h in got.rx}
    # every hour the store answers for is an hour of the week with its own low and high; the first may be
    # cut by the window's edge, so at least all but one are there
    assert len(hours) >= len(expected) - 1
    for at, (low, high) in hours.items():
        assert at in expected, at
        assert (round(low, 2), round(high, 2)) == expected[at], at
    assert got.source == "prometheus"


def test_the_prometheus_reader_agrees_with_the_week_in_prometheus(prometheus: str, week: Week) -> None:
    _agrees_with_the_week(prometheus, week)


def test_the_prometheus_reader_agrees_with_the_week_in_victoriametrics(victoriametrics: str, week: Week) -> None:
    _agrees_with_the_week(victoriametrics, week)


def test_an_onu_the_store_never_saw_has_no_history(prometheus: str, week: Week) -> None:
    got = PrometheusHistory(prometheus).history("chiyoda-olt1", "0/1/0", 99, week.now)
    assert got.rx == [] and got.flaps is None


def test_a_store_that_is_not_there_is_history_unavailable() -> None:
    port = free_port()  # nothing listens there now
    with pytest.raises(HistoryUnavailable, match=f"127.0.0.1:{port}"):
        PrometheusHistory(f"http://127.0.0.1:{port}", timeout=2).history("chiyoda-olt1", "0/1/0", 7)


def test_a_store_that_refuses_the_query_is_history_unavailable(prometheus: str) -> None:
    with pytest.raises(HistoryUnavailable, match="HTTP 404"):
        PrometheusHistory(f"{prometheus}/no-such-prefix").history("chiyoda-olt1", "0/1/0", 7)


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="http"):
        PrometheusHistory("file:///etc/passwd")


# ------------------------------------------------------------------------------ latest readings (shards' API)
def _latest_agrees_with_the_week(url: str, week: Week) -> None:
    """``PrometheusLatest``: the newest sample in the lookback with its own time, an Rx only from the same
    poll as the up/down reading, nothing older than the lookback, only the OLTs asked for."""
    from ftthnoc.livestore import LOOKBACK_SECONDS, PrometheusLatest

    store = PrometheusLatest(url)
    key = ("chiyoda-olt1", "0/1/0", 7)
    last = week.stamps()[-1]
    got = store.latest(["chiyoda-olt1"], last + timedelta(seconds=60))
    assert set(got) == {key}
    assert got[key].at == last.replace(microsecond=0) and got[key].age_seconds(last + timedelta(seconds=60)) == 60
    assert got[key].up is week.up_at(last) and got[key].rx_dbm == (week.rx_at(last) if week.up_at(last) else None)
    # a down reading: the Rx of the poll before it is the light level from before it went down, not now
    down = next(t for t in week.stamps() if not week.up_at(t))
    got = store.latest(["chiyoda-olt1"], down + timedelta(seconds=10))
    assert (got[key].up, got[key].rx_dbm, got[key].at) == (False, None, down.replace(microsecond=0))
    # older than the lookback: nothing; OLTs not asked for (a name that is a pattern of it too): nothing
    assert store.latest(["chiyoda-olt1"], last + timedelta(seconds=LOOKBACK_SECONDS + 60)) == {}
    assert store.latest(["oasa-olt1", "chiyoda.olt1"], last + timedelta(seconds=60)) == {}
    assert store.latest([], last) == {}


def test_the_latest_readings_from_prometheus(prometheus: str, week: Week) -> None:
    _latest_agrees_with_the_week(prometheus, week)


def test_the_latest_readings_from_victoriametrics(victoriametrics: str, week: Week) -> None:
    _latest_agrees_with_the_week(victoriametrics, week)


def test_a_store_that_is_not_there_has_no_latest_readings() -> None:
    from ftthnoc.livestore import PrometheusLatest

    port = free_port()
    with pytest.raises(HistoryUnavailable, match=f"127.0.0.1:{port}"):
        PrometheusLatest(f"http://127.0.0.1:{port}", timeout=2).latest(["chiyoda-olt1"])
    with pytest.raises(ValueError, match="http"):
        PrometheusLatest("file:///etc/passwd")
