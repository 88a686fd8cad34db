"""Collaborative R&D projects: team, domains, transitions, submissions, partners, interactions.

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-29 19:04:31.076191
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("acronym", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("trl_start", sa.Integer(), nullable=True),
        sa.Column("trl_target", sa.Integer(), nullable=True),
        sa.Column("duration_months", sa.Integer(), nullable=True),
        sa.Column("total_budget_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("follower_id", sa.Uuid(), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("state_since", sa.Date(), nullable=False),
        sa.Column("products_launched", sa.Integer(), nullable=True),
        sa.Column("patents_filed", sa.Integer(), nullable=True),
        sa.Column("jobs_created", sa.Integer(), nullable=True),
        sa.Column("follow_on_funding_cents", sa.BigInteger(), nullable=True),
        sa.Column("results_notes", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["users.id"],
            name=op.f("fk_projects_follower_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("external_id", name=op.f("uq_projects_external_id")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index("ix_projects_acronym_id", ["acronym", "id"], unique=False)
        batch_op.create_index("ix_projects_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_projects_follower_id", ["follower_id"], unique=False)
        batch_op.create_index("ix_projects_state", ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_projects_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index("ix_projects_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "project_domains",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("domain_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_project_domains_domain_id_domains"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_domains_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "domain_id", name=op.f("pk_project_domains")),
    )
    with op.batch_alter_table("project_domains", schema=None) as batch_op:
        batch_op.create_index("ix_project_domains_domain_id", ["domain_id"], unique=False)

    op.create_table(
        "project_interactions",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_project_interactions_interaction_id_interactions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_interactions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "interaction_id", name=op.f("pk_project_interactions")
        ),
    )
    with op.batch_alter_table("project_interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_project_interactions_interaction_id", ["interaction_id"], unique=False
        )

    op.create_table(
        "project_partners",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_name", sa.String(length=200), nullable=True),
        sa.Column("siren", sa.String(length=9), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("budget_cents", sa.BigInteger(), nullable=True),
        sa.Column("aid_requested_cents", sa.BigInteger(), nullable=True),
        sa.Column("aid_obtained_cents", sa.BigInteger(), nullable=True),
        sa.Column("aid_form", sa.String(length=20), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_project_partners_member_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_partners_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_partners")),
    )
    with op.batch_alter_table("project_partners", schema=None) as batch_op:
        batch_op.create_index("ix_project_partners_member_id", ["member_id"], unique=False)
        batch_op.create_index("ix_project_partners_project_id", ["project_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_project_partners_updated_at"), ["updated_at"], unique=False
        )
        batch_op.create_index(
            "uq_project_partners_coordinator",
            ["project_id"],
            unique=True,
            sqlite_where=sa.text("role = 'coordinator'"),
            postgresql_where=sa.text("role = 'coordinator'"),
        )
        batch_op.create_index(
            "uq_project_partners_project_id_member_id", ["project_id", "member_id"], unique=True
        )

    op.create_table(
        "project_staff",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_staff_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_project_staff_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_project_staff")),
    )
    with op.batch_alter_table("project_staff", schema=None) as batch_op:
        batch_op.create_index("ix_project_staff_user_id", ["user_id"], unique=False)

    op.create_table(
        "project_submissions",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("programme", sa.String(length=30), nullable=False),
        sa.Column("call_name", sa.String(length=200), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("label_decision", sa.String(length=20), nullable=False),
        sa.Column("label_decided_on", sa.Date(), nullable=True),
        sa.Column("label_decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("label_note", sa.String(length=1000), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("requested_cents", sa.BigInteger(), nullable=True),
        sa.Column("obtained_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["label_decided_by_id"],
            ["users.id"],
            name=op.f("fk_project_submissions_label_decided_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_submissions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_submissions")),
    )
    with op.batch_alter_table("project_submissions", schema=None) as batch_op:
        batch_op.create_index("ix_project_submissions_programme", ["programme"], unique=False)
        batch_op.create_index("ix_project_submissions_project_id", ["project_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_project_submissions_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "project_transitions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("from_state", sa.String(length=30), nullable=False),
        sa.Column("to_state", sa.String(length=30), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by_user_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["by_user_id"],
            ["users.id"],
            name=op.f("fk_project_transitions_by_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_transitions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_transitions")),
    )
    with op.batch_alter_table("project_transitions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_project_transitions_project_id_at", ["project_id", "at"], unique=False
        )

    if _on_postgresql():
        op.create_index(
            "ix_projects_search_text_trgm",
            "projects",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def downgrade() -> None:
    if _on_postgresql():
        op.drop_index("ix_projects_search_text_trgm", table_name="projects")
    with op.batch_alter_table("project_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_project_transitions_project_id_at")

    op.drop_table("project_transitions")
    with op.batch_alter_table("project_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_submissions_updated_at"))
        batch_op.drop_index("ix_project_submissions_project_id")
        batch_op.drop_index("ix_project_submissions_programme")

    op.drop_table("project_submissions")
    with op.batch_alter_table("project_staff", schema=None) as batch_op:
        batch_op.drop_index("ix_project_staff_user_id")

    op.drop_table("project_staff")
    with op.batch_alter_table("project_partners", schema=None) as batch_op:
        batch_op.drop_index("uq_project_partners_project_id_member_id")
        batch_op.drop_index(
            "uq_project_partners_coordinator",
            sqlite_where=sa.text("role = 'coordinator'"),
            postgresql_where=sa.text("role = 'coordinator'"),
        )
        batch_op.drop_index(batch_op.f("ix_project_partners_updated_at"))
        batch_op.drop_index("ix_project_partners_project_id")
        batch_op.drop_index("ix_project_partners_member_id")

    op.drop_table("project_partners")
    with op.batch_alter_table("project_interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_project_interactions_interaction_id")

    op.drop_table("project_interactions")
    with op.batch_alter_table("project_domains", schema=None) as batch_op:
        batch_op.drop_index("ix_project_domains_domain_id")

    op.drop_table("project_domains")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index("ix_projects_updated_at_id")
        batch_op.drop_index(batch_op.f("ix_projects_updated_at"))
        batch_op.drop_index("ix_projects_state")
        batch_op.drop_index("ix_projects_follower_id")
        batch_op.drop_index("ix_projects_created_at_id")
        batch_op.drop_index("ix_projects_acronym_id")

    op.drop_table("projects")
