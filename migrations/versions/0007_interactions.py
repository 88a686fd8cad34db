"""Interactions: touchpoints and services, their members, contacts and staff users.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 17:16:38.419999
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "interactions",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("minutes_spent", sa.Integer(), nullable=True),
        sa.Column("occurred_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("follow_up_due", sa.Date(), nullable=True),
        sa.Column("follow_up_assignee_id", sa.Uuid(), nullable=True),
        sa.Column("follow_up_done", sa.Boolean(), nullable=False),
        sa.Column("follow_up_done_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("archived_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("archive_reason", sa.String(length=500), nullable=True),
        sa.Column("restored_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("restore_reason", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_assignee_id"],
            ["users.id"],
            name=op.f("fk_interactions_follow_up_assignee_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_interactions_owner_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
        sa.UniqueConstraint("external_id", name=op.f("uq_interactions_external_id")),
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interactions_archived_at"), ["archived_at"], unique=False
        )
        batch_op.create_index("ix_interactions_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_interactions_follow_up_assignee_id", ["follow_up_assignee_id"], unique=False
        )
        batch_op.create_index("ix_interactions_occurred_at_id", ["occurred_at", "id"], unique=False)
        batch_op.create_index("ix_interactions_owner_id", ["owner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_interactions_updated_at"), ["updated_at"], unique=False
        )
        batch_op.create_index("ix_interactions_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "interaction_contacts",
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_interaction_contacts_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_interaction_contacts_interaction_id_interactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "interaction_id", "contact_id", name=op.f("pk_interaction_contacts")
        ),
    )
    with op.batch_alter_table("interaction_contacts", schema=None) as batch_op:
        batch_op.create_index("ix_interaction_contacts_contact_id", ["contact_id"], unique=False)

    op.create_table(
        "interaction_members",
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_interaction_members_interaction_id_interactions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_interaction_members_member_id_members"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("interaction_id", "member_id", name=op.f("pk_interaction_members")),
    )
    with op.batch_alter_table("interaction_members", schema=None) as batch_op:
        batch_op.create_index("ix_interaction_members_member_id", ["member_id"], unique=False)

    op.create_table(
        "interaction_participants",
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_interaction_participants_interaction_id_interactions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_interaction_participants_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "interaction_id", "user_id", name=op.f("pk_interaction_participants")
        ),
    )
    with op.batch_alter_table("interaction_participants", schema=None) as batch_op:
        batch_op.create_index("ix_interaction_participants_user_id", ["user_id"], unique=False)

    if _on_postgresql():
        op.create_index(
            "ix_interactions_search_text_trgm",
            "interactions",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def downgrade() -> None:
    if _on_postgresql():
        op.drop_index("ix_interactions_search_text_trgm", table_name="interactions")
    with op.batch_alter_table("interaction_participants", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_participants_user_id")

    op.drop_table("interaction_participants")
    with op.batch_alter_table("interaction_members", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_members_member_id")

    op.drop_table("interaction_members")
    with op.batch_alter_table("interaction_contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_contacts_contact_id")

    op.drop_table("interaction_contacts")
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_updated_at_id")
        batch_op.drop_index(batch_op.f("ix_interactions_updated_at"))
        batch_op.drop_index("ix_interactions_owner_id")
        batch_op.drop_index("ix_interactions_occurred_at_id")
        batch_op.drop_index("ix_interactions_follow_up_assignee_id")
        batch_op.drop_index("ix_interactions_created_at_id")
        batch_op.drop_index(batch_op.f("ix_interactions_archived_at"))

    op.drop_table("interactions")
