"""Vendor packs: one folder per platform holds everything ftthnoc knows about it, each fact with its source.

A pack (``ftthnoc/vendors/<name>/``) is data: ``pack.yaml`` (what it is, the facts other code would
otherwise ask with ``vendor == ...``, the public sources they come from), ``snmp/*.yaml`` (device modules),
``traps.yaml`` (trap rules), ``cli/`` (command templates and TextFSM parsers) and a README. Code that a
platform needs beyond data lives in its layer and is named by the pack: index quirks in
``collectors/snmp/quirks.py``, the netmiko driver class in ``provisioning/drivers``, the SSH simulator
shell in ``simulator/cli`` (napalm's per-platform drivers and snmp_exporter's generator config are the
models). Adding a vendor is one pack folder, its golden fixtures under ``tests/fixtures/vendors/<name>/``,
and, for the demo, one simulator shell and profile (``simulator/vendors.py``);
``tests/ftthnoc/vendors/test_packs.py`` holds every pack to the same checklist.

Packs are read from this folder and from any folder added with ``add_pack_dir`` (a site's own vendor, or
a test's): each subfolder with a ``pack.yaml``; a name used twice is an error.

The registry refuses what it does not know: an OLT of a vendor without a pack is an error that names the
known packs, never treated as the last vendor someone had in mind.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ftthnoc.errors import ConfigError

T = TypeVar("T")
Role = Literal["standard", "olt", "router", "bwa", "vpn"]


class Fact(BaseModel, Generic[T]):
    """One fact and where it comes from: a key of the pack's ``sources``, or ``project`` for a choice of ours."""

    model_config = ConfigDict(extra="forbid")
    value: T
    source: str


class OltFacts(BaseModel):
    """What the rest of ftthnoc asks of an OLT platform."""

    model_config = ConfigDict(extra="forbid")
    #: vendor IDs ONU serials of this platform's own ONUs start with (``HWTC``, ``ZTEG``)
    serial_prefixes: Fact[list[str]]
    #: the lowest ONT/ONU id on a PON port
    first_ont_id: Fact[int]
    #: the highest ONT/ONU id on a PON port
    last_ont_id: Fact[int]
    #: the SNMP module that reads the ONU table (monitoring; the enrolment's check GETs its columns)
    onu_module: Fact[str]
    #: provisioning: the driver (``provisioning/drivers``) and its templates (``cli/<platform>.yaml``)
    cli_platform: Fact[str]


class Pack(BaseModel):
    """``pack.yaml``."""

    model_config = ConfigDict(extra="forbid")
    name: str
    title: str
    role: Role
    #: public sources the facts and the files cite, by key (a document, a recorded walk, a collector)
    sources: dict[str, str] = Field(min_length=1)
    olt: OltFacts | None = None
    #: the simulator's SSH shell for this platform (``simulator/cli``), when the demo simulates it
    simulator_shell: str | None = None
    #: what is not verified against a device (shown in the README's module table)
    unverified: list[str] = Field(default_factory=list)
    path: Path = Path()

    @model_validator(mode="after")
    def _consistent(self) -> Pack:
        if (self.role == "olt") != (self.olt is not None):
            raise ValueError(f"pack {self.name}: an OLT pack and only an OLT pack has 'olt:' facts")
        for name, fact in self.facts().items():
            if fact.source != "project" and fact.source not in self.sources:
                raise ValueError(f"pack {self.name}: fact {name} cites {fact.source!r}, not one of its sources")
        return self

    def facts(self) -> dict[str, Fact[Any]]:
        if self.olt is None:
            return {}
        return {name: getattr(self.olt, name) for name in OltFacts.model_fields}

    @property
    def snmp_dir(self) -> Path:
        return self.path / "snmp"

    @property
    def cli_dir(self) -> Path:
        return self.path / "cli"

    @property
    def trap_rules(self) -> Path:
        return self.path / "traps.yaml"

    def modules(self) -> list[str]:
        return sorted(p.stem for p in self.snmp_dir.glob("*.yaml"))

    def require_olt(self) -> OltFacts:
        if self.olt is None:
            raise ConfigError(f"vendor {self.name!r} is a {self.role} pack, not an OLT platform")
        return self.olt


def packs_dir() -> Path:
    """The folder of the packs ftthnoc ships."""
    return Path(str(resources.files("ftthnoc.vendors")))


#: folders of packs beyond ftthnoc's own (``add_pack_dir``)
_extra_dirs: list[Path] = []


def pack_dirs() -> tuple[Path, ...]:
    """Where packs are read from: ftthnoc's own folder, then those added with ``add_pack_dir``."""
    return (packs_dir(), *_extra_dirs)


def add_pack_dir(path: Path) -> None:
    """Read the packs in ``path`` too (each subfolder with a ``pack.yaml``): a vendor of a site's own, or a
    test's. Add it before anything reads modules or trap rules: the collectors' indexes of them are built
    once (a test clears them with ``cache_clear``)."""
    if not path.is_dir():
        raise ConfigError(f"vendor pack folder {path} does not exist")
    if path not in _extra_dirs:
        _extra_dirs.append(path)
    packs.cache_clear()


def remove_pack_dir(path: Path) -> None:
    """Forget a folder ``add_pack_dir`` added (a test's, when it ends)."""
    if path in _extra_dirs:
        _extra_dirs.remove(path)
    packs.cache_clear()


@cache
def packs() -> dict[str, Pack]:
    """Every pack, by name (its folder's name): those ftthnoc ships, then those of ``add_pack_dir``."""
    found: dict[str, Pack] = {}
    for path in _folders():
        try:
            doc = yaml.safe_load((path / "pack.yaml").read_text(encoding="utf-8"))
            pack = Pack.model_validate({**doc, "path": path})
        except (yaml.YAMLError, ValidationError, TypeError) as exc:
            raise ConfigError(f"vendor pack {path.name}: {exc}") from exc
        if pack.name != path.name:
            raise ConfigError(f"vendor pack folder {path.name} declares name {pack.name!r}")
        found[pack.name] = pack
    return found


def pack(name: str) -> Pack:
    """The pack of that name; a ``ConfigError`` that names the known ones otherwise."""
    try:
        return packs()[name]
    except KeyError:
        raise ConfigError(f"no vendor pack {name!r} (known: {', '.join(sorted(packs()))})") from None


def olt_vendors() -> tuple[str, ...]:
    """The vendor values an OLT may have in the inventory: every OLT pack's name."""
    return tuple(name for name, p in packs().items() if p.role == "olt")


def olt(vendor: str) -> OltFacts:
    """The facts of an OLT platform; a clear error for a vendor without an OLT pack."""
    if vendor not in olt_vendors():
        raise ConfigError(f"no OLT vendor pack {vendor!r} (known: {', '.join(olt_vendors())})")
    return pack(vendor).require_olt()


def _folders() -> list[Path]:
    """Pack folders, without reading their ``pack.yaml`` (a one-shot poll only needs the module files): each
    folder's in name order, ftthnoc's own first. A pack name in two folders is an error."""
    found: dict[str, Path] = {}
    for root in pack_dirs():
        for path in sorted(p for p in root.iterdir() if (p / "pack.yaml").is_file()):
            if path.name in found:
                raise ConfigError(f"two vendor packs are named {path.name}: {found[path.name]} and {path}")
            found[path.name] = path
    return list(found.values())


def module_dirs() -> list[Path]:
    """Where device modules are found: each pack's ``snmp/``."""
    return [p / "snmp" for p in _folders() if (p / "snmp").is_dir()]


def olt_for_platform(platform: str) -> OltFacts:
    """The facts of the OLT pack whose provisioning platform is ``platform`` (a driver asks this)."""
    for name in olt_vendors():
        facts = pack(name).require_olt()
        if facts.cli_platform.value == platform:
            return facts
    raise ConfigError(f"no OLT vendor pack has the CLI platform {platform!r}")


def olt_modules(vendor: str | None = None) -> frozenset[str]:
    """Modules of OLT packs (of one vendor, or of all): "is this an OLT's module", asked of the packs."""
    names = [vendor] if vendor is not None else list(olt_vendors())
    return frozenset(m for name in names for m in pack(name).modules())


def trap_rule_files() -> list[Path]:
    """Each pack's ``traps.yaml``, the standard MIBs' first."""
    return [p / "traps.yaml" for p in sorted(_folders(), key=lambda p: (p.name != "ietf", p.name))
            if (p / "traps.yaml").is_file()]


def cli_file(name: str) -> Path:
    """A CLI template (``<platform>.yaml``) or parser (``*.textfsm``) from the pack that holds it."""
    found = [p / "cli" / name for p in _folders() if (p / "cli" / name).is_file()]
    if not found:
        raise ConfigError(f"no vendor pack has the CLI file {name}")
    if len(found) > 1:
        raise ConfigError(f"two vendor packs have the CLI file {name}: {found}")
    return found[0]


def vendor_of_serial(serial: str) -> str | None:
    """The OLT pack whose ONUs carry this serial's vendor ID (``HWTC-…`` → huawei), or None."""
    prefix = serial[:4].upper()
    for name in olt_vendors():
        if prefix in packs()[name].require_olt().serial_prefixes.value:
            return name
    return None
