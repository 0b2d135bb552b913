"""地域 BWA / Regional BWA (``dashboards/regional-bwa.json``).

The regional BWA (地域BWA) eNBs of Geihoku and Oasa: cells, UEs, throughput, PRB use, success, S1.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from .common import DASHED, UP_DOWN, dashboard, q, query_var, series, single, states

#: The BWA base stations the `station` variable chooses (no district label: stations are not households).
STA = 'station=~"$station"'
RF = {"1": ("RF オン / on", "green"), "0": ("RF オフ / off", "red")}


def build() -> db.Dashboard:
    d = dashboard("ftthnoc-bwa", "地域 BWA / Regional BWA",
                  "Cells up and down, UEs per cell, throughput, PRB use, RRC/E-RAB success and S1 per station.",
                  shared=False)
    d = d.with_variable(query_var(
        "station", "基地局 / Station", "label_values(ftth_bwa_s1_up, station)",
        "BWA base stations (eNBs) in Geihoku and Oasa; their series carry no district label"))
    cell = "{{station}} {{cell}}"
    return (
        d.with_panel(single(
            "稼働中のセル / Cells up", "Cells in service on the chosen stations.",
            q(f"count(ftth_bwa_cell_up{{{STA}}} == 1) or vector(0)", "up"), steps=((None, "green"),)))
        .with_panel(single(
            "停止中のセル / Cells down", "Cells out of service (FtthBwaCellDown after 5 minutes).",
            q(f"count(ftth_bwa_cell_up{{{STA}}} == 0) or vector(0)", "down"),
            steps=((None, "green"), (1, "red"))))
        .with_panel(single(
            "接続中の UE / UEs attached", "UEs (subscriber CPEs) attached to the chosen stations' cells.",
            q(f"sum(ftth_bwa_connected_ues{{{STA}}})", "UE")))
        .with_panel(single(
            "S1 停止の局 / Stations with S1 down", "Stations whose S1 link to the core is down.",
            q(f"count(ftth_bwa_s1_up{{{STA}}} == 0) or vector(0)", "S1 down"),
            steps=((None, "green"), (1, "red"))))
        .with_panel(states(
            "セルの稼働 / Cell in service", "Each eNB's cell status (out of service: no RRC/E-RAB figures).",
            q(f"ftth_bwa_cell_up{{{STA}}}", "{{station}}"), mapping=UP_DOWN))
        .with_panel(states(
            "RF の状態 / RF", "Each eNB's transmitter.", q(f"ftth_bwa_rf_up{{{STA}}}", "{{station}}"), mapping=RF))
        .with_panel(series(
            "セル別 UE 数 / UEs per cell", "UEs attached to each cell.",
            q(f"ftth_bwa_connected_ues{{{STA}}}", cell), w=24, unit="short"))
        .with_panel(series(
            "下り通信量 / Downlink throughput", "Cell downlink in bit/s (the exporter's bytes/s × 8).",
            q(f"ftth_bwa_downlink_bytes_per_second{{{STA}}} * 8", cell), unit="bps"))
        .with_panel(series(
            "上り通信量 / Uplink throughput", "Cell uplink in bit/s (the exporter's bytes/s × 8).",
            q(f"ftth_bwa_uplink_bytes_per_second{{{STA}}} * 8", cell), unit="bps"))
        .with_panel(series(
            "PRB 使用率 / PRB utilisation", "Physical resource blocks in use: solid downlink, dashed uplink.",
            q(f"ftth_bwa_downlink_prb_utilisation_ratio{{{STA}}}", f"{cell} DL"),
            q(f"ftth_bwa_uplink_prb_utilisation_ratio{{{STA}}}", f"{cell} UL"),
            w=24, unit="percentunit").min(0).max(1).override_by_query("B", DASHED))
        .with_panel(series(
            "RRC 接続成功率 / RRC success", "RRC connection setup success per eNB (absent out of service).",
            q(f"ftth_bwa_rrc_success_ratio{{{STA}}}", "{{station}}"), unit="percentunit").max(1))
        .with_panel(series(
            "E-RAB 確立成功率 / E-RAB success", "E-RAB setup success per eNB (absent out of service).",
            q(f"ftth_bwa_erab_success_ratio{{{STA}}}", "{{station}}"), unit="percentunit").max(1))
        .with_panel(states(
            "S1 リンク / S1 link per station", "Each eNB's S1 link to the EPC core; down = no cell can serve.",
            q(f"ftth_bwa_s1_up{{{STA}}}", "{{station}}"), mapping=UP_DOWN, w=24, h=6))
    )
