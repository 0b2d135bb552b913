"""The inventory's tables (SQLAlchemy 2 declarative, typed ``Mapped[...]``).

Every row has a surrogate integer ``id`` for joins and a natural key (``District.code``, ``Olt.name``,
``(olt, port)``, ``Onu.serial`` ...) that imports, exports and people use.

Personal data (a subscriber's name, address, phone) lives only in ``HouseholdContact``. ``Household``
has no relationship to it, so nothing that loads households for monitoring can pull personal data in by
accident; every change to a contact writes an ``AuditEntry`` (``audit_personal_changes``) that names the
fields changed, never their values. That listener is installed explicitly, by ``db.make_engine`` and
``db.session_factory`` (see ``ftthnoc.inventory.listeners``): importing this module registers nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    inspect,
    select,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    UOWTransaction,
    mapped_column,
    relationship,
    validates,
)

from ftthnoc.errors import InventoryError
from ftthnoc.normalise import normalise_ipv4, normalise_mac, normalise_serial
from ftthnoc.personal import PERSONAL_FIELDS

#: Stable constraint names, so that migrations can refer to (and later drop) them on every backend.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Optical budget classes; the same set as ``ftthnoc.config.PonClass`` (GPON B+/C+, XGS-PON, GE-PON PX20).
PON_CLASSES: tuple[str, ...] = ("B+", "C+", "XGS", "PX20")


class HouseholdStatus(enum.StrEnum):
    """Where a household is in its subscription's life; see ``TRANSITIONS`` for the allowed moves."""

    APPLIED = "applied"
    SURVEYED = "surveyed"
    INSTALLED = "installed"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


#: The allowed status changes. Anything may be cancelled; a suspended line can be resumed; a cancelled
#: household can apply again (the code stays with the home).
TRANSITIONS: Mapping[HouseholdStatus, frozenset[HouseholdStatus]] = {
    HouseholdStatus.APPLIED: frozenset({HouseholdStatus.SURVEYED, HouseholdStatus.CANCELLED}),
    HouseholdStatus.SURVEYED: frozenset({HouseholdStatus.INSTALLED, HouseholdStatus.CANCELLED}),
    HouseholdStatus.INSTALLED: frozenset({HouseholdStatus.ACTIVE, HouseholdStatus.CANCELLED}),
    HouseholdStatus.ACTIVE: frozenset({HouseholdStatus.SUSPENDED, HouseholdStatus.CANCELLED}),
    HouseholdStatus.SUSPENDED: frozenset({HouseholdStatus.ACTIVE, HouseholdStatus.CANCELLED}),
    HouseholdStatus.CANCELLED: frozenset({HouseholdStatus.APPLIED}),
}


def check_transition(old: HouseholdStatus | str, new: HouseholdStatus | str) -> HouseholdStatus:
    """Return ``new`` as a status if a household may move from ``old`` to it; raise InventoryError if not.

    Staying in the same status is not a move and is always allowed.
    """
    try:
        before, after = HouseholdStatus(old), HouseholdStatus(new)
    except ValueError as exc:
        raise InventoryError(f"unknown household status: {exc}") from None
    if before != after and after not in TRANSITIONS[before]:
        allowed = ", ".join(sorted(TRANSITIONS[before])) or "nothing"
        raise InventoryError(f"household status cannot change from {before} to {after} (allowed: {allowed})")
    return after


class Base(DeclarativeBase):
    """Declarative base of the inventory; its metadata is what the Alembic migrations must match."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class District(Base):
    """One of the four former towns; ``households`` is the denominator of the take-up KPI."""

    __tablename__ = "districts"
    __table_args__ = (CheckConstraint("households >= 0", name="households_non_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    households: Mapped[int] = mapped_column(Integer)


class Olt(Base):
    """An OLT as the poller sees it: where to reach it, which modules and which named auth to use."""

    __tablename__ = "olts"
    __table_args__ = (
        CheckConstraint("pon_class IN ('B+', 'C+', 'XGS', 'PX20')", name="pon_class"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    #: an OLT vendor pack's name (``ftthnoc/vendors``): checked on import, not by a constraint, so that
    #: adding a vendor needs no migration
    vendor: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(64))
    #: ``HOST:PORT`` of the SNMP agent.
    address: Mapped[str] = mapped_column(String(255))
    pon_class: Mapped[str] = mapped_column(String(8))
    #: Name of an auth in the poller configuration; never a secret.
    auth: Mapped[str] = mapped_column(String(64))
    modules: Mapped[list[str]] = mapped_column(JSON)
    #: ``HOST:PORT`` of the OLT's SSH command line, for provisioning; None: not provisioned by ftthnoc.
    cli_address: Mapped[str | None] = mapped_column(String(255))
    #: Name of a credential in the provisioning configuration; never a secret.
    cli_auth: Mapped[str | None] = mapped_column(String(64))

    district: Mapped[District] = relationship()


class PonPort(Base):
    """A PON port of an OLT, named ``F/S/P`` as the OLT's CLI prints it (``0/1/0``)."""

    __tablename__ = "pon_ports"
    __table_args__ = (UniqueConstraint("olt_id", "port"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    olt_id: Mapped[int] = mapped_column(ForeignKey("olts.id"))
    port: Mapped[str] = mapped_column(String(16))

    olt: Mapped[Olt] = relationship()


class Household(Base):
    """A subscribing (or applying) household. Holds no personal data: see ``HouseholdContact``."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    plan: Mapped[str] = mapped_column(String(64))
    status: Mapped[HouseholdStatus] = mapped_column(
        Enum(
            HouseholdStatus,
            name="household_status",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda cls: [m.value for m in cls],
            validate_strings=True,
        )
    )

    district: Mapped[District] = relationship()

    def change_status(self, new: HouseholdStatus | str) -> None:
        """Move to ``new`` if the life cycle allows it (raises InventoryError otherwise).

        A household not yet given a status may start in any.
        """
        if self.status is None:
            try:
                self.status = HouseholdStatus(new)
            except ValueError:
                raise InventoryError(f"unknown household status {new!r}") from None
            return
        self.status = check_transition(self.status, new)


class HouseholdContact(Base):
    """The personal fields of a household, apart so that they are loaded only when asked for."""

    __tablename__ = "household_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))

    # One direction only: a Household never reaches its contact.
    household: Mapped[Household] = relationship()




#: Splitting stages: a first-stage splitter hangs off a PON port, a second-stage one off a first-stage one.
SPLITTER_STAGES: tuple[int, ...] = (1, 2)


class Splitter(Base):
    """An optical splitter of a PON port's distribution network (first or second stage), in a cabinet.

    A first-stage splitter has no parent (the PON port's feeder feeds it); a second-stage one names its
    first-stage parent on the same port. ``ratio`` is its outputs (1:8 → 8): its children and drops may not
    exceed it. The incident engine reads this tree to tell a cut after a splitter from a feeder cut.
    """

    __tablename__ = "splitters"
    __table_args__ = (
        CheckConstraint("stage IN (1, 2)", name="stage"),
        CheckConstraint("ratio >= 2 AND ratio <= 128", name="ratio"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    stage: Mapped[int] = mapped_column(Integer)
    pon_port_id: Mapped[int] = mapped_column(ForeignKey("pon_ports.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("splitters.id"), index=True)
    ratio: Mapped[int] = mapped_column(Integer)
    cabinet: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float | None] = mapped_column(Double)
    lon: Mapped[float | None] = mapped_column(Double)

    pon_port: Mapped[PonPort] = relationship()
    parent: Mapped[Splitter | None] = relationship(remote_side=[id])


class Onu(Base):
    """An ONU/ONT at a home, identified on its OLT by ``(pon_port, onu_id)``; ``splitter`` is the drop: the
    (second-stage) splitter whose output feeds it, where the inventory knows it."""

    __tablename__ = "onus"
    __table_args__ = (
        UniqueConstraint("pon_port_id", "onu_id"),
        CheckConstraint("onu_id >= 0", name="onu_id_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    pon_port_id: Mapped[int] = mapped_column(ForeignKey("pon_ports.id"))
    onu_id: Mapped[int] = mapped_column(Integer)
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("households.id", ondelete="SET NULL"), index=True
    )
    #: IPv4 of the ONU's management interface, where the operator gives it one: the probes ping it.
    #: A unique index (not a constraint) so that migration 0003 adds it without rebuilding the table.
    mgmt_address: Mapped[str | None] = mapped_column(String(15), unique=True, index=True)
    splitter_id: Mapped[int | None] = mapped_column(ForeignKey("splitters.id", ondelete="SET NULL"), index=True)

    pon_port: Mapped[PonPort] = relationship()
    household: Mapped[Household | None] = relationship()
    splitter: Mapped[Splitter | None] = relationship()

    @validates("serial")
    def _serial(self, _key: str, value: str) -> str:
        return normalise_serial(value)

    @validates("mgmt_address")
    def _mgmt_address(self, _key: str, value: str | None) -> str | None:
        return None if value is None else normalise_ipv4(value)


class School(Base):
    """A school of the GIGA network; ``pupils`` sets its recommended bandwidth."""

    __tablename__ = "schools"
    __table_args__ = (CheckConstraint("pupils >= 0", name="pupils_non_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    pupils: Mapped[int] = mapped_column(Integer)
    #: IPv4 of the school's router or web filter: what the probes ping to tell "the school is cut off".
    address: Mapped[str | None] = mapped_column(String(15), unique=True, index=True)
    #: ``HOST:PORT`` of the school router's SSH command line, whose DHCP bindings admit the tablets.
    router_address: Mapped[str | None] = mapped_column(String(255))
    #: Provisioning driver of the router (``yamaha``); None means the default, ``yamaha``.
    router_platform: Mapped[str | None] = mapped_column(String(32))
    #: Name of a credential in the provisioning configuration; never a secret.
    router_auth: Mapped[str | None] = mapped_column(String(64))
    #: The router's DHCP scope that ftthnoc manages (every binding in it is a registered tablet's).
    dhcp_scope: Mapped[int | None] = mapped_column(Integer)
    #: Name of the SNMP target (the school's router, polled with ``if_mib``) that carries its uplink.
    uplink_target: Mapped[str | None] = mapped_column(String(64))
    #: The uplink's ``ifName`` on that target (e.g. ``LAN2``): its peak is the MEXT bandwidth KPI's measure.
    uplink_interface: Mapped[str | None] = mapped_column(String(64))

    district: Mapped[District] = relationship()

    @validates("address")
    def _address(self, _key: str, value: str | None) -> str | None:
        return None if value is None else normalise_ipv4(value)


class Tablet(Base):
    """A pupil's or teacher's tablet; the MAC is unique town-wide (lower-case colon form)."""

    __tablename__ = "tablets"
    __table_args__ = (UniqueConstraint("school_id", "asset_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    asset_no: Mapped[str] = mapped_column(String(64))
    serial: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(17), unique=True)
    os: Mapped[str] = mapped_column(String(32))
    grade: Mapped[int | None] = mapped_column(Integer)
    class_name: Mapped[str | None] = mapped_column(String(32))
    #: ``active`` tablets get a DHCP binding on their school's router; ``retired`` ones lose it but stay
    #: on record (asset history), their MAC still reserved to them.
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    #: last time any source saw the tablet (the "seen" KPIs): the latest of its ``TabletSighting`` rows
    #: (an ARP sweep, the school router's ARP table, an MDM's last sync)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: the Wi-Fi MAC an MDM reports for the tablet when it is not ``mac`` (iPadOS 14+ and Android 10+ use
    #: a private address per network): learned by ``ftthnoc.inventory.mdm`` so that ARP sources match it
    network_mac: Mapped[str | None] = mapped_column(String(17), unique=True, index=True)

    school: Mapped[School] = relationship()

    @validates("mac")
    def _mac(self, _key: str, value: str) -> str:
        return normalise_mac(value)

    @validates("network_mac")
    def _network_mac(self, _key: str, value: str | None) -> str | None:
        return None if value is None else normalise_mac(value)

    @validates("status")
    def _status(self, _key: str, value: str) -> str:
        if value not in TABLET_STATUSES:
            raise InventoryError(f"tablet status must be one of {', '.join(TABLET_STATUSES)}, not {value!r}")
        return value


class TabletSighting(Base):
    """When one source last saw a tablet: ``arp`` (the prober's sweep), ``router_arp`` (the school router's
    ARP table over SNMP) or ``mdm:<kind>`` (an MDM's last sync, imported). ``Tablet.last_seen_at`` is the
    latest of them."""

    __tablename__ = "tablet_sightings"
    __table_args__ = (UniqueConstraint("tablet_id", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tablet_id: Mapped[int] = mapped_column(ForeignKey("tablets.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TabletAddress(Base):
    """The IPv4 address an MDM reported a tablet at, with its sync time (``mdm:<kind>``): one row per sync
    imported, so that the home-learning KPI (``ftthnoc.kpi.figures.tablets_at_home``) can ask on which
    household line the tablet synced. An address only, never a user or a place."""

    __tablename__ = "tablet_addresses"
    __table_args__ = (UniqueConstraint("tablet_id", "source", "seen_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tablet_id: Mapped[int] = mapped_column(ForeignKey("tablets.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    ip: Mapped[str] = mapped_column(String(15), index=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LineLease(Base):
    """An IPv4 address the town ISP gave a household's line from ``start_at`` to ``stop_at`` (None: still
    held), imported from a RADIUS accounting or DHCP lease export (``ftthnoc.inventory.leases``). Only what
    the home-learning count needs: the address, the interval and the household's id (not its code)."""

    __tablename__ = "line_leases"
    __table_args__ = (UniqueConstraint("ip", "start_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    ip: Mapped[str] = mapped_column(String(15), index=True)
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stop_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SchoolArpCount(Base):
    """What one ARP source found on a school's LAN besides its tablets, as counts (never the MACs):
    ``unknown`` globally administered MACs that are no tablet's, and ``private`` locally administered
    (random, per-network) MACs that are no tablet's — a tablet with a private address not yet learned
    from an MDM, not a stranger."""

    __tablename__ = "school_arp_counts"
    __table_args__ = (UniqueConstraint("school", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the school's code
    school: Mapped[str] = mapped_column(String(32))
    #: ``arp`` or ``router_arp``
    source: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    unknown: Mapped[int] = mapped_column(Integer)
    private: Mapped[int] = mapped_column(Integer)


def sightings_of(session: Session, tablet_ids: Iterable[int], source: str) -> dict[int, TabletSighting]:
    """The ``source``'s sightings of these tablets, by tablet id (for ``mark_seen``)."""
    ids = list(tablet_ids)
    found: dict[int, TabletSighting] = {}
    for i in range(0, len(ids), 500):  # well under SQLite's parameter limit
        stmt = select(TabletSighting).where(TabletSighting.source == source,
                                            TabletSighting.tablet_id.in_(ids[i : i + 500]))
        found.update((row.tablet_id, row) for row in session.scalars(stmt))
    return found


def mark_seen(session: Session, tablet: Tablet, known: dict[int, TabletSighting], source: str,
              when: datetime) -> bool:
    """Record that ``source`` saw ``tablet`` at ``when``, never moving backwards, in its sighting (from
    ``known``, ``sightings_of``'s answer; a new one is added to ``session`` and to ``known``) and in
    ``Tablet.last_seen_at``. Returns whether the source's sighting moved forward."""
    when = _as_utc(when)
    row = known.get(tablet.id)
    moved = False
    if row is None:
        row = TabletSighting(tablet_id=tablet.id, source=source, seen_at=when)
        session.add(row)
        known[tablet.id] = row
        moved = True
    elif _as_utc(row.seen_at) < when:
        row.seen_at = when
        moved = True
    last = tablet.last_seen_at
    if last is None or _as_utc(last) < when:
        tablet.last_seen_at = when
    return moved


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


TABLET_STATUSES: tuple[str, ...] = ("active", "retired")
#: the operating systems the town's tablets run, as stored (imports accept any letter case)
TABLET_OS: tuple[str, ...] = ("iPadOS", "ChromeOS", "Windows")


class BwaStation(Base):
    """A regional-BWA base station, polled like an OLT."""

    __tablename__ = "bwa_stations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    address: Mapped[str] = mapped_column(String(255))
    auth: Mapped[str] = mapped_column(String(64))
    modules: Mapped[list[str]] = mapped_column(JSON)

    district: Mapped[District] = relationship()


class VpnGateway(Base):
    """A telework VPN gateway; ``licence_sessions`` is the ceiling the telework KPI compares with."""

    __tablename__ = "vpn_gateways"
    __table_args__ = (CheckConstraint("licence_sessions >= 0", name="licence_sessions_non_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    vendor: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(255))
    auth: Mapped[str] = mapped_column(String(64))
    modules: Mapped[list[str]] = mapped_column(JSON)
    licence_sessions: Mapped[int] = mapped_column(Integer)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class EnrolmentState(enum.StrEnum):
    """Where one provisioning run stands; ``attention`` means a person must look (see ``error``)."""

    RUNNING = "running"
    DONE = "done"
    NOOP = "noop"  # already as asked: nothing was sent
    FAILED = "failed"  # nothing left on the device (undone, or never changed)
    ATTENTION = "attention"  # a change may be left on the device: the next run cleans it up first


#: What a provisioning run does to a household's line.
ENROLMENT_KINDS: tuple[str, ...] = ("enrol", "suspend", "resume", "cancel")


class Enrolment(Base):
    """One provisioning run on a household's line: the household's provisioning state is its latest.

    ``error`` holds the device's own words when it refused, or what went wrong; the full dialogue is in
    the run's ``AuditEntry`` (``audit_id``).
    """

    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[EnrolmentState] = mapped_column(
        Enum(
            EnrolmentState,
            name="enrolment_state",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda cls: [m.value for m in cls],
            validate_strings=True,
        )
    )
    serial: Mapped[str | None] = mapped_column(String(32))
    olt: Mapped[str | None] = mapped_column(String(64))
    pon_port: Mapped[str | None] = mapped_column(String(16))
    ont_id: Mapped[int | None] = mapped_column(Integer)
    #: the last step reached: find, allocate, add, service, save, verify, activate, undo
    step: Mapped[str] = mapped_column(String(32), default="start")
    error: Mapped[str | None] = mapped_column(String(2000))
    rx_dbm: Mapped[float | None] = mapped_column(Double)
    actor: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id", ondelete="SET NULL"))

    household: Mapped[Household] = relationship()


class AuditEntry(Base):
    """Who changed what, when: personal data (which fields, never the values) and every change sent to a
    device (the commands and the device's answers, and the outcome)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: for changes sent to a device: ``ok``, ``noop``, or ``failed: <why>`` (the dialogue is in ``detail``)
    outcome: Mapped[str | None] = mapped_column(String(300))


#: What each role may do, from most to least; ``school`` users are bound to one school.
ROLES: tuple[str, ...] = ("admin", "operator", "support", "school", "viewer")


class User(Base):
    """A person who logs in to the web pages or holds API tokens. ``password_hash`` is a scrypt hash
    (``api.security``); a user without one can only use tokens."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'operator', 'support', 'school', 'viewer')", name="role"),
        CheckConstraint("(role = 'school') = (school_id IS NOT NULL)", name="school_users_bound"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    school: Mapped[School | None] = relationship()


class ApiToken(Base):
    """A bearer token (or a web login's session token): only its SHA-256 is kept; it is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: "api" (created on the command line, shown once) or "session" (a web login)
    kind: Mapped[str] = mapped_column(String(16), default="api")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the first characters of the token, so that people can tell their tokens apart
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


def _changed_fields(obj: HouseholdContact, names: Iterable[str]) -> list[str]:
    """The attributes whose value really changed in this flush (setting the same value is no change)."""
    state = inspect(obj)
    changed = []
    for name in names:
        hist = state.attrs[name].history
        if hist.added and (not hist.deleted or list(hist.added) != list(hist.deleted)):
            changed.append(name)
    return changed


def _household_code(session: Session, contact: HouseholdContact) -> str | None:
    if contact.household is not None:
        return contact.household.code
    if contact.household_id is None:
        return None
    return session.scalar(select(Household.code).where(Household.id == contact.household_id))


def audit_personal_changes(session: Session, _ctx: UOWTransaction, _instances: object) -> None:
    """``before_flush``: one AuditEntry per created, changed or deleted HouseholdContact, whoever flushes it.

    Installed on every Session (not only the import's) by ``ftthnoc.inventory.listeners.install``: that
    is what makes "every change is audited" true for the API and provisioning too. The actor is
    ``session.info["actor"]``.
    """
    actor = str(session.info.get("actor", "system"))
    entries: list[AuditEntry] = []
    with session.no_autoflush:
        for obj in session.new:
            if isinstance(obj, HouseholdContact):
                fields = [f for f in PERSONAL_FIELDS if getattr(obj, f) is not None]
                detail = {"household": _household_code(session, obj), "fields": fields}
                entries.append(
                    AuditEntry(actor=actor, action="create", entity="household_contact", detail=detail)
                )
        for obj in session.dirty:
            if isinstance(obj, HouseholdContact) and session.is_modified(obj):
                fields = _changed_fields(obj, PERSONAL_FIELDS)
                if _changed_fields(obj, ("household_id", "household")):
                    fields.append("household")
                if fields:
                    detail = {"household": _household_code(session, obj), "fields": fields}
                    entries.append(
                        AuditEntry(actor=actor, action="update", entity="household_contact", detail=detail)
                    )
        for obj in session.deleted:
            if isinstance(obj, HouseholdContact):
                detail = {"household": _household_code(session, obj), "fields": list(PERSONAL_FIELDS)}
                entries.append(
                    AuditEntry(actor=actor, action="delete", entity="household_contact", detail=detail)
                )
    session.add_all(entries)


class PollerShard(Base):
    """One ``serve --shard I/N`` poller's heartbeat in the shared database: when it last finished a poll
    and which targets it owns, so that any process (another shard, the API) can tell the OLTs nobody
    polls any more (``ftthnoc.pollers``) from healthy ones."""

    __tablename__ = "poller_shards"
    __table_args__ = (CheckConstraint("shard_index >= 0 AND shard_index < shard_count", name="index_in_count"),)

    shard: Mapped[str] = mapped_column(String(16), primary_key=True)  # "I/N"
    shard_index: Mapped[int] = mapped_column(Integer)
    shard_count: Mapped[int] = mapped_column(Integer)
    interval_seconds: Mapped[float] = mapped_column(Double)
    last_poll_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    targets: Mapped[list[str]] = mapped_column(JSON)
