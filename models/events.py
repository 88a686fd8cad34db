"""Events the cluster runs (conferences, workshops, B2B meetings...) and their registrations.

Times are stored in UTC with the event's IANA time zone beside them, so that an event is shown
at its own wall times whatever the offset of the day (``services/events.py``). Capacity, the
waiting list and "one active registration per contact" are held by the database: a lock on the
event row serialises the registrations of one event, and partial unique indexes refuse a second
active registration of one contact (or guest e-mail) even to writers that skip the services.
"""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from models.base import ArchivableMixin, Base, RecordMixin
from models.members import Domain
from models.users import User


class EventType(StrEnum):
    CONFERENCE = "conference"
    WORKSHOP = "workshop"
    B2B_MEETINGS = "b2b_meetings"
    WEBINAR = "webinar"
    TRAINING = "training"
    GENERAL_ASSEMBLY = "general_assembly"
    OTHER = "other"


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class RegistrationRole(StrEnum):
    ATTENDEE = "attendee"
    SPEAKER = "speaker"
    ORGANISER = "organiser"
    EXHIBITOR = "exhibitor"
    PRESS = "press"


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class PriceBasis(StrEnum):
    MEMBER = "member"
    NON_MEMBER = "non_member"


event_domains = Table(
    "event_domains",
    Base.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("domain_id", ForeignKey("domains.id", ondelete="RESTRICT"), primary_key=True),
    Index("ix_event_domains_domain_id", "domain_id"),
)

event_organisers = Table(
    "event_organisers",
    Base.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    # Users are deactivated, never deleted.
    Column("user_id", ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True),
    Index("ix_event_organisers_user_id", "user_id"),
)


class Event(ArchivableMixin, RecordMixin, Base):
    """One event: when and where, who may come, at what price, and how many seats."""

    __tablename__ = "events"

    title: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(20), default=EventStatus.DRAFT.value)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    venue: Mapped[str | None] = mapped_column(String(300), default=None)
    online_url: Mapped[str | None] = mapped_column(String(500), default=None)
    capacity: Mapped[int | None] = mapped_column(default=None)  # None: unlimited
    registration_opens_at: Mapped[datetime | None] = mapped_column(default=None)
    registration_closes_at: Mapped[datetime | None] = mapped_column(default=None)
    members_only: Mapped[bool] = mapped_column(default=False)
    member_price_cents: Mapped[int] = mapped_column(default=0)
    non_member_price_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    co_funders: Mapped[list[str]] = mapped_column(JSON, default=list)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    cancel_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Title, description and venue folded by the services, for accent-insensitive ``q``.
    search_text: Mapped[str] = mapped_column(Text, default="")

    domains: Mapped[list[Domain]] = relationship(
        secondary=event_domains, order_by=Domain.code, lazy="raise_on_sql"
    )
    organisers: Mapped[list[User]] = relationship(
        secondary=event_organisers, order_by=User.email, lazy="raise_on_sql"
    )

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="period"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity"),
        CheckConstraint("member_price_cents >= 0 AND non_member_price_cents >= 0", name="prices"),
        Index("ix_events_starts_at_id", "starts_at", "id"),
        Index("ix_events_created_at_id", "created_at", "id"),
        Index("ix_events_updated_at_id", "updated_at", "id"),
        Index("ix_events_status", "status"),
        Index(
            "ix_events_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )


# A registration holds or wants a place unless it was cancelled.
ACTIVE_REGISTRATION = text("status <> 'cancelled'")


class Registration(RecordMixin, Base):
    """A contact (for a member) or a guest at an event, with a role, a status and a price."""

    __tablename__ = "registrations"

    # An event with registrations is cancelled or archived, never deleted.
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="RESTRICT"))
    # Erasing a contact (GDPR) removes their registrations too.
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), default=None
    )
    # The organisation the participant comes for (a contact's primary affiliation by default).
    member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="RESTRICT"), default=None
    )
    guest_name: Mapped[str | None] = mapped_column(String(200), default=None)
    guest_email: Mapped[str | None] = mapped_column(String(254), default=None)
    guest_organisation: Mapped[str | None] = mapped_column(String(200), default=None)
    guest_category: Mapped[str | None] = mapped_column(String(30), default=None)
    role: Mapped[str] = mapped_column(String(20), default=RegistrationRole.ATTENDEE.value)
    status: Mapped[str] = mapped_column(String(20))
    registered_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    checked_in_at: Mapped[datetime | None] = mapped_column(default=None)
    promoted_at: Mapped[datetime | None] = mapped_column(default=None)
    # Order on the waiting list, given once (the event's highest + 1) and kept afterwards;
    # the position shown is the rank among those still waiting.
    waitlist_number: Mapped[int | None] = mapped_column(default=None)
    price_cents: Mapped[int] = mapped_column(default=0)
    price_basis: Mapped[str] = mapped_column(String(20), default=PriceBasis.NON_MEMBER.value)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    notes: Mapped[str | None] = mapped_column(Text, default=None)

    # Loaded by the services with ``with_expression``: the rank on the waiting list.
    waitlist_position: Mapped[int | None] = query_expression()

    __table_args__ = (
        CheckConstraint(
            "contact_id IS NOT NULL OR guest_name IS NOT NULL", name="contact_or_guest"
        ),
        # One active registration per contact (and per guest e-mail) and event. Named as the
        # services rebuild SQLite's message, so both databases report the same name.
        Index(
            "uq_registrations_event_id_contact_id",
            "event_id",
            "contact_id",
            unique=True,
            sqlite_where=ACTIVE_REGISTRATION,
            postgresql_where=ACTIVE_REGISTRATION,
        ),
        Index(
            "uq_registrations_event_id_guest_email",
            "event_id",
            "guest_email",
            unique=True,
            sqlite_where=ACTIVE_REGISTRATION,
            postgresql_where=ACTIVE_REGISTRATION,
        ),
        # Waiting-list numbers never repeat within an event.
        Index(
            "uq_registrations_event_id_waitlist_number", "event_id", "waitlist_number", unique=True
        ),
        Index("ix_registrations_event_id_status", "event_id", "status"),
        Index("ix_registrations_event_id_registered_at", "event_id", "registered_at", "id"),
        Index("ix_registrations_registered_at_id", "registered_at", "id"),
        Index("ix_registrations_created_at_id", "created_at", "id"),
        Index("ix_registrations_updated_at_id", "updated_at", "id"),
        Index("ix_registrations_contact_id", "contact_id"),
        Index("ix_registrations_member_id", "member_id"),
    )
