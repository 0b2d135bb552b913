"""Incidents: correlated outages (feeder cuts, power cuts) and the households each one affected.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Registers the incident tables on the inventory's Base.metadata wherever the migrations are loaded
# (env.py's autogenerate, ``db.upgrade``, ``db.head_revision``), so that schema-vs-models comparisons see
# them; env.py itself imports only the inventory's own models. The tables below are spelled out in full,
# as a migration must: later model changes need their own revision.
import ftthnoc.incidents.models  # noqa: F401

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("district", sa.String(length=32), nullable=False),
        sa.Column("olt", sa.String(length=64), nullable=True),
        sa.Column("pon_port", sa.String(length=16), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("affected_count", sa.Integer(), nullable=False),
        sa.Column("onu_count", sa.Integer(), nullable=False),
        sa.Column("reportable", sa.Boolean(), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.CheckConstraint("kind IN ('feeder_cut', 'power_outage')", name=op.f("ck_incidents_kind")),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_incidents_status")),
        sa.CheckConstraint("affected_count >= 0", name=op.f("ck_incidents_affected_count_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(op.f("ix_incidents_district"), "incidents", ["district"])
    op.create_index(op.f("ix_incidents_started_at"), "incidents", ["started_at"])
    op.create_index(op.f("ix_incidents_status"), "incidents", ["status"])
    op.create_table(
        "incident_households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("olt", sa.String(length=64), nullable=False),
        sa.Column("pon_port", sa.String(length=16), nullable=False),
        sa.Column("onu_id", sa.String(length=16), nullable=False),
        sa.Column("household", sa.String(length=32), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_households_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_households")),
        sa.UniqueConstraint(
            "incident_id",
            "olt",
            "pon_port",
            "onu_id",
            name=op.f("uq_incident_households_incident_id_olt_pon_port_onu_id"),
        ),
    )
    op.create_index(op.f("ix_incident_households_household"), "incident_households", ["household"])
    op.create_index(op.f("ix_incident_households_incident_id"), "incident_households", ["incident_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_incident_households_incident_id"), table_name="incident_households")
    op.drop_index(op.f("ix_incident_households_household"), table_name="incident_households")
    op.drop_table("incident_households")
    op.drop_index(op.f("ix_incidents_status"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_started_at"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_district"), table_name="incidents")
    op.drop_table("incidents")
