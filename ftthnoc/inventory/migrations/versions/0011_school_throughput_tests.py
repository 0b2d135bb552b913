"""School throughput tests: each active iperf3 test (download or upload) from a school's probe point to the
town's measurement server, with its measured bits per second or the error that stopped it; the MEXT
bandwidth verdict reads the latest.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "school_throughput_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("server", sa.String(length=128), nullable=False),
        sa.Column("streams", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("bits_per_second", sa.Float(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.CheckConstraint("direction IN ('download', 'upload')", name=op.f("ck_school_throughput_tests_direction")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_throughput_tests")),
    )
    op.create_index("ix_school_throughput_tests_school_started_at", "school_throughput_tests",
                    ["school", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_school_throughput_tests_school_started_at", table_name="school_throughput_tests")
    op.drop_table("school_throughput_tests")
