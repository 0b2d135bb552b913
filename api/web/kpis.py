"""``/kpis``: the town's figures with inline SVG charts (``api.services.kpis``, the figures and cache of
``/api/kpis``; a school user sees its own school's rows), and ``/grafana``, the way to the dashboards."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import RedirectResponse

from api.deps import Auth, DbSession, Peaks, kpi_cache, settings_of
from api.services import kpis
from api.services.outages import status as outage_status
from api.web import charts
from api.web.common import place_name, render
from api.web.i18n import lang_of, translator
from api.web.outages import outage_map
from ftthnoc.targets import PUPILS_ONLINE_SHARE, SERVICE_AVAILABILITY

router = APIRouter(include_in_schema=False)


@router.get("/kpis")
def kpis_page(request: Request, session: DbSession, auth: Auth, peaks: Peaks) -> Response:
    lang = lang_of(request)
    t, place = translator(lang), place_name(lang)
    now = datetime.now(UTC)
    data = kpis.overview(session, auth.principal, now, peaks, kpi_cache(request))
    subs = data["subscriptions"]
    tabs = data["tablets"]
    tele = data["telework"]
    avail = data["availability"]
    svg = {
        "progress": charts.progress(subs["active"], subs["target"], t("subscriptions"),
                                    text=t("progress_to", active=f"{subs['active']:,}", target=f"{subs['target']:,}",
                                           pct=charts.pct(subs["progress"]))),
        "monthly": charts.line([(m["month"], float(m["active"])) for m in subs["monthly"]], t("monthly"),
                               target=float(subs["target"]), fmt=lambda v: f"{v:,.0f}"),
        "take_up": charts.bars([(place(d["name"], d["district"]), d["take_up"]) for d in subs["by_district"]],
                               t("take_up")),
        "tablets": charts.bars([(t("town"), tabs["town"]["share_24h"])]
                               + [(r["name"], r["share_24h"]) for r in tabs["schools"]], t("tablets_seen")),
        "availability": charts.bars([(m["month"], m["ratio"]) for m in avail[-12:]], t("availability"),
                                    fmt=lambda v: charts.pct(v, 3)),
        "telework": charts.progress(tele["reduction"] or 0.0, tele["target"], t("telework"),
                                    text=f"{charts.pct(tele['reduction'])} / {t('target')} "
                                         f"{charts.pct(tele['target'])}"),
        "trend_tablets": charts.line([(d["day"][5:], d["share"]) for d in data["tablets_daily"]], t("trend_tablets"),
                                     target=PUPILS_ONLINE_SHARE, fmt=lambda v: charts.pct(v, 0)),
        "trend_telework": charts.line([(m["month"], m["reduction"]) for m in data["telework_monthly"]
                                       if m["reduction"] is not None], t("trend_telework"),
                                      target=tele["target"], fmt=lambda v: charts.pct(v, 0)),
        "trend_availability": charts.line([(m["month"], m["ratio"]) for m in avail if m["ratio"] is not None],
                                          t("trend_availability"), target=SERVICE_AVAILABILITY,
                                          fmt=lambda v: charts.pct(v, 2)),
        "bandwidth": [
            (row, charts.versus(row["measured_mbps"], row["target_mbps"], f"{t('bandwidth')} {row['name']}",
                                value_label=t("measured"), target_label=t("mext_target")))
            for row in data["school_bandwidth"]
        ],
    }  # fmt: skip
    # the residents' map (api.web.outages): which districts have an outage now, no count
    dark = {o.district for o in outage_status(session, now).open}
    svg["outage_map"] = outage_map(session, t, lang, dark)
    return render(request, "kpis.html", auth, data=data, svg=svg, generated=now,
                  home_pct=charts.pct, targets={"tablets": PUPILS_ONLINE_SHARE,
                  "availability": SERVICE_AVAILABILITY})


@router.get("/grafana")
def grafana(request: Request) -> Response:
    """To Grafana (``FTTHNOC_GRAFANA_URL``); the pages link there directly for the roles this route lets in."""
    return RedirectResponse(settings_of(request).grafana_url, status.HTTP_303_SEE_OTHER)
