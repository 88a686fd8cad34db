"""Members and contacts remember when and why they were last restored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 05:49:08.346252
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("restored_at", models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("restore_reason", sa.String(length=500), nullable=True))

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("restored_at", models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("restore_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("restore_reason")
        batch_op.drop_column("restored_at")

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("restore_reason")
        batch_op.drop_column("restored_at")
