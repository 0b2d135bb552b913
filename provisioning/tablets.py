"""GIGA-school tablets: the CSV import and the reconcile that makes a school router admit exactly them.

The CSV
=======
Header (line 1) then one tablet per line, UTF-8 (a BOM is fine)::

    school_code,asset_no,serial,mac,os,grade,class[,status]

* ``school_code``, ``asset_no``, ``serial``, ``mac``, ``os`` must be filled in; ``grade`` and ``class``
  may be empty (a teacher's or a spare tablet), ``status`` may be left out (``active``).
* ``mac`` in any common spelling (``AA-BB-..``, ``aabb.ccdd.eeff``), stored ``aa:bb:cc:dd:ee:ff``.
* ``os`` is one of iPadOS, ChromeOS, Windows (any case; stored as written here).
* ``grade`` is a whole number 1–9 (elementary 1–6, junior high 7–9).
* ``status`` is ``active`` or ``retired``: a retired tablet stays on record (asset history, its MAC
  stays reserved to it) but loses its DHCP binding at the next reconcile.

The import is an upsert by ``(school_code, asset_no)``: tablets not in the file are left alone, and
nothing is deleted. **Every row is checked before anything is written**; any bad row raises
``ImportRowError`` listing each problem with the line number a person sees in the file (header = 1),
and the database is untouched. Messages name the column and the other row or tablet involved, never
the serial or the whole row.

Reconcile
=========
``reconcile_school`` reads the bindings of the school's managed DHCP scope, keeps every active
tablet's current address, removes the bindings of MACs that are not active tablets of the school
(retired, moved, unknown), binds new tablets to the lowest free addresses, makes the scope
``bind-only`` where the driver can (so that an unregistered device gets no address), and saves.
Removals go first so that their addresses are free for the additions.

It is **re-runnable by design**: it compares what the router has with what the inventory wants, so
a run cut short (``SessionLost``, ``DeviceRefused``) is completed by simply running it again; a run
on a router that already matches sends no change and does not save. Every run writes one
``AuditEntry`` (action ``reconcile``, entity ``school:<code>``) with the transcript and the outcome;
after a failure that entry is committed before the exception propagates, so that the record of what
was sent survives the caller's rollback.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, joinedload

from ftthnoc.errors import ImportRowError, InventoryError
from ftthnoc.inventory.models import TABLET_STATUSES, AuditEntry, School, Tablet, normalise_mac
from provisioning.drivers.base import Binding, CliTarget, ProvisioningError, RouterDriver

#: required columns of the CSV, in the order the template file has them
COLUMNS: tuple[str, ...] = ("school_code", "asset_no", "serial", "mac", "os", "grade", "class")
OPTIONAL_COLUMNS: tuple[str, ...] = ("status",)
#: columns that must not be empty
REQUIRED_VALUES: tuple[str, ...] = ("school_code", "asset_no", "serial", "mac", "os")
#: the operating systems the town's tablets run, by lower-case spelling -> stored form
KNOWN_OS: dict[str, str] = {"ipados": "iPadOS", "chromeos": "ChromeOS", "windows": "Windows"}
_MAX_LEN = {"school_code": 32, "asset_no": 64, "serial": 64, "class": 32}

#: the DHCP scope managed on a school router when the school does not say
DEFAULT_DHCP_SCOPE = 1


class ScopeFull(ProvisioningError):
    """The scope has fewer free addresses than tablets waiting for one; nothing was applied."""


# --------------------------------------------------------------------------------------------------
# Parsing and validation


@dataclass(frozen=True, slots=True)
class TabletRow:
    """One data row of the CSV as written (cells stripped); ``error`` when the row is not a row."""

    row: int  # line in the file where the record starts (header = 1)
    school_code: str = ""
    asset_no: str = ""
    serial: str = ""
    mac: str = ""
    os: str = ""
    grade: str = ""
    class_name: str = ""
    status: str = ""
    error: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.school_code, self.asset_no)


def parse_tablet_csv(text: str) -> list[TabletRow]:
    """The rows of a tablet CSV; a row that is not parseable comes back with ``error`` set.

    Raises ImportRowError (row 1) when the header lacks a required column or the file is not CSV.
    """
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportRowError([(1, "the file is empty (want a header line)")]) from None
    except csv.Error as exc:
        raise ImportRowError([(1, f"the header is not CSV: {exc}")]) from None
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS + OPTIONAL_COLUMNS]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    if duplicated:
        problems.append(f"repeated column(s): {', '.join(duplicated)}")
    if problems:
        raise ImportRowError([(1, "; ".join(problems))])

    rows: list[TabletRow] = []
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append(TabletRow(start, error=f"is not CSV ({exc})"))
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            rows.append(TabletRow(line, error=f"has {len(cells)} fields, the header has {len(header)}"))
            continue
        values = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        rows.append(
            TabletRow(
                row=line,
                school_code=values["school_code"],
                asset_no=values["asset_no"],
                serial=values["serial"],
                mac=values["mac"],
                os=values["os"],
                grade=values["grade"],
                class_name=values["class"],
                status=values.get("status", ""),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class _Clean:
    """A row's values as they will be stored."""

    row: int
    school_code: str
    asset_no: str
    serial: str
    mac: str
    os: str
    grade: int | None
    class_name: str | None
    status: str


def _clean(row: TabletRow, problems: list[tuple[int, str]]) -> _Clean | None:
    """The row's stored values, or None after adding its problems (format checks only)."""
    if row.error is not None:
        problems.append((row.row, row.error))
        return None
    before = len(problems)
    cells = {
        "school_code": row.school_code,
        "asset_no": row.asset_no,
        "serial": row.serial,
        "mac": row.mac,
        "os": row.os,
        "class": row.class_name,
    }
    empty = [c for c in REQUIRED_VALUES if not cells[c]]
    if empty:
        problems.append((row.row, f"missing {', '.join(empty)}"))
    for column, limit in _MAX_LEN.items():
        if len(cells[column]) > limit:
            problems.append((row.row, f"{column} is longer than {limit} characters"))
    mac = ""
    if row.mac:
        try:
            mac = normalise_mac(row.mac)
        except ValueError:
            problems.append((row.row, "mac is not a MAC address (want e.g. 00:1a:2b:3c:4d:5e)"))
    os_name = KNOWN_OS.get(row.os.lower(), "")
    if row.os and not os_name:
        problems.append((row.row, f"os must be one of {', '.join(KNOWN_OS.values())}"))
    grade: int | None = None
    if row.grade:
        try:
            grade = int(row.grade)
        except ValueError:
            grade = 0
        if not 1 <= grade <= 9:
            problems.append((row.row, "grade must be a whole number from 1 to 9"))
    status = row.status.lower() or "active"
    if status not in TABLET_STATUSES:
        problems.append((row.row, f"status must be {' or '.join(TABLET_STATUSES)}"))
    if len(problems) > before:
        return None
    return _Clean(
        row.row, row.school_code, row.asset_no, row.serial, mac, os_name, grade, row.class_name or None, status
    )


def _validate(session: Session, rows: Sequence[TabletRow]) -> tuple[list[_Clean], list[tuple[int, str]]]:
    problems: list[tuple[int, str]] = []
    clean = [c for c in (_clean(r, problems) for r in rows) if c is not None]

    schools = set(session.scalars(select(School.code)))
    existing = {
        (code, asset): mac
        for asset, mac, code in session.execute(select(Tablet.asset_no, Tablet.mac, School.code).join(Tablet.school))
    }
    in_file = {(c.school_code, c.asset_no) for c in clean}
    # MACs held by tablets this file does not touch: they keep them after the import
    kept_macs = {mac: key for key, mac in existing.items() if key not in in_file}

    first_key: dict[tuple[str, str], int] = {}
    first_mac: dict[str, int] = {}
    for c in clean:
        key = (c.school_code, c.asset_no)
        if c.school_code not in schools:
            problems.append((c.row, f"school_code {c.school_code!r} is not a school in the inventory"))
        if key in first_key:
            problems.append((c.row, f"school_code/asset_no repeats row {first_key[key]}"))
        else:
            first_key[key] = c.row
        if c.mac in first_mac:
            problems.append((c.row, f"mac repeats row {first_mac[c.mac]}"))
        else:
            first_mac[c.mac] = c.row
        owner = kept_macs.get(c.mac)
        if owner is not None and owner != key:
            problems.append((c.row, f"mac is already registered to tablet {owner[1]} of school {owner[0]}"))
    problems.sort()
    return clean, problems


def validate_tablets(session: Session, rows: Sequence[TabletRow]) -> list[tuple[int, str]]:
    """Every problem of ``rows`` as ``(row, message)``, sorted by row; empty when all are good."""
    return _validate(session, rows)[1]


# --------------------------------------------------------------------------------------------------
# Applying


@dataclass(slots=True)
class TabletChanges:
    """What an import did; ``schools`` are the codes of schools whose tablets changed."""

    added: int = 0
    updated: int = 0
    retired: int = 0
    unchanged: int = 0
    schools: set[str] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.retired)


def apply_tablets(session: Session, rows: Sequence[TabletRow], actor: str) -> TabletChanges:
    """Validate every row and, only if all are good, upsert them into ``session`` (flushed, not committed).

    Raises ImportRowError listing every bad row; then nothing was added to the session. A change of
    status to ``retired`` counts as retired (not updated); writes one AuditEntry with the counts.
    """
    clean, problems = _validate(session, rows)
    if problems:
        raise ImportRowError(problems)
    schools = {s.code: s for s in session.scalars(select(School))}
    tablets = {
        (t.school.code, t.asset_no): t for t in session.scalars(select(Tablet).options(joinedload(Tablet.school)))
    }
    changes = TabletChanges()
    for c in clean:
        values = {
            "serial": c.serial,
            "mac": c.mac,
            "os": c.os,
            "grade": c.grade,
            "class_name": c.class_name,
            "status": c.status,
        }
        tablet = tablets.get((c.school_code, c.asset_no))
        if tablet is None:
            session.add(Tablet(school=schools[c.school_code], asset_no=c.asset_no, **values))
            changes.added += 1
            changes.schools.add(c.school_code)
            continue
        differing = {k: v for k, v in values.items() if getattr(tablet, k) != v}
        if not differing:
            changes.unchanged += 1
            continue
        for attr, value in differing.items():
            setattr(tablet, attr, value)
        if differing.get("status") == "retired":
            changes.retired += 1
        else:
            changes.updated += 1
        changes.schools.add(c.school_code)
    if changes.changed:
        detail: dict[str, object] = {
            "added": changes.added,
            "updated": changes.updated,
            "retired": changes.retired,
            "unchanged": changes.unchanged,
            "schools": sorted(changes.schools),
        }
        session.add(AuditEntry(actor=actor, action="import", entity="tablets", detail=detail, outcome="ok"))
    try:
        session.flush()
    except DBAPIError as exc:
        # two tablets swapping MACs in one file can trip the unique index mid-flush
        raise InventoryError(f"the database refused the import: {str(exc.orig).splitlines()[0]}") from None
    return changes


# --------------------------------------------------------------------------------------------------
# Planning and reconciling router bindings


def _addr(ip: str) -> int:
    return int(ipaddress.IPv4Address(ip))


def plan_bindings(
    current: Sequence[Binding], wanted_macs: Iterable[str], scope_range: tuple[str, str]
) -> tuple[list[Binding], list[Binding]]:
    """``(add, remove)`` that turn ``current`` into one binding per wanted MAC inside ``scope_range``.

    A wanted MAC already bound (inside the range) keeps its address; every other binding is removed
    (a MAC not wanted, a second binding of a MAC, a binding outside the range); each new MAC gets the
    lowest address in the range that no kept binding holds, in the order of ``wanted_macs``. Raises
    ScopeFull when the range is too small (then nothing should be applied).
    """
    first, last = _addr(scope_range[0]), _addr(scope_range[1])
    wanted = list(dict.fromkeys(normalise_mac(m) for m in wanted_macs))
    wanted_set = set(wanted)
    kept: dict[str, Binding] = {}
    remove: list[Binding] = []
    for b in sorted(current, key=lambda b: _addr(b.ip)):
        mac = b.mac.lower()
        if mac in wanted_set and mac not in kept and first <= _addr(b.ip) <= last:
            kept[mac] = b
        else:
            remove.append(b)
    newcomers = [m for m in wanted if m not in kept]
    taken = {_addr(b.ip) for b in kept.values()}
    free = (a for a in range(first, last + 1) if a not in taken)
    size = last - first + 1
    if len(wanted) > size:
        raise ScopeFull(
            f"the scope {scope_range[0]}-{scope_range[1]} has {size} addresses but {len(wanted)} tablets need one "
            f"({len(wanted) - size} too many); nothing was changed"
        )
    add = [Binding(str(ipaddress.IPv4Address(next(free))), mac) for mac in newcomers]
    return add, remove


@runtime_checkable
class RestrictsToBindings(Protocol):
    """A router driver that can make a scope serve bound MACs only (Yamaha: lease type bind-only)."""

    def bind_only(self, scope: int) -> bool: ...

    def set_bind_only(self, scope: int) -> None: ...


@dataclass(slots=True)
class ReconcileResult:
    school: str
    device: str
    scope: int
    added: list[Binding] = field(default_factory=list)
    removed: list[Binding] = field(default_factory=list)
    restricted: bool = False  # the scope was switched to bind-only in this run
    saved: bool = False
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.restricted)


def router_target(
    school: School, *, username: str, password: SecretStr, secret: SecretStr, timeout: float = 20.0
) -> CliTarget:
    """Where to log in to the school's router (``School.router_address`` is ``HOST:PORT``)."""
    if not school.router_address:
        raise ProvisioningError(f"school {school.code} has no router_address")
    host, _, port = school.router_address.rpartition(":")
    if not host or not port.isdigit():
        raise ProvisioningError(f"school {school.code}: router_address must be HOST:PORT")
    return CliTarget(
        name=f"router:{school.code}",
        platform=school.router_platform or "yamaha",
        host=host.strip("[]"),
        port=int(port),
        username=username,
        password=password,
        secret=secret,
        timeout=timeout,
    )


def active_macs(session: Session, school: School) -> list[str]:
    """The MACs of the school's active tablets, by asset number (the order new addresses are given in)."""
    stmt = (
        select(Tablet.mac)
        .where(Tablet.school_id == school.id, Tablet.status == "active")
        .order_by(Tablet.asset_no, Tablet.id)
    )
    return list(session.scalars(stmt))


def reconcile_school(session: Session, school: School, driver: RouterDriver, actor: str) -> ReconcileResult:
    """Bring the school router's managed scope to the school's active tablets; audit the run.

    ``driver`` must be connected. On ProvisioningError (SessionLost, DeviceRefused, ScopeFull ...) the
    audit entry is committed with ``failed: <the error, with the device's words>`` and the error is
    raised again; running the reconcile again completes the job.
    """
    scope = school.dhcp_scope or DEFAULT_DHCP_SCOPE
    result = ReconcileResult(school.code, driver.target.name, scope, dry_run=driver.dry_run)
    try:
        wanted = active_macs(session, school)
        add, remove = plan_bindings(driver.bindings(scope), wanted, driver.scope_range(scope))
        for b in remove:
            driver.remove_binding(scope, b)
            result.removed.append(b)
        for b in add:
            driver.add_binding(scope, b)
            result.added.append(b)
        if isinstance(driver, RestrictsToBindings) and not driver.bind_only(scope):
            driver.set_bind_only(scope)
            result.restricted = True
        if result.changed:
            driver.save()
            result.saved = True
    except ProvisioningError as exc:
        _audit(session, actor, result, driver, f"failed: {exc}")
        if not driver.dry_run:  # a dry run's caller rolls everything back, the import included
            session.commit()
        raise
    _audit(session, actor, result, driver, "ok" if result.changed else "noop")
    session.flush()
    return result


def _audit(session: Session, actor: str, result: ReconcileResult, driver: RouterDriver, outcome: str) -> None:
    outcome = outcome if len(outcome) <= 300 else outcome[:297] + "..."
    detail: dict[str, object] = {
        "device": result.device,
        "scope": result.scope,
        "dry_run": result.dry_run,
        "transcript": driver.transcript.as_json(),
        "outcome": outcome,
        "added": len(result.added),
        "removed": len(result.removed),
        "restricted": result.restricted,
    }
    session.add(
        AuditEntry(actor=actor, action="reconcile", entity=f"school:{result.school}", detail=detail, outcome=outcome)
    )


__all__ = [
    "COLUMNS",
    "KNOWN_OS",
    "ReconcileResult",
    "RestrictsToBindings",
    "ScopeFull",
    "TabletChanges",
    "TabletRow",
    "active_macs",
    "apply_tablets",
    "parse_tablet_csv",
    "plan_bindings",
    "reconcile_school",
    "router_target",
    "validate_tablets",
]
