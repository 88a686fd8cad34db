"""memberships

Membership plans, fee schedules per plan and year, memberships, their payments and invoices
(numbered from a per-year counter row). On
PostgreSQL an exclusion constraint keeps one member's periods from overlapping.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 16:14:41.435852
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

# The periods of one member never overlap (cancelled ones included: a cancellation keeps its
# period). btree_gist lets the GiST index compare the member's uuid with "=".
EXCLUSION = (
    "ALTER TABLE memberships ADD CONSTRAINT ex_memberships_member_period EXCLUDE USING gist "
    "(member_id WITH =, daterange(start_date, end_date, '[]') WITH &&)"
)


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "membership_plans",
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("period_type", sa.String(length=20), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("late_join_policy", sa.String(length=30), nullable=False),
        sa.Column("late_join_month", sa.Integer(), nullable=True),
        sa.Column("benefits", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_plans")),
        sa.UniqueConstraint("code", name=op.f("uq_membership_plans_code")),
    )
    with op.batch_alter_table("membership_plans", schema=None) as batch_op:
        batch_op.create_index(
            "ix_membership_plans_created_at_id", ["created_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_membership_plans_updated_at"), ["updated_at"], unique=False
        )
        batch_op.create_index(
            "ix_membership_plans_updated_at_id", ["updated_at", "id"], unique=False
        )

    op.create_table(
        "fee_schedules",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("floor_cents", sa.Integer(), nullable=True),
        sa.Column("cap_cents", sa.Integer(), nullable=True),
        sa.Column("exemptions", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["membership_plans.id"],
            name=op.f("fk_fee_schedules_plan_id_membership_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_schedules")),
        sa.UniqueConstraint("plan_id", "year", name=op.f("uq_fee_schedules_plan_id_year")),
    )
    with op.batch_alter_table("fee_schedules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fee_schedules_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "membership_campaigns",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_campaigns")),
        sa.UniqueConstraint("year", name=op.f("uq_membership_campaigns_year")),
    )
    with op.batch_alter_table("membership_campaigns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_membership_campaigns_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "memberships",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("grace_until", sa.Date(), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("cancelled_on", sa.Date(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("fee_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("schedule_fee_cents", sa.Integer(), nullable=False),
        sa.Column("fee_basis", sa.JSON(), nullable=False),
        sa.Column("fee_override_reason", sa.String(length=500), nullable=True),
        sa.Column("declared_turnover_cents", sa.BigInteger(), nullable=True),
        sa.Column("exemption", sa.String(length=50), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("renewal_of_id", sa.Uuid(), nullable=True),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_memberships_period")),
        sa.CheckConstraint("fee_cents >= 0", name=op.f("ck_memberships_fee")),
        sa.CheckConstraint("grace_until >= end_date", name=op.f("ck_memberships_grace")),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_memberships_member_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["membership_plans.id"],
            name=op.f("fk_memberships_plan_id_membership_plans"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["membership_campaigns.id"],
            name=op.f("fk_memberships_campaign_id_membership_campaigns"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["renewal_of_id"],
            ["memberships.id"],
            name=op.f("fk_memberships_renewal_of_id_memberships"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint("external_id", name=op.f("uq_memberships_external_id")),
        sa.UniqueConstraint("renewal_of_id", name=op.f("uq_memberships_renewal_of_id")),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_memberships_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index("ix_memberships_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_memberships_end_date_id", ["end_date", "id"], unique=False)
        batch_op.create_index(
            "ix_memberships_member_id_start_date",
            ["member_id", "start_date", "grace_until"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_memberships_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(
            "ix_memberships_start_date_end_date", ["start_date", "end_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_memberships_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index("ix_memberships_updated_at_id", ["updated_at", "id"], unique=False)

    if _on_postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(EXCLUSION)

    op.create_table(
        "membership_payments",
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_cents <> 0", name=op.f("ck_membership_payments_amount")),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_membership_payments_membership_id_memberships"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_payments")),
    )
    with op.batch_alter_table("membership_payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_membership_payments_created_at_id", ["created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_membership_payments_membership_id_paid_on",
            ["membership_id", "paid_on"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_membership_payments_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "invoice_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_invoice_counters")),
    )
    op.create_table(
        "invoices",
        sa.Column("number", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("credited_invoice_id", sa.Uuid(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_excl_tax_cents", sa.Integer(), nullable=False),
        sa.Column("vat_cents", sa.Integer(), nullable=False),
        sa.Column("total_incl_tax_cents", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credited_invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoices_credited_invoice_id_invoices"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_invoices_membership_id_memberships"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("credited_invoice_id", name=op.f("uq_invoices_credited_invoice_id")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
        sa.UniqueConstraint("year", "sequence", name=op.f("uq_invoices_year_sequence")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index("ix_invoices_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_invoices_membership_id"), ["membership_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_invoices_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_updated_at"))
        batch_op.drop_index(batch_op.f("ix_invoices_membership_id"))
        batch_op.drop_index("ix_invoices_created_at_id")

    op.drop_table("invoices")
    op.drop_table("invoice_counters")

    with op.batch_alter_table("membership_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_payments_updated_at"))
        batch_op.drop_index("ix_membership_payments_membership_id_paid_on")
        batch_op.drop_index("ix_membership_payments_created_at_id")

    op.drop_table("membership_payments")
    if _on_postgresql():
        op.execute("ALTER TABLE memberships DROP CONSTRAINT ex_memberships_member_period")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_campaign_id"))
        batch_op.drop_index("ix_memberships_updated_at_id")
        batch_op.drop_index(batch_op.f("ix_memberships_updated_at"))
        batch_op.drop_index("ix_memberships_start_date_end_date")
        batch_op.drop_index(batch_op.f("ix_memberships_plan_id"))
        batch_op.drop_index("ix_memberships_member_id_start_date")
        batch_op.drop_index("ix_memberships_end_date_id")
        batch_op.drop_index("ix_memberships_created_at_id")

    op.drop_table("memberships")
    with op.batch_alter_table("membership_campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_campaigns_updated_at"))

    op.drop_table("membership_campaigns")
    with op.batch_alter_table("fee_schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fee_schedules_updated_at"))

    op.drop_table("fee_schedules")
    with op.batch_alter_table("membership_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_membership_plans_updated_at_id")
        batch_op.drop_index(batch_op.f("ix_membership_plans_updated_at"))
        batch_op.drop_index("ix_membership_plans_created_at_id")

    op.drop_table("membership_plans")
