"""テレワーク VPN / Telework VPN (``dashboards/telework-vpn.json``).

The telework VPN gateways' load, and the telework KPI against the plan's 30 % target (its monthly trend from the
API's rows: the database's record).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import gauge

from ftthnoc.targets import TELEWORK_OFFICE_REDUCTION

from . import infinity as inf
from .common import DASHED, dashboard, panel, q, query_var, series, single, thresholds

#: The VPN gateways the `gateway` variable chooses.
GW = 'gateway=~"$gateway"'


def build() -> db.Dashboard:
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
                      q(f'ftthnoc_telework_remote_share_ratio{{period="{period}"}}', "在宅 / remote ({{source}})"),
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
            "VPN 利用者数 / Distinct VPN users", "Distinct user names among each gateway's remote-access sessions "
            "(a count: names are never exported; FortiGate: SSL-VPN users).",
            q(f"ftth_vpn_users{{{GW}}}", "{{gateway}}"), w=8, h=7, unit="short").min(0))
        .with_panel(series(
            "IPsec トンネル / IPsec tunnels", "IPsec tunnels up per gateway (site-to-site and clients).",
            q(f"ftth_vpn_ipsec_tunnels{{{GW}}}", "{{gateway}}"), w=8, h=7, unit="short").min(0))
        .with_row(db.Row("テレワーク KPI / Telework KPI"))
        .with_panel(share(
            f"在宅勤務率（今日） / Remote share today vs {pct}", "Today so far: distinct VPN users ÷ staff "
            "(source vpn_users) or, where the gateways list no users, time-weighted VPN sessions over the covered "
            "working hours ÷ staff (vpn_sessions). No value on a day off, before 08:30 or with too little coverage.",
            "day"))
        .with_panel(share(
            f"在宅勤務率（今月） / Remote share this month vs {pct}", "This month's finished working days from "
            "the source in the legend: attendance, lgwan_csv or vpn_users (telework staff-days ÷ staff-days), or "
            "vpn_sessions (mean of the days' session shares). No value on the first working day of a month.",
            "month"))
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
        .with_panel(inf.trend(
            f"出勤削減率の推移（月別） / Office attendance reduction per month vs {pct}",
            "Each month's reduction of office attendance (finished working days, from the source the KPI "
            "chooses: attendance records, the LGWAN log, VPN users or sessions) against the plan's target "
            "(dashed). From the ftthnoc API (/api/kpis/telework/monthly, the database's record).",
            inf.Query("/api/kpis/telework/monthly", inf.month(), inf.Column("reduction", "削減率 / reduction"),
                      inf.Column("target", "目標 / target")), since="3y", unit="percentunit").min(0))
    )
