"""The town ISP's address assignments to household lines, as a source of "which line had which IPv4 address
when": the home-learning KPI (``ftthnoc.kpi.figures.tablets_at_home``) counts a tablet "seen at home" when
an MDM's last sync came from an address a household line held at that time.

One CSV file with a header row; headers match in any letter case, the first name present wins:

* ``start`` (or FreeRADIUS ``radacct``'s ``acctstarttime``): when the line got the address. Kea's lease
  file has none: it is ``expire - valid_lifetime``;
* ``stop`` (``acctstoptime``, Kea's ``expire``), optional: when it gave it back; empty (or ``NULL``,
  ``\\N``) while it still holds it;
* ``ip`` (``framedipaddress``, Kea's ``address``): the IPv4 address;
* ``line`` (``username``, Kea's ``hostname``): the household's code or its ONU's serial, as the ISP's
  RADIUS user name or DHCP host name carries it.

Times are ISO 8601 or ``YYYY-MM-DD HH:MM[:SS]`` (without an offset: JST unless told else) or Unix seconds
(Kea). Kea rows in state 1 (declined) are skipped: no line held the address.

Only the address, the interval and the household's id are stored (``LineLease``); the household's code
is read to find the household and then dropped: never stored with the lease, logged or audited, and no
problem message repeats a line id. The import is all or nothing: any bad row (a time that does not
parse, a stop before its start, a start in the future, an address that is not IPv4, a line id that is no
household's code nor an ONU's serial, one address held by two lines at once) is reported as
``FILE line N: problem`` and nothing is written. A row for an address and start already imported (a
session's start record, then its stop) updates the stop.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ftthnoc.errors import InventoryError
from ftthnoc.inventory.csvio import _decode
from ftthnoc.inventory.mdm import FUTURE_SLACK, parse_time
from ftthnoc.inventory.models import AuditEntry, Household, LineLease, Onu
from ftthnoc.inventory.rows import InventoryImportError, RowProblem, export_rows
from ftthnoc.normalise import normalise_serial
from ftthnoc.timezone import JST

log = logging.getLogger(__name__)

SECTION = "leases"
#: header names per field, ftthnoc's own first, then FreeRADIUS radacct's, then ISC Kea's lease4 CSV
COLUMNS: dict[str, tuple[str, ...]] = {
    "start": ("start", "acctstarttime"),
    "stop": ("stop", "acctstoptime", "expire"),
    "ip": ("ip", "framedipaddress", "address"),
    "line": ("line", "username", "hostname"),
    "valid_lifetime": ("valid_lifetime",),
    "state": ("state",),
}
_EMPTY = frozenset({"", "null", "\\n", "-", "0000-00-00 00:00:00"})


@dataclass(frozen=True)
class LeaseRecord:
    """One lease row, reduced to what is kept: the household's id, the address and the interval."""

    line: int
    household_id: int
    ip: str
    start: datetime
    stop: datetime | None


@dataclass
class LeaseResult:
    """What an import did, as counts (the audit entry's detail): never a household."""

    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0

    def detail(self) -> dict[str, object]:
        return {"rows": self.rows, "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "skipped": self.skipped}  # fmt: skip

    def summary(self) -> str:
        return (f"leases: {self.rows} row(s), {self.added} added, {self.updated} stop(s) updated, "
                f"{self.unchanged} unchanged, {self.skipped} skipped (declined)")


def _time(text: str, tz: tzinfo) -> datetime | None:
    value = text.strip()
    if value.casefold() in _EMPTY:
        return None
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    return parse_time(value, tz)


def _ipv4(text: str) -> str:
    value = text.strip()
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 address") from None


def _lines(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    """Household codes (upper case) → household id, and ONU serials (normalised) → household id."""
    serials: dict[str, int] = {}
    for serial, household_id in session.execute(select(Onu.serial, Onu.household_id)
                                                .where(Onu.household_id.is_not(None))):
        if household_id is not None:
            serials[serial] = household_id
    codes = {code.strip().upper(): household_id
             for code, household_id in session.execute(select(Household.code, Household.id))}
    return codes, serials


def _household(line_id: str, codes: dict[str, int], serials: dict[str, int]) -> int | None:
    """The household a line id names: a household code first, else an ONU serial in any OLT's form."""
    if line_id in codes:
        return codes[line_id]
    try:
        return serials.get(normalise_serial(line_id))
    except ValueError:
        return None


def read_leases(session: Session, text: str, source: str, naive_tz: tzinfo = JST,
                now: datetime | None = None) -> tuple[list[LeaseRecord], list[RowProblem], int]:
    """Parse a lease export's text: its records, one problem per bad line (the header is line 1) and how
    many rows were skipped. Raises InventoryError if the header lacks a needed column."""
    now = now or datetime.now(UTC)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InventoryError(f"{source} is empty: want a header row (start,stop,ip,line)") from None
    except csv.Error as exc:
        raise InventoryError(f"{source} line 1: {exc}") from None
    folded = [h.strip().casefold() for h in header]
    cols: dict[str, int | None] = {}
    for name, names in COLUMNS.items():
        cols[name] = next((folded.index(n) for n in names if n in folded), None)
    kea = cols["start"] is None and cols["valid_lifetime"] is not None
    missing = [name for name in ("ip", "line") if cols[name] is None]
    if cols["start"] is None and not kea:
        missing.insert(0, "start")
    if missing:
        raise InventoryError(f"{source} is not a lease export: no column {', '.join(missing)} "
                             "(want start,stop,ip,line; radacct's or Kea's names also do)")
    codes, serials = _lines(session)
    records: list[LeaseRecord] = []
    problems: list[RowProblem] = []
    skipped = 0
    for start_line, cell in export_rows(reader, cols, SECTION, source, problems):
        if kea and cell("state") == "1":
            skipped += 1
            continue
        try:
            stop = _time(cell("stop"), naive_tz)
        except ValueError as exc:
            problems.append(RowProblem(SECTION, start_line, f"stop: {exc}", source))
            continue
        try:
            if kea:
                if stop is None or not cell("valid_lifetime").isdigit():
                    raise ValueError("a Kea lease wants expire and valid_lifetime in seconds")
                start: datetime | None = stop - timedelta(seconds=int(cell("valid_lifetime")))
            else:
                start = _time(cell("start"), naive_tz)
        except ValueError as exc:
            problems.append(RowProblem(SECTION, start_line, f"start: {exc}", source))
            continue
        if start is None:
            problems.append(RowProblem(SECTION, start_line, "no start time", source))
            continue
        if start > now + FUTURE_SLACK:
            problems.append(RowProblem(SECTION, start_line, f"start {start.isoformat()} is in the future "
                                       "(a wrong time zone?)", source))  # fmt: skip
            continue
        if stop is not None and stop < start:
            problems.append(RowProblem(SECTION, start_line, "stop is before start", source))
            continue
        try:
            ip = _ipv4(cell("ip"))
        except ValueError as exc:
            problems.append(RowProblem(SECTION, start_line, f"ip: {exc}", source))
            continue
        line_id = cell("line").upper()
        if not line_id:
            problems.append(RowProblem(SECTION, start_line, "no line id (household code or ONU serial)", source))
            continue
        household_id = _household(line_id, codes, serials)
        if household_id is None:  # the id itself is not repeated: it may be a household's code
            problems.append(RowProblem(SECTION, start_line, "the line id is no household's code nor an ONU's "
                                       "serial", source))  # fmt: skip
            continue
        records.append(LeaseRecord(start_line, household_id, ip, start, stop))
    problems.extend(_overlaps(records, source))
    return records, problems, skipped


def _overlaps(records: list[LeaseRecord], source: str) -> list[RowProblem]:
    """One address held by two households at once in this file: the later row is refused."""
    far = datetime.max.replace(tzinfo=UTC)
    by_ip: dict[str, list[LeaseRecord]] = {}
    for rec in records:
        by_ip.setdefault(rec.ip, []).append(rec)
    problems: list[RowProblem] = []
    for recs in by_ip.values():
        recs.sort(key=lambda r: (r.start, r.line))
        held: LeaseRecord | None = None  # the interval seen so far that ends last
        for rec in recs:
            if held is not None and held.household_id != rec.household_id and rec.start < (held.stop or far):
                problems.append(RowProblem(SECTION, rec.line, f"{rec.ip} is also held by another line from line "
                                           f"{held.line} at that time", source))  # fmt: skip
                continue
            if held is None or (rec.stop or far) > (held.stop or far):
                held = rec
    return problems


def import_text(session: Session, text: str, source: str, *, actor: str, naive_tz: tzinfo = JST,
                now: datetime | None = None, via: str = "cli") -> LeaseResult:
    """Import a lease export's text in ``session`` (flushed, not committed) with one audit entry (counts
    only); all or nothing: raises InventoryImportError listing every bad line, nothing added."""
    records, problems, skipped = read_leases(session, text, source, naive_tz, now)
    if problems:
        raise InventoryImportError(sorted(problems, key=lambda p: p.row))
    result = LeaseResult(rows=len(records) + skipped, skipped=skipped)
    existing: dict[tuple[str, datetime], LineLease] = {}
    ips = sorted({r.ip for r in records})
    for i in range(0, len(ips), 500):
        for lease in session.scalars(select(LineLease).where(LineLease.ip.in_(ips[i : i + 500]))):
            existing[(lease.ip, _utc(lease.start_at))] = lease
    for rec in records:
        old = existing.get((rec.ip, rec.start))
        if old is None:
            lease = LineLease(household_id=rec.household_id, ip=rec.ip, start_at=rec.start, stop_at=rec.stop)
            session.add(lease)
            existing[(rec.ip, rec.start)] = lease
            result.added += 1
        elif old.household_id != rec.household_id or _opt_utc(old.stop_at) != rec.stop:
            old.household_id, old.stop_at = rec.household_id, rec.stop
            result.updated += 1
        else:
            result.unchanged += 1
    session.add(AuditEntry(actor=actor, action="import", entity=SECTION,
                           detail={**result.detail(), "file": source, "via": via}, outcome="ok"))
    session.flush()
    log.info("%s", result.summary())
    return result


def import_file(session: Session, path: Path, *, actor: str, naive_tz: tzinfo = JST,
                now: datetime | None = None) -> LeaseResult:
    """Read a lease export file (UTF-8 or Shift_JIS) and import it (``import_text``); all or nothing."""
    return import_text(session, _decode(path), path.name, actor=actor, naive_tz=naive_tz, now=now)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _opt_utc(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)
