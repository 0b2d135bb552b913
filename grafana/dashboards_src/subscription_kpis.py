"""加入 KPI / Subscription KPIs (``dashboards/subscription-kpis.json``).

Progress towards the DX strategy's 7,000 subscribing households, town-wide and by district; the road there
since the service start and the monthly availability against 24/365 from the API's rows (the database's
record: Prometheus keeps 15 days).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge, gauge
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.models import common as cm

from ftthnoc.targets import FTTH_SUBSCRIBERS

from . import infinity as inf
from .common import DIST, SEL, dashboard, panel, q, rows, series, single, table_q, thresholds


def build() -> db.Dashboard:
    d = dashboard("ftthnoc-kpi", "加入 KPI / Subscription KPIs",
                  f"ONUs registered on the OLTs (subscriptions) and ONUs up, against the town's "
                  f"{FTTH_SUBSCRIBERS:,} target.")
    d = d.with_variable(db.ConstantVariable("subscription_target").label("目標 / Target")
                        .description("FTTH subscribing households in the DX strategy")
                        .value(str(FTTH_SUBSCRIBERS)))
    goal = thresholds((None, "red"), (FTTH_SUBSCRIBERS * 0.6, "orange"), (FTTH_SUBSCRIBERS * 0.9, "green"))

    def meter(title: str, description: str, expr: str) -> gauge.Panel:
        return (panel(gauge.Panel(), title, description, q(expr, "ONU"), w=8, h=7)
                .min(0).max(FTTH_SUBSCRIBERS).thresholds(goal).show_threshold_markers(True)
                .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False)))

    return (
        d.with_row(db.Row("長期の推移 / Long-term trends"))
        .with_panel(inf.trend(
            f"加入世帯数の推移（開始から） / Subscribing households since the service start vs {FTTH_SUBSCRIBERS:,}",
            "Households active at each month's end (the inventory's status changes, the source of record; the "
            "current month so far) against the DX strategy's target (dashed). From the ftthnoc API "
            "(/api/kpis/subscriptions/monthly) through Infinity: Prometheus keeps 15 days only.",
            inf.Query("/api/kpis/subscriptions/monthly", inf.month(), inf.Column("active", "加入 / active"),
                      inf.Column("target", "目標 / target")), since="5y", unit="short", w=12))
        .with_panel(inf.trend(
            "月別稼働率（24 時間 365 日） / Monthly availability vs 24/365",
            "Town-wide ONU-seconds up ÷ ONU-seconds expected per month (an unreachable OLT's homes count as "
            "down) against the 24 hours, 365 days target (100 %, dashed). From the ftthnoc API "
            "(/api/kpis/availability/monthly).",
            inf.Query("/api/kpis/availability/monthly", inf.month(), inf.Column("ratio", "稼働率 / availability"),
                      inf.Column("target", "目標 / target")), since="5y", unit="percentunit", w=12)
            .decimals(3))
        .with_row(db.Row("現在 / Now"))
        .with_panel(meter(
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
                  q(f"sum by (district) (district:ftth_onus:count{{{DIST}}})", "{{district}}", instant=True))
            .display_mode(cm.BarGaugeDisplayMode.GRADIENT).orientation(cm.VizOrientation.HORIZONTAL)
            .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False)).min(0))
        .with_panel(series(
            "加入数の推移 / Subscribed and up ONUs over time", "The chosen districts against the town-wide target.",
            q(f"sum(district:ftth_onus:count{{{DIST}}})", "加入 / subscribed"),
            q(f"sum(district:ftth_onu_up:sum{{{DIST}}})", "稼働 / up"),
            q("vector($subscription_target)", "目標 / target"), unit="short"))
        .with_panel(series(
            "地区別 稼働率 / Share of ONUs up by district", "ONUs up / ONUs registered, per district.",
            q(f"district:ftth_onu_up:sum{{{DIST}}} / district:ftth_onus:count{{{DIST}}}", "{{district}}"),
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
