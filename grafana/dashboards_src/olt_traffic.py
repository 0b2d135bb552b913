"""OLT とインタフェース通信量 / OLT and interface traffic (``dashboards/olt-traffic.json``).

snmp_exporter-style interface panels (if_mib names) for the OLTs: uplinks, PON ports, status.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.models import dashboard as dm

from .common import dashboard, q, series, single, states

IF_OPER = {"1": ("up", "green"), "2": ("down", "red"), "3": ("testing", "blue"), "4": ("unknown", "gray"),
           "5": ("dormant", "purple"), "6": ("notPresent", "gray"), "7": ("lowerLayerDown", "orange")}


def build() -> db.Dashboard:
    d = dashboard("ftthnoc-olt-traffic", "OLT とインタフェース通信量 / OLT and interface traffic",
                  "IF-MIB counters of the OLTs (snmp_exporter's if_mib names; the device label names the OLT).")
    dev = 'device=~"$olt"'
    pon_if = f'{dev}, ifName=~"(.*[ _])?$pon_port"'  # "GPON 0/1/0" (Huawei), "gpon_1/1/1" (ZTE)
    uplink = f'and on (device, ifIndex) ifType_info{{{dev}, ifType="ethernetCsmacd"}}'  # the OLT's uplinks
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
                   "rate(ifHCInOctets / ifHCOutOctets) × 8 on ethernetCsmacd interfaces; out drawn below zero.",
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
