"""KPIs: dated household status changes (the monthly subscription series), ONU-seconds up per month and
district (availability), and when each tablet was last seen.

Existing households get one change row each, dated now: the series starts at the upgrade.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ftthnoc.kpi.models  # noqa: F401  (registers the tables on the inventory's metadata)

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "household_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"],
                                name=op.f("fk_household_status_changes_household_id_households"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_status_changes")),
    )
    op.create_index(op.f("ix_household_status_changes_household_id"), "household_status_changes", ["household_id"])
    op.create_index(op.f("ix_household_status_changes_at"), "household_status_changes", ["at"])
    op.execute(
        "INSERT INTO household_status_changes (household_id, status, at) "
        "SELECT id, status, CURRENT_TIMESTAMP FROM households"
    )
    op.create_table(
        "availability_months",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("district", sa.String(length=32), nullable=False),
        sa.Column("up_seconds", sa.Float(), nullable=False),
        sa.Column("expected_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_months")),
        sa.UniqueConstraint("month", "district", name=op.f("uq_availability_months_month_district")),
    )
    op.add_column("tablets", sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("tablets", "last_seen_at")
    op.drop_table("availability_months")
    op.drop_index(op.f("ix_household_status_changes_at"), table_name="household_status_changes")
    op.drop_index(op.f("ix_household_status_changes_household_id"), table_name="household_status_changes")
    op.drop_table("household_status_changes")
