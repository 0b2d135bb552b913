"""``/outages``: the residents' page (no login) and ``/outages/feed.atom``, its Atom 1.0 feed (RFC 4287).

Made to be linked from the town's website and its LINE account: which districts have a service outage now
and since when, and when recent ones were restored, by district only, households as ranges
(``api.services.outages`` says what is shown and what never is). Japanese by default, English with
``?lang=en``; unlike the staff pages the language comes from the address alone (no cookie is read or set),
and nobody's session changes the answer, so that a browser or a proxy may keep it for a minute
(``PUBLIC_CACHE``) and the town's web server may cache it in front of ftthnoc. The CSP is the other pages'
(no script at all here); the page has Open Graph tags for the link preview LINE shows. The page links by
path only (the Host header of a request never reaches a cached page); the feed, whose readers need absolute
links, names entries by incident and start time, not by host, so that the town's proxy and a direct address
give the same entries.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from api.deps import DbSession
from api.services import districts, outages
from api.services.outages import HouseholdRange
from api.web import charts
from api.web.common import HERE, SECURITY_HEADERS
from api.web.i18n import DEFAULT_LANG, LANGS, translator
from ftthnoc.geo import DISTRICT_CENTRES
from ftthnoc.incidents.models import TOWN_DISTRICT
from ftthnoc.timezone import JST

#: A minute in any cache: outages change on the scale of minutes, and the page holds nothing personal.
PUBLIC_CACHE = "public, max-age=60"
HEADERS = {**SECURITY_HEADERS, "Cache-Control": PUBLIC_CACHE}
ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"

public_router = APIRouter(include_in_schema=False)

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _lang(request: Request) -> str:
    """``?lang=`` only: the answer must not depend on a cookie, or a shared cache could serve the wrong one."""
    value = request.query_params.get("lang")
    return value if value in LANGS else DEFAULT_LANG


def _when(t: Callable[..., str]) -> Callable[[datetime], str]:
    def when(value: datetime) -> str:
        local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(JST)
        return t("outages_time", y=local.year, m=local.month, d=local.day, hm=local.strftime("%H:%M"))

    return when


def _households(t: Callable[..., str]) -> Callable[[HouseholdRange], str]:
    def households(r: HouseholdRange) -> str:
        if r.low == 0:
            return t("outages_households_under", n=outages.MIN_SHOWN)
        if r.high is None:
            return t("outages_households_over", low=f"{r.low:,}")
        return t("outages_households_range", low=f"{r.low:,}", high=f"{r.high:,}")

    return households


def _district(t: Callable[..., str], lang: str) -> Callable[[str, str], str]:
    def district(code: str, name: str) -> str:
        if code == TOWN_DISTRICT:  # a town service's outage (service_down) is every district's
            return t("outages_whole_town")
        return t("outages_district", name=name if lang == "ja" else code.replace("_", " ").title())

    return district


def outage_map(session: Any, t: Callable[..., str], lang: str, dark: set[str]) -> Markup:
    """The districts on a small map (``charts.district_map``), those in ``dark`` (with an outage now, as
    ``outages.status`` tells them) highlighted: which districts only, never a count or a household. Also on
    ``/kpis``. Districts without a known centre (``ftthnoc.geo``) are left off the map (the list still has them)."""
    points = [(code, name if lang == "ja" else code.replace("_", " ").title(), p.lat, p.lon, code in dark)
              for code, name in districts.choices(session) if (p := DISTRICT_CENTRES.get(code)) is not None]
    return charts.district_map(points, t("outages_map"), dark_text=t("outages_map_dark"),
                               ok_text=t("outages_map_ok"), sep="、" if lang == "ja" else ", ",
                               frame=[(c.lat, c.lon) for c in DISTRICT_CENTRES.values()])


def _context(request: Request, session: Any) -> dict[str, Any]:
    lang = _lang(request)
    t = translator(lang)
    other = next(code for code in LANGS if code != lang)
    now = datetime.now(UTC)
    page = str(request.url_for("outages_page"))
    status = outages.status(session, now)
    return {
        "t": t,
        "lang": lang,
        "lang_switch": f"{request.url.path}?{urlencode({'lang': other})}",
        "status": status,
        "outage_map": outage_map(session, t, lang, {o.district for o in status.open}),
        "days": outages.RECENT.days,
        "when": _when(t),
        "households": _households(t),
        "district": _district(t, lang),
        "page_url": page,
        "query": f"?{urlencode({'lang': lang})}" if lang != DEFAULT_LANG else "",
        "feed_url": str(request.url_for("outages_feed")),
    }


@public_router.get("/outages", name="outages_page")
def outages_page(request: Request, session: DbSession) -> Response:
    html = _env.get_template("outages.html").render(**_context(request, session))
    return HTMLResponse(html, headers=HEADERS)


def _entry_id(key: str) -> str:
    """A stable id (RFC 4287 §4.2.6), the same in every language and under every host name: a name-based UUID
    of what it is about (an incident and its start time, which another town's incident of the same number
    does not share)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"urn:ftthnoc:outages:{key}").urn


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def atom_feed(ctx: dict[str, Any]) -> bytes:
    """The feed: one entry per open incident (its district, kind, start and households as a range) and one
    per outage restored in the last days; ``updated`` is the latest start or restoration (else now)."""
    t: Callable[..., str] = ctx["t"]
    status: outages.OutageStatus = ctx["status"]
    when, households, district = ctx["when"], ctx["households"], ctx["district"]
    page, lang, query = ctx["page_url"], ctx["lang"], ctx["query"]
    ET.register_namespace("", ATOM_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": lang})
    entries: list[tuple[datetime, str, str, str, str]] = []  # (updated, id, title, text, anchor)
    for inc in status.open_incidents:
        name = district(inc.district, inc.name)
        kind = t(f"outage_kind_{inc.kind}")
        text = (f"{t('outages_started')}: {when(inc.started_at)} / "
                f"{t('outages_affected')}: {households(inc.households)}")  # fmt: skip
        title = t("outages_entry_open", district=name, kind=kind)
        key = _entry_id(f"incident-{inc.incident_id}-{_iso(inc.started_at)}")
        entries.append((inc.started_at, key, title, text, f"district-{inc.district}"))
    for r in status.restored:
        name = district(r.district, r.name)
        kind = t(f"outage_kind_{r.kind}")
        text = f"{t('outages_started')}: {when(r.started_at)} / {t('outages_restored')}: {when(r.restored_at)}"
        title = t("outages_entry_restored", district=name, kind=kind)
        key = _entry_id(f"incident-{r.incident_id}-{_iso(r.started_at)}-restored")
        entries.append((r.restored_at, key, title, text, f"restored-{r.incident_id}"))
    entries.sort(key=lambda e: e[0], reverse=True)
    el(feed, "id", uuid.uuid5(uuid.NAMESPACE_URL, page).urn)  # the feed is its page's
    el(feed, "title", t("outages_title"))
    el(feed, "subtitle", t("outages_lead"))
    el(feed, "updated", _iso(entries[0][0] if entries else status.now))
    author = el(feed, "author")
    el(author, "name", t("outages_author"))
    el(feed, "link", rel="self", type="application/atom+xml", href=ctx["feed_url"] + query)
    el(feed, "link", rel="alternate", type="text/html", href=page + query)
    for updated, entry_id, title, text, anchor in entries:
        entry = el(feed, "entry")
        el(entry, "id", entry_id)
        el(entry, "title", title)
        el(entry, "updated", _iso(updated))
        el(entry, "link", rel="alternate", type="text/html", href=f"{page}{query}#{anchor}")
        el(entry, "content", text, type="text")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


@public_router.get("/outages/feed.atom", name="outages_feed")
def outages_feed(request: Request, session: DbSession) -> Response:
    return Response(atom_feed(_context(request, session)), media_type=ATOM_TYPE, headers=HEADERS)
