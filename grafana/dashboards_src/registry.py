"""Every dashboard: the file it is written to under ``grafana/dashboards/`` and the function that builds it."""

from __future__ import annotations

from collections.abc import Callable

from grafana_foundation_sdk.builders import dashboard as db

from . import (
    ftthnoc_health,
    noc_overview,
    olt_traffic,
    pon_optics,
    probes,
    regional_bwa,
    schools,
    subscription_kpis,
    telework_vpn,
)

#: file name without ``.json`` -> builder, in the order they are written
DASHBOARDS: dict[str, Callable[[], db.Dashboard]] = {
    "noc-overview": noc_overview.build,
    "pon-optics": pon_optics.build,
    "olt-traffic": olt_traffic.build,
    "ftthnoc-health": ftthnoc_health.build,
    "probes": probes.build,
    "subscription-kpis": subscription_kpis.build,
    "regional-bwa": regional_bwa.build,
    "telework-vpn": telework_vpn.build,
    "schools": schools.build,
}
