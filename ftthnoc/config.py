"""The poller's configuration file: auths apart from targets, as in snmp_exporter's ``snmp.yml``.

Secrets are written as ``${ENV_NAME}`` and expanded from the environment when the file is read, so
that the file itself can be committed; they are held as ``SecretStr`` and never printed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from ftthnoc.errors import ConfigError

AuthProtocol = Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"]
# snmp_exporter's names: AES192/AES256 are Blumenthal key extension (net-snmp), the C suffix is
# Reeder's (Cisco and many others).
PrivProtocol = Literal["DES", "AES", "AES192", "AES256", "AES192C", "AES256C"]
SecurityLevel = Literal["noAuthNoPriv", "authNoPriv", "authPriv"]
PonClass = Literal["B+", "C+", "XGS", "PX20"]

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise ConfigError(f"environment variable {name} is referenced by the configuration but not set")
        return os.environ[name]

    return _ENV_REF.sub(repl, text)


class Auth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[2, 3] = 2
    community: SecretStr = SecretStr("public")
    username: str = ""
    security_level: SecurityLevel = "noAuthNoPriv"
    auth_protocol: AuthProtocol = "SHA"
    password: SecretStr = SecretStr("")
    priv_protocol: PrivProtocol = "AES"
    priv_password: SecretStr = SecretStr("")
    context_name: str = ""

    @field_validator("community", "password", "priv_password", mode="before")
    @classmethod
    def _expand(cls, v: object) -> object:
        return expand_env(v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _v3_complete(self) -> Auth:
        if self.version == 3:
            if not self.username:
                raise ValueError("an SNMPv3 auth needs a username")
            if self.security_level != "noAuthNoPriv" and len(self.password.get_secret_value()) < 8:
                raise ValueError("an SNMPv3 auth password must have at least 8 characters")
            if self.security_level == "authPriv" and len(self.priv_password.get_secret_value()) < 8:
                raise ValueError("an SNMPv3 privacy password must have at least 8 characters")
        return self


class Target(BaseModel):
    """One device to poll: which modules, with which auth, and how gently."""

    model_config = ConfigDict(extra="forbid")

    name: str
    address: str  # HOST or HOST:PORT
    modules: list[str]
    auth: str = "public_v2"
    pon_class: PonClass = "B+"
    max_repetitions: int = Field(25, ge=1, le=250)
    timeout: float = Field(2.0, gt=0)
    retries: int = Field(1, ge=0, le=10)
    #: requests in flight to this device at once (OLT agents are slow and single-threaded)
    concurrency: int = Field(2, ge=1, le=32)
    #: bounds of one poll of one module, over the module's own (``limits:`` in its YAML): varbinds of
    #: one walked subtree, requests, and seconds (default: the interval, so that polls never pile up)
    max_rows: int | None = Field(None, ge=1)
    max_requests: int | None = Field(None, ge=1)
    poll_timeout: float | None = Field(None, gt=0)

    def host_port(self) -> tuple[str, int]:
        host, port = split_host_port(self.address)
        if port == 0:
            raise ConfigError(f"bad target address {self.address!r}: port must be 1-65535")
        return host, port


class Thresholds(BaseModel):
    """ONU receive-power alarm levels in dBm for one PON class (defaults: ITU-T G.984.2 B+)."""

    rx_low_critical: float = -27.0
    rx_low_warning: float = -25.0
    rx_high_warning: float = -10.0
    rx_high_critical: float = -8.0


def default_thresholds() -> dict[str, Thresholds]:
    return {
        "B+": Thresholds(),
        "C+": Thresholds(rx_low_critical=-30.0, rx_low_warning=-28.0, rx_high_warning=-10.0, rx_high_critical=-8.0),
    }


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auths: dict[str, Auth] = Field(default_factory=lambda: {"public_v2": Auth()})
    targets: list[Target] = Field(default_factory=list)
    thresholds: dict[str, Thresholds] = Field(default_factory=default_thresholds)
    interval_seconds: float = Field(300.0, gt=0)
    #: sections owned by their components and validated by them at start-up (the core must not import
    #: collectors): ``probes`` → collectors.probes.ProbeConfig, ``traps`` → collectors.traps.TrapConfig,
    #: ``incidents`` → ftthnoc.incidents.engine.IncidentConfig, ``telework`` → ftthnoc.telework.TeleworkConfig
    probes: dict[str, Any] | None = None
    traps: dict[str, Any] | None = None
    incidents: dict[str, Any] | None = None
    telework: dict[str, Any] | None = None
    #: → provisioning.config.ProvisioningConfig (credentials, plans, verification)
    provisioning: dict[str, Any] | None = None
    #: → collectors.throughput.ThroughputConfig (the measurement server, the schedule, schools' probe points)
    throughput: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _auths_known(self) -> Config:
        for t in self.targets:
            if t.auth not in self.auths:
                raise ValueError(f"target {t.name} names auth {t.auth!r}, which is not defined")
        names = [t.name for t in self.targets]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"target names must be unique: {sorted(dup)}")
        return self


def validate_section(name: str, model: Any, raw: Any) -> Any:
    """A configuration section checked by the model its component owns; one line when it is wrong."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"configuration {'.'.join(map(str, (name, *first['loc'])))}: {first['msg']}") from None


def split_host_port(address: str, default_port: int = 161) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or "]" in port:
        return address.strip("[]"), default_port
    try:
        number = int(port)
    except ValueError as exc:
        raise ConfigError(f"bad target address {address!r}: port is not a number") from exc
    if not 0 <= number <= 65535:
        raise ConfigError(f"bad address {address!r}: port must be 0-65535")
    return host.strip("[]"), number


def load_config(path: Path) -> Config:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration {path} is not valid YAML: {exc}") from exc
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"configuration {path}: {where}: {first['msg']}") from exc
