"""Telework KPI: raw VPN session samples and the per-working-day figures computed from them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Registers the telework tables on the inventory's Base.metadata wherever the migrations are loaded (as
# 0002 does for the incidents), so that schema-vs-models comparisons see them. The tables below are
# spelled out in full, as a migration must: later model changes need their own revision.
import ftthnoc.telework.models  # noqa: F401

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telework_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.CheckConstraint("sessions >= 0", name=op.f("ck_telework_samples_sessions_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telework_samples")),
        sa.UniqueConstraint("gateway", "at", name=op.f("uq_telework_samples_gateway_at")),
    )
    op.create_index(op.f("ix_telework_samples_at"), "telework_samples", ["at"])
    op.create_table(
        "telework_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working_seconds", sa.Integer(), nullable=False),
        sa.Column("covered_seconds", sa.Integer(), nullable=False),
        sa.Column("mean_sessions", sa.Double(), nullable=True),
        sa.Column("remote_share", sa.Double(), nullable=True),
        sa.Column("office_reduction", sa.Double(), nullable=True),
        sa.Column("staff", sa.Integer(), nullable=False),
        sa.Column("attendance_baseline", sa.Double(), nullable=False),
        sa.Column("target_reduction", sa.Double(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "covered_seconds >= 0 AND covered_seconds <= working_seconds",
            name=op.f("ck_telework_days_covered_within_working"),
        ),
        sa.CheckConstraint("staff >= 1", name=op.f("ck_telework_days_staff_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telework_days")),
        sa.UniqueConstraint("day", name=op.f("uq_telework_days_day")),
    )


def downgrade() -> None:
    op.drop_table("telework_days")
    op.drop_index(op.f("ix_telework_samples_at"), table_name="telework_samples")
    op.drop_table("telework_samples")
