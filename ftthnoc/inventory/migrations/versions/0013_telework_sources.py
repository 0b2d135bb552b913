"""Telework from pluggable sources: per-day staff counts by source, and the keyed VPN users of each day.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ftthnoc.telework.models  # noqa: F401  (registers the tables on Base.metadata, as 0004 does)

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telework_source_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("teleworkers", sa.Integer(), nullable=False),
        sa.Column("staff", sa.Integer(), nullable=False),
        sa.Column("in_office", sa.Integer(), nullable=True),
        sa.Column("on_leave", sa.Integer(), nullable=True),
        sa.Column("attendance_baseline", sa.Double(), nullable=False),
        sa.Column("target_reduction", sa.Double(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("teleworkers >= 0 AND staff >= 0",
                           name=op.f("ck_telework_source_days_counts_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telework_source_days")),
        sa.UniqueConstraint("source", "day", name=op.f("uq_telework_source_days_source_day")),
    )
    op.create_index(op.f("ix_telework_source_days_day"), "telework_source_days", ["day"])
    op.create_table(
        "telework_user_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telework_user_days")),
        sa.UniqueConstraint("source", "day", "user_key", name=op.f("uq_telework_user_days_source_day_user_key")),
    )
    op.create_index(op.f("ix_telework_user_days_day"), "telework_user_days", ["day"])


def downgrade() -> None:
    op.drop_index(op.f("ix_telework_user_days_day"), table_name="telework_user_days")
    op.drop_table("telework_user_days")
    op.drop_index(op.f("ix_telework_source_days_day"), table_name="telework_source_days")
    op.drop_table("telework_source_days")
