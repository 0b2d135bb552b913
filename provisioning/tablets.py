"""GIGA-school tablets: the school's list imported, and the reconcile that makes a school router admit
exactly them.

The list
========
A school hands in the inventory's ``tablets`` CSV (``ftthnoc.inventory.io``, the same file
``ftthnoc inventory export`` writes), so one set of rules checks tablets however they arrive::

    school,asset_no,serial,mac,os,grade,class_name,status

* ``school`` (the school's code), ``asset_no``, ``serial``, ``mac``, ``os`` must be filled in; ``grade``
  (1–9) and ``class_name`` may be empty (a teacher's or a spare tablet); ``status`` is ``active`` (the
  default) or ``retired``: a retired tablet stays on record, its MAC reserved to it, but loses its DHCP
  binding at the next reconcile.
* ``mac`` in any common spelling, stored ``aa:bb:cc:dd:ee:ff`` and unique town-wide; ``os`` one of iPadOS,
  ChromeOS, Windows. UTF-8 (a BOM is fine) or the Shift_JIS of older spreadsheets.

It is an upsert by ``(school, asset_no)``: tablets not in the file are left alone. **Every row is checked
before anything is written**; any bad row raises ``InventoryImportError`` naming each problem with the
line a person sees in the file (header = 1), and the database is untouched.

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

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from ftthnoc.inventory.io import SourceRow, import_rows, read_csv
from ftthnoc.inventory.models import AuditEntry, School, Tablet
from ftthnoc.normalise import normalise_mac
from provisioning.drivers.base import Binding, CliTarget, ProvisioningError, RouterDriver

#: the DHCP scope managed on a school router when the school does not say
DEFAULT_DHCP_SCOPE = 1


class ScopeFull(ProvisioningError):
    """The scope has fewer free addresses than tablets waiting for one; nothing was applied."""


# --------------------------------------------------------------------------------------------------
# Importing


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


def read_tablets(path: Path) -> list[SourceRow]:
    """The rows of a school's tablet CSV (the inventory's ``tablets`` section), numbered by file line."""
    return read_csv(path, "tablets")


def _tablet_states(session: Session) -> dict[tuple[str, str], tuple[object, ...]]:
    rows = session.execute(
        select(School.code, Tablet.asset_no, Tablet.serial, Tablet.mac, Tablet.os, Tablet.grade, Tablet.class_name,
               Tablet.status).join(Tablet.school)
    )
    return {(code, asset): tuple(rest) for code, asset, *rest in rows}


def apply_tablets(session: Session, rows: Sequence[SourceRow], actor: str) -> TabletChanges:
    """Check every row and, only if all are good, upsert them into ``session`` (flushed, not committed).

    Raises InventoryImportError (an ImportRowError) listing every bad row; then nothing was added to the
    session. A change of status to ``retired`` counts as retired (not updated); one AuditEntry with the
    counts is written when anything changed. ``schools`` are the schools whose tablets changed.
    """
    before = _tablet_states(session)
    import_rows(session, rows)
    after = _tablet_states(session)
    changes = TabletChanges()
    for key in {(str(r.data.get("school", "")).strip(), str(r.data.get("asset_no", "")).strip()) for r in rows}:
        old, new = before.get(key), after.get(key)
        if new is None:
            continue
        if old is None:
            changes.added += 1
        elif old == new:
            changes.unchanged += 1
            continue
        elif new[-1] == "retired" and old[-1] != "retired":
            changes.retired += 1
        else:
            changes.updated += 1
        changes.schools.add(key[0])
    if changes.changed:
        detail: dict[str, object] = {
            "added": changes.added,
            "updated": changes.updated,
            "retired": changes.retired,
            "unchanged": changes.unchanged,
            "schools": sorted(changes.schools),
        }
        session.add(AuditEntry(actor=actor, action="import", entity="tablets", detail=detail, outcome="ok"))
        session.flush()
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
    """The MACs of the school's active tablets, by asset number (the order new addresses are given in):
    each tablet's registered MAC and, after it, the Wi-Fi MAC its MDM reported when that differs
    (``Tablet.network_mac``: a private per-network address would otherwise get no address from a
    bind-only scope)."""
    stmt = (
        select(Tablet.mac, Tablet.network_mac)
        .where(Tablet.school_id == school.id, Tablet.status == "active")
        .order_by(Tablet.asset_no, Tablet.id)
    )
    return [mac for pair in session.execute(stmt) for mac in pair if mac]


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
    "ReconcileResult",
    "RestrictsToBindings",
    "ScopeFull",
    "TabletChanges",
    "active_macs",
    "apply_tablets",
    "plan_bindings",
    "read_tablets",
    "reconcile_school",
    "router_target",
]
