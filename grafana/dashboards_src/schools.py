"""学校 / Schools (``dashboards/schools.json``).

Per GIGA school: the share of its active tablets seen in the last 24 hours and 7 days (the tablets-seen
KPI, from the KPI recorder's ``ftthnoc_school_tablets*`` gauges, fed by the prober's ARP sweep and the
school router's ARP table), and its uplink's traffic from the router's ``if_mib`` counters against MEXT's
recommended bandwidth for its pupils. The uplink is the interface the inventory names for the school
(``ftthnoc_school_uplink_info``: ``device``, and ``interface`` copied to ``ifName``), so no panel needs to
know the routers' names.
Schools are named by code only: no pupil, no tablet, no person.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.models import common as cm

from . import infinity as inf
from .common import DASHED, dashboard, panel, q, query_var, rows, series, table_q, thresholds

#: The schools the `school` variable chooses.
SCH = 'school=~"$school"'
#: An if_mib series of a router interface, joined to the school whose uplink it is.
JOIN = (" * on (device, ifName) group_left (school) "
        f'label_join(ftthnoc_school_uplink_info{{{SCH}}}, "ifName", "", "interface")')
IN = f"sum by (school) (rate(ifHCInOctets[$__rate_interval]){JOIN})"
OUT = f"sum by (school) (rate(ifHCOutOctets[$__rate_interval]){JOIN})"
#: bytes per second in the busier direction (downloads, most of the school day)
BUSIER = f"(({IN}) >= ({OUT})) or ({OUT}) or ({IN})"
RECOMMENDED = f"ftthnoc_school_uplink_recommended_bytes_per_second{{{SCH}}}"
#: a share of a target: red below half, orange below 90 %, green from 90 % (100 % = the target)
SHARE = thresholds((None, "red"), (0.5, "orange"), (0.9, "green"))


def seen_share(title: str, description: str, period: str) -> bargauge.Panel:
    """Each chosen school's share of active tablets seen in ``period``, against 100 %."""
    expr = (f'ftthnoc_school_tablets_seen{{{SCH}, period="{period}"}} '
            f"/ ignoring (period) ftthnoc_school_tablets{{{SCH}}}")
    return (panel(bargauge.Panel(), title, description, q(expr, "{{school}}", instant=True), w=12, h=8,
                  unit="percentunit")
            .display_mode(cm.BarGaugeDisplayMode.GRADIENT).orientation(cm.VizOrientation.HORIZONTAL)
            .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
            .min(0).max(1).thresholds(SHARE))


def build() -> db.Dashboard:
    d = dashboard("ftthnoc-schools", "学校 / Schools",
                  "GIGA schools: tablets seen in the last 24 hours and 7 days, and each school's uplink traffic "
                  "(its router's if_mib counters) against MEXT's recommended bandwidth for its pupils.",
                  shared=False)
    d = d.with_variable(query_var(
        "school", "学校 / School", "label_values(ftthnoc_school_tablets, school)",
        "Schools by code (from the inventory)"))
    return (
        d.with_row(db.Row("端末 / Tablets"))
        .with_panel(seen_share(
            "端末の確認率（24 時間） / Tablets seen in 24 h", "Share of each school's active tablets seen in the "
            "last 24 hours (ARP sweep, the school router's ARP table or an MDM's last sync); "
            "100 % = every tablet.", "24h"))
        .with_panel(seen_share(
            "端末の確認率（7 日） / Tablets seen in 7 d", "Share of each school's active tablets seen in the "
            "last 7 days: a tablet missing here has not been online at school for a week.", "7d"))
        .with_panel(series(
            "確認された端末数 / Tablets seen over time", "Active tablets per school (dashed) and how many were "
            "seen in the last 24 hours and 7 days.",
            q(f'ftthnoc_school_tablets_seen{{{SCH}, period="24h"}}', "{{school}} 24 時間 / 24 h"),
            q(f'ftthnoc_school_tablets_seen{{{SCH}, period="7d"}}', "{{school}} 7 日 / 7 d"),
            q(f"ftthnoc_school_tablets{{{SCH}}}", "{{school}} 登録 / registered"), w=24, unit="short").min(0)
            .override_by_query("C", DASHED))
        .with_panel(inf.trend(
            "児童生徒の端末の日次確認率（町全体） / Pupils' tablets seen each day, town-wide vs 100 %",
            "Share of the town's active tablets with an MDM sync each day (JST; today so far) over the last 28 "
            "days, against the target of every pupil online (100 %, dashed). From the ftthnoc API "
            "(/api/kpis/tablets/daily, the database's record): every school, whatever is chosen.",
            inf.Query("/api/kpis/tablets/daily", inf.day(), inf.Column("share", "確認率 / seen"),
                      inf.Column("target", "目標 / target")), since="30d", unit="percentunit")
            .min(0).max(1))
        .with_row(db.Row("上り回線 / Uplink"))
        .with_panel(series(
            "上り回線の通信量と推奨帯域 / Uplink traffic vs MEXT recommended", "The school router's uplink "
            "(if_mib, rate(ifHCInOctets) and rate(ifHCOutOctets) × 8) against MEXT's recommended bandwidth "
            "for the school's pupils (dashed).",
            q(f"{IN} * 8", "{{school}} 受信 / in"),
            q(f"{OUT} * 8", "{{school}} 送信 / out"),
            q(f"{RECOMMENDED} * 8", "{{school}} 推奨 / MEXT"), w=24, unit="bps").min(0)
            .override_by_query("C", DASHED))
        .with_panel(
            panel(bargauge.Panel(), "推奨帯域に対する通信量 / Uplink vs MEXT recommended now",
                  "The busier direction's rate now ÷ MEXT's recommended bandwidth: a school near or over "
                  "100 % at its busy hours needs the bandwidth MEXT recommends.",
                  q(f"({BUSIER}) / on (school) {RECOMMENDED}", "{{school}}", instant=True), w=12, h=8,
                  unit="percentunit")
            .display_mode(cm.BarGaugeDisplayMode.GRADIENT).orientation(cm.VizOrientation.HORIZONTAL)
            .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False)).min(0)
            .thresholds(thresholds((None, "green"), (0.9, "orange"), (1, "red"))))
        .with_panel(series(
            "回線速度に対する利用率 / Uplink use of its link speed", "The busier direction ÷ the uplink "
            "interface's speed (ifHighSpeed); above 90 % for 15 minutes is FtthSchoolUplinkSaturated.",
            q(f"({BUSIER}) * 8 / 1e6 / on (school) (max by (school) ((ifHighSpeed > 0){JOIN}))", "{{school}}"),
            w=12, unit="percentunit").min(0).max(1))
        .with_panel(rows(
            "推奨帯域 / MEXT recommended bandwidth", "MEXT's recommended bandwidth (2024 table) for each "
            "school's pupils.",
            table_q(f"{RECOMMENDED} * 8"),
            w=24, h=6, unit="bps", rename={"Value": "推奨 / MEXT (bit/s)", "school": "学校 / school"}))
    )
