"""Translate neutral ``MetricFamily`` objects into prometheus_client metrics and text exposition.

Naming rules (see the README of this package):

* ``gauge``  → a gauge, name unchanged.
* ``histogram`` → a histogram; its samples already carry ``_bucket``/``_sum``/``_count`` names.
* ``info``   → an info family: ``<base>_info{...} 1`` where ``<base>`` is the name without ``_info``.
* ``counter`` named ``..._total`` (our own catalogue) → a normal prometheus_client counter. The text
  format 0.0.4 then shows ``# TYPE x_total counter`` / ``x_total``, OpenMetrics shows
  ``# TYPE x counter`` / ``x_total``: both are the correct form for their format.
* ``counter`` *not* ending in ``_total`` (snmp_exporter's ``ifHCInOctets``, ``ifInErrors``) → the samples
  keep exactly that name, as snmp_exporter prints them, so that ``rate(ifHCInOctets[5m])`` dashboards
  keep working. In the text format the family is typed ``counter``; OpenMetrics forbids a counter
  sample without ``_total``, so there it is typed ``unknown`` (name still unchanged).

Sample timestamps are dropped unless asked for: Prometheus then uses the scrape time, which is what
staleness handling and ``rate()`` expect from an exporter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from ftthnoc.samples import MetricFamily

from .snapshot import Snapshot

__all__ = [
    "FamiliesCollector",
    "SnapshotCollector",
    "SnapshotRegistry",
    "SnmpCounter",
    "SourceCollector",
    "exposition",
    "make_registry",
    "render",
    "translate",
]


class SnmpCounter(Metric):
    """A counter whose samples keep the family's own name, without ``_total`` (snmp_exporter style).

    Typed ``unknown`` inside prometheus_client so that any stock encoder still produces valid output with
    the exact name; :func:`exposition` upgrades the text format's ``untyped`` line to ``counter``.
    """

    def __init__(self, name: str, documentation: str) -> None:
        super().__init__(name, documentation, "unknown")


def _unit_for(name: str, unit: str) -> str:
    """Pass the unit on only when the name already ends with it: prometheus_client would rename otherwise."""
    return unit if unit and name.endswith("_" + unit) else ""


def _labels(labels: Mapping[str, str]) -> dict[str, str]:
    """A private copy with str values: an int ifIndex from a careless collector must not fail the scrape."""
    return {str(k): str(v) for k, v in labels.items()}


def _translate_one(family: MetricFamily, timestamps: bool) -> Metric | None:
    if not family.samples:
        return None  # an empty family would only show HELP/TYPE lines; nothing to scrape

    def ts(t: float | None) -> float | None:
        return t if timestamps else None

    metric: Metric
    if family.type == "info":
        base = family.name[: -len("_info")] if family.name.endswith("_info") else family.name
        metric = Metric(base, family.documentation, "info")
        for s in family.samples:
            metric.add_sample(base + "_info", _labels(s.labels), 1.0, ts(s.timestamp))
    elif family.type == "histogram":
        metric = Metric(family.name, family.documentation, "histogram", _unit_for(family.name, family.unit))
        for s in family.samples:
            metric.add_sample(s.name, _labels(s.labels), float(s.value), ts(s.timestamp))
    elif family.type == "counter" and family.name.endswith("_total"):
        base = family.name[: -len("_total")]
        metric = Metric(base, family.documentation, "counter", _unit_for(base, family.unit))
        for s in family.samples:
            metric.add_sample(family.name, _labels(s.labels), float(s.value), ts(s.timestamp))
    elif family.type == "counter":
        metric = SnmpCounter(family.name, family.documentation)
        for s in family.samples:
            metric.add_sample(family.name, _labels(s.labels), float(s.value), ts(s.timestamp))
    else:
        metric = Metric(family.name, family.documentation, "gauge", _unit_for(family.name, family.unit))
        for s in family.samples:
            metric.add_sample(family.name, _labels(s.labels), float(s.value), ts(s.timestamp))
    return metric


def translate(families: Iterable[MetricFamily], *, timestamps: bool = False) -> list[Metric]:
    """prometheus_client metrics for the given families (empty families are left out)."""
    out = []
    for family in families:
        metric = _translate_one(family, timestamps)
        if metric is not None:
            out.append(metric)
    return out


class SnapshotCollector(Collector):
    """Custom collector serving whatever the snapshot holds at scrape time."""

    def __init__(self, snapshot: Snapshot, *, timestamps: bool = False) -> None:
        self.snapshot = snapshot
        self.timestamps = timestamps

    def collect(self) -> Iterator[Metric]:
        yield from translate(self.snapshot.families(), timestamps=self.timestamps)

    def describe(self) -> list[Metric]:
        """Nothing: the names change with the inventory, and registering must not trigger a collect."""
        return []


class FamiliesCollector(Collector):
    """A collector over a fixed list of families: the throwaway registry of ``render`` and ``/snmp``."""

    def __init__(self, families: Iterable[MetricFamily], *, timestamps: bool = False) -> None:
        self._metrics = translate(families, timestamps=timestamps)

    def collect(self) -> Iterator[Metric]:
        yield from self._metrics

    def describe(self) -> list[Metric]:
        return []


class SourceCollector(Collector):
    """Families asked for at scrape time from a component that keeps its own (writer health, ...)."""

    def __init__(self, source: Callable[[], Iterable[MetricFamily]]) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        yield from translate(self._source())

    def describe(self) -> list[Metric]:
        return []


class _Fixed(Collector):
    """Already collected metrics, so one registry collect can be encoded in several pieces."""

    def __init__(self, metrics: Sequence[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield from self._metrics


class SnapshotRegistry(CollectorRegistry):
    """The registry ``/metrics`` serves: a plain registry to ``collect()``, plus ``cache``, which encodes
    each poll once rather than on every scrape (``exporters.prometheus.cache``)."""

    def __init__(self, snapshot: Snapshot, extra_collectors: Iterable[Collector] = (), *,
                 timestamps: bool = False) -> None:
        from .cache import ExpositionCache

        super().__init__(auto_describe=False)
        extras = list(extra_collectors)
        self.register(SnapshotCollector(snapshot, timestamps=timestamps))
        for collector in extras:
            self.register(collector)
        self.cache = ExpositionCache(snapshot, extras, timestamps=timestamps)


def make_registry(
    snapshot: Snapshot, extra_collectors: Iterable[Collector] = (), *, timestamps: bool = False
) -> SnapshotRegistry:
    """The project's own registry (never prometheus_client's global one) serving the snapshot."""
    return SnapshotRegistry(snapshot, extra_collectors, timestamps=timestamps)


def _retype_untyped_as_counter(chunk: bytes) -> bytes:
    """Turn the ``# TYPE <name> untyped`` line of a one-family text chunk into ``counter``."""
    lines = chunk.split(b"\n")
    # generate_latest writes HELP then TYPE first for every family.
    if len(lines) < 2 or not lines[1].startswith(b"# TYPE ") or not lines[1].endswith(b" untyped"):
        raise RuntimeError("unexpected text exposition layout from prometheus_client")
    lines[1] = lines[1][: -len(b"untyped")] + b"counter"
    return b"\n".join(lines)


def exposition(registry: Collector, accept_header: str | None = None) -> tuple[bytes, str]:
    """Encode one collect of ``registry`` in the format the ``Accept`` header asks for.

    Returns (body, content type). Uses prometheus_client's ``choose_encoder``, so OpenMetrics is served
    when asked for and the text format 0.0.4 otherwise; only :class:`SnmpCounter` families in the text
    format get their ``TYPE`` line written as ``counter`` here.
    """
    encoder: Callable[[Collector], bytes]
    encoder, content_type = choose_encoder(accept_header or "")
    metrics = list(registry.collect())
    if not content_type.startswith("text/plain"):
        return encoder(_Fixed(metrics)), content_type
    parts: list[bytes] = []
    run: list[Metric] = []
    for metric in metrics:
        if isinstance(metric, SnmpCounter):
            if run:
                parts.append(encoder(_Fixed(run)))
                run = []
            parts.append(_retype_untyped_as_counter(encoder(_Fixed([metric]))))
        else:
            run.append(metric)
    if run or not parts:
        parts.append(encoder(_Fixed(run)))
    return b"".join(parts), content_type


def render(
    families: Iterable[MetricFamily], *, timestamps: bool = False, accept_header: str | None = None
) -> bytes:
    """Exposition of a list of families through a throwaway registry, in the format ``accept_header`` asks
    for (the text format 0.0.4 without one: ``text.render_text`` writes the same bytes faster)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FamiliesCollector(families, timestamps=timestamps))
    return exposition(registry, accept_header)[0]
