"""Probe addresses: ``onus.mgmt_address`` (the ONU's management IPv4) and ``schools.address`` (the
school's router or web filter), both optional and unique where set.

Uniqueness is a unique *index*, not a constraint: SQLite can add a column and an index in place, but a
constraint would make Alembic's batch mode rebuild ``schools`` (copy, drop, rename), and with foreign keys
on, which ``db.make_engine`` always sets, SQLite will not drop a table that tablets still refer to. NULLs
never collide in a unique index, on SQLite as on PostgreSQL, so every ONU without one stays legal.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("onus", sa.Column("mgmt_address", sa.String(length=15), nullable=True))
    op.create_index(op.f("ix_onus_mgmt_address"), "onus", ["mgmt_address"], unique=True)
    op.add_column("schools", sa.Column("address", sa.String(length=15), nullable=True))
    op.create_index(op.f("ix_schools_address"), "schools", ["address"], unique=True)


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35), for the same reason: no table rebuild under the tablets.
    op.drop_index(op.f("ix_schools_address"), table_name="schools")
    op.drop_column("schools", "address")
    op.drop_index(op.f("ix_onus_mgmt_address"), table_name="onus")
    op.drop_column("onus", "mgmt_address")
