"""The inventory document's rows: one pydantic model per section, each column with its type, normaliser
and constraints, and what the sections say about each other (natural keys, references, uniqueness).

A record is flat (``modules`` is the only list) and names other rows by their natural key, never by
database id. ``python -m ftthnoc.inventory.schemas`` prints every section's columns, as derived from
these models; ``ftthnoc.inventory.io`` reads, checks and writes documents with them.

Values arrive as text (CSV) or typed (YAML): surrounding whitespace is not part of a value, and an empty
value is a missing one. Whole numbers may be written as text; text must be text (quote a phone number
or an asset number in YAML, so that leading zeros survive). MACs, ONU serials and probe addresses are
normalised (``ftthnoc.normalise``); no text may hold control characters other than tab and line breaks.
"""

from __future__ import annotations

import re
import reprlib
import sys
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ftthnoc import vendors
from ftthnoc.inventory.models import PON_CLASSES, TABLET_OS, TABLET_STATUSES, HouseholdStatus
from ftthnoc.normalise import normalise_ipv4, normalise_mac, normalise_serial

#: The largest value of a PostgreSQL INTEGER column.
INT_MAX = 2_147_483_647

# --------------------------------------------------------------------------------------------------
# Column types


def _printable(value: str) -> str:
    """Refuse control characters (NUL, escape ...) and lone surrogates: no database or terminal wants them."""
    for char in value:
        if char not in "\t\n\r" and unicodedata.category(char) in ("Cc", "Cs"):
            raise PydanticCustomError(
                "text_control_character", "contains a control character (U+{code})", {"code": f"{ord(char):04X}"}
            )
    return value


_PRINTABLE = AfterValidator(_printable)


def _chars(max_length: int, pattern: str | None = None) -> StringConstraints:
    """At most ``max_length`` characters, the whole value matching ``pattern`` if given."""
    return StringConstraints(max_length=max_length, pattern=None if pattern is None else f"^(?:{pattern})$")


def _eg(example: Any) -> Any:
    return Field(examples=[example])


def _whole_number_text(value: Any) -> Any:
    """Whole numbers written as text (every CSV cell): ``"42"``, ``" +7 "``; anything else as it is."""
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        digits = value.strip().lstrip("+-")
        if len(digits) > 20:
            raise PydanticCustomError("number_too_long", "is out of range (a number of {n} digits)", {"n": len(digits)})
        return int(value)
    return value


_FROM_TEXT = BeforeValidator(_whole_number_text)


def _one_of(values: tuple[str, ...], *, any_case: bool = False) -> BeforeValidator:
    """Strip text before the choice is checked; with ``any_case``, spell it as ``values`` do."""
    canonical = {v.lower(): v for v in values}

    def spell(value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if any_case:
                return canonical.get(value.lower(), value)
        return value

    return BeforeValidator(spell)


def _not_text(kind: str, example: str) -> BeforeValidator:
    """A friendlier refusal than "must be text" for what YAML read as a number (an IPv4 as one integer)."""

    def check(value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise PydanticCustomError(
                "not_text",
                "{value} is not {kind} (write it as text, e.g. {example})",
                {"value": shown(value), "kind": kind, "example": example},
            )
        return value

    return BeforeValidator(check)


_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):([0-9]{1,5})")


def _host_port(value: str) -> str:
    m = _HOST_PORT.fullmatch(value)
    if not m or not 0 < int(m.group(2)) < 65536:
        raise ValueError(f"{shown(value)} is not HOST:PORT (want e.g. 10.0.0.1:161)")
    return value


def _module_list(value: Any) -> Any:
    """``if_mib,huawei_gpon`` (one CSV cell, commas or spaces) or a YAML list."""
    if isinstance(value, str):
        return [v for v in re.split(r"[,\s]+", value.strip()) if v]
    if not isinstance(value, list):
        raise PydanticCustomError(
            "modules_type", "must be a list of module names, not {value}", {"value": shown(value)}
        )
    return value


def _no_repeats(names: list[str]) -> list[str]:
    repeated = sorted(n for n, count in Counter(names).items() if count > 1)
    if repeated:
        raise ValueError(f"module {shown(repeated[0])} is listed twice")
    return names


_NAME = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"

Text32 = Annotated[str, Strict(), _chars(32), _PRINTABLE]
Text64 = Annotated[str, Strict(), _chars(64), _PRINTABLE]
Text128 = Annotated[str, Strict(), _chars(128), _PRINTABLE]
Text255 = Annotated[str, Strict(), _chars(255), _PRINTABLE]
Code = Annotated[str, Strict(), _chars(32, r"[a-z][a-z0-9_\-]{0,31}"), _PRINTABLE, _eg("chiyoda")]
ObjectName = Annotated[str, Strict(), _chars(64, _NAME), _PRINTABLE, _eg("olt-chiyoda-1")]
# a school code is a name, but its column is shorter
SchoolCode = Annotated[str, Strict(), _chars(32, _NAME), _PRINTABLE, _eg("chiyoda-es")]
AuthName = Annotated[str, Strict(), _chars(64, _NAME), _PRINTABLE, _eg("olt_v3")]
HouseholdCode = Annotated[str, Strict(), _chars(32, r"HH-[0-9]{6}"), _PRINTABLE, _eg("HH-000123")]
PortName = Annotated[str, Strict(), _chars(16, r"[0-9]{1,3}/[0-9]{1,3}/[0-9]{1,3}"), _PRINTABLE, _eg("0/1/0")]
Phone = Annotated[str, Strict(), _chars(32, r"\+?[0-9()\- ]{3,31}"), _PRINTABLE, _eg("0826-72-2111")]
Platform = Annotated[str, Strict(), _chars(32, _NAME), _PRINTABLE, _eg("yamaha")]
Label = Annotated[str, Strict(), _chars(64, r"\S+"), _PRINTABLE]
HostPort = Annotated[
    str,
    Strict(),
    _chars(255),
    _PRINTABLE,
    AfterValidator(_host_port),
    Field(examples=["10.0.0.1:161"], json_schema_extra={"format": "HOST:PORT"}),
]
Ipv4 = Annotated[
    str,
    Strict(),
    _chars(64),
    _PRINTABLE,
    _not_text("an IPv4 address", "192.0.2.10"),
    AfterValidator(normalise_ipv4),
    Field(examples=["192.0.2.10"], json_schema_extra={"format": "IPv4"}),
]
Mac = Annotated[
    str,
    Strict(),
    _chars(64),
    _PRINTABLE,
    _not_text("a MAC address", "00:1a:2b:3c:4d:5e"),
    AfterValidator(normalise_mac),
    Field(examples=["00:1a:2b:3c:4d:5e"], json_schema_extra={"format": "MAC"}),
]
OnuSerial = Annotated[
    str,
    Strict(),
    _chars(64),
    _PRINTABLE,
    _not_text("an ONU serial", "HWTC-A1B2C3D4"),
    AfterValidator(normalise_serial),
    Field(examples=["HWTC-A1B2C3D4"], json_schema_extra={"format": "ONU serial"}),
]
VpnVendor = Annotated[str, Strict(), _chars(32, r"[a-z][a-z0-9_]*"), _PRINTABLE, _eg("cisco_asa")]
ModuleName = Annotated[str, Strict(), _chars(64, r"[A-Za-z0-9_.\-]{1,64}"), _PRINTABLE, _eg("if_mib")]
Modules = Annotated[list[ModuleName], BeforeValidator(_module_list), AfterValidator(_no_repeats)]

Count = Annotated[int, Strict(), Field(ge=0, le=INT_MAX), _FROM_TEXT]
OnuId = Annotated[int, Strict(), Field(ge=0, le=255), _FROM_TEXT]
Grade = Annotated[int, Strict(), Field(ge=1, le=9), _FROM_TEXT]
DhcpScope = Annotated[int, Strict(), Field(ge=1, le=65535), _FROM_TEXT]

PonClass = Literal["B+", "C+", "XGS", "PX20"]
TabletOs = Literal["iPadOS", "ChromeOS", "Windows"]
TabletStatus = Literal["active", "retired"]
# The choices are the models' (and the database's CHECK constraints'); the literals spell them for mypy.
assert get_args(PonClass) == PON_CLASSES
assert get_args(TabletOs) == TABLET_OS and get_args(TabletStatus) == TABLET_STATUSES


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlevel = 2


def shown(value: Any, limit: int = 40) -> str:
    """A value as an error message may show it: its repr, on one line, cut at ``limit`` characters
    (and never more work than that, however large or deeply shared the value is)."""
    text_ = _REPR.repr(value)
    return text_ if len(text_) <= limit else text_[: limit - 1] + "…"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --------------------------------------------------------------------------------------------------
# Rows


class Row(BaseModel):
    """A record of one section, checked and normalised. Blank values are missing; text is stripped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_missing(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: v.strip() if isinstance(v, str) else v for k, v in data.items() if not _blank(v)}
        return data


class DistrictRow(Row):
    """One of the four former towns."""

    code: Code = Field(description="short code, lower case")
    name: Text64 = Field(description="its name (千代田)")
    households: Count = Field(description="all households in it: the take-up KPI's denominator")


def _vendor_choices(schema: dict[str, Any]) -> None:
    """The OLT vendor packs as the column's choices, in the documentation and the JSON schema."""
    schema["enum"] = list(vendors.olt_vendors())


class OltRow(Row):
    """An OLT as the poller sees it."""

    name: ObjectName = Field(description="the OLT's name, as in the poller's targets")
    district: Code = Field(description="code of its district")
    vendor: Annotated[str, _one_of(())] = Field(description="its vendor pack (ftthnoc/vendors)",
                                                json_schema_extra=_vendor_choices)
    model: Text64 = Field(description="hardware model, e.g. MA5800-X7")
    address: HostPort = Field(description="HOST:PORT of its SNMP agent")
    pon_class: Annotated[PonClass, _one_of(PON_CLASSES)] = Field(description="optical budget class")
    auth: AuthName = Field(description="name of an auth in the poller configuration (never a secret)")
    modules: Modules = Field(description="device modules to poll (in CSV: if_mib,huawei_gpon in one cell)")
    cli_address: HostPort | None = Field(None, description="HOST:PORT of its SSH command line")
    cli_auth: AuthName | None = Field(
        None, description="name of a provisioning credential (never a secret)", examples=["olt_admin"]
    )

    @field_validator("vendor")
    @classmethod
    def _known_vendor(cls, value: str) -> str:
        """One of the OLT vendor packs: a new vendor is a pack folder, never a schema migration."""
        known = vendors.olt_vendors()
        spelled = {v.lower(): v for v in known}.get(value.lower())
        if spelled is None:
            raise ValueError(f"{value!r} is not one of {', '.join(known)} (the OLT vendor packs)")
        return spelled


class PonPortRow(Row):
    """A PON port of an OLT."""

    olt: ObjectName = Field(description="name of its OLT")
    port: PortName = Field(description="F/S/P as the OLT's CLI prints it")


def _ratio(value: Any) -> Any:
    """A splitter's ratio as its outputs: ``8``, ``"8"`` or ``"1:8"``."""
    if isinstance(value, str) and re.fullmatch(r"\s*1\s*:\s*\d{1,4}\s*", value):
        return int(value.split(":")[1])
    return value


class SplitterRow(Row):
    """An optical splitter of a PON port (stage 1 off the port's feeder, stage 2 off a stage-1 splitter)."""

    name: ObjectName = Field(description="the splitter's name", examples=["chiyoda-olt1.0-1-3.2-1"])
    olt: ObjectName = Field(description="name of its OLT")
    pon_port: PortName = Field(description="the PON port whose feeder it splits (F/S/P)")
    stage: Annotated[int, Strict(), Field(ge=1, le=2), _FROM_TEXT] = Field(
        description="1: fed by the PON port; 2: fed by its parent (a stage-1 splitter)"
    )
    parent: ObjectName | None = Field(None, description="name of the stage-1 splitter feeding it (stage 2 only)")
    ratio: Annotated[int, Strict(), Field(ge=2, le=128), _FROM_TEXT, BeforeValidator(_ratio)] = Field(
        description="outputs (1:8 → 8): its children and drops may not exceed it", examples=[8]
    )
    cabinet: Text64 | None = Field(None, description="the cabinet (or closure) it sits in", examples=["CAB-chiyoda-03"])
    lat: Annotated[float, Field(ge=-90, le=90)] | None = Field(None, description="latitude (WGS 84)")
    lon: Annotated[float, Field(ge=-180, le=180)] | None = Field(None, description="longitude (WGS 84)")


class HouseholdRow(Row):
    """A subscribing (or applying) household; no personal data (see household_contacts)."""

    code: HouseholdCode = Field(description="the household's code")
    district: Code = Field(description="code of its district")
    plan: Text64 = Field(description="subscription plan, e.g. 1G")
    status: Annotated[HouseholdStatus, _one_of(tuple(HouseholdStatus))] = Field(
        description="where it is in its life cycle; changes must follow models.TRANSITIONS"
    )


class HouseholdContactRow(Row):
    """A household's personal data: exported only when asked, every change audited (field names only)."""

    household: HouseholdCode = Field(description="code of the household")
    name: Text128 = Field(description="the subscriber's name (personal)")
    address: Text255 = Field(description="postal address (personal)")
    phone: Phone | None = Field(
        None, description="phone number (personal)"
    )


class OnuRow(Row):
    """An ONU/ONT at a home, identified on its OLT by (pon_port, onu_id)."""

    serial: OnuSerial = Field(description="serial, stored VEND-XXXXXXXX (other spellings normalised)")
    olt: ObjectName = Field(description="name of its OLT")
    pon_port: PortName = Field(description="its PON port on that OLT (F/S/P)")
    # GPON allows 128 ONT ids per port (Huawei 0..127, ZTE 1..128); XGS-PON up to 256.
    onu_id: OnuId = Field(description="ONT id on the port")
    household: HouseholdCode | None = Field(None, description="code of the household it serves")
    mgmt_address: Ipv4 | None = Field(None, description="IPv4 of its management port (the probes ping it)")
    splitter: ObjectName | None = Field(None, description="the drop: name of the splitter feeding it")


class SchoolRow(Row):
    """A school of the GIGA network."""

    code: SchoolCode = Field(description="the school's code")
    name: Text128 = Field(description="its name")
    district: Code = Field(description="code of its district")
    pupils: Count = Field(description="pupils: sets its recommended bandwidth")
    address: Ipv4 | None = Field(None, description="IPv4 of its router or web filter (the probes ping it)")
    router_address: HostPort | None = Field(None, description="HOST:PORT of its router's SSH command line")
    router_platform: Platform | None = Field(None, description="router driver (default yamaha)")
    router_auth: AuthName | None = Field(None, description="name of a provisioning credential", examples=["school_rtr"])
    dhcp_scope: DhcpScope | None = Field(None, description="the router's DHCP scope ftthnoc manages")
    uplink_target: ObjectName | None = Field(
        None, description="SNMP target name of its router (if_mib)", examples=["chiyoda-es-rtx"]
    )
    uplink_interface: Annotated[Label, _eg("LAN2")] | None = Field(None, description="the uplink's ifName")


class TabletRow(Row):
    """A pupil's or teacher's tablet; its MAC is unique town-wide."""

    school: SchoolCode = Field(description="code of its school")
    asset_no: Annotated[Label, _eg("T-000123")] = Field(description="asset number, unique in the school")
    serial: Annotated[Label, _eg("DMPXK0ABCDEF")] = Field(description="the maker's serial")
    mac: Mac = Field(description="MAC, stored aa:bb:cc:dd:ee:ff (other spellings normalised)")
    os: Annotated[TabletOs, _one_of(TABLET_OS, any_case=True)] = Field(description="operating system (any case)")
    grade: Grade | None = Field(None, description="school year 1..9 (junior high: 7..9)")
    class_name: Text32 | None = Field(None, description="class, e.g. 3-1")
    status: Annotated[TabletStatus, _one_of(TABLET_STATUSES)] = Field(
        "active", description="retired tablets lose their DHCP binding but keep their MAC"
    )


class BwaStationRow(Row):
    """A regional-BWA base station, polled like an OLT."""

    name: ObjectName = Field(description="the station's name", examples=["bwa-geihoku-1"])
    district: Code = Field(description="code of its district")
    address: HostPort = Field(description="HOST:PORT of its SNMP agent")
    auth: AuthName = Field(description="name of an auth in the poller configuration", examples=["bwa_v2"])
    modules: Modules = Field(description="device modules to poll")


class VpnGatewayRow(Row):
    """A telework VPN gateway."""

    name: ObjectName = Field(description="the gateway's name", examples=["vpn-townhall"])
    vendor: VpnVendor = Field(description="vendor family")
    address: HostPort = Field(description="HOST:PORT of its SNMP agent")
    auth: AuthName = Field(description="name of an auth in the poller configuration", examples=["vpn_v3"])
    modules: Modules = Field(description="device modules to poll")
    licence_sessions: Count = Field(description="licensed sessions: the telework KPI's ceiling")


# --------------------------------------------------------------------------------------------------
# Sections


@dataclass(frozen=True)
class Ref:
    """``columns`` of a section name a row of section ``target`` by its natural key."""

    columns: tuple[str, ...]
    target: str
    #: the ORM relationship the reference sets
    attr: str
    #: format string over the values, for messages: "PON port {1!r} of OLT {0!r}"
    label: str


@dataclass(frozen=True)
class Section:
    """A section of the document: its row model and how its rows relate to others."""

    name: str
    singular: str
    row: type[Row]
    key: tuple[str, ...]
    refs: tuple[Ref, ...] = ()
    #: Column groups unique over the whole inventory after an import, each with a format string for
    #: messages. A group with an empty value is not checked (optional columns are unique where given).
    uniques: tuple[tuple[tuple[str, ...], str], ...] = ()
    personal: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.row.model_fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(name for name, f in self.row.model_fields.items() if f.is_required())

    def key_row(self) -> type[Row]:
        """A model of the key columns alone, to name a row whose other columns are bad."""
        return _key_row(self)


@cache
def _key_row(section: Section) -> type[Row]:
    fields: Any = {k: (section.row.model_fields[k].annotation, section.row.model_fields[k]) for k in section.key}
    return create_model(f"{section.row.__name__}Key", __base__=Row, **fields)


def _district() -> Ref:
    return Ref(("district",), "districts", "district", "district {0!r}")


_SECTIONS = (
    Section("districts", "district", DistrictRow, key=("code",)),
    Section("olts", "OLT", OltRow, key=("name",), refs=(_district(),)),
    Section(
        "pon_ports", "PON port", PonPortRow, key=("olt", "port"), refs=(Ref(("olt",), "olts", "olt", "OLT {0!r}"),)
    ),
    Section(
        "splitters",
        "splitter",
        SplitterRow,
        key=("name",),
        refs=(
            Ref(("olt", "pon_port"), "pon_ports", "pon_port", "PON port {1!r} of OLT {0!r}"),
            Ref(("parent",), "splitters", "parent", "parent splitter {0!r}"),
        ),
    ),
    Section("households", "household", HouseholdRow, key=("code",), refs=(_district(),)),
    Section(
        "household_contacts",
        "household contact",
        HouseholdContactRow,
        key=("household",),
        refs=(Ref(("household",), "households", "household", "household {0!r}"),),
        personal=True,
    ),
    Section(
        "onus",
        "ONU",
        OnuRow,
        key=("serial",),
        refs=(
            Ref(("olt", "pon_port"), "pon_ports", "pon_port", "PON port {1!r} of OLT {0!r}"),
            Ref(("household",), "households", "household", "household {0!r}"),
            Ref(("splitter",), "splitters", "splitter", "splitter {0!r}"),
        ),
        uniques=(
            (("olt", "pon_port", "onu_id"), "onu_id {2} on {0} port {1}"),
            (("mgmt_address",), "mgmt_address {0}"),
        ),
    ),
    Section(
        "schools", "school", SchoolRow, key=("code",), refs=(_district(),), uniques=((("address",), "address {0}"),)
    ),
    Section(
        "tablets",
        "tablet",
        TabletRow,
        key=("school", "asset_no"),
        refs=(Ref(("school",), "schools", "school", "school {0!r}"),),
        uniques=((("mac",), "mac {0}"),),
    ),
    Section("bwa_stations", "BWA station", BwaStationRow, key=("name",), refs=(_district(),)),
    Section("vpn_gateways", "VPN gateway", VpnGatewayRow, key=("name",)),
)

#: Every section by name, in dependency order (a section only refers to sections before it).
SPECS: dict[str, Section] = {s.name: s for s in _SECTIONS}
#: Section names in dependency order.
SECTIONS: tuple[str, ...] = tuple(SPECS)
#: Sections holding personal data: exported only when asked.
PERSONAL_SECTIONS: frozenset[str] = frozenset(s.name for s in _SECTIONS if s.personal)
#: Column names per section, in the order they are exported.
COLUMNS: dict[str, tuple[str, ...]] = {s.name: s.columns for s in _SECTIONS}


# --------------------------------------------------------------------------------------------------
# What each column accepts, from the models' JSON schemas: for the documentation and for messages


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    description: str
    #: the column's JSON schema (a nullable column's non-null branch, references resolved)
    schema: Mapping[str, Any]

    @property
    def kind(self) -> str:
        """What the column accepts, in a few words: ``text ≤64, e.g. chiyoda``, ``0..255``, ``B+ | C+``."""
        return _kind(self.schema)

    @property
    def example(self) -> str | None:
        examples = self.schema.get("examples") or self.schema.get("items", {}).get("examples")
        if not examples:
            return None
        first = examples[0]
        return ",".join(first) if isinstance(first, list) else str(first)

    @property
    def bounds(self) -> str:
        low, high = self.schema.get("minimum"), self.schema.get("maximum")
        if high is None or high == INT_MAX:
            return f">= {low}"
        return f"{low}..{high}"


def _kind(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        return f"integer {low}..{high}" if high != INT_MAX else f"integer >= {low}"
    if kind == "array":
        return f"list of {_kind(schema.get('items', {}))}"
    words = schema.get("format") or "text"
    if "maxLength" in schema and "format" not in schema:
        words += f" ≤{schema['maxLength']}"
    if schema.get("examples"):
        first = schema["examples"][0]
        words += f", e.g. {','.join(first) if isinstance(first, list) else first}"
    return words


def _resolve(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        target = dict(defs[schema["$ref"].rsplit("/", 1)[-1]])
        return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    branches = [b for b in schema.get("anyOf", ()) if b.get("type") != "null"]
    if len(branches) == 1:
        return {**_resolve(branches[0], defs), **{k: v for k, v in schema.items() if k != "anyOf"}}
    return dict(schema)


@cache
def columns(section: str) -> dict[str, Column]:
    """The columns of ``section`` with what each accepts."""
    row = SPECS[section].row
    schema = row.model_json_schema()
    defs = schema.get("$defs", {})
    return {
        name: Column(
            name,
            field.is_required(),
            field.description or "",
            _resolve(schema["properties"][name], defs),
        )
        for name, field in row.model_fields.items()
    }


def describe() -> str:
    """Every section's columns with what each accepts: the reference for writing a document by hand."""
    lines = [
        "ftthnoc inventory sections (YAML: a mapping of section: [records]; CSV: one SECTION.csv each).",
        "* required; others may be empty. References name rows by their natural key.",
    ]
    for spec in _SECTIONS:
        doc = (spec.row.__doc__ or "").strip().splitlines()[0]
        refs = "".join(f"; {', '.join(r.columns)} → {r.target}" for r in spec.refs)
        lines += ["", f"{spec.name}: {doc}", f"  key: {', '.join(spec.key)}{refs}"]
        for col in columns(spec.name).values():
            mark = "*" if col.required else " "
            default = col.schema.get("default")
            extra = f" (default {default})" if default is not None else ""
            lines.append(f"  {mark} {col.name:<17} {col.kind:<38} {col.description}{extra}")
    return "\n".join(lines)


def main() -> None:
    sys.stdout.write(describe() + "\n")


if __name__ == "__main__":
    main()
