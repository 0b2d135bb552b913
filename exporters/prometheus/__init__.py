"""Prometheus exporter: the latest poll held in a snapshot, served on a private registry.

``/metrics`` serves every target's last poll; ``/snmp?target=&module=&auth=`` probes one target on
demand (snmp_exporter's multi-target pattern). Nothing here talks to a device: the poller publishes
into the :class:`Snapshot` and supplies the probe callable.
"""

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
