"""The optical distribution network: splitters (first and second stage, in cabinets) under PON ports, the
drop (``onus.splitter_id``: which splitter feeds a home's ONU), and the incident kind ``splitter_cut`` with
the splitter and cabinet it names.

``onus.splitter_id`` and its reference are added in batch mode: SQLite rebuilds ``onus`` (no table refers to it).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# spelled out, as a migration must (the models' list may grow in a later revision)
KINDS = "kind IN ('feeder_cut', 'power_outage', 'olt_unreachable', 'line_fault', 'splitter_cut')"
OLD_KINDS = "kind IN ('feeder_cut', 'power_outage', 'olt_unreachable', 'line_fault')"


def upgrade() -> None:
    op.create_table(
        "splitters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("pon_port_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("ratio", sa.Integer(), nullable=False),
        sa.Column("cabinet", sa.String(length=64), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.CheckConstraint("stage IN (1, 2)", name=op.f("ck_splitters_stage")),
        sa.CheckConstraint("ratio >= 2 AND ratio <= 128", name=op.f("ck_splitters_ratio")),
        sa.ForeignKeyConstraint(["pon_port_id"], ["pon_ports.id"], name=op.f("fk_splitters_pon_port_id_pon_ports")),
        sa.ForeignKeyConstraint(["parent_id"], ["splitters.id"], name=op.f("fk_splitters_parent_id_splitters")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_splitters")),
        sa.UniqueConstraint("name", name=op.f("uq_splitters_name")),
    )
    op.create_index(op.f("ix_splitters_pon_port_id"), "splitters", ["pon_port_id"], unique=False)
    op.create_index(op.f("ix_splitters_parent_id"), "splitters", ["parent_id"], unique=False)
    with op.batch_alter_table("onus") as batch:  # SQLite adds a reference only by a rebuild (nothing refers to onus)
        batch.add_column(sa.Column("splitter_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_onus_splitter_id_splitters"), "splitters", ["splitter_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index(op.f("ix_onus_splitter_id"), ["splitter_id"], unique=False)
    op.add_column("incidents", sa.Column("splitter", sa.String(length=64), nullable=True))
    op.add_column("incidents", sa.Column("cabinet", sa.String(length=64), nullable=True))
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint(op.f("ck_incidents_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_incidents_kind"), KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM incidents WHERE kind = 'splitter_cut'")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint(op.f("ck_incidents_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_incidents_kind"), OLD_KINDS)
        batch.drop_column("cabinet")
        batch.drop_column("splitter")
    with op.batch_alter_table("onus") as batch:  # SQLite drops a referencing column only by a rebuild
        batch.drop_index(op.f("ix_onus_splitter_id"))
        batch.drop_constraint(op.f("fk_onus_splitter_id_splitters"), type_="foreignkey")
        batch.drop_column("splitter_id")
    op.drop_index(op.f("ix_splitters_parent_id"), table_name="splitters")
    op.drop_index(op.f("ix_splitters_pon_port_id"), table_name="splitters")
    op.drop_table("splitters")
