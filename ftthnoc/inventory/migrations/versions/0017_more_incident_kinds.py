"""Incident kinds an operator sees first (issue #11): board_down, pon_port_down, uplink_down, rogue_onu and
service_down; the CHECK on incidents.kind lists them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# spelled out, as a migration must (the models' list may grow in a later revision)
NEW = ("board_down", "pon_port_down", "uplink_down", "rogue_onu", "service_down")
OLD = ("feeder_cut", "power_outage", "olt_unreachable", "line_fault", "splitter_cut")
KINDS = "kind IN (" + ", ".join(f"'{k}'" for k in (*OLD, *NEW)) + ")"
OLD_KINDS = "kind IN (" + ", ".join(f"'{k}'" for k in OLD) + ")"


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint(op.f("ck_incidents_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_incidents_kind"), KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM incidents WHERE kind IN (" + ", ".join(f"'{k}'" for k in NEW) + ")")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint(op.f("ck_incidents_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_incidents_kind"), OLD_KINDS)
