"""Events and registrations: capacity, waiting list, check-in.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 19:04:43.620923
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("venue", sa.String(length=300), nullable=True),
        sa.Column("online_url", sa.String(length=500), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("registration_opens_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("registration_closes_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("members_only", sa.Boolean(), nullable=False),
        sa.Column("member_price_cents", sa.Integer(), nullable=False),
        sa.Column("non_member_price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("co_funders", sa.JSON(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("cancelled_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("completed_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("archived_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("archive_reason", sa.String(length=500), nullable=True),
        sa.Column("restored_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("restore_reason", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name=op.f("ck_events_capacity")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_events_period")),
        sa.CheckConstraint(
            "member_price_cents >= 0 AND non_member_price_cents >= 0", name=op.f("ck_events_prices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("external_id", name=op.f("uq_events_external_id")),
    )
    op.create_index(op.f("ix_events_archived_at"), "events", ["archived_at"], unique=False)
    op.create_index("ix_events_created_at_id", "events", ["created_at", "id"], unique=False)
    if _on_postgresql():
        op.create_index(
            "ix_events_search_text_trgm",
            "events",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
    op.create_index("ix_events_starts_at_id", "events", ["starts_at", "id"], unique=False)
    op.create_index("ix_events_status", "events", ["status"], unique=False)
    op.create_index(op.f("ix_events_updated_at"), "events", ["updated_at"], unique=False)
    op.create_index("ix_events_updated_at_id", "events", ["updated_at", "id"], unique=False)
    op.create_table(
        "event_domains",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("domain_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_event_domains_domain_id_domains"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_domains_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "domain_id", name=op.f("pk_event_domains")),
    )
    op.create_index("ix_event_domains_domain_id", "event_domains", ["domain_id"], unique=False)
    op.create_table(
        "event_organisers",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_organisers_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_event_organisers_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("event_id", "user_id", name=op.f("pk_event_organisers")),
    )
    op.create_index("ix_event_organisers_user_id", "event_organisers", ["user_id"], unique=False)
    op.create_table(
        "registrations",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("guest_name", sa.String(length=200), nullable=True),
        sa.Column("guest_email", sa.String(length=254), nullable=True),
        sa.Column("guest_organisation", sa.String(length=200), nullable=True),
        sa.Column("guest_category", sa.String(length=30), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("registered_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_in_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("promoted_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("waitlist_number", sa.Integer(), nullable=True),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("price_basis", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "contact_id IS NOT NULL OR guest_name IS NOT NULL",
            name=op.f("ck_registrations_contact_or_guest"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_registrations_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_registrations_event_id_events"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_registrations_member_id_members"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
    )
    op.create_index("ix_registrations_contact_id", "registrations", ["contact_id"], unique=False)
    op.create_index(
        "ix_registrations_created_at_id", "registrations", ["created_at", "id"], unique=False
    )
    op.create_index(
        "ix_registrations_event_id_registered_at",
        "registrations",
        ["event_id", "registered_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_registrations_event_id_status", "registrations", ["event_id", "status"], unique=False
    )
    op.create_index("ix_registrations_member_id", "registrations", ["member_id"], unique=False)
    op.create_index(
        "ix_registrations_registered_at_id", "registrations", ["registered_at", "id"], unique=False
    )
    op.create_index(
        op.f("ix_registrations_updated_at"), "registrations", ["updated_at"], unique=False
    )
    op.create_index(
        "ix_registrations_updated_at_id", "registrations", ["updated_at", "id"], unique=False
    )
    op.create_index(
        "uq_registrations_event_id_contact_id",
        "registrations",
        ["event_id", "contact_id"],
        unique=True,
        sqlite_where=sa.text("status <> 'cancelled'"),
        postgresql_where=sa.text("status <> 'cancelled'"),
    )
    op.create_index(
        "uq_registrations_event_id_guest_email",
        "registrations",
        ["event_id", "guest_email"],
        unique=True,
        sqlite_where=sa.text("status <> 'cancelled'"),
        postgresql_where=sa.text("status <> 'cancelled'"),
    )
    op.create_index(
        "uq_registrations_event_id_waitlist_number",
        "registrations",
        ["event_id", "waitlist_number"],
        unique=True,
    )


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def downgrade() -> None:
    op.drop_index("uq_registrations_event_id_waitlist_number", table_name="registrations")
    op.drop_index(
        "uq_registrations_event_id_guest_email",
        table_name="registrations",
        sqlite_where=sa.text("status <> 'cancelled'"),
        postgresql_where=sa.text("status <> 'cancelled'"),
    )
    op.drop_index(
        "uq_registrations_event_id_contact_id",
        table_name="registrations",
        sqlite_where=sa.text("status <> 'cancelled'"),
        postgresql_where=sa.text("status <> 'cancelled'"),
    )
    op.drop_index("ix_registrations_updated_at_id", table_name="registrations")
    op.drop_index(op.f("ix_registrations_updated_at"), table_name="registrations")
    op.drop_index("ix_registrations_registered_at_id", table_name="registrations")
    op.drop_index("ix_registrations_member_id", table_name="registrations")
    op.drop_index("ix_registrations_event_id_status", table_name="registrations")
    op.drop_index("ix_registrations_event_id_registered_at", table_name="registrations")
    op.drop_index("ix_registrations_created_at_id", table_name="registrations")
    op.drop_index("ix_registrations_contact_id", table_name="registrations")
    op.drop_table("registrations")
    op.drop_index("ix_event_organisers_user_id", table_name="event_organisers")
    op.drop_table("event_organisers")
    op.drop_index("ix_event_domains_domain_id", table_name="event_domains")
    op.drop_table("event_domains")
    op.drop_index("ix_events_updated_at_id", table_name="events")
    op.drop_index(op.f("ix_events_updated_at"), table_name="events")
    op.drop_index("ix_events_status", table_name="events")
    op.drop_index("ix_events_starts_at_id", table_name="events")
    if _on_postgresql():
        op.drop_index("ix_events_search_text_trgm", table_name="events")
    op.drop_index("ix_events_created_at_id", table_name="events")
    op.drop_index(op.f("ix_events_archived_at"), table_name="events")
    op.drop_table("events")
