"""Imports: the files sent to POST /imports/{resource}, their progress and report.

Revision ID: 0012
Revises: 0007
Create Date: 2026-11-29 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("resource", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    with op.batch_alter_table("imports") as batch_op:
        batch_op.create_index(
            "ix_imports_status_heartbeat_at", ["status", "heartbeat_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_imports_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("imports") as batch_op:
        batch_op.drop_index(batch_op.f("ix_imports_updated_at"))
        batch_op.drop_index("ix_imports_status_heartbeat_at")
    op.drop_table("imports")
