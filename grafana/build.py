"""ftthnoc's Grafana dashboards, built as code with grafana-foundation-sdk.

``python grafana/build.py`` writes ``grafana/dashboards/*.json``; ``--check`` exits 1 when the checked-in
JSON differs from what this file builds (the tests check the same). Edit this file, not the JSON.

Every query is PromQL against the data source provisioned with uid ``prometheus``, written against the
metric catalogue in the top-level README and the recording rules in ``grafana/rules/ftthnoc.rules.yml``.
No panel shows personal data: ONUs are named by OLT, port, ONU id and serial only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, Self, TypeVar

from grafana_foundation_sdk.builders import bargauge, gauge, heatmap, histogram, prometheus, stat, statetimeline, table
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import timeseries as ts
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import heatmap as hm
from grafana_foundation_sdk.models import prometheus as pm

from ftthnoc.targets import FTTH_SUBSCRIBERS, TELEWORK_OFFICE_REDUCTION

OUT = Path(__file__).resolve().parent / "dashboards"
PROM = dm.DataSourceRef(type_val="prometheus", uid="prometheus")
TAG = "ftthnoc"

#: The selection every per-ONU and per-port panel applies (the chained variables).
SEL = 'district=~"$district", olt=~"$olt", pon_port=~"$pon_port"'
DIST = 'district=~"$district"'
#: ONU series joined to their serial (ftth_onu_info) for tables an operator acts on.
WITH_SERIAL = " * on (olt, pon_port, onu_id) group_left (serial) ftth_onu_info"
#: The ONU named by the `serial` text variable, whichever OLT and port it is on now.
BY_SERIAL = ' * on (olt, pon_port, onu_id) group_left (serial) ftth_onu_info{serial="$serial"}'
GPON_MODULES = 'module=~".*gpon.*"'
#: The probe targets the `kind` and `target` variables choose.
PSEL = 'kind=~"$kind", target=~"$target"'
#: Probe series that name a target: ICMP targets, and TCP-only targets (no ICMP series) too.
PROBE_TARGETS = '__name__=~"ftthnoc_probe_icmp_requests_total|ftthnoc_probe_tcp_up"'
#: The BWA base stations the `station` variable chooses (no district label: stations are not households).
STA = 'station=~"$station"'
#: The VPN gateways the `gateway` variable chooses.
GW = 'gateway=~"$gateway"'


class PanelBuilder(Protocol):
    """The methods every SDK panel builder shares."""

    def title(self, title: str) -> Self: ...
    def description(self, description: str) -> Self: ...
    def datasource(self, datasource: dm.DataSourceRef) -> Self: ...
    def span(self, w: int) -> Self: ...
    def height(self, h: int) -> Self: ...
    def unit(self, unit: str) -> Self: ...
    def with_target(self, target: Any) -> Self: ...


P = TypeVar("P", bound=PanelBuilder)


def q(expr: str, legend: str = "", *, instant: bool = False, fmt: pm.PromQueryFormat | None = None
      ) -> prometheus.Dataquery:
    """One PromQL target; range unless ``instant``."""
    b = prometheus.Dataquery().expr(" ".join(expr.split())).datasource(PROM)
    b = b.instant() if instant else b.range()
    if legend:
        b = b.legend_format(legend)
    if fmt is not None:
        b = b.format(fmt)
    return b


def table_q(expr: str) -> prometheus.Dataquery:
    """An instant query shown as a table (one row per series, labels as columns)."""
    return q(expr, instant=True, fmt=pm.PromQueryFormat.TABLE)


def panel(b: P, title: str, description: str, *targets: prometheus.Dataquery, w: int = 12, h: int = 8,
          unit: str = "") -> P:
    """Common settings: title, description, data source, size, unit and targets with ref ids A, B, ..."""
    b = b.title(title).description(description).datasource(PROM).span(w).height(h)
    if unit:
        b = b.unit(unit)
    for i, t in enumerate(targets):
        b = b.with_target(t.ref_id(chr(ord("A") + i)))
    return b


def legend(table_mode: bool = False) -> cb.VizLegendOptions:
    return (cb.VizLegendOptions().show_legend(True).display_mode(
        cm.LegendDisplayMode.TABLE if table_mode else cm.LegendDisplayMode.LIST)
        .placement(cm.LegendPlacement.BOTTOM).calcs(["lastNotNull", "min"] if table_mode else []))


def tooltip() -> cb.VizTooltipOptions:
    return cb.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.ASCENDING)


def series(title: str, description: str, *targets: prometheus.Dataquery, w: int = 12, h: int = 8,
           unit: str = "", stacked: bool = False, table_legend: bool = False) -> ts.Panel:
    """A time series panel."""
    p = panel(ts.Panel(), title, description, *targets, w=w, h=h, unit=unit)
    p = p.legend(legend(table_legend)).tooltip(tooltip()).line_width(1).fill_opacity(10 if stacked else 0)
    if stacked:
        p = p.stacking(cb.StackingConfig().mode(cm.StackingMode.NORMAL)).fill_opacity(60)
    return p


def thresholds(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    return db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps(
        [dm.Threshold(value=v, color=c) for v, c in steps])


def single(title: str, description: str, *targets: prometheus.Dataquery, w: int = 6, h: int = 5, unit: str = "",
           steps: tuple[tuple[float | None, str], ...] = ((None, "blue"),)) -> stat.Panel:
    """A stat panel showing the latest value of each target."""
    return (panel(stat.Panel(), title, description, *targets, w=w, h=h, unit=unit)
            .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
            .graph_mode(cm.BigValueGraphMode.AREA).color_mode(cm.BigValueColorMode.VALUE)
            .text_mode(cm.BigValueTextMode.VALUE_AND_NAME).thresholds(thresholds(*steps)))


def rows(title: str, description: str, *targets: prometheus.Dataquery, w: int = 12, h: int = 8, unit: str = "",
         hide: tuple[str, ...] = ("Time", "job", "instance", "__name__"), rename: dict[str, str] | None = None
         ) -> table.Panel:
    """A table of instant results; bookkeeping columns hidden, the value column renamed."""
    organize = dm.DataTransformerConfig(id_val="organize", options={
        "excludeByName": dict.fromkeys(hide, True), "renameByName": rename or {}})
    transforms = [dm.DataTransformerConfig(id_val="merge", options={})] if len(targets) > 1 else []
    return (panel(table.Panel(), title, description, *targets, w=w, h=h, unit=unit)
            .show_header(True).cell_height(cm.TableCellHeight.SM)
            .transformations([*transforms, organize]))


def states(title: str, description: str, *targets: prometheus.Dataquery, mapping: dict[str, tuple[str, str]],
           w: int = 12, h: int = 8) -> statetimeline.Panel:
    """A state timeline with value mappings (value -> text, colour)."""
    vm = dm.ValueMap(options={k: dm.ValueMappingResult(text=t, color=c, index=i)
                              for i, (k, (t, c)) in enumerate(mapping.items())})
    return (panel(statetimeline.Panel(), title, description, *targets, w=w, h=h)
            .mappings([vm]).show_value(cm.VisibilityMode.NEVER).merge_values(True).row_height(0.8)
            .fill_opacity(70).line_width(0)
            .legend(cb.VizLegendOptions().show_legend(False).display_mode(cm.LegendDisplayMode.LIST)
                    .placement(cm.LegendPlacement.BOTTOM)))


#: dashed line overrides (thresholds, second quantiles)
DASHED = [dm.DynamicConfigValue(id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]}),
          dm.DynamicConfigValue(id_val="custom.lineWidth", value=2)]
UP_DOWN = {"1": ("稼働 / up", "green"), "0": ("停止 / down", "red")}
ANSWERING = {"1": ("応答 / answering", "green"), "0": ("応答なし / no answer", "red")}
RF = {"1": ("RF オン / on", "green"), "0": ("RF オフ / off", "red")}
RAN = {"1": ("実行 / ran", "green"), "0": ("実行不可 / could not run", "red")}
IF_OPER = {"1": ("up", "green"), "2": ("down", "red"), "3": ("testing", "blue"), "4": ("unknown", "gray"),
           "5": ("dormant", "purple"), "6": ("notPresent", "gray"), "7": ("lowerLayerDown", "orange")}


# --- variables -------------------------------------------------------------------------------------

def query_var(name: str, label: str, query: str, description: str) -> db.QueryVariable:
    """A multi-value label_values variable with All, refreshed with the time range.

    No custom all-value: "All" expands to the values found in the time range, so a district's choice
    narrows OLT-only metrics (interfaces, poll health) too, and an OLT that stopped answering an hour
    ago still appears under a 6-hour range.
    """
    return (db.QueryVariable(name).label(label).description(description).datasource(PROM).query(query)
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.ALPHABETICAL_ASC)
            .multi(True).include_all(True)
            .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"])))


def selection(d: db.Dashboard) -> db.Dashboard:
    """The chained district → OLT → PON port variables every dashboard shares (and passes on in links)."""
    return (d.with_variable(query_var(
                "district", "地区 / District", "label_values(ftth_pon_port_onus_known, district)",
                "千代田 chiyoda, 大朝 oasa, 豊平 toyohira, 芸北 geihoku (from the inventory)"))
            .with_variable(query_var(
                "olt", "OLT", 'label_values(ftth_pon_port_onus_known{district=~"$district"}, olt)',
                "OLTs serving the chosen districts"))
            .with_variable(query_var(
                "pon_port", "PON ポート / PON port",
                'label_values(ftth_pon_port_onus_known{district=~"$district", olt=~"$olt"}, pon_port)',
                "PON ports of the chosen OLTs (frame/slot/port)")))


def dashboard(uid: str, title: str, description: str, *, shared: bool = True) -> db.Dashboard:
    """A dashboard with the shared tags, time range, links to the other ftthnoc dashboards and variables.

    ``shared=False`` leaves out the district/OLT/PON port variables, for dashboards of devices that are not
    on the FTTH (BWA stations, VPN gateways): they bring their own variable instead.
    """
    d = (db.Dashboard(title).uid(uid).description(description).tags([TAG]).time("now-6h", "now")
         .refresh("1m").timezone("browser").tooltip(dm.DashboardCursorSync.CROSSHAIR)
         .link(db.DashboardLink("ftthnoc").type(dm.DashboardLinkType.DASHBOARDS).tags([TAG])
               .as_dropdown(False).include_vars(True).keep_time(True).target_blank(False)))
    return selection(d) if shared else d


# --- dashboards ------------------------------------------------------------------------------------

def noc_overview() -> db.Dashboard:
    """Is the town's FTTH up: ONUs up and down, why they are down, which OLTs answer, the weakest light."""
    d = dashboard("ftthnoc-overview", "NOC 概要 / NOC overview",
                  "ONUs up and down by district, down causes, OLT polling and the weakest ONUs.")
    return (
        d.with_panel(single(
            "稼働中の ONU / ONUs up", "ONUs running in the selection (per-port roll-up).",
            q(f'sum(ftth_pon_port_onus{{state="up", {SEL}}})', "up"), steps=((None, "green"),)))
        .with_panel(single(
            "停止中の ONU / ONUs down", "ONUs the OLTs list as down, whatever the cause.",
            q(f'sum(ftth_pon_port_onus{{state="down", {SEL}}})', "down"), steps=((None, "orange"),)))
        .with_panel(single(
            "LOS で停止 / Down with LOS", "Down ONUs whose last cause is loss of signal (fibre or ONU fault). "
            "Dying gasp (power at the home) is not counted here.",
            q(f'sum(ftth_pon_port_onus_down{{cause="los", {SEL}}})', "los"),
            steps=((None, "green"), (1, "orange"), (20, "red"))))
        .with_panel(single(
            "応答中の OLT / OLTs answering", "GPON polls that succeeded last time, of all polled.",
            q(f'sum(ftthnoc_scrape_success{{{GPON_MODULES}, target=~"$olt"}})', "応答 / answering"),
            q(f'count(ftthnoc_scrape_success{{{GPON_MODULES}, target=~"$olt"}})', "対象 / polled")))
        .with_panel(single(
            "進行中のインシデント / Open incidents",
            "Feeder cuts and power outages the correlation engine has open in the chosen districts, and the "
            "households they affect (counts only; `ftthnoc incidents list --open` names the ports).",
            q(f"sum by (kind) (ftthnoc_incidents_open{{{DIST}}})", "{{kind}}"),
            q(f"sum(ftthnoc_incident_affected_households{{{DIST}}})", "影響世帯 / households"),
            w=8, h=6, steps=((None, "green"), (1, "red"))))
        .with_panel(rows(
            "インシデント（種別・地区別） / Open incidents by kind and district",
            "feeder_cut = many ONUs of one port in LOS (fibre); power_outage = clustered dying gasps (mains power).",
            table_q(f"sum by (kind, district) (ftthnoc_incidents_open{{{DIST}}})"),
            table_q(f"sum by (kind, district) (ftthnoc_incident_affected_households{{{DIST}}})"),
            w=16, h=6, rename={"Value #A": "件数 / open", "Value #B": "影響世帯 / households"}))
        .with_panel(series(
            "地区別 稼働中の ONU / ONUs up by district", "Sum of the per-port roll-ups, split by household district.",
            q(f'sum by (district) (ftth_pon_port_onus{{state="up", {SEL}}})', "{{district}}")))
        .with_panel(series(
            "停止原因別の ONU / Down ONUs by cause",
            "dying_gasp = the home lost power (not a network fault); los = fibre or ONU; other = the rest.",
            q(f"sum by (cause) (ftth_pon_port_onus_down{{{SEL}}})", "{{cause}}"), stacked=True))
        .with_panel(states(
            "OLT の応答 / OLT polls", "Last poll of each OLT and module (ftthnoc_scrape_success).",
            q('ftthnoc_scrape_success{target=~"$olt"}', "{{target}} {{module}}"), mapping=ANSWERING))
        .with_panel(rows(
            "停止 ONU の多いポート / Ports with most ONUs down", "Top 10 ports by down ONUs.",
            table_q(f'topk(10, sum by (olt, pon_port, district) (ftth_pon_port_onus{{state="down", {SEL}}}))'),
            rename={"Value": "停止 / down"}))
        .with_panel(rows(
            "受光レベルの低い ONU / Weakest ONUs", "The 15 ONUs receiving the least light, with their serial.",
            table_q(f"bottomk(15, ftth_onu_rx_power_dbm{{{SEL}}}){WITH_SERIAL}"), w=24, unit="dBm",
            rename={"Value": "Rx (dBm)"}))
    )


def pon_optics() -> db.Dashboard:
    """Light levels per PON port and ONU, against the OLT class's thresholds; one ONU followed by serial."""
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


def olt_traffic() -> db.Dashboard:
    """snmp_exporter-style interface panels (if_mib names) for the OLTs: uplinks, PON ports, status."""
    d = dashboard("ftthnoc-olt-traffic", "OLT とインタフェース通信量 / OLT and interface traffic",
                  "IF-MIB counters of the OLTs (snmp_exporter's if_mib names; the device label names the OLT).")
    dev = 'device=~"$olt"'
    pon_if = f'{dev}, ifName=~"(.*[ _])?$pon_port"'  # "GPON 0/1/0" (Huawei), "gpon_1/1/1" (ZTE)
    uplink = f"and on (device, ifIndex) (ifType{{{dev}}} == 6)"  # ethernetCsmacd: the OLT's uplinks
    out_negative = [dm.DynamicConfigValue(id_val="custom.transform", value="negative-Y")]
    return (
        d.with_panel(single(
            "OLT 稼働時間 / OLT uptime", "Since the OLT's management agent restarted (sysUpTime).",
            q(f"sysUpTime{{{dev}}} / 100", "{{device}}"), w=8, unit="s"))
        .with_panel(single(
            "停止中のインタフェース / Interfaces down while enabled",
            "ifOperStatus down(2) with ifAdminStatus up(1).",
            q(f"count(ifOperStatus{{{dev}}} == 2 and on (device, ifIndex) ifAdminStatus{{{dev}}} == 1) "
              "or vector(0)", "down"), w=8, steps=((None, "green"), (1, "red"))))
        .with_panel(single(
            "インタフェースエラー / Interface errors", "In + out errors per second over all interfaces.",
            q(f"sum(rate(ifInErrors{{{dev}}}[$__rate_interval])) + sum(rate(ifOutErrors{{{dev}}}[$__rate_interval]))",
              "errors"), w=8, unit="pps", steps=((None, "green"), (0.01, "orange"))))
        .with_panel(
            series("アップリンク通信量 / Uplink traffic",
                   "rate(ifHCInOctets / ifHCOutOctets) × 8 on ethernet (ifType 6) interfaces; out drawn below zero.",
                   q(f"sum by (device, ifName) (rate(ifHCInOctets{{{dev}}}[$__rate_interval]) * 8 {uplink})",
                     "{{device}} {{ifName}} 受信 / in"),
                   q(f"sum by (device, ifName) (rate(ifHCOutOctets{{{dev}}}[$__rate_interval]) * 8 {uplink})",
                     "{{device}} {{ifName}} 送信 / out"),
                   w=24, unit="bps")
            .override_by_query("B", out_negative))
        .with_panel(
            series("PON ポート通信量 / PON port traffic",
                   "Downstream (OLT out, to the homes) above zero, upstream below.",
                   q(f"rate(ifHCOutOctets{{{pon_if}}}[$__rate_interval]) * 8", "{{device}} {{ifName}} 下り / down"),
                   q(f"rate(ifHCInOctets{{{pon_if}}}[$__rate_interval]) * 8", "{{device}} {{ifName}} 上り / up"),
                   unit="bps")
            .override_by_query("B", out_negative))
        .with_panel(series(
            "インタフェース使用率 / Busiest interfaces", "Top 10 by utilisation of ifHighSpeed, in and out.",
            q(f"topk(10, rate(ifHCInOctets{{{dev}}}[$__rate_interval]) * 8 "
              f"/ on (device, ifIndex) (ifHighSpeed{{{dev}}} * 1000000 > 0))", "{{device}} {{ifName}} in"),
            q(f"topk(10, rate(ifHCOutOctets{{{dev}}}[$__rate_interval]) * 8 "
              f"/ on (device, ifIndex) (ifHighSpeed{{{dev}}} * 1000000 > 0))", "{{device}} {{ifName}} out"),
            unit="percentunit"))
        .with_panel(states(
            "インタフェース状態 / Interface status", "ifOperStatus of every interface of the chosen OLTs.",
            q(f"ifOperStatus{{{dev}}}", "{{device}} {{ifName}}"), mapping=IF_OPER, w=24, h=14))
        .with_panel(series(
            "廃棄パケット / Discards", "Inbound and outbound discards per second, per OLT.",
            q(f"sum by (device) (rate(ifInDiscards{{{dev}}}[$__rate_interval]))", "{{device}} in"),
            q(f"sum by (device) (rate(ifOutDiscards{{{dev}}}[$__rate_interval]))", "{{device}} out"),
            unit="pps"))
        .with_panel(series(
            "PON ポートのパケット / PON port packets", "Unicast packets per second on the chosen PON ports.",
            q(f"rate(ifHCOutUcastPkts{{{pon_if}}}[$__rate_interval])", "{{device}} {{ifName}} 下り / down"),
            q(f"rate(ifHCInUcastPkts{{{pon_if}}}[$__rate_interval])", "{{device}} {{ifName}} 上り / up"),
            unit="pps"))
    )


def health() -> db.Dashboard:
    """Is the monitoring itself healthy: polls, their cost, rejected readings, the InfluxDB writer."""
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


def probe_cycles() -> statetimeline.Panel:
    """Whether each probe's last cycle could run at all (raw sockets, interfaces): on probes and health."""
    return states(
        "プローブの実行 / Probe cycles", "1 when the last cycle of the probe (icmp, tcp, arp) ran; 0 = it could "
        "not (no raw-socket permission, a missing interface). Per-target results are on the Probes dashboard.",
        q("ftthnoc_probe_success", "{{probe}}"), mapping=RAN)


def probe_cycle_duration() -> ts.Panel:
    return series(
        "プローブ所要時間 / Probe cycle duration", "Wall time of each probe's last cycle; ICMP spreads its "
        "echoes over the cycle, so it takes about cycle_seconds.",
        q("ftthnoc_probe_duration_seconds", "{{probe}}"), unit="s")


def probes() -> db.Dashboard:
    """Smokeping-style latency and loss per probe target, TCP service ports, and the probe cycles."""
    d = dashboard("ftthnoc-probes", "プローブ / Probes",
                  "ICMP latency, loss and jitter per target, TCP connect time per target and port, probe cycles.")
    d = (d.with_variable(
            db.QueryVariable("kind").label("種別 / Kind").description(
                "Kind of probe target (gateway, school, ...); targets without a district are always listed")
            .datasource(PROM).query(f'label_values({{{PROBE_TARGETS}, district=~"$district|"}}, kind)')
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.ALPHABETICAL_ASC)
            .multi(True).include_all(True)
            .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"])))
         .with_variable(
            db.QueryVariable("target").label("対象 / Target").description(
                "Probe targets of the chosen kinds in the chosen districts (and those without a district)")
            .datasource(PROM)
            .query(f'label_values({{{PROBE_TARGETS}, district=~"$district|", kind=~"$kind"}}, target)')
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.ALPHABETICAL_ASC)
            .multi(True).include_all(True)
            .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"]))))
    rtt = "ftthnoc_probe_icmp_response_duration_seconds_bucket"
    return (
        d.with_panel(single(
            "応答なしの対象 / Targets unreachable", "Targets that answered none of the last cycle's echoes.",
            q(f"count(ftthnoc_probe_icmp_loss_ratio{{{PSEL}}} == 1) or vector(0)", "unreachable"),
            w=6, steps=((None, "green"), (1, "red"))))
        .with_panel(single(
            "損失のある対象 / Targets losing packets", "Targets that lost more than 20 % of the last cycle's "
            "echoes (FtthProbeLossHigh's level).",
            q(f"count(ftthnoc_probe_icmp_loss_ratio{{{PSEL}}} > 0.2) or vector(0)", "losing"),
            w=6, steps=((None, "green"), (1, "orange"))))
        .with_panel(single(
            "停止中のサービスポート / Service ports down", "TCP ports that did not answer SYN-ACK last cycle.",
            q(f"count(ftthnoc_probe_tcp_up{{{PSEL}}} == 0) or vector(0)", "down"),
            w=6, steps=((None, "green"), (1, "red"))))
        .with_panel(single(
            "中央値 RTT（最大） / Worst median RTT", "Highest median round-trip time over the chosen targets.",
            q(f"max(histogram_quantile(0.5, sum by (le, target) (rate({rtt}{{{PSEL}}}[$__rate_interval]))))",
              "p50"), w=6, unit="s", steps=((None, "green"), (0.05, "orange"), (0.25, "red"))))
        .with_panel(series(
            "応答時間 / Round-trip time (median and 95th percentile)",
            "From the RTT histogram over the rate window, smokeping style: solid p50, dashed p95.",
            q(f"histogram_quantile(0.5, sum by (le, target) (rate({rtt}{{{PSEL}}}[$__rate_interval])))",
              "{{target}} p50"),
            q(f"histogram_quantile(0.95, sum by (le, target) (rate({rtt}{{{PSEL}}}[$__rate_interval])))",
              "{{target}} p95"),
            w=24, unit="s").override_by_query("B", DASHED))
        .with_panel(series(
            "損失率 / Packet loss", "Share of each cycle's echoes unanswered; 100 % = unreachable.",
            q(f"ftthnoc_probe_icmp_loss_ratio{{{PSEL}}}", "{{kind}} {{target}}"), unit="percentunit")
            .min(0).max(1))
        .with_panel(series(
            "ジッタ / Jitter", "RFC 3550 interarrival jitter of the round-trip times.",
            q(f"ftthnoc_probe_icmp_jitter_seconds{{{PSEL}}}", "{{kind}} {{target}}"), unit="s"))
        .with_panel(series(
            "RTT 最小・平均・最大 / RTT min, avg and max", "Over the last cycle's replies.",
            q(f"ftthnoc_probe_icmp_rtt_seconds{{{PSEL}}}", "{{target}} {{stat}}"), unit="s"))
        .with_panel(rows(
            "対象の状態 / Targets now", "Loss and average RTT of the last cycle, per target.",
            table_q(f"max by (kind, target, district) (ftthnoc_probe_icmp_loss_ratio{{{PSEL}}})"),
            table_q(f'max by (kind, target, district) (ftthnoc_probe_icmp_rtt_seconds{{stat="avg", {PSEL}}})'),
            rename={"Value #A": "損失 / loss", "Value #B": "平均 RTT / avg RTT (s)"}))
        .with_panel(series(
            "TCP 接続時間 / TCP connect time", "SYN to SYN-ACK (or RST) per target and port.",
            q(f"ftthnoc_probe_tcp_connect_seconds{{{PSEL}}}", "{{target}}:{{port}}"), unit="s"))
        .with_panel(states(
            "サービスポート / TCP port up", "1 when the port answered SYN-ACK; refused or silent is down.",
            q(f"ftthnoc_probe_tcp_up{{{PSEL}}}", "{{target}}:{{port}}"), mapping=UP_DOWN))
        .with_row(db.Row("プローブの実行 / Probe cycles"))
        .with_panel(probe_cycles())
        .with_panel(probe_cycle_duration())
    )


def subscription_kpis() -> db.Dashboard:
    """Progress towards the DX strategy's 7,000 subscribing households, town-wide and by district."""
    d = dashboard("ftthnoc-kpi", "加入 KPI / Subscription KPIs",
                  f"ONUs registered on the OLTs (subscriptions) and ONUs up, against the town's "
                  f"{FTTH_SUBSCRIBERS:,} target.")
    d = d.with_variable(db.ConstantVariable("subscription_target").label("目標 / Target")
                        .description("FTTH subscribing households in the DX strategy")
                        .value(str(FTTH_SUBSCRIBERS)))
    goal = thresholds((None, "red"), (FTTH_SUBSCRIBERS * 0.6, "orange"), (FTTH_SUBSCRIBERS * 0.9, "green"))
    dist = 'district=~"$district"'

    def meter(title: str, description: str, expr: str) -> gauge.Panel:
        return (panel(gauge.Panel(), title, description, q(expr, "ONU"), w=8, h=7)
                .min(0).max(FTTH_SUBSCRIBERS).thresholds(goal).show_threshold_markers(True)
                .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False)))

    return (
        d.with_panel(meter(
            f"加入 ONU（目標 {FTTH_SUBSCRIBERS:,}） / Subscribed ONUs vs {FTTH_SUBSCRIBERS:,}",
            "Town-wide: every ONU the OLTs list (ftth_onu_info), whatever its state.",
            "sum(district:ftth_onus:count)"))
        .with_panel(meter(
            f"稼働中の ONU（目標 {FTTH_SUBSCRIBERS:,}） / ONUs up vs {FTTH_SUBSCRIBERS:,}",
            "Town-wide: ONUs running now.", "sum(district:ftth_onu_up:sum)"))
        .with_panel(single(
            "達成率 / Progress to the target", "Town-wide subscribed ONUs as a share of the target.",
            q("sum(district:ftth_onus:count) / $subscription_target", "subscribed"), w=8, h=7,
            unit="percentunit", steps=((None, "red"), (0.6, "orange"), (0.9, "green"))))
        .with_panel(
            panel(bargauge.Panel(), "地区別 加入 ONU / Subscribed ONUs by district",
                  "Household district from the inventory.",
                  q(f"sum by (district) (district:ftth_onus:count{{{dist}}})", "{{district}}", instant=True))
            .display_mode(cm.BarGaugeDisplayMode.GRADIENT).orientation(cm.VizOrientation.HORIZONTAL)
            .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False)).min(0))
        .with_panel(series(
            "加入数の推移 / Subscribed and up ONUs over time", "The chosen districts against the town-wide target.",
            q(f"sum(district:ftth_onus:count{{{dist}}})", "加入 / subscribed"),
            q(f"sum(district:ftth_onu_up:sum{{{dist}}})", "稼働 / up"),
            q("vector($subscription_target)", "目標 / target"), unit="short"))
        .with_panel(series(
            "地区別 稼働率 / Share of ONUs up by district", "ONUs up / ONUs registered, per district.",
            q(f"district:ftth_onu_up:sum{{{dist}}} / district:ftth_onus:count{{{dist}}}", "{{district}}"),
            unit="percentunit"))
        .with_panel(rows(
            "OLT 別 ONU 数 / ONUs per OLT", "Registered and running ONUs on each chosen OLT.",
            table_q('olt:ftth_onus:count{olt=~"$olt"}'), table_q('olt:ftth_onu_up:sum{olt=~"$olt"}'),
            rename={"Value #A": "登録 / registered", "Value #B": "稼働 / up"}))
        .with_panel(
            panel(bargauge.Panel(), "ポート別 ONU 数 / ONUs per PON port",
                  "ONUs each port lists: how full its splitters are.",
                  q(f"ftth_pon_port_onus_known{{{SEL}}}", "{{olt}} {{pon_port}} {{district}}", instant=True),
                  w=24, h=10)
            .display_mode(cm.BarGaugeDisplayMode.BASIC).orientation(cm.VizOrientation.HORIZONTAL)
            .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False)).min(0))
    )


def regional_bwa() -> db.Dashboard:
    """The regional BWA (地域BWA) eNBs of Geihoku and Oasa: cells, UEs, throughput, PRB use, success, S1."""
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
            "セルの稼働 / Cell in service", "Each cell's service state (a down cell has no RRC/E-RAB figures).",
            q(f"ftth_bwa_cell_up{{{STA}}}", cell), mapping=UP_DOWN))
        .with_panel(states(
            "RF の状態 / RF", "Each cell's transmitter.", q(f"ftth_bwa_rf_up{{{STA}}}", cell), mapping=RF))
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
            "RRC 接続成功率 / RRC success", "RRC connection setup success per cell (absent on a down cell).",
            q(f"ftth_bwa_rrc_success_ratio{{{STA}}}", cell), unit="percentunit").max(1))
        .with_panel(series(
            "E-RAB 確立成功率 / E-RAB success", "E-RAB setup success per cell (absent on a down cell).",
            q(f"ftth_bwa_erab_success_ratio{{{STA}}}", cell), unit="percentunit").max(1))
        .with_panel(states(
            "S1 リンク / S1 link per station", "Each eNB's S1 link to the EPC core; down = no cell can serve.",
            q(f"ftth_bwa_s1_up{{{STA}}}", "{{station}}"), mapping=UP_DOWN, w=24, h=6))
    )


def telework_vpn() -> db.Dashboard:
    """The telework VPN gateways' load, and the telework KPI against the plan's 30 % target."""
    pct = f"{TELEWORK_OFFICE_REDUCTION:.0%}".replace("%", " %")
    d = dashboard("ftthnoc-telework", "テレワーク VPN / Telework VPN",
                  f"VPN sessions against the gateways' limits, tunnel groups, IPsec tunnels, and the telework KPI "
                  f"against the {pct} target.", shared=False)
    d = d.with_variable(query_var(
        "gateway", "VPN ゲートウェイ / Gateway", "label_values(ftth_vpn_sessions, gateway)",
        "Telework VPN gateways (the KPI row counts every gateway, whatever is chosen)"))
    goal = thresholds((None, "red"), (TELEWORK_OFFICE_REDUCTION * 0.5, "orange"), (TELEWORK_OFFICE_REDUCTION, "green"))

    def share(title: str, description: str, period: str) -> gauge.Panel:
        return (panel(gauge.Panel(), title, description,
                      q(f'ftthnoc_telework_remote_share_ratio{{period="{period}"}}', "在宅 / remote"),
                      w=6, h=7, unit="percentunit")
                .min(0).max(1).thresholds(goal).show_threshold_markers(True)
                .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False)))

    return (
        d.with_panel(series(
            "VPN セッション数と上限 / Sessions and limit", "Remote-access sessions (solid) and the device's "
            "session limit (dashed).",
            q(f"ftth_vpn_sessions{{{GW}}}", "{{gateway}} sessions"),
            q(f"ftth_vpn_sessions_max{{{GW}}}", "{{gateway}} max"), unit="short").min(0)
            .override_by_query("B", DASHED))
        .with_panel(series(
            "セッション使用率 / Session capacity use", "Sessions ÷ limit per gateway; 100 % = staff cannot "
            "connect (FtthVpnSessionsAtCapacity).",
            q(f"ftth_vpn_sessions_capacity_ratio{{{GW}}}", "{{gateway}}"), unit="percentunit").min(0).max(1))
        .with_panel(single(
            "現在の使用率 / Capacity use now", "Sessions ÷ limit of each chosen gateway, last poll.",
            q(f"ftth_vpn_sessions_capacity_ratio{{{GW}}}", "{{gateway}}"), w=8, h=7, unit="percentunit",
            steps=((None, "green"), (0.8, "orange"), (1, "red"))))
        .with_panel(series(
            "グループ別セッション / Sessions per tunnel group", "Sessions per tunnel group (stacked); never a "
            "user name.", q(f"ftth_vpn_group_sessions{{{GW}}}", "{{gateway}} {{group}}"), w=8, h=7,
            unit="short", stacked=True))
        .with_panel(series(
            "IPsec トンネル / IPsec tunnels", "IPsec tunnels up per gateway (site-to-site and clients).",
            q(f"ftth_vpn_ipsec_tunnels{{{GW}}}", "{{gateway}}"), w=8, h=7, unit="short").min(0))
        .with_row(db.Row("テレワーク KPI / Telework KPI"))
        .with_panel(share(
            f"在宅勤務率（今日） / Remote share today vs {pct}", "Time-weighted VPN sessions over today's "
            "covered working hours ÷ staff. No value on a day off, before 08:30 or with too little coverage.",
            "day"))
        .with_panel(share(
            f"在宅勤務率（今月） / Remote share this month vs {pct}", "Mean of this month's finished working "
            "days with a figure. No value on the first working day of a month.", "month"))
        .with_panel(single(
            "目標達成率 / Target attainment", "Office attendance reduction ÷ target; 100 % = target met. "
            "Only periods with a figure are shown.",
            q('ftthnoc_telework_target_attainment_ratio{period="day"}', "今日 / today"),
            q('ftthnoc_telework_target_attainment_ratio{period="month"}', "今月 / this month"),
            w=6, h=7, unit="percentunit", steps=((None, "red"), (0.5, "orange"), (1, "green"))))
        .with_panel(single(
            "集計カバー率（今日） / Coverage today", "Share of today's working time so far with session "
            "samples from every counted gateway (no value on a day off).",
            q('ftthnoc_telework_coverage_ratio{period="day"}', "今日 / today"), w=6, h=7, unit="percentunit",
            steps=((None, "red"), (0.5, "orange"), (0.8, "green"))))
        .with_panel(single(
            "目標 / Target", "The plan's office attendance reduction target (configuration).",
            q("ftthnoc_telework_target_ratio", "目標 / target"), w=8, h=5, unit="percentunit"))
        .with_panel(single(
            "職員数 / Staff", "Headcount the remote share is a share of (configuration).",
            q("ftthnoc_telework_staff", "職員 / staff"), w=8, h=5, unit="short"))
        .with_panel(single(
            "集計日数（今月） / Working days counted this month", "Finished working days of this month with a "
            "figure: the month's mean is over these.",
            q('ftthnoc_telework_figures_counted{period="month"}', "日 / days"), w=8, h=5, unit="short"))
    )


DASHBOARDS: dict[str, Callable[[], db.Dashboard]] = {
    "noc-overview": noc_overview,
    "pon-optics": pon_optics,
    "olt-traffic": olt_traffic,
    "ftthnoc-health": health,
    "probes": probes,
    "subscription-kpis": subscription_kpis,
    "regional-bwa": regional_bwa,
    "telework-vpn": telework_vpn,
}


def _number_panels(panels: list[Any]) -> None:
    """Grafana needs panel ids unique within a dashboard: number them in order, rows included."""
    n = 0
    for p in panels:
        n += 1
        p.id_val = n
        for child in getattr(p, "panels", None) or []:
            n += 1
            child.id_val = n


def render(build: Callable[[], db.Dashboard]) -> str:
    """The dashboard as the JSON text checked in (stable key order, UTF-8 kept readable)."""
    model = build().build()
    _number_panels(model.panels or [])
    return json.dumps(model, cls=JSONEncoder, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def rendered() -> dict[Path, str]:
    return {OUT / f"{name}.json": render(build) for name, build in DASHBOARDS.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--check", action="store_true", help="exit 1 if the checked-in JSON is not what this builds")
    args = ap.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'} {path.relative_to(OUT.parent.parent)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
