"""The Prometheus text format 0.0.4, written straight from neutral families (no prometheus_client).

Why a second writer: ``ftthnoc poll --once`` prints one OLT's 12,000 samples and exits. Through
prometheus_client that costs 50 ms to import it and 80–150 ms to encode (it re-validates every name and
label on every sample), more than the walk itself; a one-shot poll must stay within a few times
net-snmp's CPU. The output is byte for byte what ``collector.render`` produces through prometheus_client
with the same translation rules (info, counters with and without ``_total``, histograms): a test holds
the two to each other on the simulated town's families and on generated ones. ``/metrics`` keeps
prometheus_client, for its content negotiation (OpenMetrics).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from ftthnoc.samples import MetricFamily

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def go_float(value: float) -> str:
    """A sample value as Prometheus (Go) prints it: ``+Inf``, ``NaN``, exponents from 1e+06 on."""
    if value == math.inf:
        return "+Inf"
    if value == -math.inf:
        return "-Inf"
    if math.isnan(value):
        return "NaN"
    s = repr(float(value))
    dot = s.find(".")
    if value > 0 and dot > 6:
        mantissa = f"{s[0]}.{s[1:dot]}{s[dot + 1:]}".rstrip("0.")
        return f"{mantissa}e+{dot - 1:02d}"
    return s


def _rune(c: str, i: int, colon: bool) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z") or c == "_" or ("0" <= c <= "9" and i > 0) or (colon and c == ":")


def _metric_name(name: str) -> str:
    """The name, or with every character outside the legacy set replaced by ``_`` (prometheus_client's
    default "underscores" escaping)."""
    if _METRIC_NAME.fullmatch(name):
        return name
    return "".join(c if _rune(c, i, True) else "_" for i, c in enumerate(name))


def _label_name(name: str) -> str:
    if not name or _LABEL_NAME.fullmatch(name):
        return name
    return "".join(c if _rune(c, i, False) else "_" for i, c in enumerate(name))


def _label_value(value: object) -> str:
    return str(value).replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{_label_name(str(k))}="{_label_value(v)}"' for k, v in sorted(
        ((str(k), v) for k, v in labels.items()))) + "}"


def _head(name: str, documentation: str, kind: str) -> str:
    doc = documentation.replace("\\", r"\\").replace("\n", r"\n")
    shown = _metric_name(name)
    return f"# HELP {shown} {doc}\n# TYPE {shown} {kind}\n"


def _family(family: MetricFamily, timestamps: bool, out: list[str]) -> None:
    if not family.samples:
        return
    if family.type == "info":
        base = family.name.removesuffix("_info")
        out.append(_head(base + "_info", family.documentation, "gauge"))
        names = [base + "_info"] * len(family.samples)
        values = [1.0] * len(family.samples)
    else:
        if family.type == "histogram":
            kind, head = "histogram", family.name
            names = [s.name for s in family.samples]
        else:
            kind = "counter" if family.type == "counter" else "gauge"
            head = family.name
            names = [family.name] * len(family.samples)
        out.append(_head(head, family.documentation, kind))
        values = [float(s.value) for s in family.samples]
    for name, value, sample in zip(names, values, family.samples, strict=True):
        stamp = f" {int(float(sample.timestamp) * 1000):d}" if timestamps and sample.timestamp is not None else ""
        out.append(f"{_metric_name(name)}{_labels(sample.labels)} {go_float(value)}{stamp}\n")


def render_text(families: Iterable[MetricFamily], *, timestamps: bool = False) -> bytes:
    """Families in the text format 0.0.4, in the order given; empty families are left out."""
    out: list[str] = []
    for family in families:
        _family(family, timestamps, out)
    return "".join(out).encode("utf-8")
