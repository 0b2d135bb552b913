"""Read and write what a workflow needs of the inventory, each step in its own short transaction.

Workflows talk to devices for seconds or minutes; no database transaction may stay open that long (it
would block the poller's reads on SQLite and hold locks on PostgreSQL). So every function here opens a
session, does one thing, and commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ftthnoc.inventory.db import session_scope
from ftthnoc.inventory.models import (
    AuditEntry,
    District,
    Enrolment,
    EnrolmentState,
    Household,
    HouseholdStatus,
    Olt,
    Onu,
    PonPort,
)
from provisioning.drivers.base import ProvisioningError


@dataclass(frozen=True, slots=True)
class HouseholdView:
    code: str
    district: str
    plan: str
    status: HouseholdStatus


@dataclass(frozen=True, slots=True)
class OltView:
    """An OLT row as workflows use it (no ORM object crosses a transaction)."""

    name: str
    vendor: str
    address: str
    auth: str
    pon_class: str
    modules: tuple[str, ...]
    cli_address: str | None
    cli_auth: str | None


@dataclass(frozen=True, slots=True)
class OnuView:
    serial: str
    olt: str
    pon_port: str
    ont_id: int
    household: str | None


def _olt_view(o: Olt) -> OltView:
    return OltView(o.name, o.vendor, o.address, o.auth, o.pon_class, tuple(o.modules), o.cli_address, o.cli_auth)


def household(engine: Engine, code: str) -> HouseholdView:
    with session_scope(engine) as s:
        row = s.execute(
            select(Household, District.code).join(District, Household.district_id == District.id)
            .where(Household.code == code)
        ).first()
        if row is None:
            raise ProvisioningError(f"there is no household {code!r} in the inventory")
        h, district = row
        return HouseholdView(h.code, district, h.plan, HouseholdStatus(h.status))


def district_olts(engine: Engine, district: str) -> list[OltView]:
    """The district's OLTs first, then every other OLT (a home near a district line may hang off a
    neighbour's OLT); within each, by name."""
    with session_scope(engine) as s:
        rows = s.execute(select(Olt, District.code).join(District, Olt.district_id == District.id)).all()
        return [_olt_view(o) for o, d in sorted(rows, key=lambda r: (r[1] != district, r[0].name))]


def olt(engine: Engine, name: str) -> OltView:
    with session_scope(engine) as s:
        o = s.scalar(select(Olt).where(Olt.name == name))
        if o is None:
            raise ProvisioningError(f"there is no OLT {name!r} in the inventory")
        return _olt_view(o)


def onu_by_serial(engine: Engine, serial: str) -> OnuView | None:
    with session_scope(engine) as s:
        row = s.execute(
            select(Onu.serial, Olt.name, PonPort.port, Onu.onu_id, Household.code)
            .join(PonPort, Onu.pon_port_id == PonPort.id).join(Olt, PonPort.olt_id == Olt.id)
            .outerjoin(Household, Onu.household_id == Household.id).where(Onu.serial == serial)
        ).first()
        return None if row is None else OnuView(*row)


def onu_of_household(engine: Engine, code: str) -> OnuView | None:
    with session_scope(engine) as s:
        row = s.execute(
            select(Onu.serial, Olt.name, PonPort.port, Onu.onu_id, Household.code)
            .join(PonPort, Onu.pon_port_id == PonPort.id).join(Olt, PonPort.olt_id == Olt.id)
            .join(Household, Onu.household_id == Household.id).where(Household.code == code)
            .order_by(Onu.id)
        ).first()
        return None if row is None else OnuView(*row)


def ids_in_use(engine: Engine, olt_name: str, pon_port: str) -> set[int]:
    with session_scope(engine) as s:
        return set(
            s.scalars(
                select(Onu.onu_id).join(PonPort, Onu.pon_port_id == PonPort.id).join(Olt, PonPort.olt_id == Olt.id)
                .where(Olt.name == olt_name, PonPort.port == pon_port)
            )
        )


def _pon_port_id(engine: Engine, olt_name: str, pon_port: str, actor: str) -> int:
    stmt = select(PonPort.id).join(Olt, PonPort.olt_id == Olt.id).where(Olt.name == olt_name, PonPort.port == pon_port)
    for _ in range(3):
        with session_scope(engine, actor=actor) as s:
            found = s.scalar(stmt)
            if found is not None:
                return found
            olt_id = s.scalar(select(Olt.id).where(Olt.name == olt_name))
            if olt_id is None:
                raise ProvisioningError(f"there is no OLT {olt_name!r} in the inventory")
            try:
                port = PonPort(olt_id=olt_id, port=pon_port)
                s.add(port)
                s.flush()
                return port.id
            except IntegrityError:  # another enrolment created it just now
                s.rollback()
    raise ProvisioningError(f"could not record PON port {pon_port} of {olt_name}")


def reserve_ont_id(engine: Engine, *, olt_name: str, pon_port: str, serial: str, household_code: str,
                   taken_on_device: set[int], first: int, capacity: int, actor: str) -> int:
    """Record the ONU at the lowest ONT id free both on the OLT and in the inventory, and return the id.

    The row itself is the reservation: ``(pon_port, onu_id)`` is unique in the database, so two
    enrolments racing for one id (threads, processes, or two ftthnoc hosts on one PostgreSQL) cannot both
    commit it; the loser moves to the next id.
    """
    port_id = _pon_port_id(engine, olt_name, pon_port, actor)
    lost: set[int] = set()
    while True:
        taken = taken_on_device | ids_in_use(engine, olt_name, pon_port) | lost
        free = next((i for i in range(first, first + capacity) if i not in taken), None)
        if free is None:
            raise ProvisioningError(
                f"PON port {pon_port} of {olt_name} is full: all {capacity} ONT ids are in use"
            )
        with session_scope(engine, actor=actor) as s:
            hh_id = s.scalar(select(Household.id).where(Household.code == household_code))
            try:
                s.add(Onu(serial=serial, pon_port_id=port_id, onu_id=free, household_id=hh_id))
                s.flush()
            except IntegrityError:
                s.rollback()
                if s.scalar(select(func.count()).select_from(Onu).where(Onu.serial == serial)):
                    raise ProvisioningError(f"ONU {serial} is already recorded in the inventory") from None
                lost.add(free)
                continue
        return free


def forget_onu(engine: Engine, serial: str, actor: str) -> None:
    with session_scope(engine, actor=actor) as s:
        onu = s.scalar(select(Onu).where(Onu.serial == serial))
        if onu is not None:
            s.delete(onu)


def set_status(engine: Engine, code: str, status: HouseholdStatus, actor: str) -> None:
    with session_scope(engine, actor=actor) as s:
        h = s.scalar(select(Household).where(Household.code == code))
        if h is None:
            raise ProvisioningError(f"there is no household {code!r} in the inventory")
        h.change_status(status)


def start_run(engine: Engine, code: str, kind: str, actor: str, **fields: Any) -> int:
    with session_scope(engine, actor=actor) as s:
        hh_id = s.scalar(select(Household.id).where(Household.code == code))
        run = Enrolment(household_id=hh_id, kind=kind, state=EnrolmentState.RUNNING, actor=actor, step="start",
                        **fields)
        s.add(run)
        s.flush()
        return run.id


def update_run(engine: Engine, run_id: int, **fields: Any) -> None:
    with session_scope(engine) as s:
        run = s.get(Enrolment, run_id)
        if run is None:
            return
        for k, v in fields.items():
            setattr(run, k, v)


def finish_run(engine: Engine, run_id: int, state: EnrolmentState, *, actor: str, error: str | None,
               audit: dict[str, Any] | None, outcome: str, entity: str, action: str, **fields: Any) -> int:
    """Close the run and, for a run that talked to a device, write its audit entry in the same transaction;
    returns the household's id (what logs may name: never its code)."""
    with session_scope(engine, actor=actor) as s:
        run = s.get(Enrolment, run_id)
        if run is None:
            raise ProvisioningError(f"enrolment run {run_id} vanished from the database")
        entry = None
        if audit is not None:
            entry = AuditEntry(actor=actor, action=action, entity=entity, detail=audit, outcome=outcome[:300])
            s.add(entry)
            s.flush()
        run.state = state
        run.error = None if error is None else error[:2000]
        run.finished_at = datetime.now(UTC)
        if entry is not None:
            run.audit_id = entry.id
        for k, v in fields.items():
            setattr(run, k, v)
        return run.household_id


def last_run(engine: Engine, code: str) -> Enrolment | None:
    """The household's latest provisioning run, detached (read its plain columns only)."""
    with session_scope(engine) as s:
        run = s.scalar(
            select(Enrolment).join(Household, Enrolment.household_id == Household.id)
            .where(Household.code == code).order_by(Enrolment.id.desc()).limit(1)
        )
        if run is not None:
            s.expunge(run)
        return run
