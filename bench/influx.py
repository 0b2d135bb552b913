"""Benchmark: points per second through ``InfluxWriter`` against influxdb-client's own batching writer.

Why it exists: every poll of the town goes to the time-series server through ftthnoc's writer, which
adds encoding (families → line protocol), batching in a thread, and the spool logic on top of
influxdb-client. This measures what that costs against the plainest fast use of the library, so that
whoever changes the writer sees when it becomes the bottleneck. Goal: ≥ 0.8× the reference rate.

What runs, side by side on the same machine against the same VictoriaMetrics process:

* **ftthnoc**: ``InfluxWriter.write(families, poll_time)`` for each poll of the 7,000-ONU simulated
  town (the families the poller publishes per OLT and module, built from the ``Town`` model without
  SNMP), then ``flush()`` until the server acknowledged every point. Encoding is inside the timing.
* **reference**: influxdb-client's ``WriteApi`` with ``WriteOptions(batch_size, flush_interval)`` (its
  reactivex batching) fed the *same points already as line protocol* (encoded before the clock
  starts: no ftthnoc code in between), then ``close()``, which waits until every batch is written.

Both use gzip (``enable_gzip=True``), the same batch size and flush interval, and their own fresh
measurement names each round (``b<round><side>_ftth_onu`` …), so both write the same number of new
series and points. Rounds alternate which side goes first; medians are compared. Rate = points
(line-protocol lines) per second; values per second are printed too. A benchmark, not a test: it exits
0 whatever the figures; non-zero only when something broke (no server, points missing).

Run: ``python bench/influx.py`` (needs ``victoria-metrics``; ``--url`` to use a running server).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import WriteOptions

from exporters.influx import InfluxWriter, PointEncoder
from ftthnoc.samples import MetricFamily
from simulator.town import Town, generate_town

GOAL = 0.8
ONU = ("olt", "pon_port", "onu_id", "district")


# --------------------------------------------------------------------------- the town's families
def town_polls(town: Town) -> list[list[MetricFamily]]:
    """One poll of the town as the poller publishes it: per OLT, the GPON module's families, the
    interface families of if_mib, and the scrape families; ONU values as the OLT would report them."""
    district_of = {h.code: h.district for h in town.households}
    polls: list[list[MetricFamily]] = []
    for olt in town.olts:
        gpon = "huawei_gpon" if olt.vendor == "huawei" else "zte_gpon"
        fams = {n: MetricFamily(n, n, t) for n, t in (  # type: ignore[arg-type]
            ("ftth_onu_info", "info"), ("ftth_onu_up", "gauge"), ("ftth_onu_distance_meters", "gauge"),
            ("ftth_onu_last_down_cause", "info"), ("ftth_onu_temperature_celsius", "gauge"),
            ("ftth_onu_tx_power_dbm", "gauge"), ("ftth_onu_rx_power_dbm", "gauge"),
            ("ftth_onu_olt_rx_power_dbm", "gauge"), ("ftth_pon_port_onus_known", "gauge"),
            ("ftth_pon_port_onus", "gauge"), ("ftth_pon_port_tx_power_dbm", "gauge"),
            ("ftth_pon_port_temperature_celsius", "gauge"), ("ftth_pon_port_supply_voltage_volts", "gauge"),
            ("ftth_pon_port_bias_current_amperes", "gauge"))}
        for port in olt.pon_ports:
            port_labels = {"olt": olt.name, "pon_port": port.name, "district": olt.district}
            for onu in port.onus:
                lab = {"olt": olt.name, "pon_port": onu.pon_port, "onu_id": str(onu.onu_id),
                       "district": district_of.get(onu.household, olt.district)}
                fams["ftth_onu_info"].add({**lab, "serial": onu.vendor_serial}, 1)
                fams["ftth_onu_up"].add(lab, 1 if onu.online else 0)
                if onu.last_down_cause:
                    fams["ftth_onu_last_down_cause"].add({**lab, "cause": onu.last_down_cause}, 1)
                for name, value in (("ftth_onu_distance_meters", onu.distance_m),
                                    ("ftth_onu_temperature_celsius", onu.temperature_c),
                                    ("ftth_onu_tx_power_dbm", onu.tx_dbm), ("ftth_onu_rx_power_dbm", onu.rx_dbm),
                                    ("ftth_onu_olt_rx_power_dbm", onu.olt_rx_dbm)):
                    if value is not None:
                        fams[name].add(lab, value)
            up = sum(1 for o in port.onus if o.online)
            fams["ftth_pon_port_onus_known"].add(port_labels, len(port.onus))
            fams["ftth_pon_port_onus"].add({**port_labels, "state": "up"}, up)
            fams["ftth_pon_port_onus"].add({**port_labels, "state": "down"}, len(port.onus) - up)
            if olt.vendor == "huawei":
                fams["ftth_pon_port_tx_power_dbm"].add(port_labels, port.tx_dbm)
                fams["ftth_pon_port_temperature_celsius"].add(port_labels, port.temperature_c)
                fams["ftth_pon_port_supply_voltage_volts"].add(port_labels, port.voltage_v)
                fams["ftth_pon_port_bias_current_amperes"].add(port_labels, port.bias_ma / 1000)
        polls.append([f for f in fams.values() if f.samples])
        ifs: dict[str, MetricFamily] = {}
        for itf in olt.interfaces():
            lab = {"device": olt.name, "ifIndex": str(itf.if_index), "ifName": itf.name, "ifDescr": itf.descr,
                   "ifAlias": itf.alias}
            for name, kind, value in (("ifHCInOctets", "counter", itf.in_octets),
                                      ("ifHCOutOctets", "counter", itf.out_octets),
                                      ("ifInErrors", "counter", itf.in_errors),
                                      ("ifOutErrors", "counter", itf.out_errors),
                                      ("ifOperStatus", "gauge", 1 if itf.oper_up else 2),
                                      ("ifHighSpeed", "gauge", itf.high_speed_mbps)):
                ifs.setdefault(name, MetricFamily(name, name, kind)).add(lab, value)  # type: ignore[arg-type]
        polls.append(list(ifs.values()))
        scrape = []
        for name, value in (("ftthnoc_scrape_success", 1.0), ("ftthnoc_scrape_duration_seconds", 2.5),
                            ("ftthnoc_scrape_varbinds", 10000.0), ("ftthnoc_scrape_rejected_readings", 3.0)):
            fam = MetricFamily(name, name)
            for module in ("if_mib", gpon):
                fam.add({"target": olt.name, "module": module}, value)
            scrape.append(fam)
        polls.append(scrape)
    return polls


def renamed(polls: list[list[MetricFamily]], prefix: str) -> list[list[MetricFamily]]:
    """The same polls under fresh names, so each run writes new series (``b3f_ftth_onu_up`` …)."""
    out = []
    for poll in polls:
        out.append([MetricFamily(f"{prefix}_{f.name}", f.documentation, f.type, f.unit, f.samples) for f in poll])
    return out


# --------------------------------------------------------------------------- VictoriaMetrics
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes] | None = None
    tmp: str | None = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


def start_vm() -> Server:
    binary = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"
    if not os.path.exists(binary):
        sys.exit("bench/influx.py: victoria-metrics not found (apt-get install victoria-metrics, or --url)")
    tmp = tempfile.mkdtemp(prefix="ftthnoc-bench-vm-")
    port = free_port()
    proc = subprocess.Popen([binary, f"-storageDataPath={tmp}/data", f"-httpListenAddr=127.0.0.1:{port}",
                             "-retentionPeriod=100y", "-dedup.minScrapeInterval=1ms", "-loggerLevel=ERROR"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as r:
                if r.status == 200:
                    return Server(url, proc, tmp)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("bench/influx.py: victoria-metrics did not start")


def count_series_points(url: str, match: str) -> int:
    """Samples stored under metric names matching the regex (one per field per point)."""
    urllib.request.urlopen(url + "/internal/force_flush", timeout=30).read()
    data = f"match[]={{__name__=~\"{match}\"}}".encode()
    n = 0
    with urllib.request.urlopen(urllib.request.Request(url + "/api/v1/export", data=data), timeout=120) as r:
        for line in r:
            n += len(json.loads(line)["values"])
    return n


# --------------------------------------------------------------------------- the two sides
def run_ftthnoc(url: str, polls: list[list[MetricFamily]], times: list[int], args: argparse.Namespace,
                spool: Path) -> float:
    writer = InfluxWriter(url, "bench", "bench", "", spool, 1 << 30, args.batch_size, args.flush_interval)
    try:
        t0 = time.perf_counter()
        for ts in times:
            for fams in polls:
                writer.write(fams, ts)
        if not writer.flush(300):
            raise SystemExit("bench/influx.py: ftthnoc writer did not finish")
        elapsed = time.perf_counter() - t0
        if writer.errors != {"connection": 0, "server": 0, "rejected": 0}:
            raise SystemExit(f"bench/influx.py: write errors {writer.errors}")
    finally:
        writer.close()
    return elapsed


def run_reference(url: str, lines: list[str], args: argparse.Namespace) -> float:
    client = InfluxDBClient(url=url, token="", org="bench", enable_gzip=True)
    options = WriteOptions(batch_size=args.batch_size, flush_interval=int(args.flush_interval * 1000))
    errors: list[object] = []
    api = client.write_api(write_options=options, error_callback=lambda conf, data, exc: errors.append(exc))
    try:
        t0 = time.perf_counter()
        api.write(bucket="bench", org="bench", record=lines)
        api.close()  # type: ignore[no-untyped-call]  # waits until every batch is written
        elapsed = time.perf_counter() - t0
    finally:
        client.close()  # type: ignore[no-untyped-call]
    if errors:
        raise SystemExit(f"bench/influx.py: reference write errors: {errors[:3]}")
    return elapsed


def rounds_order(n: int) -> Iterator[tuple[int, tuple[str, str]]]:
    for i in range(n):
        yield i, (("f", "r") if i % 2 == 0 else ("r", "f"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--onus", type=int, default=7000)
    ap.add_argument("--polls", type=int, default=4, help="town polls per round (distinct timestamps)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=5000)
    ap.add_argument("--flush-interval", type=float, default=1.0)
    ap.add_argument("--url", help="a running server (default: start victoria-metrics in a temp dir)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    town = generate_town(onus=args.onus)
    base = town_polls(town)
    samples = sum(len(f.samples) for poll in base for f in poll)
    server = Server(args.url) if args.url else start_vm()
    t_start = (time.time_ns() // 1_000_000_000 - 24 * 3600) * 1_000_000_000  # yesterday, whole seconds
    times = [t_start + i * 60_000_000_000 for i in range(args.polls)]
    results: dict[str, list[float]] = {"f": [], "r": []}
    counted = [PointEncoder().encode(fams, ts) for ts in times for fams in base]
    points, values = sum(len(e.lines) for e in counted), sum(e.values for e in counted)
    try:
        with tempfile.TemporaryDirectory(prefix="ftthnoc-bench-spool-") as spool_root:
            for rnd, order in rounds_order(args.rounds):
                for side in order:
                    prefix = f"b{rnd}{side}"
                    polls = renamed(base, prefix)
                    if side == "f":
                        elapsed = run_ftthnoc(server.url, polls, times, args, Path(spool_root) / prefix)
                    else:
                        enc = PointEncoder()  # before the clock starts: the reference gets line protocol
                        lines = [line for ts in times for fams in polls for line in enc.encode(fams, ts).lines]
                        assert len(lines) == points
                        elapsed = run_reference(server.url, lines, args)
                    results[side].append(elapsed)
                    stored = count_series_points(server.url, f"{prefix}_.*|snmp_{prefix}_.*")
                    if stored != values:
                        raise SystemExit(f"bench/influx.py: {prefix}: {stored} values stored, {values} written")
    finally:
        server.stop()

    f_med, r_med = statistics.median(results["f"]), statistics.median(results["r"])
    f_rate, r_rate = points / f_med, points / r_med
    ratio = f_rate / r_rate
    verdict = "PASS" if ratio >= GOAL else "MISS"
    print(f"town: {args.onus} ONUs, {samples} samples a poll, {args.polls} polls a round = {points} points "
          f"({values} values), batch {args.batch_size}, gzip, {args.rounds} rounds, median")
    print(f"{'':24}{'seconds':>9}{'points/s':>11}{'values/s':>11}")
    print(f"{'ftthnoc InfluxWriter':24}{f_med:9.3f}{f_rate:11,.0f}{values / f_med:11,.0f}")
    print(f"{'influxdb-client batching':24}{r_med:9.3f}{r_rate:11,.0f}{values / r_med:11,.0f}")
    print(f"ratio ftthnoc/reference: {ratio:.2f} (goal >= {GOAL}) {verdict}")
    if args.json:
        print(json.dumps({"points": points, "values": values, "ftthnoc_s": results["f"], "reference_s": results["r"],
                          "ratio": round(ratio, 3), "goal": GOAL, "verdict": verdict}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
