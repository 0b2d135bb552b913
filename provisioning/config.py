"""The ``provisioning:`` section of the configuration: credentials, what each plan means on an OLT, and
how long to wait for a new ONU to come up.

Credentials are named, as SNMP auths are, so that the inventory holds names and the secrets stay in
the configuration (``${ENV}`` expanded, held as SecretStr, never printed)::

    provisioning:
      credentials:
        olt_admin: {username: ftthnoc, password: "${OLT_PASSWORD}"}
        school_router: {username: "", password: "${RTX_PASSWORD}", secret: "${RTX_ADMIN_PASSWORD}"}
      plans:
        home-1g: {line_profile: 10, service_profile: 10, vlan: 100, user_vlan: 100}
      verify_timeout_seconds: 180
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ftthnoc.config import Config, expand_env, validate_section
from provisioning.drivers.base import ServicePlan


class Credential(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = ""
    password: SecretStr = SecretStr("")
    #: enable / administrator password, where the platform asks for one
    secret: SecretStr = SecretStr("")

    @field_validator("username", "password", "secret", mode="before")
    @classmethod
    def _expand(cls, v: object) -> object:
        return expand_env(v) if isinstance(v, str) else v


class Plan(BaseModel):
    """A subscription plan on the OLTs (Huawei profile ids; ZTE ONU type and T-CONT profile)."""

    model_config = ConfigDict(extra="forbid")

    line_profile: int = Field(ge=0)
    service_profile: int = Field(ge=0)
    vlan: int = Field(ge=1, le=4094)
    user_vlan: int = Field(ge=1, le=4094)
    gemport: int = Field(1, ge=0)
    onu_type: str = "ZTE-F660"
    tcont_profile: str = "1G"

    def service_plan(self) -> ServicePlan:
        return ServicePlan(**self.model_dump())


class ProvisioningConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credentials: dict[str, Credential] = Field(default_factory=dict)
    plans: dict[str, Plan] = Field(default_factory=dict)
    #: driver platform per OLT vendor, where an operator overrides the vendor pack's ``cli_platform``
    platforms: dict[str, str] = Field(default_factory=dict)
    #: how long a newly added ONU may take to range and show in an SNMP poll, and how often to look
    verify_timeout_seconds: float = Field(180.0, gt=0)
    verify_interval_seconds: float = Field(5.0, gt=0)
    #: SSH connect and per-command timeout
    cli_timeout_seconds: float = Field(20.0, gt=0)
    #: how often a lost session is re-opened to undo a half-made change before giving up
    reconnect_attempts: int = Field(3, ge=0, le=10)
    reconnect_wait_seconds: float = Field(2.0, ge=0)


def provisioning_config(config: Config) -> ProvisioningConfig:
    """Validate the raw section owned by provisioning (an empty one when absent)."""
    section: ProvisioningConfig = validate_section("provisioning", ProvisioningConfig, config.provisioning or {})
    return section
