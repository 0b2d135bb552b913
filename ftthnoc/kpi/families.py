"""The schools' KPI inputs as gauges, for whichever exporter publishes them (Grafana's school dashboard and
the ``FtthSchoolUplinkSaturated`` alert read them).

- ``ftthnoc_school_tablets{school}``: the school's active tablets; ``ftthnoc_school_tablets_seen{school,
  period}``: how many of them were seen (prober's ARP sweep, the router's ARP table or an MDM's last sync) in
  the last ``24h`` or ``7d`` — the KPI page's figures (``ftthnoc.kpi.figures.tablets_seen``), as counts.
- ``ftthnoc_school_uplink_recommended_bytes_per_second{school}``: MEXT's recommended bandwidth for the
  school's pupils (``ftthnoc.kpi.figures.mext_mbps``), in bytes per second as every rate here.
- ``ftthnoc_school_uplink_info{school, device, interface}``: which interface (its ``ifName``) of which
  polled router is the school's uplink (the inventory's ``uplink_target`` and ``uplink_interface``), so
  that PromQL joins the router's ``if_mib`` series to the school: on ``device`` and ``ifName``, copied from
  ``interface`` with ``label_join`` (a label of ours is snake_case, as ``promtool check metrics`` wants).

- ``ftthnoc_tablets_seen_at_home{district}``: active tablets seen at home (an MDM's sync from an address a
  household line of the district held then) in the last 7 days (``ftthnoc.kpi.figures.tablets_at_home``).
  A district whose count is suppressed on the KPI page (1 or 2) has no sample: a home must not be
  identifiable from the gauge either.

Labels name the school by its code and devices by their inventory names: no pupil, no tablet, no person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ftthnoc.samples import MetricFamily

TABLETS = "ftthnoc_school_tablets"
TABLETS_SEEN = "ftthnoc_school_tablets_seen"
RECOMMENDED = "ftthnoc_school_uplink_recommended_bytes_per_second"
UPLINK = "ftthnoc_school_uplink_info"
AT_HOME = "ftthnoc_tablets_seen_at_home"
FAMILY_NAMES: tuple[str, ...] = (TABLETS, TABLETS_SEEN, RECOMMENDED, UPLINK, AT_HOME)
#: ``tablets_seen`` row keys by the ``period`` label they are exposed under
PERIODS: tuple[tuple[str, str], ...] = (("24h", "seen_24h"), ("7d", "seen_7d"))


def school_families(tablets: Iterable[Mapping[str, Any]], recommended_mbps: Mapping[str, float],
                    uplinks: Mapping[str, Iterable[tuple[str, str]]],
                    at_home: Iterable[Mapping[str, Any]] = ()) -> list[MetricFamily]:
    """Gauges from ``tablets_seen``'s rows, each school's MEXT figure (Mbps), the uplink mapping
    (target -> [(school, ifName)]) and ``tablets_at_home``'s district rows (suppressed ones left out)."""
    count = MetricFamily(TABLETS, "Active tablets registered to the school.")
    seen = MetricFamily(TABLETS_SEEN, "Active tablets of the school seen (ARP sweep, the school router's "
                                      "ARP table or an MDM's last sync) in the last period: 24h, 7d.")
    target = MetricFamily(RECOMMENDED, "MEXT's recommended uplink bandwidth for the school's pupils (2024 table), "
                                       "bytes per second.")
    uplink = MetricFamily(UPLINK, "The polled router interface (if_mib's device and ifName) that is the "
                                  "school's uplink.", type="info")
    for row in tablets:
        count.add({"school": row["school"]}, float(row["tablets"]))
        for period, key in PERIODS:
            seen.add({"school": row["school"], "period": period}, float(row[key]))
    for school, mbps in sorted(recommended_mbps.items()):
        target.add({"school": school}, mbps * 1e6 / 8)
    home = MetricFamily(AT_HOME, "Active tablets seen at home (an MDM's last sync from an address a household "
                                 "line of the district held) in the last 7 days; absent where suppressed.")
    for row in at_home:
        if isinstance(row["seen_7d"], int):
            home.add({"district": row["district"]}, float(row["seen_7d"]))
    for device, pairs in sorted(uplinks.items()):
        for school, interface in pairs:
            uplink.add({"school": school, "device": device, "interface": interface}, 1.0)
    return [count, seen, target, uplink, home]
