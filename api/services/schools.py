"""GIGA-school schools and their tablets: lists, one object, a school's tablets by grade and class and
the schools' overview. A school user sees only its own school's (``api.services.scope``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.security import Principal
from api.services import kpis
from api.services.common import Found, Invalid, NotFound, Window, page_of
from api.services.scope import ensure_visible, own_school
from ftthnoc.errors import InventoryError
from ftthnoc.inventory.mdm import MdmResult, decode_export, import_text
from ftthnoc.inventory.models import District, School, SchoolArpCount, Tablet, TabletSighting
from ftthnoc.inventory.rows import InventoryImportError

#: A tablet seen within this long is online.
ONLINE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class SchoolRecord:
    code: str
    name: str
    district: str
    pupils: int
    address: str | None
    tablets_active: int


@dataclass(frozen=True)
class TabletRecord:
    id: int
    school: str
    asset_no: str
    serial: str
    mac: str
    os: str
    grade: int | None
    class_name: str | None
    status: str
    #: the Wi-Fi MAC an MDM reported for it, where that is not ``mac`` (learned by an MDM import)
    network_mac: str | None = None
    last_seen_at: datetime | None = None
    #: [{"source": arp | router_arp | mdm:<kind>, "seen_at"}], latest first
    seen_by: tuple[dict[str, Any], ...] = ()


def _schools() -> Select[Any]:
    active = (
        select(func.count(Tablet.id))
        .where(Tablet.school_id == School.id, Tablet.status == "active")
        .correlate(School)
        .scalar_subquery()
    )
    return select(School, District.code, active).join(District, School.district_id == District.id)


def _school(school: School, district: str, active: int) -> SchoolRecord:
    return SchoolRecord(school.code, school.name, district, school.pupils, school.address, active)


def list_schools(session: Session, principal: Principal, window: Window, *,
                 district: str | None = None) -> Found[SchoolRecord]:  # fmt: skip
    stmt = _schools().order_by(School.code)
    mine = own_school(principal)
    if mine is not None:
        stmt = stmt.where(School.code == mine)
    if district is not None:
        stmt = stmt.where(District.code == district)
    rows, total = page_of(session, stmt, window)
    return Found([_school(*r) for r in rows], total)


def get_school(session: Session, principal: Principal, code: str) -> SchoolRecord:
    ensure_visible(principal, code, f"school {code}")
    row = session.execute(_schools().where(School.code == code)).first()
    if row is None:
        raise NotFound(f"school {code}")
    return _school(*row)


def _tablet(tablet: Tablet, school: str, seen_by: list[tuple[str, datetime]] | None = None) -> TabletRecord:
    by = tuple({"source": source, "seen_at": at}
               for source, at in sorted(seen_by or [], key=lambda p: p[1], reverse=True))  # fmt: skip
    return TabletRecord(tablet.id, school, tablet.asset_no, tablet.serial, tablet.mac, tablet.os, tablet.grade,
                        tablet.class_name, tablet.status, tablet.network_mac,
                        None if tablet.last_seen_at is None else _aware(tablet.last_seen_at), by)  # fmt: skip


def _seen_by(session: Session, tablet_ids: list[int]) -> dict[int, list[tuple[str, datetime]]]:
    found: dict[int, list[tuple[str, datetime]]] = {}
    if not tablet_ids:
        return found
    for tablet_id, source, at in session.execute(
            select(TabletSighting.tablet_id, TabletSighting.source, TabletSighting.seen_at)
            .where(TabletSighting.tablet_id.in_(tablet_ids))):  # fmt: skip
        found.setdefault(tablet_id, []).append((source, _aware(at)))
    return found


def list_tablets(session: Session, principal: Principal, window: Window, *, school: str | None = None,
                 grade: int | None = None, class_name: str | None = None,
                 status: str | None = None) -> Found[TabletRecord]:  # fmt: skip
    stmt = select(Tablet, School.code).join(School, Tablet.school_id == School.id)
    mine = own_school(principal)
    if mine is not None:
        stmt = stmt.where(School.code == mine)
    if school is not None:
        stmt = stmt.where(School.code == school)
    if grade is not None:
        stmt = stmt.where(Tablet.grade == grade)
    if class_name is not None:
        stmt = stmt.where(Tablet.class_name == class_name)
    if status is not None:
        stmt = stmt.where(Tablet.status == status)
    rows, total = page_of(session, stmt.order_by(School.code, Tablet.asset_no), window)
    seen_by = _seen_by(session, [t.id for t, _code in rows])
    return Found([_tablet(t, code, seen_by.get(t.id)) for t, code in rows], total)


def get_tablet(session: Session, principal: Principal, tablet_id: int) -> TabletRecord:
    row = session.execute(
        select(Tablet, School.code).join(School, Tablet.school_id == School.id).where(Tablet.id == tablet_id)
    ).first()
    if row is None:
        raise NotFound(f"tablet {tablet_id}")
    ensure_visible(principal, row[1], f"tablet {tablet_id}")
    return _tablet(row[0], row[1], _seen_by(session, [row[0].id]).get(row[0].id))


# ------------------------------------------------------------------------------- the schools' pages
def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def tablet_state(seen: datetime | None, now: datetime) -> str:
    """online (seen within ``ONLINE_WINDOW``), offline or never_seen."""
    if seen is None:
        return "never_seen"
    return "online" if _aware(seen) >= now - ONLINE_WINDOW else "offline"


@dataclass(frozen=True)
class SchoolTablets:
    """A school's active tablets grouped by grade and class, with counts by state."""

    school: SchoolRecord
    #: [{"grade": g, "classes": [{"name", "tablets": [{"asset", "os", "state", "seen", "sources"}], "online"}]}]
    #: where ``sources`` is [(source, seen at)], latest first: ``arp``, ``router_arp``, ``mdm:<kind>``
    groups: list[dict[str, Any]]
    totals: dict[str, int]
    #: what each ARP source last found that is no tablet's: [{"source", "at", "unknown", "private"}]
    unidentified: list[dict[str, Any]]
    #: The school's row of the bandwidth KPI (None: no such row).
    bandwidth: dict[str, Any] | None


def school_tablets(session: Session, principal: Principal, code: str, now: datetime,
                   peaks: dict[str, float] | None) -> SchoolTablets:  # fmt: skip
    """The school page's content (``NotFound`` for another school's, as for a missing one)."""
    school = get_school(session, principal, code)
    rows = session.execute(
        select(Tablet.id, Tablet.asset_no, Tablet.os, Tablet.grade, Tablet.class_name, Tablet.last_seen_at)
        .join(School, Tablet.school_id == School.id)
        .where(School.code == code, Tablet.status == "active")
        .order_by(Tablet.grade, Tablet.class_name, Tablet.asset_no))  # fmt: skip
    sources: dict[int, list[tuple[str, datetime]]] = {}
    for tablet_id, source, at in session.execute(
            select(TabletSighting.tablet_id, TabletSighting.source, TabletSighting.seen_at)
            .join(Tablet, TabletSighting.tablet_id == Tablet.id).join(School, Tablet.school_id == School.id)
            .where(School.code == code, Tablet.status == "active")):  # fmt: skip
        sources.setdefault(tablet_id, []).append((source, _aware(at)))
    grades: dict[int | None, dict[str, list[dict[str, Any]]]] = {}
    totals = {"online": 0, "offline": 0, "never_seen": 0}
    for tablet_id, asset, os_name, grade, class_name, seen in rows:
        state = tablet_state(seen, now)
        totals[state] += 1
        by = sorted(sources.get(tablet_id, []), key=lambda p: p[1], reverse=True)
        grades.setdefault(grade, {}).setdefault(class_name or "–", []).append(
            {"asset": asset, "os": os_name, "state": state, "seen": seen, "sources": by})
    groups = [
        {"grade": grade, "classes": [
            {"name": name, "tablets": items, "online": sum(1 for i in items if i["state"] == "online")}
            for name, items in classes.items()]}
        for grade, classes in sorted(grades.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]  # fmt: skip
    unidentified = [{"source": c.source, "at": c.at, "unknown": c.unknown, "private": c.private}
                    for c in session.scalars(select(SchoolArpCount).where(SchoolArpCount.school == code)
                                             .order_by(SchoolArpCount.source))]  # fmt: skip
    found = kpis.school_bandwidth(session, principal, peaks, school=code)
    return SchoolTablets(school, groups, totals, unidentified=unidentified, bandwidth=found[0] if found else None)


def overview(session: Session, principal: Principal, now: datetime,
             peaks: dict[str, float] | None) -> list[dict[str, Any]]:  # fmt: skip
    """Every visible school's bandwidth row with its tablets-seen row (``seen``; None without tablets)."""
    rows = kpis.school_bandwidth(session, principal, peaks)
    seen = {r["school"]: r for r in kpis.tablets_seen(session, principal, now)["schools"]}
    return [{**row, "seen": seen.get(row["school"])} for row in rows]


# ------------------------------------------------------------------------------------ MDM imports
#: problems listed in a refusal at most (the count says how many there were)
MAX_PROBLEMS_SHOWN = 50


def import_mdm(session: Session, principal: Principal, kind: str, raw: bytes, filename: str) -> MdmResult:
    """An MDM export uploaded by an admin (every school's tablets) or a school user (its own school's only:
    another school's serials count as not in the inventory). All or nothing; committed here with its audit
    entry. ``Invalid`` lists the bad lines."""
    try:
        text = decode_export(raw, filename)
        result = import_text(session, kind, text, filename, actor=principal.name, school=own_school(principal),
                             via="api")  # fmt: skip
    except InventoryImportError as exc:
        session.rollback()
        shown = "; ".join(str(p) for p in exc.problems[:MAX_PROBLEMS_SHOWN])
        raise Invalid(f"{len(exc.problems)} problem(s); nothing was written: {shown}") from None
    except InventoryError as exc:
        session.rollback()
        raise Invalid(str(exc)) from None
    session.commit()
    return result
