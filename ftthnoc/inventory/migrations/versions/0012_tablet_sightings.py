"""Tablets seen by identity: which source saw each tablet when (ARP sweep, router ARP, an MDM's last
sync), the Wi-Fi MAC an MDM reports for a tablet (private per-network addresses), and the counts of
unidentified MACs per school and ARP source.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN and a unique index, as 0003 does: no table rebuild under the tablets on SQLite
    op.add_column("tablets", sa.Column("network_mac", sa.String(length=17), nullable=True))
    op.create_index(op.f("ix_tablets_network_mac"), "tablets", ["network_mac"], unique=True)
    op.create_table(
        "tablet_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tablet_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tablet_id"], ["tablets.id"], name=op.f("fk_tablet_sightings_tablet_id_tablets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tablet_sightings")),
        sa.UniqueConstraint("tablet_id", "source", name=op.f("uq_tablet_sightings_tablet_id_source")),
    )
    op.create_table(
        "school_arp_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unknown", sa.Integer(), nullable=False),
        sa.Column("private", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_arp_counts")),
        sa.UniqueConstraint("school", "source", name=op.f("uq_school_arp_counts_school_source")),
    )


def downgrade() -> None:
    op.drop_table("school_arp_counts")
    op.drop_table("tablet_sightings")
    op.drop_index(op.f("ix_tablets_network_mac"), table_name="tablets")
    op.drop_column("tablets", "network_mac")
