"""Prometheus exporter: the latest poll held in a snapshot, served on a private registry.

``/metrics`` serves every target's last poll; ``/snmp?target=&module=&auth=`` probes one target on
demand (snmp_exporter's multi-target pattern). Nothing here talks to a device: the poller publishes
into the :class:`Snapshot` and supplies the probe callable.

Names are imported on first use (PEP 562), so that ``exporters.prometheus.text`` — what a one-shot poll
prints with — does not load prometheus_client and the HTTP server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .collector import (
        FamiliesCollector,
        SnapshotCollector,
        SnmpCounter,
        exposition,
        make_registry,
        render,
        translate,
    )
    from .http import ExporterServer, Probe, make_app, serve
    from .snapshot import Snapshot

_HOMES = {
    "FamiliesCollector": ".collector", "SnapshotCollector": ".collector", "SnmpCounter": ".collector",
    "exposition": ".collector", "make_registry": ".collector", "render": ".collector", "translate": ".collector",
    "ExporterServer": ".http", "Probe": ".http", "make_app": ".http", "serve": ".http", "Snapshot": ".snapshot",
}

__all__ = [
    "ExporterServer",
    "FamiliesCollector",
    "Probe",
    "Snapshot",
    "SnapshotCollector",
    "SnmpCounter",
    "exposition",
    "make_app",
    "make_registry",
    "render",
    "serve",
    "translate",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home, __name__), name)
