"""Turn one module's walked columns into neutral metric families.

This runs once per varbind per poll (56,000 a cycle in the default town), so the per-row work is
kept to a dictionary lookup for the index labels and a few arithmetic operations.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from collectors.snmp import ber, quirks
from collectors.snmp.ber import Oid, VarBind
from collectors.snmp.counters import CounterState
from collectors.snmp.module import IndexPart, Metric, Module
from ftthnoc.catalogue import help_of
from ftthnoc.samples import MetricFamily, merge

SYS_UPTIME: Oid = (1, 3, 6, 1, 2, 1, 1, 3)
Labels = dict[str, str]
#: adds identity labels the agent cannot know (the district of an ONU, from the inventory)
Labeler = Callable[[Labels], Labels]
#: (olt, pon_port, onu_id) → district, and olt → district as the fallback for ports
OnuDistricts = Mapping[tuple[str, str, str], str]


def district_labeler(onus: OnuDistricts, olts: Mapping[str, str]) -> Labeler:
    """Adds ``district`` to ONU and PON-port labels from the inventory ("unknown" where it does not say);
    other labels pass through."""

    def label(lab: Labels) -> Labels:
        olt = lab.get("olt")
        if olt is None or "pon_port" not in lab:
            return lab
        district = onus.get((olt, lab["pon_port"], lab.get("onu_id", ""))) or olts.get(olt) or "unknown"
        return {**lab, "district": district}

    return label


#: a GPON serial sent as text: 4 vendor characters and 8 hex digits, optionally after "<n>,"
_TEXT_SERIAL = re.compile(r"(?:\d+,)?([A-Za-z0-9]{4})([0-9A-Fa-f]{8})")


def format_octets(raw: bytes, fmt: str) -> str:
    if fmt == "hex":
        return raw.hex().upper()
    if fmt == "phys_address":
        # snmp_exporter's PhysAddress48: six octets, upper-case (a shorter value padded with zeros, a longer
        # one cut), so that a dashboard written for snmp_exporter matches the same label values
        return ":".join(f"{b:02X}" for b in raw[:6].ljust(6, b"\0"))
    if fmt == "mac":
        return ":".join(f"{b:02x}" for b in raw)
    if fmt == "gpon_serial":
        # 4 ASCII vendor letters + 4 bytes shown as hex, as the OLT CLI prints it and the inventory
        # stores it: 48575443A1B2C3D4 → HWTC-A1B2C3D4
        if len(raw) == 8 and raw[:4].isalnum() and raw[:4].isascii():
            return raw[:4].decode("ascii") + "-" + raw[4:].hex().upper()
        text = raw.decode("ascii", "replace").strip()
        # the same serial as text, with or without a leading field: ZTE's V2 tree sends "1,ZTEGC0000001"
        shown = _TEXT_SERIAL.fullmatch(text)
        if shown:
            return f"{shown[1].upper()}-{shown[2].upper()}"
        return text if text.isalnum() else raw.hex().upper()
    return raw.decode("utf-8", "replace").rstrip("\x00").strip()


def _index_labeler(parts: list[IndexPart]) -> Callable[[Oid], Labels | None]:
    if any(p.quirk in quirks.VARIABLE_INDEX_QUIRKS for p in parts):
        return _variable_index_labeler(parts)
    n = len(parts)
    constants = tuple((i, p.constant) for i, p in enumerate(parts) if p.constant is not None)
    funcs = [(i, p.labelname, quirks.INDEX_QUIRKS[p.quirk] if p.quirk else str)
             for i, p in enumerate(parts) if p.labelname is not None]

    def label(idx: Oid) -> Labels | None:
        if n == 0:
            return {} if idx == (0,) else None  # a scalar lives at instance .0
        if len(idx) != n:
            return None  # a row whose index does not have the layout's shape: skip, never guess
        if any(idx[i] != value for i, value in constants):
            return None
        return {name: fn(idx[i]) for i, name, fn in funcs}

    return label


def _variable_index_labeler(parts: list[IndexPart]) -> Callable[[Oid], Labels | None]:
    """Layouts with a string (or other many-sub-id) part: parsed left to right, and every sub-id of the
    index must be used, as with the fixed layouts (a leftover or a short index is a malformed row)."""
    steps: list[tuple[str | None, Callable[[Sequence[int]], tuple[str, int] | None]]] = []
    for p in parts:
        if p.constant is not None:
            steps.append((None, _constant_subid(p.constant)))
        elif p.quirk in quirks.VARIABLE_INDEX_QUIRKS:
            steps.append((p.labelname, quirks.VARIABLE_INDEX_QUIRKS[p.quirk]))
        else:
            steps.append((p.labelname, _one_subid(quirks.INDEX_QUIRKS[p.quirk] if p.quirk else str)))

    def label(idx: Oid) -> Labels | None:
        out: Labels = {}
        pos = 0
        for name, step in steps:
            got = step(idx[pos:])
            if got is None:
                return None
            text, used = got
            if name is not None:
                out[name] = text
            pos += used
        return out if pos == len(idx) else None

    return label


def _one_subid(fn: Callable[[int], str]) -> Callable[[Sequence[int]], tuple[str, int] | None]:
    """A one-sub-id part as a step of a variable layout."""

    def step(rest: Sequence[int]) -> tuple[str, int] | None:
        return (fn(rest[0]), 1) if rest else None

    return step


def _constant_subid(value: int) -> Callable[[Sequence[int]], tuple[str, int] | None]:
    """A fixed sub-identifier as a step of a variable layout: it must be there, and labels nothing."""

    def step(rest: Sequence[int]) -> tuple[str, int] | None:
        return ("", 1) if rest and rest[0] == value else None

    return step


_HMS = re.compile(r"(\d+):([0-5]?\d):([0-5]?\d)")


def _text_number(raw: bytes, fmt: str) -> float | None:
    """A number an agent sends as text: "-21.34", "4136", or with ``duration_hms`` "11:22:33" (seconds)."""
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    if fmt == "duration_hms":
        m = _HMS.fullmatch(text)
        return None if m is None else float(int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3]))
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def date_and_time(raw: bytes, utc_offset_minutes: int | None = None) -> float | None:
    """An SNMPv2-TC ``DateAndTime`` (RFC 2579) as Unix seconds, or None for no reading.

    11 octets: year (2), month, day, hour, minutes, seconds, deci-seconds, then '+'/'-', hours and
    minutes from UTC. 8 octets: the same without the offset, which ``utc_offset_minutes`` then gives.
    All zeros (what agents send for "never") and anything that is not a calendar time are no reading.
    """
    if len(raw) not in (8, 11) or not any(raw):
        return None
    year = raw[0] << 8 | raw[1]
    month, day, hour, minute, second, deci = raw[2:8]
    if len(raw) == 11:
        if raw[8] not in b"+-" or raw[9] > 14 or raw[10] > 59:
            return None
        offset = (raw[9] * 60 + raw[10]) * (1 if raw[8] == ord("+") else -1)
    elif utc_offset_minutes is None:
        return None
    else:
        offset = utc_offset_minutes
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # month 0, day 32, hour 24, second 61: not a time
        return None
    if deci > 9:
        return None
    return local.timestamp() + deci / 10 - offset * 60


def _number(metric: Metric, vb: VarBind) -> float | None:
    raw: float | int
    if metric.format == "date_and_time":
        if not isinstance(vb.value, bytes):
            return None
        stamp = date_and_time(vb.value, metric.utc_offset_minutes)
        if stamp is None or (metric.valid is not None and not metric.valid[0] <= stamp <= metric.valid[1]):
            return None
        return stamp
    if isinstance(vb.value, int):
        raw = vb.value
    elif isinstance(vb.value, bytes) and metric.format in ("number", "duration_hms"):
        # some agents send numbers as strings (e.g. "-21.34"): the same steps as an integer
        text = _text_number(vb.value, metric.format)
        if text is None:
            return None
        raw = text
    else:
        return None
    if raw in metric.sentinels:
        return None
    if metric.signed_bits is not None and raw == int(raw) and raw >= 1 << (metric.signed_bits - 1):
        raw = int(raw) - (1 << metric.signed_bits)
    if metric.map is not None:
        return metric.map.get(int(raw)) if raw == int(raw) else None
    try:
        value = (raw + metric.offset) * metric.scale
    except OverflowError:  # a number too big for a float: no reading, never a traceback
        return None
    if not math.isfinite(value) or (metric.valid is not None and not metric.valid[0] <= value <= metric.valid[1]):
        return None
    return value


def decode_module(
    module: Module,
    columns: Mapping[Oid, list[VarBind]],
    device: str,
    labeler: Labeler | None = None,
    counters: CounterState | None = None,
) -> tuple[list[MetricFamily], int]:
    """Families for one device and module, plus the number of readings rejected as no reading."""
    base: Labels = {module.target_label: device} if device else {}
    if counters is not None:
        for vb in columns.get(SYS_UPTIME, ()):
            if isinstance(vb.value, int):
                counters.observe_uptime(device, vb.value)
    index_fns = {name: _index_labeler(parts) for name, parts in module.indexes.items()}
    lookups: dict[str, list[tuple[str, dict[Oid, str]]]] = {}
    for lk in module.lookups:
        root = lk.oid_tuple
        n = len(root)
        table = {vb.oid[n:]: format_octets(vb.value, "display_string") if isinstance(vb.value, bytes)
                 else str(vb.value) for vb in columns.get(root, [])}
        lookups.setdefault(lk.index, []).append((lk.labelname, table))

    label_cache: dict[tuple[str, Oid], Labels | None] = {}

    def labels_for(index: str, idx: Oid) -> Labels | None:
        key = (index, idx)
        if key in label_cache:
            return label_cache[key]
        try:
            lab = index_fns[index](idx)
        except (ValueError, OverflowError):  # an index a quirk cannot read: a malformed row, not a crash
            lab = None
        if lab is not None:
            lab = {**base, **lab}
            for name, table in lookups.get(index, ()):
                lab[name] = table.get(idx, "")
            if labeler is not None:
                lab = labeler(lab)
        label_cache[key] = lab
        return lab

    families: list[MetricFamily] = []
    rejected = 0
    #: a device that answers none of the module's columns does not speak its MIB: nothing is "0" there
    speaks_mib = any(columns.get(m.oid_tuple) for m in module.metrics)
    for metric in module.metrics:
        root = metric.oid_tuple
        n = len(root)
        kind = metric.type
        fam = MetricFamily(metric.name, help_of(metric.name) or f"{metric.help} ({metric.oid})",
                           "counter" if kind == "counter" else "info" if kind == "info" else "gauge")
        rows = columns.get(root, ())
        for vb in rows:
            lab = labels_for(metric.index, vb.oid[n:]) if vb.tag != ber.INVALID else None
            if lab is None:  # a malformed index, or a value that breaks its own type (ber.INVALID)
                rejected += 1
                continue
            if metric.labels:
                lab = {**lab, **metric.labels}
            if kind == "gauge":
                value = _number(metric, vb)
                if value is None:
                    rejected += 1
                    continue
                fam.add(lab, value)
            elif kind == "counter":
                if not isinstance(vb.value, int):
                    rejected += 1
                    continue
                width = 64 if vb.tag == ber.COUNTER64 else 32
                total = counters.extend(device, metric.name, vb.oid, vb.value, width) if counters else vb.value
                fam.add(lab, float(total))
            else:  # info / string: the value is a label, the sample value 1
                text = _text(metric, vb)
                if text is None:
                    rejected += 1
                    continue
                assert metric.label is not None
                fam.add({**lab, metric.label: text}, 1.0)
        if metric.aggregate == "sum":
            fam = _summed(fam, {**base, **metric.labels}, empty=speaks_mib and not rows)
        families.append(fam)
    if len({f.name for f in families}) < len(families):
        families = merge(families)
    # every instance the agent listed in any column, readable or not: "which ONUs exist" must not
    # depend on whether an offline ONU still reports a distance
    instances: dict[str, list[Labels]] = {}
    for (index, _idx), lab in label_cache.items():
        if lab is not None:
            instances.setdefault(index, []).append(lab)
    for step in module.postprocess:
        families = quirks.POSTPROCESS[step](families, instances)
    return families, rejected


def _summed(fam: MetricFamily, labels: Labels, *, empty: bool) -> MetricFamily:
    """The family as one sample per device: the sum of its rows. No rows at all on a device that speaks
    the MIB is 0 (no tunnel is up); rows that were all no reading stay no reading."""
    out = MetricFamily(fam.name, fam.documentation, fam.type, fam.unit)
    if fam.samples or empty:
        out.add(labels, sum(s.value for s in fam.samples))
    return out


def _text(metric: Metric, vb: VarBind) -> str | None:
    raw = vb.value
    if metric.format == "mac":
        # exactly an Ethernet MAC, or no reading (an empty or truncated row, a wrong type): never a guess
        return format_octets(raw, "mac") if isinstance(raw, bytes) and len(raw) == 6 else None
    if isinstance(raw, int):
        if raw in metric.sentinels:
            return None
        if metric.enum is not None:
            return metric.enum.get(raw, metric.enum_default)
        return str(raw)
    if isinstance(raw, bytes):
        return format_octets(raw, metric.format if metric.format != "number" else "display_string")
    if isinstance(raw, tuple):
        return ber.format_oid(raw)
    return None
