"""Seats of an event: who holds one, the waiting list, and promotion when one frees up.

Every change to who holds a seat first locks the event row (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite's writers are serialised by ``BEGIN IMMEDIATE``), so that two registrations
can never both take the last seat and two cancellations never promote the same registration:
the transactions of one event run one after the other, each counting what the previous one
committed. Only attendees take seats; speakers, organisers, exhibitors and press do not.
"""

import uuid
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, bindparam, case, func, select
from sqlalchemy.orm import Session, aliased

from models import Event, Registration, RegistrationRole, RegistrationStatus
from models.types import utcnow
from services.errors import NotFound
from services.journal import record_action

SEAT_HOLDING = (RegistrationStatus.REGISTERED.value, RegistrationStatus.ATTENDED.value)


def lock_event(session: Session, event_id: uuid.UUID) -> Event:
    """The event, its row locked until the transaction ends."""
    event = session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise NotFound("event", event_id)
    return event


class EventTerms(Protocol):
    """What registering reads of an event: an ``Event``, or the row ``lock_event_terms``
    reads."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def status(self) -> str: ...
    @property
    def capacity(self) -> int | None: ...
    @property
    def registration_opens_at(self) -> datetime | None: ...
    @property
    def registration_closes_at(self) -> datetime | None: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def timezone(self) -> str: ...
    @property
    def members_only(self) -> bool: ...
    @property
    def member_price_cents(self) -> int: ...
    @property
    def non_member_price_cents(self) -> int: ...
    @property
    def currency(self) -> str: ...


TERMS = (
    "id", "status", "capacity", "registration_opens_at", "registration_closes_at", "starts_at",
    "ends_at", "timezone", "members_only", "member_price_cents", "non_member_price_cents",
    "currency",
)  # fmt: skip


@cache
def _terms_for_update() -> Select[Any]:
    """The ``TERMS`` columns (those of ``EventTerms``), the row locked; built once."""
    events = Event.__table__
    return (
        select(*(events.c[name] for name in TERMS))
        .where(events.c.id == bindparam("event_id"))
        .with_for_update()
    )


def lock_event_terms(session: Session, event_id: uuid.UUID) -> EventTerms:
    """The event's status, window, capacity and prices, its row locked until the transaction
    ends: a registration reads only these, so the rest of the event is not loaded."""
    terms = session.execute(_terms_for_update(), {"event_id": event_id}).first()
    if terms is None:
        raise NotFound("event", event_id)
    return terms  # type: ignore[return-value] - a row has the columns as attributes


def takes_seat(role: str) -> bool:
    return role == RegistrationRole.ATTENDEE


def taken_seats(session: Session, event_id: uuid.UUID) -> int:
    """Attendees registered or already checked in."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.event_id == event_id,
                Registration.role == RegistrationRole.ATTENDEE,
                Registration.status.in_(SEAT_HOLDING),
            )
        )
        or 0
    )


def waiting_count(session: Session, event_id: uuid.UUID) -> int:
    """Registrations of the event still on its waiting list."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.event_id == event_id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
        )
        or 0
    )


def next_waitlist_number(session: Session, event_id: uuid.UUID) -> int:
    """One more than any number the event's waiting list ever gave."""
    highest = session.scalar(
        select(func.max(Registration.waitlist_number)).where(Registration.event_id == event_id)
    )
    return (highest or 0) + 1


def fill_seats(session: Session, event: Event) -> list[Registration]:
    """Promote the first waiting registrations into the seats now free, in waiting order
    (all of them when the capacity is unlimited). The caller holds the event lock."""
    if event.status not in ("draft", "published"):
        return []
    stmt = (
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.waitlist_number)
    )
    if event.capacity is not None:
        free = event.capacity - taken_seats(session, event.id)
        if free <= 0:
            return []
        stmt = stmt.limit(free)
    promoted = list(session.scalars(stmt))
    now = utcnow()
    for registration in promoted:
        registration.status = RegistrationStatus.REGISTERED.value
        registration.promoted_at = now
        record_action(session, registration, "promoted")
    return promoted


@cache
def waitlist_position() -> ColumnElement[int | None]:
    """A waiting registration's rank among those still waiting for its event (1 = next
    promoted); NULL for any other status. Built once per process: aliasing the table costs
    more than the rest of a list request."""
    ahead = aliased(Registration)
    rank = (
        select(func.count())
        .select_from(ahead)
        .where(
            ahead.event_id == Registration.event_id,
            ahead.status == RegistrationStatus.WAITLISTED,
            ahead.waitlist_number <= Registration.waitlist_number,
        )
        .correlate(Registration)
        .scalar_subquery()
    )
    return case((Registration.status == RegistrationStatus.WAITLISTED, rank), else_=None)


@cache
def waitlist_position_column() -> ColumnElement[int | None]:
    """``waitlist_position`` for a statement on the ``registrations`` table itself (plain
    rows, no ORM entity), labelled ``waitlist_position``; built once per process."""
    registrations = Registration.__table__
    ahead = registrations.alias()
    rank = (
        select(func.count())
        .select_from(ahead)
        .where(
            ahead.c.event_id == registrations.c.event_id,
            ahead.c.status == RegistrationStatus.WAITLISTED.value,
            ahead.c.waitlist_number <= registrations.c.waitlist_number,
        )
        .correlate(registrations)
        .scalar_subquery()
    )
    waiting = registrations.c.status == RegistrationStatus.WAITLISTED.value
    return case((waiting, rank), else_=None).label("waitlist_position")
