"""What every dashboard shares: the data source, the selection, query and panel helpers, the skeleton.

Every query is PromQL against the data source provisioned with uid ``prometheus``, written against the
metric catalogue in the top-level README and the recording rules in ``grafana/rules/ftthnoc.rules.yml``.
No panel shows personal data: ONUs are named by OLT, port, ONU id and serial only.
"""

from __future__ import annotations

from typing import Any, Protocol, Self, TypeVar

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, statetimeline, table
from grafana_foundation_sdk.builders import timeseries as ts
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import prometheus as pm

PROM = dm.DataSourceRef(type_val="prometheus", uid="prometheus")
TAG = "ftthnoc"

#: The selection every per-ONU and per-port panel applies (the chained variables).
SEL = 'district=~"$district", olt=~"$olt", pon_port=~"$pon_port"'
DIST = 'district=~"$district"'
#: ONU series joined to their serial (ftth_onu_info) for tables an operator acts on.
WITH_SERIAL = " * on (olt, pon_port, onu_id) group_left (serial) ftth_onu_info"


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
RAN = {"1": ("実行 / ran", "green"), "0": ("実行不可 / could not run", "red")}


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


# --- panels on more than one dashboard ------------------------------------------------------------

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

