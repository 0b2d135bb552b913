"""Home learning: the IPv4 addresses MDMs report tablets at (with the sync time), and the town ISP's
address assignments to household lines (RADIUS accounting or DHCP leases), so that a tablet can be
counted "seen at home" by district without naming the household.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tablet_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tablet_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("ip", sa.String(length=15), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tablet_id"], ["tablets.id"], name=op.f("fk_tablet_addresses_tablet_id_tablets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tablet_addresses")),
        sa.UniqueConstraint("tablet_id", "source", "seen_at",
                            name=op.f("uq_tablet_addresses_tablet_id_source_seen_at")),
    )
    op.create_index(op.f("ix_tablet_addresses_tablet_id"), "tablet_addresses", ["tablet_id"], unique=False)
    op.create_index(op.f("ix_tablet_addresses_ip"), "tablet_addresses", ["ip"], unique=False)
    op.create_table(
        "line_leases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=15), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stop_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"],
                                name=op.f("fk_line_leases_household_id_households"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_leases")),
        sa.UniqueConstraint("ip", "start_at", name=op.f("uq_line_leases_ip_start_at")),
    )
    op.create_index(op.f("ix_line_leases_household_id"), "line_leases", ["household_id"], unique=False)
    op.create_index(op.f("ix_line_leases_ip"), "line_leases", ["ip"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_line_leases_ip"), table_name="line_leases")
    op.drop_index(op.f("ix_line_leases_household_id"), table_name="line_leases")
    op.drop_table("line_leases")
    op.drop_index(op.f("ix_tablet_addresses_ip"), table_name="tablet_addresses")
    op.drop_index(op.f("ix_tablet_addresses_tablet_id"), table_name="tablet_addresses")
    op.drop_table("tablet_addresses")
