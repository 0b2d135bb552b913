"""The trap receiver's configuration: where to listen, whom to believe, and who is who.

Credentials are not repeated here: communities and SNMPv3 users are *names* of ``ftthnoc.config.Auth``
entries (the same ``auths:`` section the poller uses), so a secret lives in one place and comes from the
environment. Devices are named by the address their traps come from, as in snmptrapd's view of the
world; a device that sends SNMPv3 traps must also give its engine ID (see ``TrapDevice.engine_id``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ftthnoc.config import Auth
from ftthnoc.errors import ConfigError

_HEX = re.compile(r"^[0-9a-fA-F]+$")


def normalize_engine_id(value: str) -> str:
    """Lower-case hex without ``0x`` or separators; 5–32 octets as RFC 3411 allows."""
    text = value.strip().lower().removeprefix("0x").replace(":", "").replace(" ", "")
    if not _HEX.match(text) or len(text) % 2:
        raise ValueError(f"engine ID {value!r} is not an even number of hex digits")
    if not 5 <= len(text) // 2 <= 32:
        raise ValueError(f"engine ID {value!r} must be 5 to 32 octets long")
    return text


class TrapDevice(BaseModel):
    """A device that sends traps: its name in events and metrics, the address it sends from.

    ``engine_id`` is the device's own (authoritative) SNMPv3 engine ID. A v3 *trap* is authenticated
    with keys localised to the sender's engine ID, so the receiver must know it before the first trap
    arrives (RFC 3414 §4; net-snmp's ``snmptrapd`` has the same rule, ``createUser -e``). Read it
    from the device (``snmpget … SNMP-FRAMEWORK-MIB::snmpEngineID.0``) or set it there. Informs
    need none: the sender discovers the receiver's engine ID.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    address: str = Field(min_length=1)
    engine_id: str | None = None

    @field_validator("engine_id")
    @classmethod
    def _engine_id(cls, v: str | None) -> str | None:
        return None if v is None else normalize_engine_id(v)


class TrapConfig(BaseModel):
    """``traps:`` in the configuration file. Production listens on 0.0.0.0:162 (needs root or
    CAP_NET_BIND_SERVICE); port 0 binds a free port, which the receiver reports once started."""

    model_config = ConfigDict(extra="forbid")

    host: str = "0.0.0.0"
    port: int = Field(162, ge=0, le=65535)
    #: names of v2c auths whose community a v1/v2c trap may carry
    communities: list[str] = Field(default_factory=list)
    #: names of v3 auths (USM users) a v3 trap or inform may come from
    users: list[str] = Field(default_factory=list)
    devices: list[TrapDevice] = Field(default_factory=list)
    #: the receiver's own engine ID (hex), which v3 informs are addressed to. Default: pysnmp derives one
    #: from host and process at start, fine for senders that discover it (net-snmp does); set it if an
    #: OLT is configured with a fixed one.
    engine_id: str | None = None
    #: the trap mapping (YAML); default: every vendor pack's ``traps.yaml`` (``ftthnoc/vendors/<pack>/``)
    rules: Path | None = None
    #: traps matching no rule: ``False`` delivers them as kind ``other``, ``True`` drops them (``unmapped``)
    drop_unmapped: bool = False

    @field_validator("engine_id")
    @classmethod
    def _engine_id(cls, v: str | None) -> str | None:
        return None if v is None else normalize_engine_id(v)

    @model_validator(mode="after")
    def _unique(self) -> TrapConfig:
        for what, values in (("device names", [d.name for d in self.devices]),
                             ("device addresses", [d.address for d in self.devices])):
            dup = sorted({v for v in values if values.count(v) > 1})
            if dup:
                raise ValueError(f"trap {what} must be unique: {dup}")
        return self

    def names_by_address(self) -> dict[str, str]:
        return {d.address: d.name for d in self.devices}

    def sender_engine_ids(self) -> list[str]:
        return sorted({d.engine_id for d in self.devices if d.engine_id})

    def resolve(self, auths: Mapping[str, Auth]) -> tuple[dict[str, Auth], dict[str, Auth]]:
        """(communities, users) by auth name, checked against the ``auths:`` section."""
        communities: dict[str, Auth] = {}
        users: dict[str, Auth] = {}
        for name in self.communities:
            auth = auths.get(name)
            if auth is None:
                raise ConfigError(f"traps: community {name!r} names no auth")
            if auth.version != 2:
                raise ConfigError(f"traps: communities must name v2c auths, {name!r} is SNMPv3")
            communities[name] = auth
        seen: dict[str, str] = {}
        for name in self.users:
            auth = auths.get(name)
            if auth is None:
                raise ConfigError(f"traps: user {name!r} names no auth")
            if auth.version != 3:
                raise ConfigError(f"traps: users must name SNMPv3 auths, {name!r} is v2c")
            if auth.username in seen:
                raise ConfigError(f"traps: auths {seen[auth.username]!r} and {name!r} both use USM user "
                                  f"{auth.username!r}; one user name can have one set of keys")
            seen[auth.username] = name
            users[name] = auth
        if not communities and not users:
            raise ConfigError("traps: no community and no SNMPv3 user configured; every trap would be dropped")
        return communities, users
