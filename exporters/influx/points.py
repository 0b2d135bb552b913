"""Neutral metric families → InfluxDB line protocol: the point layout of ftthnoc's time series.

Layout (Telegraf-like, one point per entity and poll)
-----------------------------------------------------
* **measurement** = the metric's group prefix, **field** = the rest of its name, so that
  ``measurement + "_" + field`` is exactly the name the Prometheus exporter shows::

      ftth_onu_rx_power_dbm{olt,pon_port,onu_id,district}  →  measurement ftth_onu, field rx_power_dbm

  Groups are ``ftth_onu``, ``ftth_pon_port``, ``ftth_olt``, ``ftthnoc_scrape``, ``ftthnoc_influx``
  (:data:`GROUPS`); any other snake_case name splits after its second word (``ftth_bwa_cell_up`` →
  ``ftth_bwa`` / ``cell_up``), a two-word name after its first. SNMP object names kept from
  snmp_exporter (``ifHCInOctets``, ``sysUpTime``: no underscore) go to measurement ``snmp`` with the
  object name as field, as Telegraf's SNMP input does.
* **tags** = the sample's labels, all of them identity (``olt``, ``pon_port``, ``onu_id``, ``district``,
  ``target``, ``module``, ``device``, ``ifIndex``, ``ifName``, ...). Label keys that name personal data
  (:data:`ftthnoc.personal.FORBIDDEN_LABELS`: name, address, phone, household, contact) are refused: the
  sample is not written at all and the refusal is logged once. Empty label values are left out (as
  Prometheus treats them); tag keys ``time`` or starting with ``_`` (reserved by InfluxDB) are refused too.
* **fields** = the values, always floats (never ``1i``), so a value that is sometimes integral cannot
  cause an InfluxDB field-type conflict. Every family of one ``write()`` sharing measurement, tag set
  and timestamp lands in **one point**: the six ONU gauges of a poll make one line per ONU, not six.
* ``info`` families: the descriptive value is already a label (``serial``, ``cause``), so it becomes a
  tag and the field is ``<name>_info`` = 1, exactly the Prometheus form (``ftth_onu_info{serial}``,
  ``ftth_onu_last_down_cause_info{cause}``). Not string fields: they are low-cardinality, meant for
  ``GROUP BY``/joins, and VictoriaMetrics stores string fields as 0.
* ``histogram`` families: each sample names itself (``_bucket`` with tag ``le``, ``_sum``, ``_count``).
* **timestamp** = the poll time handed to ``write()`` in nanoseconds (a sample's own timestamp wins when
  it has one), so a point replayed from the spool hours later keeps its original time.

Why this layout: one measurement per entity kind keeps the InfluxDB schema small and queries natural
(``SELECT rx_power_dbm, olt_rx_power_dbm FROM ftth_onu WHERE district='chiyoda'``); sharing one line
per ONU sends the tag set once instead of once per metric (3× less line protocol for the ONU
table); and on VictoriaMetrics, which names series ``{measurement}_{field}``, every series gets the
same name and labels as on ``/metrics``, so the Prometheus alert rules and dashboards run unchanged
against either store. The one exception is the ``snmp_`` prefix on SNMP object names there.

What is not representable: NaN and ±Inf (line protocol has no literal for them; such samples are
skipped), newlines in label values (replaced by a space). VictoriaMetrics keeps timestamps to the
millisecond and values to about 15 significant digits.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ftthnoc.personal import FORBIDDEN_LABELS
from ftthnoc.samples import MetricFamily

__all__ = ["GROUPS", "SNMP_MEASUREMENT", "Encoded", "PointEncoder", "escape_key", "escape_measurement",
           "split_name"]

log = logging.getLogger(__name__)

#: Name prefixes that are measurements; longest first so ``ftth_pon_port`` wins over a shorter one.
GROUPS: tuple[str, ...] = ("ftth_pon_port", "ftthnoc_scrape", "ftthnoc_influx", "ftth_onu", "ftth_olt")
#: Measurement of SNMP object names kept verbatim (snmp_exporter's ``ifHCInOctets``), as in Telegraf.
SNMP_MEASUREMENT = "snmp"

_KEY_ESCAPES = str.maketrans({"\\": "\\\\", ",": "\\,", "=": "\\=", " ": "\\ ", "\n": " ", "\r": " "})
_MEASUREMENT_ESCAPES = str.maketrans({"\\": "\\\\", ",": "\\,", " ": "\\ ", "\n": " ", "\r": " "})
_PERSONAL = frozenset(k.lower() for k in FORBIDDEN_LABELS)


def escape_key(text: str) -> str:
    """Escape a tag key, tag value or field key (comma, equals, space, backslash)."""
    return text.translate(_KEY_ESCAPES)


def escape_measurement(text: str) -> str:
    return text.translate(_MEASUREMENT_ESCAPES)


def split_name(name: str) -> tuple[str, str]:
    """``(measurement, field)`` of an exposed metric name; ``measurement + "_" + field == name``
    except for SNMP object names, which go to :data:`SNMP_MEASUREMENT` whole."""
    for group in GROUPS:
        if name.startswith(group) and len(name) > len(group) + 1 and name[len(group)] == "_":
            return group, name[len(group) + 1:]
    words = name.split("_")
    if any(not w for w in words) or len(words) < 2:
        return SNMP_MEASUREMENT, name  # camelCase MIB names, and odd names that would split badly
    cut = 2 if len(words) >= 3 else 1
    return "_".join(words[:cut]), "_".join(words[cut:])


def exposed_name(family: MetricFamily) -> str:
    """The name the Prometheus exporter shows for a (non-histogram) family."""
    if family.type == "info" and not family.name.endswith("_info"):
        return family.name + "_info"
    return family.name


@dataclass(frozen=True, slots=True)
class Encoded:
    """Line-protocol lines of one ``write()``, without newlines; ``values`` counts the fields."""

    lines: list[str]
    values: int
    skipped: int


class PointEncoder:
    """Turns families into line protocol, caching each label set's escaped series key.

    One encoder per writer thread (not thread-safe). The cache matters: a town poll repeats the same
    7,000 ONU label sets every interval, and escaping and sorting them is most of the cost of a line.
    """

    def __init__(self, max_cached_series: int = 500_000) -> None:
        self._max = max_cached_series
        self._series: dict[str, dict[tuple[tuple[str, str], ...], str | None]] = {}
        self._fields: dict[str, tuple[str, str]] = {}  # exposed name -> (measurement, escaped field)
        self._refused_logged: set[tuple[str, str]] = set()
        self._escaped: dict[str, str] = {}  # label key or value -> escaped (they repeat across series)
        self._cached = 0

    def _field(self, name: str) -> tuple[str, str]:
        have = self._fields.get(name)
        if have is None:
            measurement, fld = split_name(name)
            have = self._fields[name] = (escape_measurement(measurement), escape_key(fld))
        return have

    def _series_key(self, measurement: str, items: tuple[tuple[str, str], ...], name: str) -> str | None:
        """``measurement,k=v,...`` with keys sorted (InfluxDB's preferred order), or None if refused."""
        try:
            pairs = sorted(items)
        except TypeError:  # a careless collector's int label: compare as text
            pairs = sorted((str(k), str(v)) for k, v in items)
        parts = [measurement]
        esc = self._escaped
        for key, value in pairs:
            key, value = str(key), str(value)
            if key.lower() in _PERSONAL or key == "time" or key.startswith("_") or not key:
                if (name, key) not in self._refused_logged:
                    self._refused_logged.add((name, key))
                    log.warning("influx: refusing samples of %s: label %r is personal data or reserved", name, key)
                return None
            if value:
                k = esc.get(key)
                if k is None:
                    k = esc[key] = escape_key(key)
                v = esc.get(value)
                if v is None:
                    v = escape_key(value)
                    if len(esc) < self._max:
                        esc[value] = v
                parts.append(f"{k}={v}")
        return ",".join(parts)

    def encode(self, families: Iterable[MetricFamily], timestamp_ns: int) -> Encoded:
        """Line protocol for one poll's families; NaN/Inf and refused samples are skipped (counted)."""
        groups: dict[tuple[str, int], dict[str, float]] = {}
        values = 0
        skipped = 0
        isfinite = math.isfinite
        for family in families:
            histogram = family.type == "histogram"
            info = family.type == "info"
            measurement, fld = self._field(exposed_name(family))
            cache = self._series.get(measurement)
            if cache is None:
                cache = self._series[measurement] = {}
            for sample in family.samples:
                if histogram:
                    measurement, fld = self._field(sample.name)
                    cache = self._series.setdefault(measurement, {})
                value = 1.0 if info else float(sample.value)
                if not isfinite(value):
                    skipped += 1
                    continue
                labels: Mapping[str, str] = sample.labels
                items = tuple(labels.items())
                try:
                    series = cache[items]
                except KeyError:
                    series = self._remember(cache, items, measurement, family.name)
                if series is None:
                    skipped += 1
                    continue
                ts = timestamp_ns if sample.timestamp is None else round(sample.timestamp * 1_000_000_000)
                key = (series, ts)
                point = groups.get(key)
                if point is None:
                    groups[key] = point = {}
                point[fld] = value
                values += 1
        lines = [
            f"{series} {','.join([f'{k}={v!r}' for k, v in fields.items()])} {ts}"
            for (series, ts), fields in groups.items()
        ]
        return Encoded(lines, values, skipped)

    def _remember(
        self, cache: dict[tuple[tuple[str, str], ...], str | None], items: tuple[tuple[str, str], ...],
        measurement: str, name: str,
    ) -> str | None:
        if self._cached >= self._max:  # label sets churn (ONUs move): start over rather than grow forever
            for c in self._series.values():
                c.clear()
            self._escaped.clear()
            self._cached = 0
        series = cache[items] = self._series_key(measurement, items, name)
        self._cached += 1
        return series
