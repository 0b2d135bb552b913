"""What the KPIs need that a poll does not keep: when households changed status, and ONU-minutes up.

``HouseholdStatusChange`` rows are written by a session listener (``record_status_changes``) on every
status change, whoever makes it (import, provisioning, API), so the monthly subscription series needs no
extra bookkeeping anywhere. ``db.make_engine`` and ``db.session_factory`` install it (see
``ftthnoc.inventory.listeners``); importing this module registers nothing.
``AvailabilityMonth`` accumulates, per month and district, the ONU-seconds polled up and expected.
``SchoolUplinkPeak`` keeps, per school and JST day, the highest uplink rate measured between two polls.
``SchoolThroughputTest`` keeps each active throughput test (``ftthnoc.kpi.throughput``), the MEXT verdict's input.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    insert,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column

from ftthnoc.inventory.models import Base, Household


def _utcnow() -> datetime:
    return datetime.now(UTC)


class HouseholdStatusChange(Base):
    __tablename__ = "household_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, index=True)


class AvailabilityMonth(Base):
    """ONU-seconds up and expected for one JST month (``YYYY-MM``) and district."""

    __tablename__ = "availability_months"
    __table_args__ = (UniqueConstraint("month", "district"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    district: Mapped[str] = mapped_column(String(32))
    up_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    expected_seconds: Mapped[float] = mapped_column(Float, default=0.0)


class SchoolUplinkPeak(Base):
    """The day's highest uplink rate of one school (the larger of in and out, Mbps) and when it was seen."""

    __tablename__ = "school_uplink_peaks"
    __table_args__ = (UniqueConstraint("school", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the school's code
    school: Mapped[str] = mapped_column(String(32))
    #: the JST date
    day: Mapped[date] = mapped_column(Date)
    peak_mbps: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def record_status_changes(session: Session, _ctx: UOWTransaction) -> None:
    """``after_flush``: one row per household whose status was set or changed in this flush (the date the
    KPI counts)."""
    new = session.new  # an IdentitySet built on each access: once per flush, not once per object
    rows: list[dict[str, object]] = []
    for obj in [*new, *session.dirty]:
        if not isinstance(obj, Household) or obj.id is None:
            continue
        hist = inspect(obj).attrs.status.history
        if obj in new or (hist.added and list(hist.added) != list(hist.deleted)):
            rows.append({"household_id": obj.id, "status": str(obj.status), "at": _utcnow()})
    if rows:
        session.execute(insert(HouseholdStatusChange), rows)


class SchoolThroughputTest(Base):
    """One direction of one active throughput test (iperf3) from a school's probe point to the town's
    measurement server: the receiver's bits per second, or the error that stopped it (``bits_per_second``
    null). Kept as measured, failures included: the KPI reads the latest of each school."""

    __tablename__ = "school_throughput_tests"
    __table_args__ = (CheckConstraint("direction IN ('download', 'upload')", name="direction"),
                      Index("ix_school_throughput_tests_school_started_at", "school", "started_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the school's code
    school: Mapped[str] = mapped_column(String(32))
    #: download (server to school, iperf3 -R) or upload
    direction: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: the measurement server as HOST:PORT (a town server, not a person)
    server: Mapped[str] = mapped_column(String(128))
    streams: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    bits_per_second: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
