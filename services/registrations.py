"""Registrations: a contact (for a member) or a guest at an event.

Rules held here, each refusal naming its rule in the problem ``type``:

- the event must be published (``event-not-published``, ``event-cancelled``,
  ``event-completed``) and an attendee must register within its window
  (``registration-not-open``, ``registration-closed``; without a closing time, until the event
  ends);
- a members-only event refuses an attendee whose organisation is not a member (membership
  ``active`` or in ``grace``) on the day the event starts, in its time zone (``members-only``);
- one active registration per contact, and per guest e-mail, and event (``already-registered``,
  409 pointing at it; partial unique indexes decide under concurrency);
- the price is the member price when the organisation is a member on the event's day, else the
  non-member price, fixed at registration;
- when every seat is taken a new attendee waits, numbered after the others; a cancellation
  promotes the first waiting one in the same transaction (``services/event_seats.py``);
- check-in is idempotent and opens ``CHECK_IN_OPENS_BEFORE`` before the start.
"""

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, exists, or_, select
from sqlalchemy.orm import Session, with_expression
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    Affiliation,
    Contact,
    Event,
    EventStatus,
    Member,
    PriceBasis,
    Registration,
    RegistrationStatus,
)
from models.types import utcnow
from services.errors import Conflict, InvalidInput, NotFound
from services.event_seats import (
    EventTerms,
    fill_seats,
    lock_event,
    lock_event_terms,
    next_waitlist_number,
    taken_seats,
    takes_seat,
    waiting_count,
    waitlist_position,
    waitlist_position_column,
)
from services.events import event_day
from services.journal import JournalSpec, record_action, register
from services.member_memberships import MEMBER_STATUSES, has_membership_status
from services.pagination import Page, datetime_key, keyset_page
from services.transactions import check_version, commit

REGISTRATIONS_PATH = "/api/v1/registrations"
CHECK_IN_OPENS_BEFORE = timedelta(hours=1)
REGISTRATION_SORT_KEYS = {
    "registered_at": datetime_key(Registration.registered_at),
    "created_at": datetime_key(Registration.created_at),
    "updated_at": datetime_key(Registration.updated_at),
}
# The same keys on the table's own columns, for the plain rows of an event's page.
_TABLE = Registration.__table__
_ROW_SORT_KEYS = {name: datetime_key(_TABLE.c[name]) for name in REGISTRATION_SORT_KEYS}
ACTIVE = (
    RegistrationStatus.REGISTERED.value,
    RegistrationStatus.WAITLISTED.value,
    RegistrationStatus.ATTENDED.value,
    RegistrationStatus.NO_SHOW.value,
)

register(Registration, JournalSpec("registration", "events:read"))


def registration_href(registration_id: uuid.UUID) -> str:
    return f"{REGISTRATIONS_PATH}/{registration_id}"


def _with_position(stmt: Select[Any]) -> Select[Any]:
    return stmt.options(with_expression(Registration.waitlist_position, waitlist_position()))


def list_registrations(
    *,
    event_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    member_id: uuid.UUID | None = None,
    status: str | None = None,
    role: str | None = None,
    updated_since: datetime | None = None,
) -> Select[tuple[Registration]]:
    """Registrations matching every filter, each with its place on the waiting list."""
    stmt = _with_position(select(Registration))
    if event_id is not None:
        stmt = stmt.where(Registration.event_id == event_id)
    if contact_id is not None:
        stmt = stmt.where(Registration.contact_id == contact_id)
    if member_id is not None:
        stmt = stmt.where(Registration.member_id == member_id)
    if status is not None:
        stmt = stmt.where(Registration.status == status)
    if role is not None:
        stmt = stmt.where(Registration.role == role)
    if updated_since is not None:
        stmt = stmt.where(Registration.updated_at >= updated_since)
    return stmt


class RegistrationRow:
    """A registration of a page as plain attributes named as the model's columns (what the
    output schema reads): an ORM object per row cost more to build than the query took, and
    the dumper asks a database row for each field by key, which it refuses before the
    attribute is read, several times slower than this."""

    def __init__(self, names: Sequence[str], row: Row[Any]) -> None:
        self.__dict__ = dict(zip(names, row, strict=True))


@cache
def _event_rows() -> Select[Any]:
    """The columns a page shows (not the waiting-list number nor the version) and the
    waiting-list position, built once per process."""
    shown = (column for column in _TABLE.c if column.key not in {"waitlist_number", "version"})
    return select(*shown, waitlist_position_column())


def _event_rows_where(
    event_id: uuid.UUID,
    *,
    status: str | None = None,
    role: str | None = None,
    updated_since: datetime | None = None,
) -> Select[Any]:
    columns = _TABLE.c
    stmt = _event_rows().where(columns.event_id == event_id)
    if status is not None:
        stmt = stmt.where(columns.status == status)
    if role is not None:
        stmt = stmt.where(columns.role == role)
    if updated_since is not None:
        stmt = stmt.where(columns.updated_at >= updated_since)
    return stmt


def event_registrations_page(
    session: Session,
    *,
    event_id: uuid.UUID,
    sort: str,
    limit: int,
    cursor: str | None = None,
    include_total: bool = False,
    **filters: Any,
) -> Page:
    """One page of an existing event's registrations (``NotFound`` for an unknown event),
    each with its place on the waiting list, as plain rows.

    The event is looked up only when the first page comes back empty: a page with rows proves
    it exists, so the common case costs one statement.
    """
    page = keyset_page(
        session,
        _event_rows_where(event_id, **filters),
        id_column=_TABLE.c.id,
        sortable=_ROW_SORT_KEYS,
        sort=sort,
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )
    if not page.items:
        if session.scalar(select(Event.id).where(Event.id == event_id)) is None:
            raise NotFound("event", event_id)
        return page
    names = page.items[0]._fields
    return replace(page, items=[RegistrationRow(names, row) for row in page.items])


def get_registration(session: Session, registration_id: uuid.UUID) -> Registration:
    """The registration with its place on the waiting list; ``NotFound`` when there is none."""
    registration = session.scalar(
        _with_position(select(Registration))
        .where(Registration.id == registration_id)
        .execution_options(populate_existing=True)
    )
    if registration is None:
        raise NotFound("registration", registration_id)
    return registration


def is_member_on(session: Session, member_id: uuid.UUID | None, day: date) -> bool:
    """Whether the organisation is a member (membership active or in grace) on ``day``."""
    if member_id is None:
        return False
    condition = or_(*(has_membership_status(status, day) for status in MEMBER_STATUSES))
    return session.scalar(select(exists().where(Member.id == member_id, condition))) or False


def _check_open(event: EventTerms, *, seat: bool, now: datetime) -> None:
    """The event takes registrations (status), and an attendee comes within the window."""
    match event.status:
        case EventStatus.DRAFT:
            raise Conflict(
                "The event is a draft: publish it first.",
                field="event",
                rule="event-not-published",
            )
        case EventStatus.CANCELLED:
            raise Conflict("The event is cancelled.", field="event", rule="event-cancelled")
        case EventStatus.COMPLETED:
            raise Conflict("The event is over.", field="event", rule="event-completed")
    if not seat:
        return
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        raise Conflict(
            "Registration has not opened yet.", field="event", rule="registration-not-open"
        )
    closes = event.registration_closes_at or event.ends_at
    if now >= closes:
        raise Conflict("Registration is closed.", field="event", rule="registration-closed")


def _default_member(session: Session, contact_id: uuid.UUID, today: date) -> uuid.UUID | None:
    """The member of the contact's primary affiliation, unless it has ended."""
    return session.scalar(
        select(Affiliation.member_id).where(
            Affiliation.contact_id == contact_id,
            Affiliation.is_primary,
            or_(Affiliation.end_date.is_(None), Affiliation.end_date >= today),
        )
    )


def _check_participant(session: Session, fields: Mapping[str, Any]) -> uuid.UUID | None:
    """The contact exists and is not archived, the member exists and (for a contact) is one
    the contact is affiliated with; returns the member the registration is for."""
    contact_id, member_id = fields.get("contact_id"), fields.get("member_id")
    if contact_id is not None:
        found = session.execute(
            select(Contact.id, Contact.archived_at).where(Contact.id == contact_id)
        ).first()
        if found is None:
            raise InvalidInput({"contact_id": [f"No contact with id {contact_id}."]})
        if found.archived_at is not None:
            raise InvalidInput({"contact_id": ["The contact is archived."]})
        if member_id is None:
            return _default_member(session, contact_id, utcnow().date())
        affiliated = session.scalar(
            select(Affiliation.id).where(
                Affiliation.contact_id == contact_id, Affiliation.member_id == member_id
            )
        )
        if affiliated is None:
            raise InvalidInput({"member_id": ["The contact has no affiliation with this member."]})
        return member_id
    if member_id is not None and session.get(Member, member_id) is None:
        raise InvalidInput({"member_id": [f"No member with id {member_id}."]})
    return member_id


def _existing(session: Session, event_id: uuid.UUID, fields: Mapping[str, Any]) -> Conflict | None:
    """The 409 of a second active registration, pointing at the first."""
    if fields.get("contact_id") is not None:
        same = Registration.contact_id == fields["contact_id"]
    elif fields.get("guest_email"):
        same = Registration.guest_email == fields["guest_email"]
    else:
        return None
    existing = session.scalar(
        select(Registration.id).where(
            Registration.event_id == event_id,
            same,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    )
    if existing is None:
        return None
    field = "contact_id" if fields.get("contact_id") is not None else "guest_email"
    return Conflict(
        "Already registered for this event.",
        field=field,
        existing={"id": str(existing), "href": registration_href(existing)},
        rule="already-registered",
    )


def _duplicate_factory(session: Session, event_id: uuid.UUID, fields: Mapping[str, Any]) -> Any:
    def build() -> Conflict:
        return _existing(session, event_id, fields) or Conflict(
            "Already registered for this event.", rule="already-registered"
        )

    return build


def register_for_event(session: Session, *, event_id: uuid.UUID, **fields: Any) -> Registration:
    """Register a contact or a guest: ``registered`` while seats remain, else ``waitlisted``
    with its position; refused by the rules of the module docstring."""
    now = utcnow()
    # Held until the commit: one seat count at a time.
    event = lock_event_terms(session, event_id)
    # No look-up of a duplicate before the insert: the partial unique indexes refuse it when
    # the row is inserted (the commit turns that into the 409), in O(log n) whatever the
    # statistics. A SELECT would be planned on them, and when they predate the event's
    # registrations every index on ``event_id`` looks as good, so it may read them all.
    registration, position = stage_registration(
        session, event, fields, now=now, look_up_duplicate=False
    )
    duplicate_factory = _duplicate_factory(session, event.id, fields)
    commit(
        session,
        {
            "uq_registrations_event_id_contact_id": duplicate_factory,
            "uq_registrations_event_id_guest_email": duplicate_factory,
        },
    )
    # Everything the answer shows is in memory (nothing expires on commit): no re-read.
    set_committed_value(registration, "waitlist_position", position)
    return registration


def stage_registration(
    session: Session,
    event: EventTerms,
    fields: Mapping[str, Any],
    *,
    now: datetime,
    look_up_duplicate: bool = True,
) -> tuple[Registration, int | None]:
    """``register_for_event``'s rules and the registration (with its waiting-list position),
    added to the session but not committed; ``event`` is locked by the caller. An import
    stages its rows one after the other, each counting the seats the previous ones took, and
    looks up a duplicate first so that one refused row does not fail the others; without
    ``look_up_duplicate`` the unique indexes refuse it at the insert."""
    seat = takes_seat(fields.get("role") or "attendee")
    _check_open(event, seat=seat, now=now)
    member_id = _check_participant(session, fields)
    if look_up_duplicate and (duplicate := _existing(session, event.id, fields)) is not None:
        raise duplicate
    member = member_id is not None and is_member_on(session, member_id, event_day(event))
    if seat and event.members_only and not member:
        # Someone already registered is told so first, as when the duplicate is looked up.
        if not look_up_duplicate and (duplicate := _existing(session, event.id, fields)):
            raise duplicate
        raise Conflict(
            "The event is for members only: the organisation is not a member on the day of "
            "the event.",
            field="member_id" if member_id else "contact_id",
            rule="members-only",
        )
    registration = Registration(
        event_id=event.id,
        contact_id=fields.get("contact_id"),
        member_id=member_id,
        guest_name=fields.get("guest_name"),
        guest_email=fields.get("guest_email"),
        guest_organisation=fields.get("guest_organisation"),
        guest_category=fields.get("guest_category"),
        role=fields.get("role") or "attendee",
        notes=fields.get("notes"),
        registered_at=now,
        price_cents=event.member_price_cents if member else event.non_member_price_cents,
        price_basis=(PriceBasis.MEMBER if member else PriceBasis.NON_MEMBER).value,
        currency=event.currency,
        status=RegistrationStatus.REGISTERED.value,
    )
    position = None
    if seat and event.capacity is not None and taken_seats(session, event.id) >= event.capacity:
        registration.status = RegistrationStatus.WAITLISTED.value
        registration.waitlist_number = next_waitlist_number(session, event.id)
        position = waiting_count(session, event.id) + 1
    session.add(registration)
    return registration, position


def _locked(session: Session, registration_id: uuid.UUID) -> tuple[Event, Registration]:
    """The registration's event, locked, then the registration as it now is."""
    event_id = session.scalar(
        select(Registration.event_id).where(Registration.id == registration_id)
    )
    if event_id is None:
        raise NotFound("registration", registration_id)
    event = lock_event(session, event_id)
    return event, get_registration(session, registration_id)


def cancel_registration(
    session: Session, *, registration_id: uuid.UUID, if_match: Collection[int] | None
) -> Registration:
    """Cancel a registration that holds or waits for a place; a freed seat goes to the first
    waiting registration in the same transaction. 409 for one already cancelled or attended."""
    event, registration = _locked(session, registration_id)
    check_version(registration.version, if_match)
    if registration.status not in (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED):
        raise Conflict(
            f"A registration that is {registration.status} cannot be cancelled.",
            field="status",
            rule="registration-status",
        )
    registration.status = RegistrationStatus.CANCELLED.value
    registration.cancelled_at = utcnow()
    record_action(session, registration, "cancelled")
    session.flush()
    fill_seats(session, event)
    commit(session)
    return get_registration(session, registration.id)


def check_in(
    session: Session, *, registration_id: uuid.UUID, now: datetime | None = None
) -> Registration:
    """Record the participant's arrival (``attended``); again for one already checked in
    changes nothing. Opens ``CHECK_IN_OPENS_BEFORE`` before the start; a late arrival after
    the event was completed turns ``no_show`` into ``attended``."""
    now = now or utcnow()
    event, registration = _locked(session, registration_id)
    if registration.status == RegistrationStatus.ATTENDED:
        return registration
    if event.status == EventStatus.CANCELLED:
        raise Conflict("The event is cancelled.", field="event", rule="event-cancelled")
    if now < event.starts_at - CHECK_IN_OPENS_BEFORE:
        raise Conflict(
            "Check-in opens one hour before the event starts.",
            field="event",
            rule="check-in-not-open",
        )
    if registration.status not in (RegistrationStatus.REGISTERED, RegistrationStatus.NO_SHOW):
        raise Conflict(
            f"A registration that is {registration.status} has no seat to check in to.",
            field="status",
            rule="not-registered",
        )
    registration.status = RegistrationStatus.ATTENDED.value
    registration.checked_in_at = now
    record_action(session, registration, "checked_in")
    commit(session)
    return get_registration(session, registration.id)


def update_registration(
    session: Session,
    *,
    registration_id: uuid.UUID,
    changes: Mapping[str, Any],
    if_match: Collection[int] | None,
) -> Registration:
    """Change the notes or the organisation a participant comes for; a new organisation
    re-prices the registration from its membership on the event's day."""
    event, registration = _locked(session, registration_id)
    check_version(registration.version, if_match)
    if "member_id" in changes and changes["member_id"] != registration.member_id:
        member_id = changes["member_id"]
        if member_id is not None:
            _check_participant(
                session,
                {"contact_id": registration.contact_id, "member_id": member_id},
            )
        member = is_member_on(session, member_id, event_day(event))
        registration.member_id = member_id
        registration.price_cents = (
            event.member_price_cents if member else event.non_member_price_cents
        )
        registration.price_basis = (PriceBasis.MEMBER if member else PriceBasis.NON_MEMBER).value
    if "notes" in changes:
        registration.notes = changes["notes"]
    commit(session)
    return get_registration(session, registration.id)
