"""Telework tables, on the inventory's ``Base`` so that one Alembic history (``0004_telework``) covers them.

``TeleworkSample`` is one poll's session count of one VPN gateway, raw (to the second): the day figures
are recomputed from these when samples arrive late, when a day ends, or when the configuration
changes, so they must survive a restart. Gateways are named by their configured name (natural key, no
foreign key: the history outlives the inventory's gateway list). Only counts are kept: no user name
from a VPN ever reaches these tables.

``TeleworkDay`` is one working day's figure as last computed. It carries the headcount, attendance
baseline and target it was computed with, so that a past month reads the same after the plan changes.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, Double, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ftthnoc.inventory.models import Base


class TeleworkSample(Base):
    """Active remote-access sessions on ``gateway`` at ``at`` (UTC, whole seconds)."""

    __tablename__ = "telework_samples"
    __table_args__ = (
        UniqueConstraint("gateway", "at"),
        CheckConstraint("sessions >= 0", name="sessions_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    sessions: Mapped[int] = mapped_column(Integer)


class TeleworkDay(Base):
    """One working day's KPI (see ``ftthnoc.telework.kpi``); ``final`` once its working hours are over.

    ``working_seconds`` is the working time elapsed when computed (the whole day once final);
    ``covered_seconds`` the part of it with samples. ``mean_sessions`` is None without any covered time,
    ``remote_share`` and ``office_reduction`` are None when coverage was below the threshold.
    """

    __tablename__ = "telework_days"
    __table_args__ = (
        CheckConstraint("covered_seconds >= 0 AND covered_seconds <= working_seconds", name="covered_within_working"),
        CheckConstraint("staff >= 1", name="staff_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    working_seconds: Mapped[int] = mapped_column(Integer)
    covered_seconds: Mapped[int] = mapped_column(Integer)
    mean_sessions: Mapped[float | None] = mapped_column(Double)
    remote_share: Mapped[float | None] = mapped_column(Double)
    office_reduction: Mapped[float | None] = mapped_column(Double)
    staff: Mapped[int] = mapped_column(Integer)
    attendance_baseline: Mapped[float] = mapped_column(Double)
    target_reduction: Mapped[float] = mapped_column(Double)
    final: Mapped[bool] = mapped_column(Boolean)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TeleworkSourceDay(Base):
    """One working day's staff count from a source with people in it (``ftthnoc.telework.sources``).

    ``source`` is ``vpn_users`` (distinct VPN users, kept up to date by the poller), ``lgwan_csv`` (an import
    of the LGWAN telework system's logins) or ``attendance`` (an import of attendance records).
    ``teleworkers`` are the staff who worked remotely that day; ``staff`` the staff who could have been in
    the office (the headcount, or for attendance those not on leave); ``in_office`` and ``on_leave`` only
    where the source says so (attendance). Counts only: no person is named here.
    """

    __tablename__ = "telework_source_days"
    __table_args__ = (
        UniqueConstraint("source", "day"),
        CheckConstraint("teleworkers >= 0 AND staff >= 0", name="counts_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date, index=True)
    teleworkers: Mapped[int] = mapped_column(Integer)
    staff: Mapped[int] = mapped_column(Integer)
    in_office: Mapped[int | None] = mapped_column(Integer)
    on_leave: Mapped[int | None] = mapped_column(Integer)
    attendance_baseline: Mapped[float] = mapped_column(Double)
    target_reduction: Mapped[float] = mapped_column(Double)
    final: Mapped[bool] = mapped_column(Boolean)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TeleworkUserDay(Base):
    """A VPN user seen teleworking on ``day``: only a keyed hash (HMAC-SHA-256 of the day and the name, the key
    kept outside the database), so that a day's distinct users survive a restart; the name itself is never
    stored, and the same person's keys differ from day to day."""

    __tablename__ = "telework_user_days"
    __table_args__ = (UniqueConstraint("source", "day", "user_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date, index=True)
    user_key: Mapped[str] = mapped_column(String(64))
