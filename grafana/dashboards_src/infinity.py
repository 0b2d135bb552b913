"""Panels that read the ftthnoc API's KPI rows through Grafana's Infinity data source (uid ``ftthnoc-api``).

The town's long-term trends (take-up since the service start, tablets seen per day, telework attendance and
availability per month) live in the inventory database, their source of record: Prometheus keeps 15 days,
and a fresh Prometheus has nothing of the past. The API serves them as flat rows (``/api/kpis/...``), each
row with its target, so a panel needs no transformation: a URL relative to the data source's base URL, the
JSON parser, an empty root selector (the answer is the array of rows) and one column per field it plots.

The grafana-foundation-sdk has no Infinity model: ``Dataquery`` is ours, registered with the SDK's runtime
(``register``) so that a dashboard with Infinity targets loads through the typed model like the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Self

from grafana_foundation_sdk.builders import timeseries as ts
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from .common import DASHED, legend, tooltip

TYPE = "yesoreyeram-infinity-datasource"
API = dm.DataSourceRef(type_val=TYPE, uid="ftthnoc-api")
ColumnType = Literal["string", "number", "timestamp"]
#: Go layouts of the API's time fields (Infinity's backend parser reads ``timestampFormat`` so)
MONTH = "2006-01"
DAY = "2006-01-02"


@dataclass
class Column:
    """One field of the rows: its JSON key (``selector``), the name shown, its type (a time's Go layout)."""

    selector: str
    text: str
    type: ColumnType = "number"
    timestamp_format: str | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"selector": self.selector, "text": self.text, "type": self.type}
        if self.timestamp_format is not None:
            out["timestampFormat"] = self.timestamp_format
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(data["selector"], data["text"], data["type"], data.get("timestampFormat"))


@dataclass
class Dataquery(cogvariants.Dataquery):
    """An Infinity target: JSON from a URL of the data source, parsed by the backend, shown as a table."""

    url: str = ""
    columns: list[Column] = field(default_factory=list)
    root_selector: str = ""
    ref_id: str = "A"
    type: str = "json"
    source: str = "url"
    parser: str = "backend"
    format: str = "table"
    datasource: dm.DataSourceRef | None = None

    def to_json(self) -> dict[str, object]:
        return {"refId": self.ref_id, "datasource": self.datasource, "type": self.type, "source": self.source,
                "parser": self.parser, "format": self.format, "url": self.url,
                "url_options": {"method": "GET", "data": ""}, "root_selector": self.root_selector,
                "columns": [c.to_json() for c in self.columns], "filters": []}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        ds = data.get("datasource")
        return cls(url=data["url"], columns=[Column.from_json(c) for c in data.get("columns") or []],
                   root_selector=data.get("root_selector", ""), ref_id=data.get("refId", "A"),
                   type=data.get("type", "json"), source=data.get("source", "url"),
                   parser=data.get("parser", "backend"), format=data.get("format", "table"),
                   datasource=None if ds is None else dm.DataSourceRef.from_json(ds))


class Query(cogbuilder.Builder[Dataquery]):
    """Builder of an Infinity target, as the SDK's builders are (``ref_id`` is set by the panel helper)."""

    def __init__(self, url: str, *columns: Column, root_selector: str = "") -> None:
        self._internal = Dataquery(url=url, columns=list(columns), root_selector=root_selector, datasource=API)

    def ref_id(self, ref_id: str) -> Self:
        self._internal.ref_id = ref_id
        return self

    def build(self) -> Dataquery:
        return self._internal


def register() -> None:
    """Let the SDK's model read Infinity targets back (``dm.Dashboard.from_json``)."""
    cogruntime.register_dataquery_variant(cogruntime.DataqueryConfig(identifier=TYPE,
                                                                      from_json_hook=Dataquery.from_json))


def month(text: str = "月 / Month") -> Column:
    return Column("month", text, "timestamp", MONTH)


def day(text: str = "日 / Day") -> Column:
    return Column("day", text, "timestamp", DAY)


def trend(title: str, description: str, query: Query, *, since: str, unit: str = "", w: int = 24, h: int = 8,
          dashed: tuple[str, ...] = ("目標 / target",), bars: bool = False) -> ts.Panel:
    """A long-term trend from the API's rows: the panel's own time range (``since``, e.g. "5y") spans the
    history whatever the dashboard's range; the columns named in ``dashed`` (the targets) are dashed lines."""
    p = (ts.Panel().title(title).description(description).datasource(API).span(w).height(h)
         .time_from(since).with_target(query.ref_id("A")).legend(legend()).tooltip(tooltip())
         .line_width(2).fill_opacity(10).show_points(cm.VisibilityMode.ALWAYS).span_nulls(False))
    if unit:
        p = p.unit(unit)
    if bars:
        p = p.draw_style(cm.GraphDrawStyle.BARS)
    for name in dashed:
        p = p.override_by_name(name, DASHED)
    return p

