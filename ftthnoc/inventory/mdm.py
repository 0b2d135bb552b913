"""MDM inventories as a source of "seen": a tablet is identified by its serial, and the MDM's last sync
is when it was last seen (source ``mdm:<kind>``), next to the ARP sources that know it by MAC.

iPadOS 14+ and Android 10+ join each Wi-Fi network with a private (random, locally administered) MAC
by default, and ChromeOS fleets are managed by serial, so a MAC registered at delivery stops finding the
tablet. The MDM knows the device by serial and reports the Wi-Fi MAC it uses: where that differs from
the registered MAC it is learned (``Tablet.network_mac``) so that the ARP sweep and the school router's
ARP table match it too.

Three exports are read, each a CSV file with the console's own header row (``LAYOUTS``; the sample
files and where their columns come from are in ``tests/fixtures/mdm/``):

* ``google``: the Google Admin console's ChromeOS device list (Serial Number, Last Sync, Wifi MAC or
  MAC Address, Model, Org Unit Path, …),
* ``intune``: the Microsoft Intune admin center's device export (Serial number, Last check-in,
  Wi-Fi MAC, …),
* ``jamf``: a Jamf Pro mobile device search exported as CSV (Serial Number, Last Inventory Update,
  Wi-Fi MAC Address, …).

Only the serial, the last sync time, the Wi-Fi MAC, the model, the last known IPv4 address and the digits
of a grade and class in the org unit path (Google) or department (Jamf), filled in only for a tablet the inventory
has none for; every other cell (user names, e-mail addresses, annotated users) is dropped as the line is
read and never stored or logged.
The import is all or nothing, like the inventory's: any bad row (no serial, a time or MAC that does not
parse, a last sync in the future, a serial two active tablets share, a Wi-Fi MAC that is another
tablet's) is reported as ``FILE line N: problem`` and nothing is written. Serials that are no tablet of
the inventory (staff devices, other towns) are counted, not refused; an MDM that keeps two records of
one serial (Jamf after a logic-board repair) counts the later sync.

The last known IPv4 address (Google's last known network's WAN IP, Jamf's Last Reported IP Address, an
Intune export's IP address where it has one) is kept with the sync time (``TabletAddress``): the
home-learning KPI matches it against the ISP's address assignments to household lines
(``ftthnoc.inventory.leases``). An IPv6 address is not kept (home lines are matched by IPv4).
"""

from __future__ import annotations

import csv
import io
import ipaddress
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ftthnoc.errors import InventoryError
from ftthnoc.inventory.csvio import _decode
from ftthnoc.inventory.models import AuditEntry, School, Tablet, TabletAddress, mark_seen, sightings_of
from ftthnoc.inventory.rows import InventoryImportError, RowProblem, export_rows
from ftthnoc.normalise import normalise_mac
from ftthnoc.timezone import JST

log = logging.getLogger(__name__)

MDM_KINDS: tuple[str, ...] = ("google", "intune", "jamf")
#: a last sync this far ahead of the importing machine's clock is a wrong time zone or a broken cell
FUTURE_SLACK = timedelta(hours=1)
#: cells that mean "never synced"
NEVER = frozenset({"", "-", "never", "n/a", "none", "null"})


@dataclass(frozen=True)
class Layout:
    """Which header names (any letter case and spacing; the first one present wins) hold what."""

    serial: tuple[str, ...]
    last_sync: tuple[str, ...]
    wifi_mac: tuple[str, ...]
    model: tuple[str, ...]
    #: where the school's grade and class may be written (an org unit ``/…/3年/3-1``, a department
    #: ``3年1組``): read for tablets the inventory has none for, digits only (never a name)
    group: tuple[str, ...]
    #: how a time without an offset is read: Intune's export is UTC, the others the admin's clock
    naive_tz: tzinfo
    #: personal columns the export carries: named for the README and the tests, never read
    personal: tuple[str, ...] = ()
    #: the last IPv4 address the device reported from (the public/WAN one where the console has both):
    #: the home-learning KPI matches it against the household lines' leases
    ip: tuple[str, ...] = ()


LAYOUTS: dict[str, Layout] = {
    "google": Layout(
        serial=("Serial Number", "serialNumber"),
        last_sync=("Last Sync", "lastSync"),
        # the Directory API's macAddress is the wireless one; "Wifi MAC" where the export names it so
        wifi_mac=("Wifi MAC", "Wi-Fi MAC", "MAC Address", "macAddress"),
        model=("Model", "model"),
        group=("Org Unit Path", "orgUnitPath"),
        naive_tz=JST,
        personal=("User", "Annotated User", "annotatedUser", "Most Recent User", "Recent User 1",
                  "Recent User 2"),
        # the Directory API's lastKnownNetwork[].wanIpAddress (the home line's address) before ipAddress (LAN)
        ip=("WAN IP Address", "Last Known WAN IP Address", "lastKnownNetwork.wanIpAddress", "wanIpAddress",
            "Last Known IP Address", "IP Address", "lastKnownNetwork.ipAddress", "ipAddress"),
    ),
    "intune": Layout(
        serial=("Serial number", "serialNumber"),
        last_sync=("Last check-in", "lastSyncDateTime"),
        wifi_mac=("Wi-Fi MAC", "wiFiMacAddress"),
        model=("Model", "model"),
        group=(),
        naive_tz=UTC,
        personal=("Primary user UPN", "Primary user email address", "Primary user display name",
                  "userPrincipalName", "emailAddress", "userDisplayName"),
        ip=("Public IP address", "IP address", "IPv4 address", "ipAddressV4"),
    ),
    "jamf": Layout(
        serial=("Serial Number",),
        last_sync=("Last Inventory Update",),
        wifi_mac=("Wi-Fi MAC Address",),
        model=("Model",),
        group=("Department",),
        naive_tz=JST,
        personal=("Username", "Full Name", "Email Address", "Phone Number", "Position"),
        ip=("Last Reported IP Address", "IP Address"),
    ),
}

_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                 "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
                 "%B %d, %Y, %I:%M %p", "%b %d, %Y, %I:%M %p")  # fmt: skip
_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(text: str, naive_tz: tzinfo) -> datetime:
    """An export's time in UTC: ISO 8601 (``Z``, an offset, up to 7 fractional digits as Intune writes)
    or the consoles' display forms; a time without an offset is in ``naive_tz``. Raises ValueError."""
    value = text.strip()
    iso = _FRACTION.sub(r"\1", value)
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        for fmt in _TIME_FORMATS:
            try:
                parsed = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise ValueError(f"{value!r} is not a time (want e.g. 2026-12-03T08:15:00Z)")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_tz)
    return parsed.astimezone(UTC)


_KUMI = re.compile(r"(\d{1,2})\s*年\s*(\d{1,2})\s*組")
_DASHED = re.compile(r"^(\d{1,2})\s*-\s*(\d{1,2})$")
_GRADE = re.compile(r"^(?:(\d{1,2})\s*年(?:生)?|grade\s*(\d{1,2}))$", re.IGNORECASE)


def grade_class(text: str) -> tuple[int | None, str | None]:
    """Grade and class from an org unit path or a department (``/小学校/ES/3年/3-1``, ``3年1組``,
    ``Grade 3``): the class as the inventory writes it (``3-1``); (None, None) when nothing says so.
    Only digits are taken: whatever else the cell holds is never kept."""
    grade: int | None = None
    class_name: str | None = None
    for part in unicodedata.normalize("NFKC", text).split("/"):
        part = part.strip()
        if (m := _KUMI.search(part)) or (m := _DASHED.match(part)):
            grade, class_name = int(m.group(1)), f"{int(m.group(1))}-{int(m.group(2))}"
        elif m := _GRADE.match(part):
            grade, class_name = int(m.group(1) or m.group(2)), None
    if grade is not None and not 1 <= grade <= 9:
        return None, None
    return grade, class_name


def normalise_device_serial(value: str) -> str:
    """Serials compare without spaces or hyphens and in capitals (``c02 xk-1`` is ``C02XK1``)."""
    return re.sub(r"[\s\-]", "", value).upper()


@dataclass(frozen=True)
class MdmRecord:
    """One device line of an export, reduced to what ftthnoc keeps (no user, no name)."""

    line: int
    serial: str
    last_sync: datetime | None
    wifi_mac: str | None
    model: str | None
    grade: int | None = None
    class_name: str | None = None
    #: the last known IPv4 address (``Layout.ip``), None when the export has none
    ip: str | None = None


def parse_ipv4(text: str) -> str | None:
    """An address cell as IPv4 text; None for an empty cell or an IPv6 address. Raises ValueError."""
    value = text.strip()
    if value.casefold() in NEVER:
        return None
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address") from None
    return str(addr) if addr.version == 4 else None


def _column(header: list[str], names: Iterable[str]) -> int | None:
    folded = [" ".join(h.split()).casefold() for h in header]
    for name in names:
        key = " ".join(name.split()).casefold()
        if key in folded:
            return folded.index(key)
    return None


def read_export(text: str, kind: str, source: str, naive_tz: tzinfo | None = None) -> tuple[
        list[MdmRecord], list[RowProblem]]:  # fmt: skip
    """Parse an export's text: its device records and one problem per bad line (lines as an editor
    numbers them, the header being line 1). Raises InventoryError if the header lacks a needed column."""
    if kind not in LAYOUTS:
        raise InventoryError(f"unknown MDM kind {kind!r} (one of {', '.join(MDM_KINDS)})")
    layout = LAYOUTS[kind]
    tz = naive_tz or layout.naive_tz
    section = f"mdm:{kind}"
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InventoryError(f"{source} is empty: want the {kind} export's header row") from None
    except csv.Error as exc:
        raise InventoryError(f"{source} line 1: {exc}") from None
    cols = {name: _column(header, getattr(layout, name))
            for name in ("serial", "last_sync", "wifi_mac", "model", "group", "ip")}  # fmt: skip
    missing = [getattr(layout, name)[0] for name in ("serial", "last_sync") if cols[name] is None]
    if missing:
        raise InventoryError(f"{source} is not a {kind} export: no column {', '.join(repr(m) for m in missing)}")
    records: list[MdmRecord] = []
    problems: list[RowProblem] = []
    for start, cell in export_rows(reader, cols, section, source, problems):
        serial = normalise_device_serial(cell("serial"))
        if not serial:
            problems.append(RowProblem(section, start, "no serial number", source))
            continue
        sync_text = cell("last_sync")
        last_sync: datetime | None = None
        if sync_text.casefold() not in NEVER:
            try:
                last_sync = parse_time(sync_text, tz)
            except ValueError as exc:
                problems.append(RowProblem(section, start, f"last sync: {exc}", source))
                continue
        mac_text = cell("wifi_mac")
        wifi_mac: str | None = None
        if mac_text.casefold() not in NEVER:
            try:
                wifi_mac = normalise_mac(mac_text)
            except ValueError as exc:
                problems.append(RowProblem(section, start, f"Wi-Fi MAC: {exc}", source))
                continue
        try:
            ip = parse_ipv4(cell("ip"))
        except ValueError as exc:
            problems.append(RowProblem(section, start, f"IP address: {exc}", source))
            continue
        grade, class_name = grade_class(cell("group"))
        records.append(MdmRecord(start, serial, last_sync, wifi_mac, cell("model") or None, grade, class_name, ip))
    return records, problems


@dataclass
class MdmResult:
    """What an import did, as counts (the audit entry's detail)."""

    kind: str
    devices: int = 0
    matched: int = 0
    seen: int = 0
    never_synced: int = 0
    macs_learned: int = 0
    classes_filled: int = 0
    not_in_inventory: int = 0
    #: (tablet, IPv4, sync) rows kept for the home-learning KPI (not in the audit detail)
    addresses: int = 0
    schools: set[str] = field(default_factory=set)

    def detail(self) -> dict[str, object]:
        return {"devices": self.devices, "matched": self.matched, "seen": self.seen,
                "never_synced": self.never_synced, "macs_learned": self.macs_learned,
                "classes_filled": self.classes_filled, "not_in_inventory": self.not_in_inventory,
                "schools": sorted(self.schools)}  # fmt: skip

    def summary(self) -> str:
        return (f"mdm:{self.kind}: {self.devices} device(s), {self.matched} tablet(s) matched by serial, "
                f"{self.seen} seen later than before, {self.never_synced} never synced, "
                f"{self.macs_learned} Wi-Fi MAC(s) learned, {self.classes_filled} grade/class filled in, "
                f"{self.not_in_inventory} not in the inventory")


def _latest(records: Iterable[MdmRecord]) -> list[MdmRecord]:
    """One record per serial: the one synced last (an MDM may keep two for one device)."""
    best: dict[str, MdmRecord] = {}
    for rec in records:
        old = best.get(rec.serial)
        if old is None or (rec.last_sync is not None and (old.last_sync is None or rec.last_sync > old.last_sync)):
            best[rec.serial] = rec
    return list(best.values())


def import_records(session: Session, kind: str, records: list[MdmRecord], source: str, *, actor: str,
                   now: datetime | None = None, problems: Iterable[RowProblem] = (), school: str | None = None,
                   via: str = "cli") -> MdmResult:  # fmt: skip
    """Check every record against the inventory and, only if all are good, mark the tablets seen and
    learn their Wi-Fi MACs in ``session`` (flushed, not committed) with one audit entry.

    ``school`` limits the import to that school's tablets (a school user's): another school's serials
    count as not in the inventory, and a clash with another school's tablet does not name it.
    Raises InventoryImportError listing every bad line (with ``problems``, those found reading the file);
    then nothing was added to the session.
    """
    now = now or datetime.now(UTC)
    section = f"mdm:{kind}"
    result = MdmResult(kind, devices=len(records))
    rows = session.execute(select(Tablet, School.code).join(School, Tablet.school_id == School.id)).all()
    by_serial: dict[str, list[tuple[Tablet, str]]] = {}
    owner: dict[str, Tablet] = {}  # a MAC in use (registered or learned) → its tablet
    school_of: dict[int, str] = {}
    for tablet, code in rows:
        if school is None or code == school:
            by_serial.setdefault(normalise_device_serial(tablet.serial), []).append((tablet, code))
        owner[tablet.mac] = tablet
        if tablet.network_mac:
            owner[tablet.network_mac] = tablet
        school_of[tablet.id] = code
    problems = list(problems)
    plans: list[tuple[MdmRecord, Tablet]] = []
    claimed: dict[str, tuple[Tablet, int]] = {}  # a Wi-Fi MAC of this file → its tablet and line
    for rec in _latest(records):
        if rec.last_sync is not None and rec.last_sync > now + FUTURE_SLACK:
            problems.append(RowProblem(section, rec.line, f"last sync {rec.last_sync.isoformat()} is in the "
                                       "future (a wrong time zone?)", source))  # fmt: skip
            continue
        found = by_serial.get(rec.serial)
        if not found:
            result.not_in_inventory += 1
            continue
        active = [t for t in found if t[0].status == "active"] or found
        if len(active) > 1:
            assets = ", ".join(f"{code}/{t.asset_no}" for t, code in active)
            problems.append(RowProblem(section, rec.line, f"serial {rec.serial} is registered to {len(active)} "
                                       f"tablets ({assets}): fix the inventory first", source))  # fmt: skip
            continue
        tablet = active[0][0]
        mac = rec.wifi_mac
        if mac is not None and mac != tablet.mac:
            other = owner.get(mac)
            if other is not None and other is not tablet:
                whose = (f"tablet {school_of[other.id]}/{other.asset_no}'s"
                         if school is None or school_of[other.id] == school else "another school's tablet's")
                problems.append(RowProblem(section, rec.line, f"Wi-Fi MAC {mac} is {whose}", source))
                continue
            prior = claimed.get(mac)
            if prior is not None and prior[0] is not tablet:
                problems.append(RowProblem(section, rec.line, f"Wi-Fi MAC {mac} is also reported on line "
                                           f"{prior[1]} for another serial", source))  # fmt: skip
                continue
            claimed[mac] = (tablet, rec.line)
        plans.append((rec, tablet))
    if problems:
        raise InventoryImportError(sorted(problems, key=lambda p: p.row))
    # learned MACs: clear the ones that move first, so that two tablets swapping never meet the unique index
    learn = [(rec.wifi_mac, tablet) for rec, tablet in plans
             if rec.wifi_mac is not None and rec.wifi_mac != tablet.mac and rec.wifi_mac != tablet.network_mac]
    for _mac, tablet in learn:
        tablet.network_mac = None
    session.flush()
    for mac, tablet in learn:
        tablet.network_mac = mac
        result.macs_learned += 1
    known = sightings_of(session, (t.id for _rec, t in plans), section)
    addresses: list[tuple[int, str, datetime]] = []
    for rec, tablet in plans:
        result.matched += 1
        result.schools.add(school_of[tablet.id])
        if tablet.grade is None and tablet.class_name is None and rec.grade is not None:
            # only where the inventory has none: what the school registered is never overwritten
            tablet.grade, tablet.class_name = rec.grade, rec.class_name
            result.classes_filled += 1
        if rec.last_sync is None:
            result.never_synced += 1
            continue
        if mark_seen(session, tablet, known, section, rec.last_sync):
            result.seen += 1
        if rec.ip is not None:
            addresses.append((tablet.id, rec.ip, rec.last_sync))
    _keep_addresses(session, section, addresses)
    result.addresses = len(addresses)
    detail = {**result.detail(), "file": source, "via": via}
    session.add(AuditEntry(actor=actor, action="import", entity=section, detail=detail, outcome="ok"))
    session.flush()
    log.info("%s", result.summary())
    return result


def _keep_addresses(session: Session, source: str, addresses: list[tuple[int, str, datetime]]) -> None:
    """Add each (tablet, IPv4, sync time) not already kept: an export read twice adds nothing."""
    ids = sorted({tablet_id for tablet_id, _ip, _at in addresses})
    have: set[tuple[int, datetime]] = set()
    for i in range(0, len(ids), 500):
        stmt = select(TabletAddress.tablet_id, TabletAddress.seen_at).where(
            TabletAddress.source == source, TabletAddress.tablet_id.in_(ids[i : i + 500]))
        have.update((t, _utc(at)) for t, at in session.execute(stmt))
    for tablet_id, ip, at in addresses:
        if (tablet_id, _utc(at)) not in have:
            session.add(TabletAddress(tablet_id=tablet_id, source=source, ip=ip, seen_at=at))
            have.add((tablet_id, _utc(at)))


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def import_export(session: Session, kind: str, path: Path, *, actor: str, now: datetime | None = None,
                  naive_tz: tzinfo | None = None) -> MdmResult:  # fmt: skip
    """Read an MDM export file and import it (``import_records``); all or nothing."""
    return import_text(session, kind, _decode(path), path.name, actor=actor, now=now, naive_tz=naive_tz)


def import_text(session: Session, kind: str, text: str, source: str, *, actor: str, now: datetime | None = None,
                naive_tz: tzinfo | None = None, school: str | None = None, via: str = "cli") -> MdmResult:
    """Import an MDM export's text (``source`` names it in problems and the audit); all or nothing."""
    records, problems = read_export(text, kind, source, naive_tz)
    return import_records(session, kind, records, source, actor=actor, now=now, problems=problems, school=school,
                          via=via)  # fmt: skip


def decode_export(raw: bytes, source: str) -> str:
    """An uploaded export's bytes as text: UTF-8 (with or without BOM) or Shift_JIS, as files are read."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp932")
    except UnicodeDecodeError:
        raise InventoryError(f"{source} is neither UTF-8 nor Shift_JIS text: save it as CSV UTF-8") from None
