"""Import and export of the inventory as YAML or CSV, validated row by row before anything is written.

The inventory document
======================

A document is a mapping of **sections** to lists of **flat records** (no nesting except the
``modules`` list). Every section is optional. References name other rows by their natural key,
never by database id, so that a document can be written by hand, by a spreadsheet or by the
town generator. Sections, with their columns (``?`` = optional, may be empty/null):

=====================  ==================================================================  ===============
section                columns                                                             natural key
=====================  ==================================================================  ===============
districts              code, name, households (int >= 0: all households, for take-up)      code
olts                   name, district, vendor (huawei|zte), model, address (HOST:PORT),    name
                       pon_class (B+|C+|XGS|PX20), auth (auth *name*), modules (list),
                       cli_address? (HOST:PORT of its SSH CLI), cli_auth? (credential *name*)
pon_ports              olt, port (F/S/P, e.g. 0/1/0)                                       olt, port
households             code (HH-000123), district, plan, status (applied|surveyed|         code
                       installed|active|suspended|cancelled)
household_contacts     household, name, address, phone?          (personal data)           household
onus                   serial (HWTC-A1B2C3D4), olt, pon_port, onu_id (0..255),             serial
                       household?, mgmt_address? (IPv4 of the ONU's management port)
schools                code, name, district, pupils (int >= 0),                            code
                       address? (IPv4 of the school's router or web filter),
                       router_address? (HOST:PORT of its SSH CLI), router_platform?
                       (yamaha), router_auth? (credential *name*), dhcp_scope? (int),
                       uplink_target? (SNMP target *name* of its router, polled with
                       if_mib), uplink_interface? (the uplink's ifName, e.g. LAN2)
tablets                school, asset_no, serial, mac, os (iPadOS|ChromeOS|Windows),        school, asset_no
                       grade? (1..9), class_name?,
                       status? (active|retired; default active)
bwa_stations           name, district, address (HOST:PORT), auth, modules (list)           name
vpn_gateways           name, vendor, address (HOST:PORT), auth, modules (list),            name
                       licence_sessions (int >= 0)
=====================  ==================================================================  ===============

Example (YAML)::

    districts:
    - {code: chiyoda, name: 千代田, households: 3900}
    olts:
    - {name: olt-chiyoda-1, district: chiyoda, vendor: huawei, model: MA5800-X7,
       address: "10.0.0.1:161", pon_class: B+, auth: olt_v3, modules: [if_mib, huawei_gpon]}
    pon_ports:
    - {olt: olt-chiyoda-1, port: 0/1/0}
    households:
    - {code: HH-000123, district: chiyoda, plan: 1G, status: active}
    onus:
    - {serial: HWTC-A1B2C3D4, olt: olt-chiyoda-1, pon_port: 0/1/0, onu_id: 3, household: HH-000123}

Text columns must be text: in YAML quote anything that looks like a number (phone numbers, asset
numbers) so that leading zeros survive. MACs are stored as ``aa:bb:cc:dd:ee:ff`` and ONU serials as
``VEND-XXXXXXXX``; other spellings are accepted and normalised. The probe addresses (``mgmt_address``,
a school's ``address``) are plain IPv4 dotted quads without a port and without leading zeros.

Files
-----
* YAML: one file whose top level is the mapping above.
* CSV: a directory with one ``SECTION.csv`` per section (header row = column names), or one CSV file
  whose name is the section (``onus.csv``) or that is imported with ``--section``. ``modules`` is
  written ``if_mib,huawei_gpon`` in one cell; an empty cell is a missing value. UTF-8 (a BOM is fine;
  Shift_JIS from older spreadsheets is accepted on import).

Semantics
---------
* Import is an **upsert by natural key**: a record is the whole desired state of its row (a missing
  optional column means "none"); rows not mentioned are left alone; nothing is deleted.
* **Every row is validated before anything is written**: types, enums, formats, references (to rows
  in the database or anywhere in the same document), duplicates within the document, uniqueness of
  the MAC, of ``(pon_port, onu_id)``, of an ONU's ``mgmt_address`` and of a school's ``address`` (where
  given) over the resulting inventory, and household status changes
  (``models.TRANSITIONS``). Any bad row raises ``InventoryImportError`` (an ``ImportRowError``) that
  lists every problem with its section and the row number a person would count (the line in a CSV
  or YAML file, the 1-based position in an in-memory document), and the database is untouched.
* Changes to ``household_contacts`` are audited (which fields, never the values); exporting them,
  which happens only when asked, is audited too.
"""

from __future__ import annotations

import csv
import io as _io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ftthnoc.errors import ImportRowError, InventoryError
from ftthnoc.inventory.models import (
    PON_CLASSES,
    TABLET_OS,
    TABLET_STATUSES,
    VENDORS,
    AuditEntry,
    Base,
    BwaStation,
    District,
    Household,
    HouseholdContact,
    HouseholdStatus,
    Olt,
    Onu,
    PonPort,
    School,
    Tablet,
    VpnGateway,
    check_transition,
)
from ftthnoc.normalise import normalise_ipv4, normalise_mac, normalise_serial
from ftthnoc.personal import PERSONAL_FIELDS

Record = dict[str, Any]
Document = dict[str, list[Record]]
Key = tuple[Any, ...]

# --------------------------------------------------------------------------------------------------
# Field parsers: each takes the raw value (str from CSV, anything from YAML) and returns the clean
# value or raises ValueError with a message fit for the person who wrote the row.


def _text(max_len: int, pattern: str | None = None, example: str = "") -> Callable[[Any], str]:
    regex = re.compile(pattern) if pattern else None

    def parse(value: Any) -> str:
        # the offending value travels as a second argument, so personal fields can leave it out
        if not isinstance(value, str):
            raise ValueError(f"must be text, not {type(value).__name__} (quote it in YAML)", repr(value))
        text = value.strip()
        if len(text) > max_len:
            raise ValueError(f"is longer than {max_len} characters")
        if regex is not None and not regex.fullmatch(text):
            hint = f" (want e.g. {example})" if example else ""
            raise ValueError(f"is not valid{hint}", repr(text))
        return text

    return parse


_INT_MAX = 2_147_483_647  # PostgreSQL INTEGER


def _integer(low: int, high: int = _INT_MAX) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"must be a whole number, not {value!r}")
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
            number = int(value.strip())
        else:
            raise ValueError(f"must be a whole number, not {value!r}")
        if number < low or number > high:
            bounds = f"{low}..{high}" if high != _INT_MAX else f">= {low}"
            raise ValueError(f"{number} is out of range ({bounds})")
        return number

    return parse


def _choice(values: Iterable[str]) -> Callable[[Any], str]:
    allowed = tuple(values)

    def parse(value: Any) -> str:
        text = value.strip() if isinstance(value, str) else value
        if text not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        return str(text)

    return parse


def _status(value: Any) -> HouseholdStatus:
    text = value.strip() if isinstance(value, str) else value
    try:
        return HouseholdStatus(text)
    except ValueError:
        raise ValueError(f"{value!r} is not one of {', '.join(s.value for s in HouseholdStatus)}") from None


def _tablet_os(value: Any) -> str:
    text = str(value).strip()
    canonical = {name.lower(): name for name in TABLET_OS}.get(text.lower())
    if canonical is None:
        raise ValueError(f"must be one of {', '.join(TABLET_OS)}", text)
    return canonical


def _mac(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a MAC address (quote it in YAML)")
    return normalise_mac(value)


def _serial(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an ONU serial")
    return normalise_serial(value)


def _ipv4(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an IPv4 address (write it as text, e.g. 192.0.2.10)")
    return normalise_ipv4(value)


def _address(value: Any) -> str:
    text = _text(255)(value)
    m = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):(\d{1,5})", text)
    if not m or not 0 < int(m.group(2)) < 65536:
        raise ValueError(f"{text!r} is not HOST:PORT (want e.g. 10.0.0.1:161)")
    return text


_NAME = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"


def _modules(value: Any) -> list[str]:
    if isinstance(value, str):
        items: list[Any] = [v for v in re.split(r"[,\s]+", value.strip()) if v]
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError(f"must be a list of module names, not {value!r}")
    names: list[str] = []
    for item in items:
        if not isinstance(item, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", item):
            raise ValueError(f"{item!r} is not a module name")
        if item in names:
            raise ValueError(f"module {item!r} is listed twice")
        names.append(item)
    return names


_CODE = _text(32, r"[a-z][a-z0-9_\-]{0,31}", "chiyoda")
_OBJ_NAME = _text(64, _NAME, "olt-chiyoda-1")
_HH_CODE = _text(32, r"HH-\d{6}", "HH-000123")
_PORT = _text(16, r"\d{1,3}/\d{1,3}/\d{1,3}", "0/1/0")
_AUTH = _text(64, _NAME, "olt_v3")
_PHONE = _text(32, r"\+?[0-9()\- ]{3,31}", "0826-72-2111")


@dataclass(frozen=True)
class _Field:
    name: str
    parse: Callable[[Any], Any]
    required: bool = True
    #: the value of an optional column left empty
    default: Any = None


@dataclass(frozen=True)
class _Ref:
    """Columns of this section that name a row of ``target`` by its natural key."""

    fields: tuple[str, ...]
    target: str
    attr: str
    label: str  # format string over the values, e.g. "PON port {1!r} of OLT {0!r}"


@dataclass(frozen=True)
class _Section:
    name: str
    singular: str
    model: type[Base]
    fields: tuple[_Field, ...]
    key: tuple[str, ...]
    refs: tuple[_Ref, ...] = ()
    #: Column groups that must be unique over the whole inventory after the import, each with a
    #: format string over the group's values for messages. A group with an empty (None) value is not
    #: checked: optional columns are unique only where given, as the database's unique indexes are.
    uniques: tuple[tuple[tuple[str, ...], str], ...] = ()
    personal: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _district_ref() -> _Ref:
    return _Ref(("district",), "districts", "district", "district {0!r}")


_SPECS: tuple[_Section, ...] = (
    _Section(
        "districts",
        "district",
        District,
        (_Field("code", _CODE), _Field("name", _text(64)), _Field("households", _integer(0))),
        key=("code",),
    ),
    _Section(
        "olts",
        "OLT",
        Olt,
        (
            _Field("name", _OBJ_NAME),
            _Field("district", _CODE),
            _Field("vendor", _choice(VENDORS)),
            _Field("model", _text(64)),
            _Field("address", _address),
            _Field("pon_class", _choice(PON_CLASSES)),
            _Field("auth", _AUTH),
            _Field("modules", _modules),
            _Field("cli_address", _address, required=False),
            _Field("cli_auth", _AUTH, required=False),
        ),
        key=("name",),
        refs=(_district_ref(),),
    ),
    _Section(
        "pon_ports",
        "PON port",
        PonPort,
        (_Field("olt", _OBJ_NAME), _Field("port", _PORT)),
        key=("olt", "port"),
        refs=(_Ref(("olt",), "olts", "olt", "OLT {0!r}"),),
    ),
    _Section(
        "households",
        "household",
        Household,
        (
            _Field("code", _HH_CODE),
            _Field("district", _CODE),
            _Field("plan", _text(64)),
            _Field("status", _status),
        ),
        key=("code",),
        refs=(_district_ref(),),
    ),
    _Section(
        "household_contacts",
        "household contact",
        HouseholdContact,
        (
            _Field("household", _HH_CODE),
            _Field("name", _text(128)),
            _Field("address", _text(255)),
            _Field("phone", _PHONE, required=False),
        ),
        key=("household",),
        refs=(_Ref(("household",), "households", "household", "household {0!r}"),),
        personal=True,
    ),
    _Section(
        "onus",
        "ONU",
        Onu,
        (
            _Field("serial", _serial),
            _Field("olt", _OBJ_NAME),
            _Field("pon_port", _PORT),
            # GPON allows 128 ONT ids per port (Huawei 0..127, ZTE 1..128); XGS-PON up to 256.
            _Field("onu_id", _integer(0, 255)),
            _Field("household", _HH_CODE, required=False),
            _Field("mgmt_address", _ipv4, required=False),
        ),
        key=("serial",),
        refs=(
            _Ref(("olt", "pon_port"), "pon_ports", "pon_port", "PON port {1!r} of OLT {0!r}"),
            _Ref(("household",), "households", "household", "household {0!r}"),
        ),
        uniques=(
            (("olt", "pon_port", "onu_id"), "onu_id {2} on {0} port {1}"),
            (("mgmt_address",), "mgmt_address {0}"),
        ),
    ),
    _Section(
        "schools",
        "school",
        School,
        (
            _Field("code", _OBJ_NAME),
            _Field("name", _text(128)),
            _Field("district", _CODE),
            _Field("pupils", _integer(0)),
            _Field("address", _ipv4, required=False),
            _Field("router_address", _address, required=False),
            _Field("router_platform", _text(32, _NAME, "yamaha"), required=False),
            _Field("router_auth", _AUTH, required=False),
            _Field("dhcp_scope", _integer(1, 65535), required=False),
            _Field("uplink_target", _OBJ_NAME, required=False),
            _Field("uplink_interface", _text(64, r"\S(?:.*\S)?", "LAN2"), required=False),
        ),
        key=("code",),
        refs=(_district_ref(),),
        uniques=((("address",), "address {0}"),),
    ),
    _Section(
        "tablets",
        "tablet",
        Tablet,
        (
            _Field("school", _OBJ_NAME),
            _Field("asset_no", _text(64, r"\S+", "T-000123")),
            _Field("serial", _text(64, r"\S+", "DMPXK0ABCDEF")),
            _Field("mac", _mac),
            _Field("os", _tablet_os),
            _Field("grade", _integer(1, 9), required=False),
            _Field("class_name", _text(32), required=False),
            _Field("status", _choice(TABLET_STATUSES), required=False, default="active"),
        ),
        key=("school", "asset_no"),
        refs=(_Ref(("school",), "schools", "school", "school {0!r}"),),
        uniques=((("mac",), "mac {0}"),),
    ),
    _Section(
        "bwa_stations",
        "BWA station",
        BwaStation,
        (
            _Field("name", _OBJ_NAME),
            _Field("district", _CODE),
            _Field("address", _address),
            _Field("auth", _AUTH),
            _Field("modules", _modules),
        ),
        key=("name",),
        refs=(_district_ref(),),
    ),
    _Section(
        "vpn_gateways",
        "VPN gateway",
        VpnGateway,
        (
            _Field("name", _OBJ_NAME),
            _Field("vendor", _text(32, r"[a-z][a-z0-9_]*", "cisco_asa")),
            _Field("address", _address),
            _Field("auth", _AUTH),
            _Field("modules", _modules),
            _Field("licence_sessions", _integer(0)),
        ),
        key=("name",),
    ),
)

SPECS: dict[str, _Section] = {s.name: s for s in _SPECS}
#: Section names in dependency order (a section only refers to sections before it).
SECTIONS: tuple[str, ...] = tuple(SPECS)
#: Sections holding personal data: exported only when asked.
PERSONAL_SECTIONS: frozenset[str] = frozenset(s.name for s in _SPECS if s.personal)
#: Column names per section, in the order they are exported.
COLUMNS: dict[str, tuple[str, ...]] = {s.name: s.columns for s in _SPECS}


# --------------------------------------------------------------------------------------------------
# Rows as read, with where they came from.


@dataclass(frozen=True)
class SourceRow:
    """One record to import and where a person finds it: ``row`` is a file line or a 1-based position."""

    section: str
    row: int
    data: Mapping[str, Any]
    source: str | None = None
    #: Set when the row could not even be read as a record (e.g. a CSV line with too few cells).
    error: str | None = None


@dataclass(frozen=True)
class RowProblem:
    """One reason a row was refused."""

    section: str
    row: int
    message: str
    source: str | None = None

    @property
    def location(self) -> str:
        if self.source is None:
            return f"{self.section} row {self.row}"
        if Path(self.source).stem == self.section:
            return f"{self.source} line {self.row}"
        return f"{self.source} line {self.row} ({self.section})"

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class InventoryImportError(ImportRowError):
    """The import was refused; ``problems`` has one entry per bad row and reason, nothing was written."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__([(p.row, f"{p.section}: {p.message}") for p in problems])
        self.problems = problems


@dataclass
class ImportResult:
    """How many rows of each section were created, changed, or already as in the document."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = []
        for name in SECTIONS:
            counts = (self.created.get(name, 0), self.updated.get(name, 0), self.unchanged.get(name, 0))
            if any(counts):
                parts.append(f"{name}: {counts[0]} created, {counts[1]} updated, {counts[2]} unchanged")
        return "; ".join(parts) or "nothing to import"


def document_rows(document: Mapping[str, Any]) -> list[SourceRow]:
    """The rows of an in-memory document, numbered 1.. within each section."""
    _check_sections(document.keys())
    rows: list[SourceRow] = []
    for name, records in document.items():
        if records is None:
            continue
        if not isinstance(records, Sequence) or isinstance(records, str | bytes):
            raise InventoryError(f"section {name!r} must be a list of records")
        rows.extend(SourceRow(name, i, rec) for i, rec in enumerate(records, start=1))
    return rows


def _check_sections(names: Iterable[str]) -> None:
    unknown = sorted(set(names) - set(SECTIONS))
    if unknown:
        raise InventoryError(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")


def read_yaml(path: Path, section: str | None = None) -> list[SourceRow]:
    """Rows of a YAML inventory file, numbered by the line each record starts on."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(f"cannot read {path}: {exc}") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else {}
    except yaml.YAMLError as exc:
        raise InventoryError(f"{path.name} is not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise InventoryError(f"{path.name}: the top level must be a mapping of sections")
    _check_sections(data.keys())
    rows: list[SourceRow] = []
    for key_node, value_node in node.value:
        name = key_node.value
        if section is not None and name != section:
            continue
        records = data[name]
        if records is None:
            continue
        if not isinstance(records, list) or not isinstance(value_node, yaml.SequenceNode):
            raise InventoryError(f"{path.name}: section {name!r} must be a list of records")
        for record, item_node in zip(records, value_node.value, strict=True):
            rows.append(SourceRow(name, item_node.start_mark.line + 1, record, path.name))
    return rows


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Japanese spreadsheets still save "CSV" as Shift_JIS.
        return raw.decode("cp932")
    except UnicodeDecodeError:
        raise InventoryError(f"{path.name} is neither UTF-8 nor Shift_JIS text") from None


def _check_header(path: Path, section: str, header: list[str], line: int) -> None:
    """A bad header is one problem for the file, not the same problem repeated on every row."""
    spec = SPECS[section]
    messages = []
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        messages.append(f"column(s) {', '.join(dupes)} appear twice in the header")
    unknown = [c for c in header if c not in spec.columns]
    if unknown:
        messages.append(f"unknown column(s) {', '.join(unknown)}; expected {', '.join(spec.columns)}")
    missing = [f.name for f in spec.fields if f.required and f.name not in header]
    if missing:
        messages.append(f"the header lacks required column(s) {', '.join(missing)}")
    if messages:
        raise InventoryImportError([RowProblem(section, line, m, path.name) for m in messages])


def read_csv(path: Path, section: str) -> list[SourceRow]:
    """Rows of one section's CSV file, numbered by the line each record starts on (header = line 1)."""
    _check_sections([section])
    try:
        text = _decode(path)
    except OSError as exc:
        raise InventoryError(f"cannot read {path}: {exc}") from None
    reader = csv.reader(_io.StringIO(text, newline=""))
    rows: list[SourceRow] = []
    header: list[str] | None = None
    line = 0
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                _check_header(path, section, header, start)
                continue
            if len(cells) != len(header):
                message = (
                    f"has {len(cells)} field(s) but the header has {len(header)} (a missing or extra column)"
                )
                rows.append(SourceRow(section, start, {}, path.name, error=message))
                continue
            rows.append(SourceRow(section, start, dict(zip(header, cells, strict=True)), path.name))
    except csv.Error as exc:
        raise InventoryError(f"{path.name} line {reader.line_num}: {exc}") from None
    return rows


def read_path(path: Path, section: str | None = None) -> list[SourceRow]:
    """Rows from a YAML file, a CSV file (section from ``section`` or the file name) or a CSV directory."""
    if section is not None:
        _check_sections([section])
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        _check_sections(f.stem for f in files)
        if section is not None:
            files = [f for f in files if f.stem == section]
        if not files:
            raise InventoryError(f"{path} has no SECTION.csv files")
        by_section = {f.stem: f for f in files}
        return [row for name in SECTIONS if name in by_section for row in read_csv(by_section[name], name)]
    if path.suffix.lower() in (".yaml", ".yml"):
        return read_yaml(path, section)
    if path.suffix.lower() == ".csv":
        name = section or path.stem
        if name not in SPECS:
            raise InventoryError(
                f"cannot tell the section of {path.name}: name it SECTION.csv or use --section"
            )
        return read_csv(path, name)
    raise InventoryError(f"{path}: expected a .yaml/.yml file, a .csv file or a directory of CSV files")


# --------------------------------------------------------------------------------------------------
# Export


def _natural(value: Any) -> tuple[Any, ...]:
    """Sort ``0/1/10`` after ``0/1/2`` and ``None`` first, so exports read in a human order."""
    if value is None:
        return ((0, ""),)
    parts = re.split(r"(\d+)", str(value))
    return tuple((1, int(p)) if p.isdigit() else (0, p) for p in parts)


def _section_records(session: Session, name: str) -> list[Record]:
    """All rows of one section as document records, sorted by natural key."""
    rows: list[Record]
    if name == "districts":
        rows = [
            {"code": d.code, "name": d.name, "households": d.households}
            for d in session.scalars(select(District))
        ]
    elif name == "olts":
        rows = [
            {
                "name": o.name,
                "district": dcode,
                "vendor": o.vendor,
                "model": o.model,
                "address": o.address,
                "pon_class": o.pon_class,
                "auth": o.auth,
                "modules": list(o.modules),
                "cli_address": o.cli_address,
                "cli_auth": o.cli_auth,
            }
            for o, dcode in session.execute(select(Olt, District.code).join(Olt.district))
        ]
    elif name == "pon_ports":
        rows = [
            {"olt": olt, "port": port}
            for olt, port in session.execute(select(Olt.name, PonPort.port).join(PonPort.olt))
        ]
    elif name == "households":
        rows = [
            {"code": h.code, "district": dcode, "plan": h.plan, "status": str(h.status)}
            for h, dcode in session.execute(select(Household, District.code).join(Household.district))
        ]
    elif name == "household_contacts":
        rows = [
            {"household": hcode, "name": c.name, "address": c.address, "phone": c.phone}
            for c, hcode in session.execute(
                select(HouseholdContact, Household.code).join(HouseholdContact.household)
            )
        ]
    elif name == "onus":
        stmt = (
            select(Onu.serial, Olt.name, PonPort.port, Onu.onu_id, Household.code, Onu.mgmt_address)
            .join(Onu.pon_port)
            .join(PonPort.olt)
            .outerjoin(Onu.household)
        )
        rows = [
            {
                "serial": serial,
                "olt": olt,
                "pon_port": port,
                "onu_id": onu_id,
                "household": hcode,
                "mgmt_address": mgmt,
            }
            for serial, olt, port, onu_id, hcode, mgmt in session.execute(stmt)
        ]
    elif name == "schools":
        rows = [
            {
                "code": s.code,
                "name": s.name,
                "district": dcode,
                "pupils": s.pupils,
                "address": s.address,
                "router_address": s.router_address,
                "router_platform": s.router_platform,
                "router_auth": s.router_auth,
                "dhcp_scope": s.dhcp_scope,
                "uplink_target": s.uplink_target,
                "uplink_interface": s.uplink_interface,
            }
            for s, dcode in session.execute(select(School, District.code).join(School.district))
        ]
    elif name == "tablets":
        rows = [
            {
                "school": scode,
                "asset_no": t.asset_no,
                "serial": t.serial,
                "mac": t.mac,
                "os": t.os,
                "grade": t.grade,
                "class_name": t.class_name,
                "status": t.status,
            }
            for t, scode in session.execute(select(Tablet, School.code).join(Tablet.school))
        ]
    elif name == "bwa_stations":
        rows = [
            {
                "name": b.name,
                "district": dcode,
                "address": b.address,
                "auth": b.auth,
                "modules": list(b.modules),
            }
            for b, dcode in session.execute(select(BwaStation, District.code).join(BwaStation.district))
        ]
    elif name == "vpn_gateways":
        rows = [
            {
                "name": v.name,
                "vendor": v.vendor,
                "address": v.address,
                "auth": v.auth,
                "modules": list(v.modules),
                "licence_sessions": v.licence_sessions,
            }
            for v in session.scalars(select(VpnGateway))
        ]
    else:  # pragma: no cover - guarded by _check_sections
        raise InventoryError(f"unknown section {name!r}")
    key = SPECS[name].key
    rows.sort(key=lambda r: tuple(_natural(r[k]) for k in key))
    return rows


def export_document(session: Session, *, with_personal: bool = False) -> Document:
    """The whole inventory as a document; personal sections only with ``with_personal`` (audited).

    The audit entry is added to ``session``: commit it (``db.session_scope`` does).
    """
    document: Document = {}
    for name in SECTIONS:
        if name in PERSONAL_SECTIONS and not with_personal:
            continue
        document[name] = _section_records(session, name)
        if name in PERSONAL_SECTIONS:
            session.add(
                AuditEntry(
                    actor=str(session.info.get("actor", "system")),
                    action="export",
                    entity=name,
                    detail={"rows": len(document[name]), "fields": list(PERSONAL_FIELDS)},
                )
            )
    return document


def write_yaml(document: Mapping[str, list[Record]], path: Path) -> None:
    """Write a document as one YAML file (sections in dependency order, Japanese text kept readable)."""
    ordered = {name: document[name] for name in SECTIONS if name in document}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("# ftthnoc inventory document (see ftthnoc.inventory.io)\n")
        yaml.safe_dump(ordered, fh, allow_unicode=True, sort_keys=False, default_flow_style=None, width=110)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def write_csv(document: Mapping[str, list[Record]], directory: Path) -> list[Path]:
    """Write one ``SECTION.csv`` per section of the document into ``directory``; returns the files."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SECTIONS:
        if name not in document:
            continue
        target = directory / f"{name}.csv"
        with target.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(COLUMNS[name])
            for record in document[name]:
                writer.writerow([_cell(record.get(col)) for col in COLUMNS[name]])
        written.append(target)
    return written


def export_path(session: Session, path: Path, *, fmt: str | None = None, with_personal: bool = False) -> str:
    """Export to ``path``: YAML if ``fmt`` is "yaml" or the name ends .yaml/.yml, else a CSV directory.

    Returns the format used.
    """
    if fmt is None:
        fmt = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "csv"
    if fmt not in ("yaml", "csv"):
        raise InventoryError(f"unknown export format {fmt!r} (yaml or csv)")
    document = export_document(session, with_personal=with_personal)
    if fmt == "yaml":
        write_yaml(document, path)
    else:
        write_csv(document, path)
    return fmt


# --------------------------------------------------------------------------------------------------
# Validation


@dataclass
class _Parsed:
    row: SourceRow
    values: dict[str, Any]
    key: Key


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse_row(spec: _Section, row: SourceRow, problems: list[RowProblem]) -> _Parsed | None:
    """Check one record's shape and every field; None if anything is wrong (problems appended)."""

    def bad(message: str) -> None:
        problems.append(RowProblem(row.section, row.row, message, row.source))

    data = row.data
    if row.error is not None:
        bad(row.error)
        return None
    if not isinstance(data, Mapping):
        bad(f"must be a mapping of column: value, not {type(data).__name__}")
        return None
    ok = True
    unknown = [str(k) for k in data if k not in spec.columns]
    if unknown:
        bad(f"unknown column(s) {', '.join(unknown)}; expected {', '.join(spec.columns)}")
        ok = False
    values: dict[str, Any] = {}
    for f in spec.fields:
        raw = data.get(f.name)
        if _blank(raw):
            if f.required:
                bad(f"{f.name} is missing")
                ok = False
            values[f.name] = f.default
            continue
        try:
            values[f.name] = f.parse(raw)
        except ValueError as exc:
            # never echo personal values: error lines end up in terminals, cron mail and logs
            shown = exc.args[1] if len(exc.args) > 1 and not spec.personal else None
            bad(f"{f.name}: {shown} {exc.args[0]}" if shown else f"{f.name}: {exc.args[0]}")
            ok = False
    if not ok:
        # Keep the key if it parsed, so that rows referring to this one are not refused twice.
        if all(values.get(k) is not None for k in spec.key):
            return _Parsed(row, values, tuple(values[k] for k in spec.key))
        return None
    return _Parsed(row, values, tuple(values[k] for k in spec.key))


def _where(row: SourceRow) -> str:
    return RowProblem(row.section, row.row, "", row.source).location


def _validate(session: Session, rows: Sequence[SourceRow]) -> dict[str, list[_Parsed]]:
    """Check every row against its section, the document and the database; raise if any is bad."""
    problems: list[RowProblem] = []
    by_section: dict[str, list[SourceRow]] = {name: [] for name in SECTIONS}
    for row in rows:
        _check_sections([row.section])
        by_section[row.section].append(row)

    # The database's current rows in document form (never the personal section: nothing refers to it).
    existing: dict[str, dict[Key, Record]] = {}
    for name, spec in SPECS.items():
        if spec.personal:
            continue
        existing[name] = {tuple(r[k] for k in spec.key): r for r in _section_records(session, name)}

    parsed: dict[str, list[_Parsed]] = {name: [] for name in SECTIONS}
    good: dict[str, list[_Parsed]] = {name: [] for name in SECTIONS}
    for name in SECTIONS:
        spec = SPECS[name]
        for row in by_section[name]:
            before = len(problems)
            p = _parse_row(spec, row, problems)
            if p is not None:
                parsed[name].append(p)
                if len(problems) == before:
                    good[name].append(p)

    keys: dict[str, set[Key]] = {
        name: set(existing.get(name, {})) | {p.key for p in parsed[name]} for name in SECTIONS
    }

    for name in SECTIONS:
        spec = SPECS[name]
        seen: dict[Key, SourceRow] = {}
        first_of_key: list[_Parsed] = []  # a duplicated row is one problem, not also a uniqueness clash
        for p in good[name]:
            row = p.row

            def bad(message: str, row: SourceRow = row) -> None:
                problems.append(RowProblem(row.section, row.row, message, row.source))

            if p.key in seen:
                bad(f"duplicate {spec.singular} {'/'.join(map(str, p.key))}: also at {_where(seen[p.key])}")
                continue
            seen[p.key] = row
            first_of_key.append(p)
            for ref in spec.refs:
                target = tuple(p.values[f] for f in ref.fields)
                if any(v is None for v in target):
                    continue
                if target not in keys[ref.target]:
                    bad(f"{ref.label.format(*target)} is not in the database or in this import")
            if name == "households" and p.key in existing[name]:
                try:
                    check_transition(existing[name][p.key]["status"], p.values["status"])
                except InventoryError as exc:
                    bad(str(exc))
        problems.extend(_unique_problems(spec, first_of_key, existing.get(name, {})))

    if problems:
        order = {name: i for i, name in enumerate(SECTIONS)}
        problems.sort(key=lambda pr: (order[pr.section], pr.source or "", pr.row))
        raise InventoryImportError(problems)
    return good


def _unique_problems(spec: _Section, rows: list[_Parsed], existing: Mapping[Key, Record]) -> list[RowProblem]:
    """Uniqueness over the inventory as it will be after the import (database overlaid by the document)."""
    problems: list[RowProblem] = []
    in_doc = {p.key: p for p in rows}
    for columns, label in spec.uniques:
        owners: dict[Key, list[tuple[Key, SourceRow | None]]] = {}
        for key, record in existing.items():
            if key not in in_doc:
                owners.setdefault(tuple(record[c] for c in columns), []).append((key, None))
        for p in rows:
            owners.setdefault(tuple(p.values[c] for c in columns), []).append((p.key, p.row))
        for value, holders in owners.items():
            if len(holders) < 2 or any(v is None for v in value):
                continue
            holders.sort(key=lambda h: (h[1] is not None, h[1].row if h[1] else 0))
            first_key, first_row = holders[0]
            first_where = "in the database" if first_row is None else f"at {_where(first_row)}"
            what = label.format(*value)
            for _key, row in holders[1:]:
                if row is None:  # pragma: no cover - database rows sort first
                    continue
                problems.append(
                    RowProblem(
                        row.section,
                        row.row,
                        f"{what} is already used by {spec.singular} {'/'.join(map(str, first_key))} "
                        f"({first_where})",
                        row.source,
                    )
                )
    return problems


# --------------------------------------------------------------------------------------------------
# Writing


def _object_key(name: str, obj: Any) -> Key:
    """The natural key of an ORM object (related rows come from the identity map, not new queries)."""
    if name == "pon_ports":
        return (obj.olt.name, obj.port)
    if name == "household_contacts":
        return (obj.household.code,)
    if name == "tablets":
        return (obj.school.code, obj.asset_no)
    if name in ("districts", "households", "schools"):
        return (obj.code,)
    if name == "onus":
        return (obj.serial,)
    return (obj.name,)


def _apply(session: Session, parsed: Mapping[str, list[_Parsed]]) -> ImportResult:
    result = ImportResult()
    needed = {name for name, rows in parsed.items() if rows}
    needed |= {ref.target for name in list(needed) for ref in SPECS[name].refs}
    if "pon_ports" in needed:
        needed.add("olts")
    if "household_contacts" in needed:
        needed.add("households")
    if "tablets" in needed:
        needed.add("schools")
    index: dict[str, dict[Key, Any]] = {}
    for name in SECTIONS:  # dependency order, so that related objects are already in the session
        if name in needed:
            model = SPECS[name].model
            index[name] = {_object_key(name, obj): obj for obj in session.scalars(select(model))}

    for name in SECTIONS:
        spec = SPECS[name]
        ref_fields = {f for ref in spec.refs for f in ref.fields}
        for p in parsed[name]:
            attrs = {k: v for k, v in p.values.items() if k not in ref_fields}
            for ref in spec.refs:
                target = tuple(p.values[f] for f in ref.fields)
                attrs[ref.attr] = None if any(v is None for v in target) else index[ref.target][target]
            obj = index[name].get(p.key)
            if obj is None:
                obj = spec.model(**attrs)
                session.add(obj)
                index[name][p.key] = obj
                result.created[name] = result.created.get(name, 0) + 1
                continue
            changed = False
            for attr, value in attrs.items():
                if getattr(obj, attr) != value:
                    setattr(obj, attr, value)
                    changed = True
            counter = result.updated if changed else result.unchanged
            counter[name] = counter.get(name, 0) + 1
    try:
        session.flush()
    except DBAPIError as exc:
        # Validation should have caught it; a concurrent writer or a swap of unique values can still hit.
        raise InventoryError(f"the database refused the import: {str(exc.orig).splitlines()[0]}") from None
    return result


def import_rows(session: Session, rows: Sequence[SourceRow]) -> ImportResult:
    """Validate all ``rows`` and, only if every one is good, upsert them into ``session`` (flushed).

    Raises InventoryImportError listing every bad row; in that case nothing was added to the session.
    The caller commits (or ``db.session_scope`` does), so the import is one transaction.
    """
    parsed = _validate(session, rows)
    return _apply(session, parsed)


def import_document(session: Session, document: Mapping[str, Any]) -> ImportResult:
    """Import an in-memory document (e.g. from the town generator); rows are numbered 1.. per section."""
    return import_rows(session, document_rows(document))


def import_path(session: Session, path: Path, *, section: str | None = None) -> ImportResult:
    """Import a YAML file, a CSV file or a directory of CSV files (see the module docstring)."""
    return import_rows(session, read_path(path, section))


def load_document(path: Path, section: str | None = None) -> Document:
    """Read a YAML or CSV inventory into a plain document without touching a database."""
    document: Document = {}
    rows = read_path(path, section)
    broken = [RowProblem(r.section, r.row, r.error, r.source) for r in rows if r.error is not None]
    if broken:
        raise InventoryImportError(broken)
    for row in rows:
        document.setdefault(row.section, []).append(dict(row.data))
    return document


__all__ = [
    "COLUMNS",
    "PERSONAL_SECTIONS",
    "SECTIONS",
    "Document",
    "ImportResult",
    "InventoryImportError",
    "Record",
    "RowProblem",
    "SourceRow",
    "document_rows",
    "export_document",
    "export_path",
    "import_document",
    "import_path",
    "import_rows",
    "load_document",
    "read_csv",
    "read_path",
    "read_yaml",
    "write_csv",
    "write_yaml",
]
