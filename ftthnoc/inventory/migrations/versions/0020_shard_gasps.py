"""Dying gasps of every poller shard in the shared database (``shard_gasps``), so that the power-cut rule
counts a district's gasps across shards: district, OLT, PON port, ONU id, since when, which shard. No
household codes.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shard_gasps",
        sa.Column("olt", sa.String(length=64), nullable=False),
        sa.Column("pon_port", sa.String(length=16), nullable=False),
        sa.Column("onu_id", sa.String(length=16), nullable=False),
        sa.Column("district", sa.String(length=32), nullable=False),
        sa.Column("down_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shard", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("olt", "pon_port", "onu_id", name=op.f("pk_shard_gasps")),
    )
    op.create_index(op.f("ix_shard_gasps_district"), "shard_gasps", ["district"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_shard_gasps_district"), table_name="shard_gasps")
    op.drop_table("shard_gasps")
