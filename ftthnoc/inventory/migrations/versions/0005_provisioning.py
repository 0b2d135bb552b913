"""Provisioning: where the OLTs' and school routers' command lines are, tablets' life cycle, enrolment
runs, and the outcome of audited device changes.

Columns are added in place (no table rebuild on SQLite, see 0003); the tablet status's allowed values
are checked by the model, not by a constraint, for the same reason.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("olts", sa.Column("cli_address", sa.String(length=255), nullable=True))
    op.add_column("olts", sa.Column("cli_auth", sa.String(length=64), nullable=True))
    op.add_column("schools", sa.Column("router_address", sa.String(length=255), nullable=True))
    op.add_column("schools", sa.Column("router_platform", sa.String(length=32), nullable=True))
    op.add_column("schools", sa.Column("router_auth", sa.String(length=64), nullable=True))
    op.add_column("schools", sa.Column("dhcp_scope", sa.Integer(), nullable=True))
    op.add_column(
        "tablets", sa.Column("status", sa.String(length=16), nullable=False, server_default="active")
    )
    op.add_column("audit_entries", sa.Column("outcome", sa.String(length=300), nullable=True))
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "running", "done", "noop", "failed", "attention",
                name="enrolment_state", native_enum=False, create_constraint=True, length=16,
            ),
            nullable=False,
        ),
        sa.Column("serial", sa.String(length=32), nullable=True),
        sa.Column("olt", sa.String(length=64), nullable=True),
        sa.Column("pon_port", sa.String(length=16), nullable=True),
        sa.Column("ont_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("rx_dbm", sa.Double(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("audit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audit_entries.id"], name=op.f("fk_enrolments_audit_id_audit_entries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_enrolments_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
    )  # fmt: skip
    op.create_index(op.f("ix_enrolments_household_id"), "enrolments", ["household_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_enrolments_household_id"), table_name="enrolments")
    op.drop_table("enrolments")
    op.drop_column("audit_entries", "outcome")
    op.drop_column("tablets", "status")
    for column in ("dhcp_scope", "router_auth", "router_platform", "router_address"):
        op.drop_column("schools", column)
    op.drop_column("olts", "cli_auth")
    op.drop_column("olts", "cli_address")
