"""Contacts (the people the cluster deals with) and their affiliations with members.

Contacts hold personal data (GDPR): never write their names, e-mails or phones to logs.
"""

import uuid
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import ArchivableMixin, Base, RecordMixin
from models.members import SORT_STRING, Member


class PhoneKind(StrEnum):
    MOBILE = "mobile"
    WORK = "work"
    OTHER = "other"


class AffiliationRole(StrEnum):
    PRIMARY = "primary"
    BILLING = "billing"
    DECISION_MAKER = "decision_maker"
    BOARD = "board"
    TECHNICAL = "technical"
    COMMUNICATION = "communication"
    OTHER = "other"


class Contact(ArchivableMixin, RecordMixin, Base):
    """A person; usually affiliated with one member, sometimes with several."""

    __tablename__ = "contacts"

    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Normalised to lower case by the services; unique among active contacts (index below).
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    # [{"number": "+33612345678", "kind": "mobile"}, ...], numbers in E.164.
    phones: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    preferred_language: Mapped[str | None] = mapped_column(String(8), default=None)  # "fr", "en"
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, default=None)
    # Folded copies written by the services: first + last name + e-mail, and "last first".
    search_text: Mapped[str] = mapped_column(Text, default="")
    sort_name: Mapped[str] = mapped_column(SORT_STRING, default="")

    affiliations: Mapped[list["Affiliation"]] = relationship(
        back_populates="contact",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise_on_sql",
    )

    __table_args__ = (
        # An archived contact frees its e-mail address for a new record. The name is the one
        # services/transactions.py rebuilds from SQLite's message, so both databases report
        # the same constraint name.
        Index(
            "uq_contacts_email",
            "email",
            unique=True,
            sqlite_where=text("archived_at IS NULL"),
            postgresql_where=text("archived_at IS NULL"),
        ),
        Index("ix_contacts_sort_name_id", "sort_name", "id"),
        Index("ix_contacts_created_at_id", "created_at", "id"),
        Index("ix_contacts_updated_at_id", "updated_at", "id"),
        Index(
            "ix_contacts_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )


class Affiliation(RecordMixin, Base):
    """A contact's position at a member: job title, roles in the relationship, period.

    A contact has at most one affiliation row per member (a change of job title or roles edits
    that row; leaving sets ``end_date``), and at most one primary affiliation.
    """

    __tablename__ = "affiliations"

    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    # A member with affiliations cannot be hard-deleted; it is archived instead.
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    job_title: Mapped[str | None] = mapped_column(String(200), default=None)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # AffiliationRole values
    start_date: Mapped[date | None] = mapped_column(default=None)
    end_date: Mapped[date | None] = mapped_column(default=None)
    is_primary: Mapped[bool] = mapped_column(default=False)

    contact: Mapped[Contact] = relationship(back_populates="affiliations", lazy="raise_on_sql")
    member: Mapped[Member] = relationship(lazy="raise_on_sql")

    __table_args__ = (
        UniqueConstraint("contact_id", "member_id"),
        # At most one primary affiliation per contact (named like the SQLite message reads).
        Index(
            "uq_affiliations_contact_id",
            "contact_id",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
    )
