"""The one neutral sample type that flows from every collector to every exporter.

Modelled on prometheus/client_python's ``Sample``/``Metric`` pair so that exporters translate
without knowing whether a value came from SNMP, a probe or a trap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

MetricType = Literal["gauge", "counter", "info", "histogram"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One value. ``name`` is the family name; exporters add suffixes (``_total``, ``_info``).

    In a histogram family each sample names itself in full (``<family>_bucket`` with an ``le`` label,
    ``<family>_sum``, ``<family>_count``), as client_python's samples do.
    """

    name: str
    labels: Mapping[str, str]
    value: float
    timestamp: float | None = None


@dataclass(slots=True)
class MetricFamily:
    """Samples sharing a name, help, type and unit, in the order they were added."""

    name: str
    documentation: str
    type: MetricType = "gauge"
    unit: str = ""
    samples: list[Sample] = field(default_factory=list)

    def add(self, labels: Mapping[str, str], value: float, timestamp: float | None = None) -> None:
        self.samples.append(Sample(self.name, dict(labels), value, timestamp))


def merge(families: Iterable[MetricFamily]) -> list[MetricFamily]:
    """Join families of the same name (several targets report the same metric)."""
    by_name: dict[str, MetricFamily] = {}
    for fam in families:
        have = by_name.get(fam.name)
        if have is None:
            by_name[fam.name] = MetricFamily(fam.name, fam.documentation, fam.type, fam.unit, list(fam.samples))
        else:
            have.samples.extend(fam.samples)
    return list(by_name.values())


#: A family whose name starts with this carries what must never be exported (a VPN's user names, to be
#: counted by the telework KPI): ``collectors.snmp.poll`` keeps it out of every public poll result and hands
#: it only to consumers that implement ``observe_private_poll`` (``ftthnoc.consumers``).
PRIVATE_PREFIX = "_private_"


def is_private(name: str) -> bool:
    """Whether a family is private (see ``PRIVATE_PREFIX``)."""
    return name.startswith(PRIVATE_PREFIX)


def split_private(families: Iterable[MetricFamily]) -> tuple[list[MetricFamily], list[MetricFamily]]:
    """(public, private) families, each in the order given."""
    public: list[MetricFamily] = []
    private: list[MetricFamily] = []
    for fam in families:
        (private if is_private(fam.name) else public).append(fam)
    return public, private
