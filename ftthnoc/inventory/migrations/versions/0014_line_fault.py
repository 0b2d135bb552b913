"""Incident kind line_fault (a few homes of one PON port dark together): the CHECK on incidents.kind lists it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# spelled out, as a migration must (the models' list may grow in a later revision)
KINDS = "kind IN ('feeder_cut', 'power_outage', 'olt_unreachable', 'line_fault')"
OLD_KINDS = "kind IN ('feeder_cut', 'power_outage', 'olt_unreachable')"


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint(op.f("ck_incidents_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_incidents_kind"), KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM incidents WHERE kind = 'line_fault'")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint(op.f("ck_incidents_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_incidents_kind"), OLD_KINDS)
