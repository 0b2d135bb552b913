"""Poller shards' heartbeats: each ``serve --shard I/N`` records its last completed poll and its targets in
the shared database, so that any process can show the OLTs of a silent shard as unknown.

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "poller_shards",
        sa.Column("shard", sa.String(length=16), nullable=False),
        sa.Column("shard_index", sa.Integer(), nullable=False),
        sa.Column("shard_count", sa.Integer(), nullable=False),
        sa.Column("interval_seconds", sa.Double(), nullable=False),
        sa.Column("last_poll_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.CheckConstraint("shard_index >= 0 AND shard_index < shard_count",
                           name=op.f("ck_poller_shards_index_in_count")),
        sa.PrimaryKeyConstraint("shard", name=op.f("pk_poller_shards")),
    )


def downgrade() -> None:
    op.drop_table("poller_shards")
