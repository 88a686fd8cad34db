"""Collaborative R&D projects: the consortium, its submissions to funding calls, its lifecycle.

A project is followed by one staff user (``follower_id``) with any number of other staff users
in its team; a confidential project is visible only to that team and admins
(``services/projects``). Its state moves only along ``PROJECT_TRANSITIONS``, each move kept as a
dated ``ProjectTransition`` with the user who made it.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, RecordMixin
from models.members import Domain
from models.types import utcnow


class ProjectState(StrEnum):
    IDEA = "idea"
    CONSORTIUM_BUILDING = "consortium_building"
    LABEL_REQUESTED = "label_requested"
    LABELLED = "labelled"
    REFUSED = "refused"
    SUPPORT_LETTER = "support_letter"
    SUBMITTED = "submitted"
    FUNDED = "funded"
    NOT_FUNDED = "not_funded"
    ABANDONED = "abandoned"
    AGREEMENT_SIGNED = "agreement_signed"
    RUNNING = "running"
    CLOSED = "closed"


S = ProjectState
# The only moves of the lifecycle. A project not funded may be submitted again (with a new label
# request or directly to another call): "a project may be submitted several times".
PROJECT_TRANSITIONS: dict[ProjectState, tuple[ProjectState, ...]] = {
    S.IDEA: (S.CONSORTIUM_BUILDING,),
    S.CONSORTIUM_BUILDING: (S.LABEL_REQUESTED,),
    S.LABEL_REQUESTED: (S.LABELLED, S.REFUSED, S.SUPPORT_LETTER),
    S.LABELLED: (S.SUBMITTED,),
    S.REFUSED: (S.SUBMITTED,),
    S.SUPPORT_LETTER: (S.SUBMITTED,),
    S.SUBMITTED: (S.FUNDED, S.NOT_FUNDED, S.ABANDONED),
    S.FUNDED: (S.AGREEMENT_SIGNED,),
    S.NOT_FUNDED: (S.LABEL_REQUESTED, S.SUBMITTED, S.ABANDONED),
    S.AGREEMENT_SIGNED: (S.RUNNING,),
    S.RUNNING: (S.CLOSED, S.ABANDONED),
    S.CLOSED: (),
    S.ABANDONED: (),
}
# Moves that record the cluster's own label decision: they need the ``projects:label`` scope.
LABEL_STATES = frozenset({S.LABELLED, S.REFUSED, S.SUPPORT_LETTER})


class Programme(StrEnum):
    PSPC_REGIONS = "pspc_regions"
    I_DEMO = "i_demo"
    ANR = "anr"
    HORIZON_EUROPE = "horizon_europe"
    EIC = "eic"
    EUROSTARS = "eurostars"
    REGION = "region"
    BPIFRANCE = "bpifrance"
    OTHER = "other"


class LabelDecision(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    REFUSED = "refused"
    SUPPORT_LETTER = "support_letter"


class SubmissionOutcome(StrEnum):
    PENDING = "pending"
    FUNDED = "funded"
    NOT_FUNDED = "not_funded"
    WITHDRAWN = "withdrawn"


class PartnerRole(StrEnum):
    COORDINATOR = "coordinator"
    PARTNER = "partner"
    SUBCONTRACTOR = "subcontractor"


class AidForm(StrEnum):
    GRANT = "grant"
    REPAYABLE_ADVANCE = "repayable_advance"
    MIXED = "mixed"


project_domains = Table(
    "project_domains",
    Base.metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("domain_id", ForeignKey("domains.id", ondelete="RESTRICT"), primary_key=True),
    Index("ix_project_domains_domain_id", "domain_id"),
)


class Project(RecordMixin, Base):
    """A collaborative R&D project and what it produced once closed."""

    __tablename__ = "projects"

    acronym: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    trl_start: Mapped[int | None] = mapped_column(default=None)
    trl_target: Mapped[int | None] = mapped_column(default=None)
    duration_months: Mapped[int | None] = mapped_column(default=None)
    total_budget_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # Users are deactivated, never deleted, so a follower always exists.
    follower_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    confidential: Mapped[bool] = mapped_column(default=False)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, default=None)
    state: Mapped[str] = mapped_column(String(30), default=ProjectState.IDEA.value)
    state_since: Mapped[date] = mapped_column()
    # Results, once closed.
    products_launched: Mapped[int | None] = mapped_column(default=None)
    patents_filed: Mapped[int | None] = mapped_column(default=None)
    jobs_created: Mapped[int | None] = mapped_column(default=None)
    follow_on_funding_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    results_notes: Mapped[str | None] = mapped_column(Text, default=None)
    # Acronym and title folded by the services, for accent-insensitive ``q``.
    search_text: Mapped[str] = mapped_column(Text, default="")

    domains: Mapped[list[Domain]] = relationship(
        secondary=project_domains, order_by=Domain.code, lazy="raise_on_sql"
    )
    team: Mapped[list["ProjectStaff"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql"
    )
    partners: Mapped[list["ProjectPartner"]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise_on_sql",
        order_by="ProjectPartner.created_at, ProjectPartner.id",
    )
    submissions: Mapped[list["ProjectSubmission"]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise_on_sql",
        order_by="ProjectSubmission.created_at, ProjectSubmission.id",
    )
    transitions: Mapped[list["ProjectTransition"]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise_on_sql",
        order_by="ProjectTransition.at, ProjectTransition.id",
    )

    @property
    def team_ids(self) -> list[uuid.UUID]:
        """The team's user ids, in the order the API lists them (by their text)."""
        return sorted((member.user_id for member in self.team), key=str)

    @property
    def allowed_transitions(self) -> list[str]:
        """The states the project may move to next."""
        return [state.value for state in PROJECT_TRANSITIONS[ProjectState(self.state)]]

    interaction_links: Mapped[list["ProjectInteraction"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql"
    )

    __table_args__ = (
        Index("ix_projects_created_at_id", "created_at", "id"),
        Index("ix_projects_updated_at_id", "updated_at", "id"),
        Index("ix_projects_acronym_id", "acronym", "id"),
        Index("ix_projects_state", "state"),
        Index("ix_projects_follower_id", "follower_id"),
        Index(
            "ix_projects_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )


class ProjectStaff(Base):
    """A staff user of the project's team besides its follower."""

    __tablename__ = "project_staff"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True
    )

    # Visibility of confidential projects looks the team up by user.
    __table_args__ = (Index("ix_project_staff_user_id", "user_id"),)


class ProjectTransition(Base):
    """One move of the lifecycle: from which state to which, on what day, by whom."""

    __tablename__ = "project_transitions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    from_state: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    on: Mapped[date] = mapped_column()
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    note: Mapped[str | None] = mapped_column(String(1000), default=None)

    __table_args__ = (Index("ix_project_transitions_project_id_at", "project_id", "at"),)


class ProjectSubmission(RecordMixin, Base):
    """One submission of the project to a funding call, with its own label decision."""

    __tablename__ = "project_submissions"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    programme: Mapped[str] = mapped_column(String(30))
    call_name: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[date | None] = mapped_column(default=None)
    submitted_on: Mapped[date | None] = mapped_column(default=None)
    label_decision: Mapped[str] = mapped_column(String(20), default=LabelDecision.PENDING.value)
    label_decided_on: Mapped[date | None] = mapped_column(default=None)
    label_decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), default=None
    )
    label_note: Mapped[str | None] = mapped_column(String(1000), default=None)
    decision_date: Mapped[date | None] = mapped_column(default=None)
    requested_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    obtained_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    outcome: Mapped[str] = mapped_column(String(20), default=SubmissionOutcome.PENDING.value)

    __table_args__ = (
        Index("ix_project_submissions_project_id", "project_id"),
        Index("ix_project_submissions_programme", "programme"),
    )


class ProjectPartner(RecordMixin, Base):
    """A member, or an outside organisation, in the consortium.

    ``category`` is the partner's category as it was when the project was submitted (copied
    from the member then), so that later reports do not drift when a company grows.
    """

    __tablename__ = "project_partners"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # A member in a consortium is archived, not deleted.
    member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="RESTRICT"), default=None
    )
    organisation_name: Mapped[str | None] = mapped_column(String(200), default=None)
    siren: Mapped[str | None] = mapped_column(String(9), default=None)
    role: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(30))
    budget_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    aid_requested_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    aid_obtained_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    aid_form: Mapped[str | None] = mapped_column(String(20), default=None)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")

    __table_args__ = (
        Index("ix_project_partners_project_id", "project_id"),
        Index("ix_project_partners_member_id", "member_id"),
        # A member takes part once per project.
        Index("uq_project_partners_project_id_member_id", "project_id", "member_id", unique=True),
        # Exactly one coordinator: the database refuses a second one, even under concurrency.
        Index(
            "uq_project_partners_coordinator",
            "project_id",
            unique=True,
            sqlite_where=text("role = 'coordinator'"),
            postgresql_where=text("role = 'coordinator'"),
        ),
    )


class ProjectInteraction(Base):
    """An interaction about the project (shown in its timeline)."""

    __tablename__ = "project_interactions"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_project_interactions_interaction_id", "interaction_id"),)
