"""ftthnoc の稼働状況 / ftthnoc health (``dashboards/ftthnoc-health.json``).

Is the monitoring itself healthy: polls, their cost, rejected readings, the InfluxDB writer.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from .common import ANSWERING, UP_DOWN, dashboard, probe_cycle_duration, probe_cycles, q, series, single, states


def build() -> db.Dashboard:
    d = dashboard("ftthnoc-health", "ftthnoc の稼働状況 / ftthnoc health",
                  "Poll success, duration and size per OLT and module; Prometheus' view; the InfluxDB writer.")
    tgt = 'target=~"$olt"'
    return (
        d.with_panel(states(
            "ポーリング結果 / Poll success", "1 when the last poll of the target and module succeeded.",
            q(f"ftthnoc_scrape_success{{{tgt}}}", "{{target}} {{module}}"), mapping=ANSWERING, w=24))
        .with_panel(series(
            "ポーリング所要時間 / Poll duration", "Wall time of the last poll; a dead OLT costs its timeout.",
            q(f"ftthnoc_scrape_duration_seconds{{{tgt}}}", "{{target}} {{module}}"), unit="s"))
        .with_panel(series(
            "取得 varbind 数 / Varbinds per poll", "Varbinds the last poll returned.",
            q(f"ftthnoc_scrape_varbinds{{{tgt}}}", "{{target}} {{module}}"), unit="short"))
        .with_panel(series(
            "無効な読み取り値 / Rejected readings", "Sentinels (offline ONUs), out-of-range or malformed readings.",
            q(f"ftthnoc_scrape_rejected_readings{{{tgt}}}", "{{target}} {{module}}"), unit="short"))
        .with_panel(series(
            "ポーリング失敗 / Failed polls", "Failed polls per hour.",
            q(f"rate(ftthnoc_scrape_errors_total{{{tgt}}}[$__rate_interval]) * 3600", "{{target}} {{module}}"),
            unit="short"))
        .with_panel(single(
            "期間中の失敗 / Failed polls in the range", "All failed polls of the chosen OLTs in the time range.",
            q(f"sum(increase(ftthnoc_scrape_errors_total{{{tgt}}}[$__range]))", "failed"),
            steps=((None, "green"), (1, "orange"))))
        .with_panel(states(
            "Prometheus からの取得 / Prometheus scrapes ftthnoc", "up of the ftthnoc jobs.",
            q('up{job=~"ftthnoc.*"}', "{{job}} {{instance}}"), mapping=UP_DOWN, w=9, h=5))
        .with_panel(series(
            "取得所要時間 / Scrape duration", "How long Prometheus takes to read ftthnoc's /metrics.",
            q('scrape_duration_seconds{job=~"ftthnoc.*"}', "{{job}} {{instance}}"), w=9, h=5, unit="s"))
        .with_row(db.Row("InfluxDB 書き込み / InfluxDB writer"))
        .with_panel(states(
            "InfluxDB への書き込み / InfluxDB reachable", "1 when the last write to InfluxDB succeeded.",
            q("ftthnoc_influx_up", "{{instance}}"), mapping=UP_DOWN, w=8))
        .with_panel(series(
            "書き込み点数 / Points written", "Points per second written to InfluxDB.",
            q("rate(ftthnoc_influx_written_points_total[$__rate_interval])", "{{instance}}"), w=8, unit="short"))
        .with_panel(series(
            "書き込みエラー / Write errors", "Failed writes per second by kind.",
            q("sum by (instance, kind) (rate(ftthnoc_influx_write_errors_total[$__rate_interval]))",
              "{{instance}} {{kind}}"), w=8, unit="short"))
        .with_panel(series(
            "スプール / Spool", "Bytes spooled on disk while InfluxDB is unreachable.",
            q("ftthnoc_influx_spool_bytes", "{{instance}}"), w=8, unit="bytes"))
        .with_panel(series(
            "送信待ち / Queued points", "Points waiting in memory for the next batch.",
            q("ftthnoc_influx_queue_points", "{{instance}}"), w=8, unit="short"))
        .with_panel(single(
            "破棄された点 / Points dropped", "Points dropped in the time range because the spool was full.",
            q("sum(increase(ftthnoc_influx_spool_dropped_points_total[$__range]))", "dropped"), w=8,
            steps=((None, "green"), (1, "red"))))
        .with_row(db.Row("プローブとトラップ / Probes and traps"))
        .with_panel(probe_cycles())
        .with_panel(probe_cycle_duration())
        .with_panel(series(
            "受信トラップ / Traps received", "Traps and informs turned into events, per minute, by event kind "
            "and sending device (with a traps: section).",
            q("sum by (kind, source) (rate(ftthnoc_traps_received_total[$__rate_interval])) * 60",
              "{{source}} {{kind}}"), unit="short"))
        .with_panel(series(
            "破棄されたトラップ / Traps dropped", "Datagrams on the trap port refused, per minute, by reason: "
            "bad_auth and unknown_community mean a sender with wrong credentials (FtthnocTrapsDropped).",
            q("sum by (reason) (rate(ftthnoc_traps_dropped_total[$__rate_interval])) * 60", "{{reason}}"),
            unit="short"))
    )
