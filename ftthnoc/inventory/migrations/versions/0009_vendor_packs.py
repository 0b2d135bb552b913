"""OLT vendors are vendor packs: the CHECK that listed them is dropped, so that a new pack needs no migration.

The importer checks a vendor against the packs ftthnoc ships (``ftthnoc/vendors``) instead.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("olts") as batch:
        batch.drop_constraint(op.f("ck_olts_vendor"), type_="check")


def downgrade() -> None:
    with op.batch_alter_table("olts") as batch:
        batch.create_check_constraint(op.f("ck_olts_vendor"), "vendor IN ('huawei', 'zte')")
