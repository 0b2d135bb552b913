"""NOC 概要 / NOC overview (``dashboards/noc-overview.json``).

Is the town's FTTH up: ONUs up and down, why they are down, which OLTs answer, the weakest light.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import geomap
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import geomap as geomap_model
from grafana_foundation_sdk.models import prometheus as pm

from .common import ANSWERING, DIST, SEL, WITH_SERIAL, dashboard, panel, q, rows, series, single, states, table_q

GPON_MODULES = 'module=~".*gpon.*"'


#: each district's point (``ftthnoc_district_info``: lat and lon as labels, from ``ftthnoc.geo``) times a
#: per-district figure, 0 where nothing is open, so that every district is on the map
POINTS = f"sum by (district, lat, lon) (ftthnoc_district_info{{{DIST}}})"


def _per_district(expr: str) -> str:
    return f"{POINTS} * on (district) group_left () ({expr} or 0 * sum by (district) (ftthnoc_district_info{{{DIST}}}))"


def dark_homes_map() -> geomap.Panel:
    """Where the dark homes are: one marker per district, sized and coloured by the households open
    incidents hold there (query A; B, the open incidents, is in the tooltip). The coordinates come from the
    exporter (``ftthnoc_district_info``), "coords" mode: no gazetteer file and no geocoder. Only the
    basemap's tiles need the internet; offline the markers still draw, on a blank background."""
    number = {"destinationType": "number"}
    transforms = [
        dm.DataTransformerConfig(id_val="merge", options={}),
        dm.DataTransformerConfig(id_val="convertFieldType", options={"conversions": [
            {"targetField": "lat", **number}, {"targetField": "lon", **number}]}),
        dm.DataTransformerConfig(id_val="organize", options={
            "excludeByName": {"Time": True},
            "renameByName": {"Value #A": "影響世帯 / households", "Value #B": "インシデント / incidents"}}),
    ]
    markers = (cb.MapLayerOptions().type("markers").name("地区 / districts").tooltip(True)
               .location(cb.FrameGeometrySource().mode(cm.FrameGeometrySourceMode.COORDS)
                         .latitude("lat").longitude("lon"))
               .config({"showLegend": True,
                        "style": {"size": {"field": "影響世帯 / households", "min": 6, "max": 30, "fixed": 6},
                                  "color": {"field": "影響世帯 / households"},
                                  "text": {"field": "district", "mode": "field"},
                                  "textConfig": {"fontSize": 12, "offsetY": -16}}}))
    return (panel(geomap.Panel(), "暗い世帯の地図 / Where homes are dark",
                  "Each district at its town hall or branch office (ftthnoc_district_info): marker size and colour "
                  "= households held by open incidents there (olt_unreachable, feeder and power outages: every "
                  "kind); 0 = none. Counts only, by district.",
                  q(_per_district(f"sum by (district) (ftthnoc_incident_affected_households{{{DIST}}})"),
                    instant=True, fmt=pm.PromQueryFormat.TABLE),
                  q(_per_district(f"sum by (district) (ftthnoc_incidents_open{{{DIST}}})"),
                    instant=True, fmt=pm.PromQueryFormat.TABLE),
                  w=12, h=10)
            .view(geomap.MapViewConfig().id("fit").padding(20).max_zoom(12))
            .basemap(cb.MapLayerOptions().type("default").name("basemap"))
            .layers([markers])
            .tooltip(geomap.TooltipOptions().mode(geomap_model.TooltipMode.DETAILS))
            .thresholds(db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps(
                [dm.Threshold(value=None, color="green"), dm.Threshold(value=1, color="orange"),
                 dm.Threshold(value=50, color="red")]))
            .transformations(transforms))


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
        .with_panel(dark_homes_map())
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
