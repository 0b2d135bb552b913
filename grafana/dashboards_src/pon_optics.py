"""PON ポートと ONU 光レベル / PON port and ONU optics (``dashboards/pon-optics.json``).

Light levels per PON port and ONU, against the OLT class's thresholds; one ONU followed by serial.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import heatmap, histogram
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import heatmap as hm
from grafana_foundation_sdk.models import prometheus as pm

from .common import (
    DASHED,
    SEL,
    UP_DOWN,
    WITH_SERIAL,
    dashboard,
    legend,
    panel,
    q,
    rows,
    series,
    single,
    states,
    table_q,
    tooltip,
)

#: The ONU named by the `serial` text variable, whichever OLT and port it is on now.
BY_SERIAL = ' * on (olt, pon_port, onu_id) group_left (serial) ftth_onu_info{serial="$serial"}'


def build() -> db.Dashboard:
    d = dashboard("ftthnoc-pon-optics", "PON ポートと ONU 光レベル / PON port and ONU optics",
                  "ONU receive power by port, thresholds of the OLT's PON class, down causes, one ONU by serial.")
    d = d.with_variable(db.TextBoxVariable("serial").label("シリアル / Serial").description(
        "ONU serial as the poller shows it, e.g. HWTC-A1B2C3D4 (follows the ONU to whatever port it is on)"))
    crit = 'max by (olt) (ftth_olt_rx_threshold_dbm{level="low_critical"})'
    warn = 'max by (olt) (ftth_olt_rx_threshold_dbm{level="low_warning"})'
    return (
        d.with_panel(
            panel(histogram.Panel(), "受光レベルの分布 / ONU Rx power distribution",
                  "Now, 1 dB buckets, every ONU with a reading in the selection.",
                  table_q(f"ftth_onu_rx_power_dbm{{{SEL}}}"), unit="dBm")
            .bucket_size(1).combine(True).legend(legend()).tooltip(tooltip())
            .fill_opacity(80).gradient_mode(cm.GraphGradientMode.NONE).line_width(1))
        .with_panel(
            panel(heatmap.Panel(), "受光レベル分布の推移 / Rx distribution over time",
                  "ONUs per 2 dB bucket (recording rule pon_port:ftth_onu_rx_power_dbm:bucket).",
                  q(f"sum by (le) (pon_port:ftth_onu_rx_power_dbm:bucket{{{SEL}}})", "{{le}}",
                    fmt=pm.PromQueryFormat.HEATMAP))
            .calculate(False).y_axis(heatmap.YAxisConfig().unit("dBm"))
            .color(heatmap.HeatmapColorOptions().mode(hm.HeatmapColorMode.SCHEME).scheme("Oranges").steps(64))
            .show_legend().show_tooltip()
            .hide_from(cb.HideSeriesConfig().legend(False).tooltip(False).viz(False)))
        .with_panel(series(
            "ポート別 受光レベル 10 パーセンタイル / Rx per port, 10th percentile",
            "The light of the 10th-weakest percent of each port's ONUs (recording rule).",
            q(f'pon_port:ftth_onu_rx_power_dbm:quantile{{quantile="0.1", {SEL}}}', "{{olt}} {{pon_port}}"),
            unit="dBm"))
        .with_panel(
            series("最弱 ONU と閾値 / Weakest ONU per port against the class thresholds",
                   "Weakest ONU of each port (solid) and the warning and critical levels of its OLT's PON "
                   "class (dashed).",
                   q(f"pon_port:ftth_onu_rx_power_dbm:min{{{SEL}}}", "{{olt}} {{pon_port}}"),
                   q('max by (olt, pon_class, level) '
                     '(ftth_olt_rx_threshold_dbm{olt=~"$olt", level=~"low_warning|low_critical"})',
                     "{{olt}} {{pon_class}} {{level}}"),
                   unit="dBm")
            .override_by_query("B", DASHED))
        .with_panel(single(
            "閾値を下回る ONU / ONUs below the thresholds", "ONUs below their OLT class's levels now.",
            q(f"count(ftth_onu_rx_power_dbm{{{SEL}}} < on (olt) group_left {crit}) or vector(0)",
              "臨界未満 / below critical"),
            q(f"count(ftth_onu_rx_power_dbm{{{SEL}}} < on (olt) group_left {warn}) or vector(0)",
              "警告未満 / below warning"),
            w=8, h=8, steps=((None, "green"), (1, "orange"))))
        .with_panel(rows(
            "臨界値に近い ONU / ONUs closest to the critical level",
            "Margin in dB between each ONU's Rx and its class's critical level; smallest first.",
            table_q(f"bottomk(20, ftth_onu_rx_power_dbm{{{SEL}}} - on (olt) group_left {crit}){WITH_SERIAL}"),
            w=16, unit="dB", rename={"Value": "余裕 / margin (dB)"}))
        .with_panel(series(
            "停止原因別の ONU / Down ONUs by cause", "Down ONUs in the selection by their last down cause.",
            q(f"sum by (cause) (ftth_pon_port_onus_down{{{SEL}}})", "{{cause}}"), stacked=True))
        .with_panel(rows(
            "LOS の割合が高いポート / Ports with the largest share in LOS",
            "Share of each port's ONUs down with LOS: a feeder cut shows as one port near 100 %.",
            table_q(f"topk(10, pon_port:ftth_onus_los:ratio{{{SEL}}})"), unit="percentunit",
            rename={"Value": "LOS"}))
        .with_panel(series(
            "PON ポートの送信光 / PON port Tx power (Huawei)", "The OLT port's own laser; ZTE does not report it.",
            q(f"ftth_pon_port_tx_power_dbm{{{SEL}}}", "{{olt}} {{pon_port}}"), unit="dBm"))
        .with_panel(series(
            "PON ポート光モジュール温度 / PON port optics temperature (Huawei)", "ZTE does not report it.",
            q(f"ftth_pon_port_temperature_celsius{{{SEL}}}", "{{olt}} {{pon_port}}"), unit="celsius"))
        .with_row(db.Row("ONU 履歴（シリアル指定） / One ONU by serial"))
        .with_panel(rows(
            "ONU の所在 / Where the ONU is", "OLT, port and ONU id of the serial typed above.",
            table_q('ftth_onu_info{serial="$serial"}'), w=8, hide=("Time", "job", "instance", "__name__", "Value")))
        .with_panel(rows(
            "最後の停止原因 / Last down cause", "As the OLT records it; none = no down recorded.",
            table_q(f'(ftth_onu_last_down_cause_info{BY_SERIAL}) or on (olt, pon_port, onu_id) '
                    'label_replace(ftth_onu_info{serial="$serial"}, "cause", "none", "", "")'),
            w=8, hide=("Time", "job", "instance", "__name__", "Value")))
        .with_panel(single(
            "距離 / Ranging distance", "Fibre distance from the OLT.",
            q(f"ftth_onu_distance_meters{BY_SERIAL}", "{{serial}}"), w=8, h=8, unit="lengthm"))
        .with_panel(series(
            "受光レベルの推移 / Rx power history", "ONU Rx, the OLT's Rx from this ONU, and the class levels.",
            q(f"ftth_onu_rx_power_dbm{BY_SERIAL}", "ONU Rx {{serial}} ({{olt}} {{pon_port}} #{{onu_id}})"),
            q(f"ftth_onu_olt_rx_power_dbm{BY_SERIAL}", "OLT Rx {{serial}}"),
            q('max by (level) (ftth_olt_rx_threshold_dbm{level=~"low_warning|low_critical"} '
              'and on (olt) ftth_onu_info{serial="$serial"})', "{{level}}"),
            w=16, unit="dBm").override_by_query("C", DASHED))
        .with_panel(states(
            "稼働状態 / Up or down", "The ONU's run state at each poll.",
            q(f"ftth_onu_up{BY_SERIAL}", "{{serial}}"), mapping=UP_DOWN, w=8))
    )
