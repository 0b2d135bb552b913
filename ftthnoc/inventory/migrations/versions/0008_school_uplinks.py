"""School uplinks: which SNMP target and interface carry each school's uplink, and the measured daily peak
(per school and JST day) that the MEXT bandwidth KPI compares with the recommended figure.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ftthnoc.kpi.models  # noqa: F401  (registers the tables on the inventory's metadata)

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("schools", sa.Column("uplink_target", sa.String(length=64), nullable=True))
    op.add_column("schools", sa.Column("uplink_interface", sa.String(length=64), nullable=True))
    op.create_table(
        "school_uplink_peaks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("peak_mbps", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_uplink_peaks")),
        sa.UniqueConstraint("school", "day", name=op.f("uq_school_uplink_peaks_school_day")),
    )


def downgrade() -> None:
    op.drop_table("school_uplink_peaks")
    op.drop_column("schools", "uplink_interface")
    op.drop_column("schools", "uplink_target")
