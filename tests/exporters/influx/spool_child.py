"""Child process for the crash test: writes polls to a dead server until they are spooled, says so,
then waits to be SIGKILLed (ftthnoc dying in an outage, with no chance to close anything)."""

from __future__ import annotations

import sys
import time

from exporters.influx import InfluxWriter
from ftthnoc.samples import MetricFamily


def families(poll: int, n_onus: int) -> list[MetricFamily]:
    rx = MetricFamily("ftth_onu_rx_power_dbm", "ONU Rx.")
    for onu in range(n_onus):
        rx.add({"olt": "geihoku-olt1", "pon_port": "1/1/1", "onu_id": str(onu), "district": "芸北"},
               round(-20.0 - onu * 0.01 - poll * 0.001, 3))
    return [rx]


def main() -> None:
    url, spool, polls, onus, base_ns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    writer = InfluxWriter(url, "o", "b", "", spool, batch_size=1000, flush_interval=0.02, backoff_initial=30)
    for i in range(polls):
        writer.write(families(i, onus), base_ns + i * 1_000_000_000)
        time.sleep(0.005)
    while writer.queue_points() or writer.spool.points < polls * onus:
        time.sleep(0.01)
    print(f"SPOOLED {writer.spool.points}", flush=True)
    time.sleep(3600)


if __name__ == "__main__":
    main()
