"""members and contacts

Members, the domain vocabulary (seeded), contacts and their affiliations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 04:08:25.489493
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    if _on_postgresql():
        # Trigram indexes make the substring search of `q` (LIKE '%...%') use an index.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "contacts",
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phones", sa.JSON(), nullable=False),
        sa.Column("preferred_language", sa.String(length=8), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("archived_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("archive_reason", sa.String(length=500), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column(
            "sort_name",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("external_id", name=op.f("uq_contacts_external_id")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_archived_at"), ["archived_at"], unique=False)
        batch_op.create_index("ix_contacts_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_contacts_sort_name_id", ["sort_name", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index("ix_contacts_updated_at_id", ["updated_at", "id"], unique=False)
        batch_op.create_index(
            "uq_contacts_email",
            ["email"],
            unique=True,
            sqlite_where=sa.text("archived_at IS NULL"),
            postgresql_where=sa.text("archived_at IS NULL"),
        )

    op.create_table(
        "domains",
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domains")),
        sa.UniqueConstraint("code", name=op.f("uq_domains_code")),
    )
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_domains_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "members",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=True),
        sa.Column("siret", sa.String(length=14), nullable=True),
        sa.Column("vat_number", sa.String(length=20), nullable=True),
        sa.Column("headcount_band", sa.String(length=2), nullable=True),
        sa.Column("year_founded", sa.Integer(), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("street", sa.String(length=300), nullable=True),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("departement", sa.String(length=3), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("archived_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("archive_reason", sa.String(length=500), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column(
            "sort_name",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["members.id"],
            name=op.f("fk_members_parent_id_members"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("external_id", name=op.f("uq_members_external_id")),
        sa.UniqueConstraint("siren", name=op.f("uq_members_siren")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_archived_at"), ["archived_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_category"), ["category"], unique=False)
        batch_op.create_index("ix_members_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_departement"), ["departement"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index("ix_members_sort_name_id", ["sort_name", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index("ix_members_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "affiliations",
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_affiliations_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_affiliations_member_id_members"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliations")),
        sa.UniqueConstraint(
            "contact_id", "member_id", name=op.f("uq_affiliations_contact_id_member_id")
        ),
    )
    with op.batch_alter_table("affiliations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_affiliations_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_affiliations_updated_at"), ["updated_at"], unique=False
        )
        batch_op.create_index(
            "uq_affiliations_contact_id",
            ["contact_id"],
            unique=True,
            sqlite_where=sa.text("is_primary"),
            postgresql_where=sa.text("is_primary"),
        )

    op.create_table(
        "member_domains",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("domain_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_member_domains_domain_id_domains"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_domains_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "domain_id", name=op.f("pk_member_domains")),
    )
    with op.batch_alter_table("member_domains", schema=None) as batch_op:
        batch_op.create_index("ix_member_domains_domain_id", ["domain_id"], unique=False)

    if _on_postgresql():
        for table in ("members", "contacts"):
            op.create_index(
                f"ix_{table}_search_text_trgm",
                table,
                ["search_text"],
                unique=False,
                postgresql_using="gin",
                postgresql_ops={"search_text": "gin_trgm_ops"},
            )
    _seed_domains()


SEED_DOMAINS = [
    ("diagnostics", "Diagnostics"),
    ("therapeutics", "Therapeutics"),
    ("medical_devices", "Medical devices"),
    ("imaging", "Medical imaging"),
    ("digital_health", "Digital health"),
    ("biotech", "Biotechnology"),
    ("artificial_intelligence", "Artificial intelligence in health"),
    ("telemedicine", "E-health and telemedicine"),
    ("silver_economy", "Silver economy and ageing"),
    ("nutrition_health", "Nutrition and health"),
]


def _seed_domains() -> None:
    """The starting vocabulary; admins add to it through the API."""
    domains = sa.table(
        "domains",
        sa.column("id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("label", sa.String()),
        sa.column("is_active", sa.Boolean()),
        sa.column("created_at", models.types.UTCDateTime(timezone=True)),
        sa.column("updated_at", models.types.UTCDateTime(timezone=True)),
        sa.column("version", sa.Integer()),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        domains,
        [
            {
                "id": uuid.uuid4(),
                "code": code,
                "label": label,
                "is_active": True,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for code, label in SEED_DOMAINS
        ],
    )


def downgrade() -> None:
    if _on_postgresql():
        op.drop_index("ix_contacts_search_text_trgm", table_name="contacts")
        op.drop_index("ix_members_search_text_trgm", table_name="members")
    with op.batch_alter_table("member_domains", schema=None) as batch_op:
        batch_op.drop_index("ix_member_domains_domain_id")

    op.drop_table("member_domains")
    with op.batch_alter_table("affiliations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_affiliations_contact_id",
            sqlite_where=sa.text("is_primary"),
            postgresql_where=sa.text("is_primary"),
        )
        batch_op.drop_index(batch_op.f("ix_affiliations_updated_at"))
        batch_op.drop_index(batch_op.f("ix_affiliations_member_id"))

    op.drop_table("affiliations")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_updated_at_id")
        batch_op.drop_index(batch_op.f("ix_members_updated_at"))
        batch_op.drop_index("ix_members_sort_name_id")
        batch_op.drop_index(batch_op.f("ix_members_parent_id"))
        batch_op.drop_index(batch_op.f("ix_members_departement"))
        batch_op.drop_index("ix_members_created_at_id")
        batch_op.drop_index(batch_op.f("ix_members_category"))
        batch_op.drop_index(batch_op.f("ix_members_archived_at"))

    op.drop_table("members")
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_domains_updated_at"))

    op.drop_table("domains")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_contacts_email",
            sqlite_where=sa.text("archived_at IS NULL"),
            postgresql_where=sa.text("archived_at IS NULL"),
        )
        batch_op.drop_index("ix_contacts_updated_at_id")
        batch_op.drop_index(batch_op.f("ix_contacts_updated_at"))
        batch_op.drop_index("ix_contacts_sort_name_id")
        batch_op.drop_index("ix_contacts_created_at_id")
        batch_op.drop_index(batch_op.f("ix_contacts_archived_at"))

    op.drop_table("contacts")
