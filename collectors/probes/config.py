"""What the packet probes ask, of whom, and how often: one pydantic model the main configuration embeds.

Targets are listed by kind (``onu``, ``cpe``, ``school``, ``gateway`` …) because the kind is a label every
dashboard splits on; the target's ``name`` is its identity (from configuration or the inventory), never a
person. Tablet subnets say which interface to sweep from, because an ARP request only reaches its own link.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ftthnoc.errors import ConfigError
from ftthnoc.normalise import normalise_mac  # one MAC spelling town-wide: sets compare equal
from ftthnoc.personal import FORBIDDEN_LABELS

#: ICMP round-trip buckets suited to FTTH: a healthy ONU answers in 0.5–3 ms, a congested PON in tens
#: of ms, a BWA or VPN path in 20–100 ms; beyond a second is as good as lost.
DEFAULT_RTT_BUCKETS: tuple[float, ...] = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0,
)

_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
#: labels the probes set themselves; a target's extra labels may not shadow them
RESERVED_LABELS = frozenset({"target", "kind", "district", "port", "le", "stat", "probe", "school", "tablet",
                             "subnet", "instance", "job"})

Port = Annotated[int, Field(ge=1, le=65535)]

#: Kinds of target the inventory can supply (``ftthnoc.inventory.lookup.probe_targets`` builds them).
InventoryKind = Literal["onu", "school", "gateway", "bwa", "olt"]


def _first_error(exc: ValidationError) -> str:
    """``field: reason`` of a pydantic error, for one line an operator can act on."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


class ProbeTarget(BaseModel):
    """One host to probe: ICMP unless ``icmp`` is off, and a TCP connect to each of ``ports``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    address: str
    district: str | None = None
    #: further identity labels (e.g. ``olt``); descriptive attributes belong in an ``_info`` metric
    labels: dict[str, str] = Field(default_factory=dict)
    icmp: bool = True
    ports: list[Port] = Field(default_factory=list)

    @field_validator("address")
    @classmethod
    def _ipv4(cls, v: str) -> str:
        try:
            return str(ipaddress.IPv4Address(v.strip()))
        except ValueError:  # names would need a resolver on the probing path: addresses only
            raise ValueError(f"{v!r} is not an IPv4 address") from None

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if not _LABEL.match(key):
                raise ValueError(f"label name {key!r} is not a valid Prometheus label name")
            if key in RESERVED_LABELS:
                raise ValueError(f"label {key!r} is set by the probe itself")
            if key in FORBIDDEN_LABELS:
                raise ValueError(f"label {key!r} would carry personal data; labels are identity only")
        return v


class IcmpSettings(BaseModel):
    """Smokeping-style bursts: ``packets`` echoes per target, spread over the cycle."""

    model_config = ConfigDict(extra="forbid")

    packets: int = Field(20, ge=1, le=10_000)
    timeout_seconds: float = Field(1.0, gt=0, le=30)
    payload_bytes: int = Field(56, ge=0, le=1472)
    buckets: tuple[float, ...] = DEFAULT_RTT_BUCKETS

    @field_validator("buckets")
    @classmethod
    def _sorted(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or list(v) != sorted(set(v)) or v[0] <= 0:
            raise ValueError("buckets must be positive, strictly increasing upper bounds")
        return v


class TcpSettings(BaseModel):
    """Half-open connect checks (SYN → SYN-ACK or RST) to the targets' ``ports``."""

    model_config = ConfigDict(extra="forbid")

    timeout_seconds: float = Field(2.0, gt=0, le=30)
    #: SYNs per (target, port) when none is answered, each with its own timeout
    attempts: int = Field(2, ge=1, le=10)
    #: SYNs per second at most, so that a thousand ports do not leave as one burst
    rate: float = Field(2000.0, gt=0)


class RegisteredTablet(BaseModel):
    """A tablet as the inventory knows it: school code, asset number (never a pupil's name) and MAC."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    school: str
    asset_no: str
    mac: str

    @field_validator("mac")
    @classmethod
    def _mac(cls, v: str) -> str:
        return normalise_mac(v)


class TabletSubnet(BaseModel):
    """A school's tablet subnet and the local interface on that link."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    school: str
    subnet: ipaddress.IPv4Network
    interface: str = Field(min_length=1, max_length=15)
    #: sender address of the requests; default: the interface's own address, else 0.0.0.0 (an RFC 5227 probe)
    source: ipaddress.IPv4Address | None = None
    #: MACs of the school's own equipment (router, switch, printers): answer, but are not "unknown"
    infrastructure_macs: tuple[str, ...] = ()

    @field_validator("subnet")
    @classmethod
    def _size(cls, v: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        if v.num_addresses > 4096:
            raise ValueError("a tablet subnet larger than /20 is not swept (ARP floods the link)")
        return v

    @field_validator("infrastructure_macs")
    @classmethod
    def _macs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(normalise_mac(m) for m in v)


class ArpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: tablets come and go with lessons: a sweep every few minutes is enough and keeps the link quiet
    cycle_seconds: float = Field(300.0, gt=0)
    timeout_seconds: float = Field(1.0, gt=0, le=30)
    #: further rounds of requests to the addresses that did not answer
    retries: int = Field(1, ge=0, le=5)
    rate: float = Field(1000.0, gt=0)
    subnets: list[TabletSubnet] = Field(default_factory=list)
    #: tablets listed in the configuration; the inventory's tablets are passed to the prober beside these
    tablets: list[RegisteredTablet] = Field(default_factory=list)


class ProbeConfig(BaseModel):
    """The ``probes:`` section: targets by kind, and the settings of each probe."""

    model_config = ConfigDict(extra="forbid")

    cycle_seconds: float = Field(60.0, gt=0)
    targets: dict[str, list[ProbeTarget]] = Field(default_factory=dict)
    #: kinds whose targets also come from the inventory (``with_targets``); ``targets`` win on a name clash
    from_inventory: list[InventoryKind] = Field(default_factory=list)
    icmp: IcmpSettings = Field(default_factory=IcmpSettings)
    tcp: TcpSettings = Field(default_factory=TcpSettings)
    arp: ArpSettings = Field(default_factory=ArpSettings)

    @model_validator(mode="after")
    def _consistent(self) -> ProbeConfig:
        for kind, targets in self.targets.items():
            if not _LABEL.match(kind):
                raise ValueError(f"target kind {kind!r} must be a plain word (it becomes a label value)")
            names = [t.name for t in targets]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"target names must be unique within kind {kind!r}: {dup}")
        if self.icmp.timeout_seconds >= self.cycle_seconds:
            raise ValueError("icmp.timeout_seconds must be shorter than cycle_seconds")
        macs = [t.mac for t in self.arp.tablets]
        dup_macs = sorted({m for m in macs if macs.count(m) > 1})
        if dup_macs:
            raise ValueError(f"a tablet MAC is registered twice: {dup_macs}")
        return self

    def with_targets(self, extra: Mapping[str, Sequence[Mapping[str, object]]]) -> ProbeConfig:
        """A copy with the inventory's targets (plain dicts by kind) of the ``from_inventory`` kinds added.

        The configuration is the operator's override: a configured target replaces the inventory's of the
        same name and kind. Other kinds in ``extra`` are ignored, so the inventory can offer everything
        and the configuration chooses. Each target passes the same checks as a configured one; a bad one
        raises ConfigError naming it, because a target silently left out is a host nobody watches.
        """
        targets = {kind: list(ts) for kind, ts in self.targets.items()}
        for kind in dict.fromkeys(self.from_inventory):
            configured = {t.name for t in targets.get(kind, [])}
            added: list[ProbeTarget] = []
            for record in extra.get(kind, ()):
                try:
                    target = ProbeTarget.model_validate(record)
                except ValidationError as exc:
                    name = record.get("name", "?")
                    raise ConfigError(
                        f"probes.from_inventory: {kind} target {name!r} from the inventory: {_first_error(exc)}"
                    ) from None
                if target.name not in configured:
                    added.append(target)
            targets[kind] = [*targets.get(kind, []), *added]
        try:
            return type(self).model_validate({**self.model_dump(exclude={"targets"}), "targets": targets})
        except ValidationError as exc:
            raise ConfigError(f"probes.from_inventory: {_first_error(exc)}") from None

    def icmp_targets(self) -> list[tuple[str, ProbeTarget]]:
        return [(kind, t) for kind, ts in self.targets.items() for t in ts if t.icmp]

    def tcp_targets(self) -> list[tuple[str, ProbeTarget, int]]:
        return [(kind, t, port) for kind, ts in self.targets.items() for t in ts for port in t.ports]
