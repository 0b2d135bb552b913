"""Device modules as data: what to walk, how to name, index, scale and vet each value.

In the spirit of snmp_exporter's generated ``snmp.yml``: a module lists metrics with a numeric OID,
an index layout, a type and a transformation; credentials live apart (``ftthnoc.config.Auth``).
Python is used only for the *quirks* a layout or post-processing step names (see ``quirks.py``).

Value transformation, in order: a raw reading listed in ``sentinels`` is "no reading"; ``signed_bits``
reads a two's-complement value the agent sends as unsigned (ZTE sends a 16-bit signed optical level as
0–65535: with ``signed_bits: 16``, 64032 is −1504); ``map`` replaces a raw integer by another (values not
in the map are no reading); otherwise ``(raw + offset) × scale``; a result outside ``valid`` is no reading.
No reading means no sample: a sentinel never becomes a number. Numbers an agent sends as text ("-21.34",
"4136", "11:22:33" with ``format: duration_hms``) go through the same steps. A string label with
``format: mac`` is a MAC address (exactly 6 octets, shown ``aa:bb:cc:dd:ee:ff`` as the inventory stores
it; any other length is no reading).
A gauge with ``format: date_and_time`` reads an SNMPv2-TC ``DateAndTime`` (RFC 2579) as Unix seconds: the
11-octet form carries its offset from UTC; the 8-octet form has none, and is read with the metric's
``utc_offset_minutes`` (no reading when the module does not give one, rather than a time off by hours).
An all-zero value, or one that is not a calendar date, is no reading.

A metric with ``aggregate: sum`` is reported once per device, summed over its rows (a tunnel table
mapped to 1/0 becomes "tunnels up"), so that per-row indexes that churn never become series. ``labels``
adds constant labels, so that two columns can share a name (RSRP of antenna 0 and 1).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from collectors.snmp.ber import Oid, parse_oid
from collectors.snmp.transport import Limits
from ftthnoc import vendors
from ftthnoc.errors import ModuleError

MetricKind = Literal["gauge", "counter", "info", "string"]
Format = Literal["number", "display_string", "hex", "gpon_serial", "phys_address", "mac", "duration_hms",
                 "date_and_time"]
Aggregate = Literal["sum"]


class IndexPart(BaseModel):
    """One part of the instance index and the label it becomes: one sub-identifier, or as many as a
    variable-width quirk (``quirks.VARIABLE_INDEX_QUIRKS``, e.g. a length-prefixed string) consumes.

    A part with ``constant`` is one sub-identifier that must have that value and becomes no label (ZTE's
    ONU optics table is indexed ``{pon}.{onu}.1``: the ONU's one optical interface); a row with another
    value there is malformed, never guessed."""

    model_config = ConfigDict(extra="forbid")
    labelname: str | None = None
    quirk: str | None = None  # name of a function in quirks.INDEX_QUIRKS; default: the integer
    constant: int | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> IndexPart:
        if self.constant is None and not self.labelname:
            raise ValueError("an index part needs 'labelname' (or 'constant' for a fixed sub-identifier)")
        if self.constant is not None and (self.labelname or self.quirk):
            raise ValueError("a 'constant' index part has no label and no quirk")
        return self


class Lookup(BaseModel):
    """Add the value of another column with the same index as a label (snmp_exporter's lookups)."""

    model_config = ConfigDict(extra="forbid")
    index: str
    labelname: str
    oid: str

    @property
    def oid_tuple(self) -> Oid:
        return parse_oid(self.oid)


class Metric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    oid: str
    help: str
    index: str
    type: MetricKind = "gauge"
    #: label carrying the value for ``info`` and ``string`` metrics
    label: str | None = None
    format: Format = "number"
    scale: float = 1.0
    offset: float = 0.0
    sentinels: list[int] = Field(default_factory=list)
    #: the raw integer is a two's-complement value of this many bits sent as unsigned
    signed_bits: int | None = Field(None, ge=2, le=64)
    map: dict[int, float] | None = None
    #: for ``info`` metrics on an enumerated integer: raw → label value
    enum: dict[int, str] | None = None
    enum_default: str | None = None
    valid: tuple[float, float] | None = None
    #: constant labels of this column (two columns of one metric name differ by them)
    labels: dict[str, str] = Field(default_factory=dict)
    #: report one sample per device: the sum over the rows (no rows on a device that answers the
    #: module's other columns: 0)
    aggregate: Aggregate | None = None
    #: ``format: date_and_time``: the agent's offset from UTC for values sent without one (8 octets)
    utc_offset_minutes: int | None = Field(None, ge=-14 * 60, le=14 * 60)

    @field_validator("oid")
    @classmethod
    def _numeric(cls, v: str) -> str:
        parse_oid(v)
        return v.lstrip(".")

    @model_validator(mode="after")
    def _labels(self) -> Metric:
        if self.type in ("info", "string") and not self.label:
            raise ValueError(f"{self.name}: an {self.type} metric needs 'label'")
        if self.aggregate is not None and self.type != "gauge":
            raise ValueError(f"{self.name}: only a gauge can be aggregated")
        return self

    @property
    def oid_tuple(self) -> Oid:
        return parse_oid(self.oid)


class ModuleLimits(BaseModel):
    """Bounds of one poll with this module (``transport.Limits``); a target's own settings win over them."""

    model_config = ConfigDict(extra="forbid")
    max_rows: int = Field(100_000, ge=1)
    max_requests: int = Field(20_000, ge=1)
    max_seconds: float | None = Field(None, gt=0)

    def limits(self, default_seconds: float | None = None) -> Limits:
        return Limits(self.max_rows, self.max_requests,
                      self.max_seconds if self.max_seconds is not None else default_seconds)


class Module(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    #: label that names the polled device in the /metrics of a whole town (``olt`` on OLT modules)
    target_label: str = "device"
    indexes: dict[str, list[IndexPart]]
    lookups: list[Lookup] = Field(default_factory=list)
    metrics: list[Metric]
    #: names of functions in quirks.POSTPROCESS run on the module's families after decoding
    postprocess: list[str] = Field(default_factory=list)
    #: how far one poll with this module may go (a table of 7,000 ONUs is 7,000 rows a column)
    limits: ModuleLimits = Field(default_factory=ModuleLimits)
    #: a device that answers none of the module's subtrees does not speak its MIB (the wrong module for
    #: it): the poll fails and says so. ``false`` where an empty answer is normal (an empty ARP table).
    expect_rows: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Module:
        from collectors.snmp import quirks

        for m in self.metrics:
            if m.index not in self.indexes:
                raise ValueError(f"metric {m.name} uses unknown index layout {m.index!r}")
        for lk in self.lookups:
            if lk.index not in self.indexes:
                raise ValueError(f"lookup {lk.labelname} uses unknown index layout {lk.index!r}")
        for name, parts in self.indexes.items():
            for p in parts:
                if p.quirk and p.quirk not in quirks.INDEX_QUIRKS and p.quirk not in quirks.VARIABLE_INDEX_QUIRKS:
                    raise ValueError(f"index {name}: unknown quirk {p.quirk!r}")
        kinds: dict[str, str] = {}
        for m in self.metrics:
            if kinds.setdefault(m.name, m.type) != m.type:
                raise ValueError(f"metric {m.name} is declared with two types")
        for pp in self.postprocess:
            if pp not in quirks.POSTPROCESS:
                raise ValueError(f"unknown postprocess step {pp!r}")
        return self

    def roots(self) -> list[Oid]:
        """Every subtree to walk, each once, in order."""
        seen: dict[Oid, None] = {}
        for lk in self.lookups:
            seen.setdefault(lk.oid_tuple)
        for m in self.metrics:
            seen.setdefault(m.oid_tuple)
        return list(seen)


def parse_module(text: str, origin: str) -> Module:
    try:
        return Module.model_validate(yaml.load(text, Loader=_LOADER))
    except (yaml.YAMLError, ValidationError, ValueError) as exc:
        raise ModuleError(f"module {origin}: {exc}") from exc


#: libyaml's loader where PyYAML was built with it (ten times faster on the bigger modules)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def builtin_paths() -> dict[str, Path]:
    """Every builtin module's file, by module name (its stem), from every vendor pack's ``snmp/``."""
    found: dict[str, Path] = {}
    for directory in vendors.module_dirs():
        for path in sorted(directory.glob("*.yaml")):
            if path.stem in found:
                raise ModuleError(f"module {path.stem} is in two packs: {found[path.stem]} and {path}")
            found[path.stem] = path
    return found


def builtin_names() -> tuple[str, ...]:
    """Every builtin module's name: its file's stem (a test holds each file's ``name:`` to it)."""
    return tuple(sorted(builtin_paths()))


@cache
def builtin_modules() -> dict[str, Module]:
    return {name: _builtin(name) for name in builtin_names()}


@cache
def _builtin(name: str) -> Module:
    path = builtin_paths()[name]
    return parse_module(path.read_text(encoding="utf-8"), f"{path.parent.parent.name}/{path.name}")


def get_module(name: str, extra: dict[str, Module] | None = None) -> Module:
    """A module by name: one the caller brought, else a builtin one (only its own file is read)."""
    if extra and name in extra:
        return extra[name]
    if name in builtin_names():
        return _builtin(name)
    known = sorted({*builtin_names(), *(extra or {})})
    raise KeyError(f"unknown module {name!r} (known: {', '.join(known)})")
