"""The incident engine's metrics, as neutral families for whichever exporter publishes them.

``ftthnoc_incident_open`` is the contract everything else reads: one series, value 1, per open incident,
labelled ``kind``, ``district``, ``olt``, ``pon_port``, ``splitter`` (empty where the kind has none) and
``scope`` (``pon_port``, ``district``, ``olt`` or ``splitter``: what the incident covers;
``models.SCOPE_OF_KIND``). The alert
rules fire exactly while such a series exists. The other families are roll-ups of the same model.

Identity labels only (``kind``, ``district``, ``olt``, ``pon_port``, ``cause``): the households of an
incident are in the database and the CSV export, never in a label. Every (kind, district) pair the
inventory knows is reported in the roll-ups, with 0 when nothing is open, so that a dashboard shows
"no outage" rather than no data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ftthnoc.events import DownCause
from ftthnoc.incidents.models import INCIDENT_KINDS
from ftthnoc.samples import MetricFamily

DOWN_CAUSES: tuple[DownCause, ...] = ("dying_gasp", "los", "other")


@dataclass(frozen=True, slots=True)
class OpenSummary:
    """What the metrics need of one open incident."""

    kind: str
    district: str
    affected_households: int
    olt: str = ""
    pon_port: str = ""
    scope: str = ""
    splitter: str = ""


def incident_families(
    open_incidents: Iterable[OpenSummary],
    totals: Mapping[str, int],
    down_events: Mapping[tuple[str, str], int],
    districts: Iterable[str],
) -> list[MetricFamily]:
    """Families for the open incidents, the per-kind totals and the classified down events."""
    open_list = list(open_incidents)
    each = MetricFamily(
        "ftthnoc_incident_open",
        "1 for each open incident (the one incident model alerts, pages and reports read), by kind "
        "(feeder_cut, power_outage, olt_unreachable, line_fault, splitter_cut, board_down, pon_port_down, "
        "uplink_down, rogue_onu, service_down), district, olt, pon_port, splitter and scope.",
    )
    for inc in sorted(open_list, key=lambda i: (i.kind, i.district, i.olt, i.pon_port, i.splitter)):
        each.add({"kind": inc.kind, "district": inc.district, "olt": inc.olt, "pon_port": inc.pon_port,
                  "splitter": inc.splitter, "scope": inc.scope}, 1.0)  # fmt: skip
    known = sorted(set(districts) | {i.district for i in open_list})
    count: dict[tuple[str, str], int] = {(k, d): 0 for k in INCIDENT_KINDS for d in known}
    affected: dict[tuple[str, str], int] = dict(count)
    for inc in open_list:
        count[(inc.kind, inc.district)] = count.get((inc.kind, inc.district), 0) + 1
        affected[(inc.kind, inc.district)] = affected.get((inc.kind, inc.district), 0) + inc.affected_households
    open_fam = MetricFamily(
        "ftthnoc_incidents_open", "Open incidents by kind and district (ftthnoc_incident_open summed)."
    )
    affected_fam = MetricFamily(
        "ftthnoc_incident_affected_households", "Households affected by open incidents, by kind and district."
    )
    for key in sorted(count):
        labels = {"kind": key[0], "district": key[1]}
        open_fam.add(labels, float(count[key]))
        affected_fam.add(labels, float(affected[key]))
    total_fam = MetricFamily(
        "ftthnoc_incidents_total", "Incidents opened, by kind (counted from the database).", type="counter"
    )
    for kind in sorted({*INCIDENT_KINDS, *totals}):
        total_fam.add({"kind": kind}, float(totals.get(kind, 0)))
    down_fam = MetricFamily(
        "ftthnoc_onu_down_events_total",
        "ONU down events since start by fault class: dying_gasp (power), los (fibre or ONU), other.",
        type="counter",
    )
    down_keys = {(c, d) for c in DOWN_CAUSES for d in known} | set(down_events)
    for cause, district in sorted(down_keys):
        down_fam.add({"cause": cause, "district": district}, float(down_events.get((cause, district), 0)))
    return [each, open_fam, total_fam, affected_fam, down_fam]
