"""Interactions: what cluster staff did with members and contacts (calls, meetings, advice...).

An interaction has exactly one owner (``owner_id``, never null) and any number of other staff
users taking part; it links members and contacts, each with a role. A confidential interaction
is visible only to its owner, the staff users taking part and admins (``services/interactions``).
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import ArchivableMixin, Base, RecordMixin


class InteractionKind(StrEnum):
    TOUCHPOINT = "touchpoint"  # keeping in touch
    SERVICE = "service"  # a service the cluster reports as delivered to the member


class InteractionType(StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    VISIT = "visit"
    EVENT_FOLLOW_UP = "event_follow_up"
    INTRODUCTION = "introduction"
    PROJECT_SUPPORT = "project_support"
    FUNDING_ADVICE = "funding_advice"
    REGULATORY_ADVICE = "regulatory_advice"
    INTERNATIONAL = "international"
    OTHER = "other"


class InteractionChannel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    VIDEO = "video"
    IN_PERSON = "in_person"
    OTHER = "other"


class LinkRole(StrEnum):
    PARTICIPANT = "participant"
    REQUESTER = "requester"
    INTRODUCED = "introduced"


class Interaction(ArchivableMixin, RecordMixin, Base):
    """One touchpoint or service, with its follow-up (at most one, optional)."""

    __tablename__ = "interactions"

    kind: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str | None] = mapped_column(String(20), default=None)
    subject: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    outcome: Mapped[str | None] = mapped_column(Text, default=None)
    minutes_spent: Mapped[int | None] = mapped_column(default=None)
    occurred_at: Mapped[datetime] = mapped_column()
    # Users are deactivated, never deleted, so an owner always exists.
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    confidential: Mapped[bool] = mapped_column(default=False)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, default=None)
    source: Mapped[str | None] = mapped_column(String(100), default=None)  # importer's name
    follow_up_due: Mapped[date | None] = mapped_column(default=None)
    follow_up_assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), default=None
    )
    follow_up_done: Mapped[bool] = mapped_column(default=False)
    follow_up_done_at: Mapped[datetime | None] = mapped_column(default=None)
    # Subject and notes folded by the services, for accent-insensitive ``q``.
    search_text: Mapped[str] = mapped_column(Text, default="")

    members: Mapped[list["InteractionMember"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql"
    )
    contacts: Mapped[list["InteractionContact"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql"
    )
    participants: Mapped[list["InteractionParticipant"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql"
    )

    __table_args__ = (
        Index("ix_interactions_occurred_at_id", "occurred_at", "id"),
        Index("ix_interactions_created_at_id", "created_at", "id"),
        Index("ix_interactions_updated_at_id", "updated_at", "id"),
        Index("ix_interactions_owner_id", "owner_id"),
        Index("ix_interactions_follow_up_assignee_id", "follow_up_assignee_id"),
        Index(
            "ix_interactions_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )


class InteractionMember(Base):
    """A member concerned by an interaction, and in what role."""

    __tablename__ = "interaction_members"

    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True
    )
    # A member with interactions is archived, not deleted.
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="RESTRICT"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20))

    # The member timeline starts from the member.
    __table_args__ = (Index("ix_interaction_members_member_id", "member_id"),)


class InteractionContact(Base):
    """A contact concerned by an interaction, and in what role."""

    __tablename__ = "interaction_contacts"

    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True
    )
    # Erasing a contact (GDPR) removes it from interactions too.
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20))

    __table_args__ = (Index("ix_interaction_contacts_contact_id", "contact_id"),)


class InteractionParticipant(Base):
    """A staff user taking part in an interaction besides its owner."""

    __tablename__ = "interaction_participants"

    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True
    )

    # Visibility of confidential interactions looks participants up by user.
    __table_args__ = (Index("ix_interaction_participants_user_id", "user_id"),)
