"""NOC 概要 / NOC overview (``dashboards/noc-overview.json``).

Is the town's FTTH up: ONUs up and down, why they are down, which OLTs answer, the weakest light.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from .common import ANSWERING, DIST, SEL, WITH_SERIAL, dashboard, q, rows, series, single, states, table_q

GPON_MODULES = 'module=~".*gpon.*"'


def build() -> db.Dashboard:
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
            "Incidents the engine has open in the chosen districts (the ones the alerts fire for), and the "
            "households they affect (counts only; `ftthnoc incidents list --open` names the ports).",
            q(f"sum by (kind) (ftthnoc_incidents_open{{{DIST}}})", "{{kind}}"),
            q(f"sum(ftthnoc_incident_affected_households{{{DIST}}})", "影響世帯 / households"),
            w=8, h=6, steps=((None, "green"), (1, "red"))))
        .with_panel(rows(
            "インシデント（種別・地区別） / Open incidents by kind and district",
            "feeder_cut = many ONUs of one port in LOS (fibre); power_outage = clustered dying gasps (mains power); "
            "olt_unreachable = an OLT that does not answer its poll (its homes dark to ftthnoc); board_down, "
            "pon_port_down = the OLT's line card or port dead; uplink_down = every uplink of an OLT down; rogue_onu = "
            "a port jammed by one ONU; service_down = a town online service (district town).",
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
