"""Trap classification as data: which notification means which state change (``traps.yaml``).

Like the device modules, a rule names numeric OIDs only, so no MIB has to be compiled or trusted: the
trap's ``snmpTrapOID.0`` selects a rule (exact ``oid`` first, then the longest ``oid_prefix``), and
the rule says which varbinds carry the ifIndex, the PON port, the ONU id, a state and a down cause.
A varbind is found by OID prefix (the object or column OID); ``take: value`` reads its value,
``take: index`` one sub-identifier of the instance after the prefix (vendor ONU tables are indexed
``{pon ifIndex}.{onu id}``). The PON port comes from an ifIndex (``pon_if_index`` and the ``pon_port``
quirk, reused from the poller's quirks) or, for traps that carry the port as frame, slot and port
varbinds (HUAWEI-XPON-TRAP-MIB's ONT alarms), from those fields joined as ``F/S/P`` (``pon_port_parts``).
Only the fields a rule names are read: a trap's other varbinds (ONU descriptions hold household codes)
never reach an event, a metric or a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from collectors.snmp.ber import Oid, VarBind, parse_oid
from collectors.snmp.quirks import INDEX_QUIRKS
from ftthnoc import vendors
from ftthnoc.errors import ConfigError
from ftthnoc.events import DownCause, EventKind

FieldName = Literal["if_index", "pon_if_index", "onu_id", "state", "cause_code", "frame", "slot", "port"]

SNMP_TRAP_OID: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
SYS_UPTIME: Oid = (1, 3, 6, 1, 2, 1, 1, 3, 0)
#: RFC 3584 adds these to a v1 trap translated to v2; the community is a secret and is dropped at once
SNMP_TRAP_COMMUNITY: Oid = (1, 3, 6, 1, 6, 3, 18, 1, 4, 0)
SNMP_TRAP_ADDRESS: Oid = (1, 3, 6, 1, 6, 3, 18, 1, 3, 0)


class Source(BaseModel):
    """Where a field comes from: the value of a varbind under ``prefix``, or one index sub-identifier."""

    model_config = ConfigDict(extra="forbid")

    prefix: str
    take: Literal["value", "index"] = "value"
    #: for ``take: index``: which sub-identifier after the prefix (0 = the first)
    position: int = Field(0, ge=0)

    @field_validator("prefix")
    @classmethod
    def _numeric(cls, v: str) -> str:
        parse_oid(v)
        return v

    @property
    def oid(self) -> Oid:
        return parse_oid(self.prefix)


class Outcome(BaseModel):
    """What a state value means: an event kind and, for a down state, its cause."""

    model_config = ConfigDict(extra="forbid")

    kind: EventKind
    cause: DownCause | None = None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    oid: str | None = None
    oid_prefix: str | None = None
    #: False: the OIDs come from MIB reading, not from a captured trap of a real device (see the YAML)
    verified: bool = True
    kind: EventKind = "other"
    cause: DownCause | None = None
    #: a function of ``collectors.snmp.quirks.INDEX_QUIRKS`` turning ``pon_if_index`` into a port name
    pon_port: str | None = None
    #: fields whose values, joined with "/", name the PON port (``[frame, slot, port]`` → ``0/2/3``, as
    #: the OLT's CLI writes it); used when all are present, before ``pon_if_index``
    pon_port_parts: list[FieldName] = Field(default_factory=list)
    fields: dict[FieldName, list[Source]] = Field(default_factory=dict)
    #: value of the ``state`` field → kind (and cause); unknown states keep the rule's ``kind``
    states: dict[int, Outcome] = Field(default_factory=dict)
    #: value of the ``cause_code`` field → cause; a code not listed is ``other``
    causes: dict[int, DownCause] = Field(default_factory=dict)

    @field_validator("fields", mode="before")
    @classmethod
    def _listify(cls, v: object) -> object:
        if isinstance(v, dict):
            return {k: (s if isinstance(s, list) else [s]) for k, s in v.items()}
        return v

    @field_validator("states", mode="before")
    @classmethod
    def _short_states(cls, v: object) -> object:
        if isinstance(v, dict):
            return {k: ({"kind": s} if isinstance(s, str) else s) for k, s in v.items()}
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if (self.oid is None) == (self.oid_prefix is None):
            raise ValueError(f"rule {self.name}: give exactly one of oid and oid_prefix")
        parse_oid(self.oid or self.oid_prefix or "")
        if self.pon_port is not None and self.pon_port not in INDEX_QUIRKS:
            raise ValueError(f"rule {self.name}: unknown pon_port quirk {self.pon_port!r} "
                             f"(known: {', '.join(sorted(INDEX_QUIRKS))})")
        if self.states and "state" not in self.fields:
            raise ValueError(f"rule {self.name}: states given but no state field")
        if self.causes and "cause_code" not in self.fields:
            raise ValueError(f"rule {self.name}: causes given but no cause_code field")
        missing = [p for p in self.pon_port_parts if p not in self.fields]
        if missing:
            raise ValueError(f"rule {self.name}: pon_port_parts names fields it does not read: {missing}")
        return self


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule]

    @model_validator(mode="after")
    def _unique(self) -> RuleFile:
        names = [r.name for r in self.rules]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"rule names must be unique: {dup}")
        exact = [r.oid for r in self.rules if r.oid]
        dup = sorted({o for o in exact if exact.count(o) > 1})
        if dup:
            raise ValueError(f"two rules for the same trap OID: {dup}")
        return self


@dataclass(frozen=True, slots=True)
class Mapped:
    """A trap as the rules read it; the receiver adds time and source to make a ``DeviceEvent``."""

    rule: str | None  # None: no rule matched
    kind: EventKind
    cause: DownCause | None = None
    if_index: int | None = None
    pon_port: str | None = None
    onu_id: str | None = None
    detail: dict[str, str] = field(default_factory=dict)

    @property
    def onu_scoped(self) -> bool:
        return self.pon_port is not None or self.onu_id is not None


def _int(vb: VarBind) -> int | None:
    return vb.value if isinstance(vb.value, int) else None


def _extract(sources: list[Source], varbinds: list[VarBind]) -> int | None:
    for src in sources:
        prefix = src.oid
        n = len(prefix)
        for vb in varbinds:
            if vb.oid[:n] != prefix:
                continue
            if src.take == "value":
                got = _int(vb)
            else:
                suffix = vb.oid[n:]
                got = suffix[src.position] if src.position < len(suffix) else None
            if got is not None:
                return got
    return None


class RuleSet:
    """The loaded rules, indexed for lookup by trap OID."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = list(rules)
        self._exact = {parse_oid(r.oid): r for r in self.rules if r.oid}
        self._prefixes = sorted(((parse_oid(r.oid_prefix), r) for r in self.rules if r.oid_prefix),
                                key=lambda p: -len(p[0]))

    def match(self, trap_oid: Oid) -> Rule | None:
        rule = self._exact.get(trap_oid)
        if rule is not None:
            return rule
        for prefix, r in self._prefixes:
            if trap_oid[:len(prefix)] == prefix:
                return r
        return None

    def classify(self, trap_oid: Oid, varbinds: list[VarBind]) -> Mapped:
        rule = self.match(trap_oid)
        if rule is None:
            return Mapped(None, "other")
        got = {name: _extract(srcs, varbinds) for name, srcs in rule.fields.items()}
        kind, cause = rule.kind, rule.cause
        state = got.get("state")
        if state is not None and state in rule.states:
            outcome = rule.states[state]
            kind, cause = outcome.kind, outcome.cause or cause
        code = got.get("cause_code")
        if cause is None and code is not None and rule.causes:
            cause = rule.causes.get(code, "other")
        if kind != "onu_down":
            cause = None
        pon_if = got.get("pon_if_index")
        pon_port = None
        parts = [got.get(p) for p in rule.pon_port_parts]
        if parts and all(p is not None for p in parts):
            pon_port = "/".join(str(p) for p in parts)
        elif pon_if is not None:
            pon_port = INDEX_QUIRKS[rule.pon_port](pon_if) if rule.pon_port else str(pon_if)
        onu = got.get("onu_id")
        detail = {"rule": rule.name}
        for key in ("state", "cause_code", "pon_if_index"):
            if got.get(key) is not None:
                detail[key] = str(got[key])
        if not rule.verified:
            detail["verified"] = "false"
        return Mapped(rule.name, kind, cause, got.get("if_index"), pon_port,
                      None if onu is None else str(onu), detail)


def parse_rules(text: str, origin: str) -> RuleSet:
    try:
        data = RuleFile.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError, ValueError) as exc:
        raise ConfigError(f"trap rules {origin}: {exc}") from exc
    return RuleSet(data.rules)


@cache
def builtin_rules() -> RuleSet:
    """Every vendor pack's ``traps.yaml`` (ftthnoc/vendors/<pack>/), as one rule set."""
    rules: list[Rule] = []
    for path in vendors.trap_rule_files():
        rules.extend(parse_rules(path.read_text(encoding="utf-8"), f"{path.parent.name}/{path.name}").rules)
    names = [r.name for r in rules]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"trap rules: names used by two packs: {dup}")
    return RuleSet(rules)


def load_rules(path: Path | None = None) -> RuleSet:
    if path is None:
        return builtin_rules()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read trap rules {path}: {exc.strerror}") from exc
    return parse_rules(text, str(path))


def trap_oid_of(varbinds: list[VarBind]) -> Oid | None:
    """``snmpTrapOID.0``'s value: the notification's identity (v1 traps arrive translated, RFC 3584)."""
    for vb in varbinds:
        if vb.oid == SNMP_TRAP_OID and isinstance(vb.value, tuple):
            return vb.value
    return None

