"""Initial inventory schema: districts, OLTs, PON ports, ONUs, households (+ contacts apart), schools,
tablets, BWA stations, VPN gateways and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index(op.f("ix_audit_entries_at"), "audit_entries", ["at"])
    op.create_table(
        "districts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.CheckConstraint("households >= 0", name=op.f("ck_districts_households_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_districts")),
        sa.UniqueConstraint("code", name=op.f("uq_districts_code")),
    )
    op.create_table(
        "vpn_gateways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("vendor", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("auth", sa.String(length=64), nullable=False),
        sa.Column("modules", sa.JSON(), nullable=False),
        sa.Column("licence_sessions", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "licence_sessions >= 0", name=op.f("ck_vpn_gateways_licence_sessions_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vpn_gateways")),
        sa.UniqueConstraint("name", name=op.f("uq_vpn_gateways_name")),
    )
    op.create_table(
        "bwa_stations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("auth", sa.String(length=64), nullable=False),
        sa.Column("modules", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_bwa_stations_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bwa_stations")),
        sa.UniqueConstraint("name", name=op.f("uq_bwa_stations_name")),
    )
    op.create_index(op.f("ix_bwa_stations_district_id"), "bwa_stations", ["district_id"])
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("plan", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "applied",
                "surveyed",
                "installed",
                "active",
                "suspended",
                "cancelled",
                name="household_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_households_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("code", name=op.f("uq_households_code")),
    )
    op.create_index(op.f("ix_households_district_id"), "households", ["district_id"])
    op.create_table(
        "olts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("vendor", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("pon_class", sa.String(length=8), nullable=False),
        sa.Column("auth", sa.String(length=64), nullable=False),
        sa.Column("modules", sa.JSON(), nullable=False),
        sa.CheckConstraint("pon_class IN ('B+', 'C+', 'XGS', 'PX20')", name=op.f("ck_olts_pon_class")),
        sa.CheckConstraint("vendor IN ('huawei', 'zte')", name=op.f("ck_olts_vendor")),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_olts_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_olts")),
        sa.UniqueConstraint("name", name=op.f("uq_olts_name")),
    )
    op.create_index(op.f("ix_olts_district_id"), "olts", ["district_id"])
    op.create_table(
        "schools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=False),
        sa.CheckConstraint("pupils >= 0", name=op.f("ck_schools_pupils_non_negative")),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_schools_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
        sa.UniqueConstraint("code", name=op.f("uq_schools_code")),
    )
    op.create_index(op.f("ix_schools_district_id"), "schools", ["district_id"])
    op.create_table(
        "household_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_contacts_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_contacts")),
        sa.UniqueConstraint("household_id", name=op.f("uq_household_contacts_household_id")),
    )
    op.create_table(
        "pon_ports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("olt_id", sa.Integer(), nullable=False),
        sa.Column("port", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["olt_id"], ["olts.id"], name=op.f("fk_pon_ports_olt_id_olts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pon_ports")),
        sa.UniqueConstraint("olt_id", "port", name=op.f("uq_pon_ports_olt_id_port")),
    )
    op.create_table(
        "tablets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("asset_no", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=17), nullable=False),
        sa.Column("os", sa.String(length=32), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("class_name", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], name=op.f("fk_tablets_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tablets")),
        sa.UniqueConstraint("mac", name=op.f("uq_tablets_mac")),
        sa.UniqueConstraint("school_id", "asset_no", name=op.f("uq_tablets_school_id_asset_no")),
    )
    op.create_table(
        "onus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=32), nullable=False),
        sa.Column("pon_port_id", sa.Integer(), nullable=False),
        sa.Column("onu_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("onu_id >= 0", name=op.f("ck_onus_onu_id_non_negative")),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_onus_household_id_households"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pon_port_id"], ["pon_ports.id"], name=op.f("fk_onus_pon_port_id_pon_ports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onus")),
        sa.UniqueConstraint("pon_port_id", "onu_id", name=op.f("uq_onus_pon_port_id_onu_id")),
        sa.UniqueConstraint("serial", name=op.f("uq_onus_serial")),
    )
    op.create_index(op.f("ix_onus_household_id"), "onus", ["household_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_onus_household_id"), table_name="onus")
    op.drop_table("onus")
    op.drop_table("tablets")
    op.drop_table("pon_ports")
    op.drop_table("household_contacts")
    op.drop_index(op.f("ix_schools_district_id"), table_name="schools")
    op.drop_table("schools")
    op.drop_index(op.f("ix_olts_district_id"), table_name="olts")
    op.drop_table("olts")
    op.drop_index(op.f("ix_households_district_id"), table_name="households")
    op.drop_table("households")
    op.drop_index(op.f("ix_bwa_stations_district_id"), table_name="bwa_stations")
    op.drop_table("bwa_stations")
    op.drop_table("vpn_gateways")
    op.drop_table("districts")
    op.drop_index(op.f("ix_audit_entries_at"), table_name="audit_entries")
    op.drop_table("audit_entries")
