"""What the probes ask, of whom, and how often: one pydantic model the main configuration embeds.

Targets are listed by kind (``onu``, ``cpe``, ``school``, ``gateway`` …) because the kind is a label every
dashboard splits on; the target's ``name`` is its identity (from configuration or the inventory), never a
person. Tablet subnets say which interface to sweep from, because an ARP request only reaches its own link.
The town's online services (the e-application portal, the website, the town's DNS) are checked as
blackbox_exporter's ``http`` and ``dns`` modules do: ``http.targets`` by URL, ``dns.targets`` by server and
query, each with its own ``kind`` (``service`` unless said).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

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
        return _identity_labels(v)


def _identity_labels(v: dict[str, str]) -> dict[str, str]:
    for key in v:
        if not _LABEL.match(key):
            raise ValueError(f"label name {key!r} is not a valid Prometheus label name")
        if key in RESERVED_LABELS:
            raise ValueError(f"label {key!r} is set by the probe itself")
        if key in FORBIDDEN_LABELS:
            raise ValueError(f"label {key!r} would carry personal data; labels are identity only")
    return v


def _kind(v: str) -> str:
    if not _LABEL.match(v):
        raise ValueError(f"kind {v!r} must be a plain word (it becomes a label value)")
    return v


def _unique(section: str, names: Sequence[str]) -> None:
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"{section} target names must be unique: {dup}")


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


class ServiceTarget(BaseModel):
    """What every online-service check has: its identity (``name``, ``kind``, ``district``, labels)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    #: the ``kind`` label: ``service`` unless the operator groups them otherwise
    kind: str = "service"
    district: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _plain_kind(cls, v: str) -> str:
        return _kind(v)

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        return _identity_labels(v)


class HttpTarget(ServiceTarget):
    """One URL, fetched with GET as blackbox_exporter's ``http`` prober does.

    Success: an answer whose status is in ``valid_status_codes`` (any 2xx when empty), whose body matches
    ``body_regex`` when one is given, over a TLS connection that verified (unless ``verify_tls`` is off).
    """

    url: str
    valid_status_codes: list[Annotated[int, Field(ge=100, le=599)]] = Field(default_factory=list)
    #: follow redirects (blackbox's default): the final answer counts; off, a 301 is the answer
    follow_redirects: bool = True
    body_regex: str | None = None
    #: verify the server's certificate and name; off, the certificate's expiry is still read
    verify_tls: bool = True
    #: a PEM file of the CAs to trust instead of the system's (a town's own CA)
    ca_file: Path | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{v!r} is not an http:// or https:// URL with a host")
        if parts.username or parts.password:  # a credential in a URL ends up in logs
            raise ValueError("a URL with a user or password is not probed; credentials never live in a URL")
        return v.strip()

    @field_validator("body_regex")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"body_regex {v!r} does not compile: {exc}") from None
        return v

    @field_validator("ca_file")
    @classmethod
    def _ca(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"ca_file {str(v)!r} is not a readable file")
        return v

    def ok_status(self, status: int) -> bool:
        return status in self.valid_status_codes if self.valid_status_codes else 200 <= status < 300


DnsType = Literal["A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"]


class DnsTarget(ServiceTarget):
    """One question (``query_name``, ``query_type``) to one server, as blackbox_exporter's ``dns`` prober
    asks it. Success: rcode NOERROR, at least one answer record, and every one of ``expected_addresses``
    (A/AAAA) among the answers when given."""

    server: str
    port: Port = 53
    transport: Literal["udp", "tcp"] = "udp"
    query_name: str = Field(min_length=1, max_length=253)
    query_type: DnsType = "A"
    recursion_desired: bool = True
    expected_addresses: list[str] = Field(default_factory=list)

    @field_validator("server")
    @classmethod
    def _server(cls, v: str) -> str:
        try:
            return str(ipaddress.ip_address(v.strip()))
        except ValueError:  # the resolver of the resolver: an address, always
            raise ValueError(f"server {v!r} is not an IP address") from None

    @field_validator("expected_addresses")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        try:
            return [str(ipaddress.ip_address(a.strip())) for a in v]
        except ValueError as exc:
            raise ValueError(f"expected_addresses: {exc}") from None

    @model_validator(mode="after")
    def _addresses_need_a(self) -> DnsTarget:
        if self.expected_addresses and self.query_type not in ("A", "AAAA"):
            raise ValueError("expected_addresses needs query_type A or AAAA")
        return self


class HttpSettings(BaseModel):
    """The ``http`` checks of the town's web services, once per ``cycle_seconds``."""

    model_config = ConfigDict(extra="forbid")

    timeout_seconds: float = Field(10.0, gt=0, le=120)
    #: at most this much of a body is read (and searched by ``body_regex``)
    max_body_bytes: int = Field(1 << 20, ge=0)
    targets: list[HttpTarget] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> HttpSettings:
        _unique("http", [t.name for t in self.targets])
        return self


class DnsSettings(BaseModel):
    """The ``dns`` checks of the town's name servers, once per ``cycle_seconds``."""

    model_config = ConfigDict(extra="forbid")

    timeout_seconds: float = Field(5.0, gt=0, le=60)
    targets: list[DnsTarget] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> DnsSettings:
        _unique("dns", [t.name for t in self.targets])
        return self


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
    http: HttpSettings = Field(default_factory=HttpSettings)
    dns: DnsSettings = Field(default_factory=DnsSettings)

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
        for section, settings in (("http", self.http), ("dns", self.dns)):
            if settings.targets and settings.timeout_seconds >= self.cycle_seconds:  # only what runs
                raise ValueError(f"{section}.timeout_seconds must be shorter than cycle_seconds")
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
