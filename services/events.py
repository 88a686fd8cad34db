"""Events: what the cluster runs, when (in the event's own time zone), for whom and at what price.

Rules held here: an event ends after it starts and its registration window closes after it
opens; organisers are active staff users; ``external_id`` is unique (the constraint decides
under concurrency). Status moves ``draft`` -> ``published`` -> ``completed``, and ``draft`` or
``published`` -> ``cancelled``; cancelling cancels every registration in the same transaction,
completing turns the registered who never checked in into ``no_show``. Raising the capacity
promotes waiting registrations at once (``services/registrations.py``).
"""

import uuid
from collections.abc import Collection, Mapping
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from models import (
    Domain,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
    User,
)
from models.types import utcnow
from services.archiving import mark_archived, mark_restored
from services.domains import resolve_domains
from services.errors import Conflict, InvalidInput, NotFound
from services.event_seats import EventTerms, fill_seats, lock_event
from services.filters import filter_archived, filter_words
from services.identifiers import external_id_from_path
from services.journal import JournalSpec, record_action, register
from services.pagination import datetime_key
from services.roles import Role
from services.text import fold_all
from services.transactions import check_version, commit

EVENTS_PATH = "/api/v1/events"
DEFAULT_TIMEZONE = "Europe/Paris"
EVENT_SORT_KEYS = {
    "starts_at": datetime_key(Event.starts_at),
    "created_at": datetime_key(Event.created_at),
    "updated_at": datetime_key(Event.updated_at),
}
_SCALAR_FIELDS = (
    "title", "type", "description", "starts_at", "ends_at", "timezone", "venue", "online_url",
    "capacity", "registration_opens_at", "registration_closes_at", "members_only",
    "member_price_cents", "non_member_price_cents", "co_funders", "external_id",
)  # fmt: skip
_LOADER_OPTIONS = (selectinload(Event.domains), selectinload(Event.organisers))

register(
    Event,
    JournalSpec(
        "event",
        "events:read",
        exclude=frozenset({"search_text"}),
        collections={
            "domains": lambda domain: domain.code,
            "organisers": lambda user: str(user.id),
        },
        archivable=True,
    ),
)


@cache
def time_zones() -> frozenset[str]:
    """The IANA time zone names an event may use."""
    return frozenset(available_timezones())


def local_time(event: EventTerms, moment: datetime) -> datetime:
    """``moment`` at the event's wall clock (the offset of that day in its time zone)."""
    return moment.astimezone(ZoneInfo(event.timezone))


def event_day(event: EventTerms) -> date:
    """The day the event starts, in its own time zone: the day memberships are read at."""
    return local_time(event, event.starts_at).date()


def event_href(event_id: uuid.UUID) -> str:
    return f"{EVENTS_PATH}/{event_id}"


def list_events(
    *,
    q: str | None = None,
    status: str | None = None,
    type: str | None = None,  # noqa: A002 - the API's name for the field
    domain: str | None = None,
    organiser_id: uuid.UUID | None = None,
    starts_after: datetime | None = None,
    starts_before: datetime | None = None,
    external_id: str | None = None,
    archived: bool | None = False,
    updated_since: datetime | None = None,
) -> Select[tuple[Event]]:
    """Events matching every filter, with their domains and organisers."""
    stmt = select(Event).options(*_LOADER_OPTIONS)
    stmt = filter_archived(stmt, Event.archived_at, archived)
    if status is not None:
        stmt = stmt.where(Event.status == status)
    if type is not None:
        stmt = stmt.where(Event.type == type)
    if domain is not None:
        stmt = stmt.where(Event.domains.any(Domain.code == domain))
    if organiser_id is not None:
        stmt = stmt.where(Event.organisers.any(User.id == organiser_id))
    if starts_after is not None:
        stmt = stmt.where(Event.starts_at >= starts_after)
    if starts_before is not None:
        stmt = stmt.where(Event.starts_at < starts_before)
    if external_id is not None:
        stmt = stmt.where(Event.external_id == external_id)
    if updated_since is not None:
        stmt = stmt.where(Event.updated_at >= updated_since)
    return filter_words(stmt, Event.search_text, q)


def get_event(session: Session, event_id: uuid.UUID) -> Event:
    """The event with its domains and organisers; ``NotFound`` when there is none."""
    event = session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .options(*_LOADER_OPTIONS)
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise NotFound("event", event_id)
    return event


def _duplicate(session: Session, external_id: str | None) -> Conflict:
    existing = session.scalar(select(Event.id).where(Event.external_id == external_id))
    ref = {"id": str(existing), "href": event_href(existing)} if existing else None
    return Conflict("An event already has this external_id.", field="external_id", existing=ref)


def _organisers(session: Session, ids: Collection[uuid.UUID]) -> list[User]:
    """Organisers must be active staff users (or admins); 422 on ``organiser_ids``."""
    if not ids:
        return []
    users = {
        user.id: user
        for user in session.scalars(
            select(User).where(
                User.id.in_(ids), User.is_active, User.role.in_((Role.STAFF, Role.ADMIN))
            )
        )
    }
    missing = [
        f"No active staff user with id {user_id}." for user_id in ids if user_id not in users
    ]
    if missing:
        raise InvalidInput({"organiser_ids": missing})
    return [users[user_id] for user_id in ids]


def _check_times(event: Event | None, fields: Mapping[str, Any]) -> None:
    """The event ends after it starts; registration closes after it opens and by the end."""

    def final(name: str) -> Any:
        return fields[name] if name in fields else getattr(event, name, None)

    errors: dict[str, list[str]] = {}
    starts, ends = final("starts_at"), final("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        errors["ends_at"] = ["Must be after starts_at."]
    opens, closes = final("registration_opens_at"), final("registration_closes_at")
    if opens is not None and closes is not None and closes <= opens:
        errors["registration_closes_at"] = ["Must be after registration_opens_at."]
    elif closes is not None and ends is not None and closes > ends:
        errors["registration_closes_at"] = ["Must not be after ends_at."]
    if errors:
        raise InvalidInput(errors)


def _apply(
    event: Event,
    fields: Mapping[str, Any],
    domains: list[Domain] | None,
    organisers: list[User] | None,
) -> None:
    for name in _SCALAR_FIELDS:
        if name in fields:
            setattr(event, name, fields[name])
    if domains is not None:
        event.domains = domains
    if organisers is not None:
        event.organisers = organisers
    event.search_text = fold_all(event.title, event.description, event.venue)


def _prepare(
    session: Session, event: Event | None, fields: Mapping[str, Any]
) -> tuple[list[Domain] | None, list[User] | None]:
    """Every check before the event is touched, so that a refusal leaves the session clean."""
    _check_times(event, fields)
    domains = resolve_domains(session, fields["domains"]) if "domains" in fields else None
    organisers = (
        _organisers(session, fields["organiser_ids"]) if "organiser_ids" in fields else None
    )
    external_id = fields.get("external_id")
    if event is not None and external_id and external_id != event.external_id:
        taken = session.scalar(
            select(Event.id).where(Event.external_id == external_id, Event.id != event.id)
        )
        if taken is not None:
            raise _duplicate(session, external_id)
    return domains, organisers


def _save(session: Session, external_id: str | None) -> None:
    commit(session, {"uq_events_external_id": lambda: _duplicate(session, external_id)})


def create_event(session: Session, **fields: Any) -> Event:
    """Create an event, a draft unless ``status`` says ``published``."""
    values = {"timezone": DEFAULT_TIMEZONE, **fields}
    if values.get("timezone") is None:
        values["timezone"] = DEFAULT_TIMEZONE
    domains, organisers = _prepare(session, None, values)
    event = Event(status=values.pop("status", None) or EventStatus.DRAFT.value)
    with session.no_autoflush:
        _apply(event, values, domains or [], organisers or [])
    session.add(event)
    _save(session, values.get("external_id"))
    return get_event(session, event.id)


def update_event(
    session: Session,
    *,
    event_id: uuid.UUID,
    changes: Mapping[str, Any],
    if_match: Collection[int] | None,
) -> Event:
    """Change the fields sent; ``domains`` and ``organiser_ids`` replace the previous lists.

    A cancelled or completed event keeps its dates and capacity (409). A larger capacity
    promotes waiting registrations in the same transaction.
    """
    if "capacity" in changes:
        # Locked before it is read: the seat count below must see every committed change.
        lock_event(session, event_id)
    event = get_event(session, event_id)
    check_version(event.version, if_match)
    values = dict(changes)
    if values.get("timezone", "") is None:
        values["timezone"] = DEFAULT_TIMEZONE
    if event.status in (EventStatus.CANCELLED, EventStatus.COMPLETED):
        frozen = [name for name in ("starts_at", "ends_at", "capacity") if name in values]
        if frozen:
            raise Conflict(
                f"A {event.status} event keeps its dates and capacity.",
                field=frozen[0],
                rule="event-closed",
            )
    domains, organisers = _prepare(session, event, values)
    with session.no_autoflush:
        _apply(event, values, domains, organisers)
    if session.is_modified(event, include_collections=True):
        event.updated_at = utcnow()  # moves the version (ETag) when only lists change
    if "capacity" in values:
        session.flush()
        fill_seats(session, event)
    _save(session, event.external_id)
    return get_event(session, event.id)


def upsert_event_by_external_id(
    session: Session,
    *,
    external_id: str,
    fields: Mapping[str, Any],
    if_match: Collection[int] | None = None,
) -> tuple[Event, bool]:
    """Create the event an importer knows as ``external_id``, or update the fields it sent.

    Returns the event and whether it was created.
    """
    external_id = external_id_from_path(external_id)
    existing_id = session.scalar(select(Event.id).where(Event.external_id == external_id))
    values = {**fields, "external_id": external_id}
    if existing_id is None:
        try:
            return create_event(session, **values), True
        except Conflict as exc:
            # Another request created it since the lookup: update it, as if it had been found.
            existing_id = session.scalar(select(Event.id).where(Event.external_id == external_id))
            if exc.field != "external_id" or existing_id is None:
                raise
    values.pop("status", None)
    return update_event(session, event_id=existing_id, changes=values, if_match=if_match), False


def _transition(event: Event, allowed_from: Collection[str], to: str) -> None:
    if event.status not in allowed_from:
        raise Conflict(
            f"A {event.status} event cannot become {to}.", field="status", rule="event-status"
        )
    event.status = to


def publish_event(
    session: Session, *, event_id: uuid.UUID, if_match: Collection[int] | None
) -> Event:
    """Open a draft event to registrations; 409 from any other status."""
    event = get_event(session, event_id)
    check_version(event.version, if_match)
    _transition(event, (EventStatus.DRAFT,), EventStatus.PUBLISHED)
    record_action(session, event, "published")
    commit(session)
    return get_event(session, event.id)


def complete_event(
    session: Session, *, event_id: uuid.UUID, if_match: Collection[int] | None
) -> Event:
    """Close a published event once it has started: the registered who did not check in
    become ``no_show``; 409 before the start or from another status."""
    lock_event(session, event_id)
    event = get_event(session, event_id)
    check_version(event.version, if_match)
    if utcnow() < event.starts_at:
        raise Conflict(
            "An event is completed once it has started.", field="status", rule="event-not-started"
        )
    _transition(event, (EventStatus.PUBLISHED,), EventStatus.COMPLETED)
    event.completed_at = utcnow()
    for registration in session.scalars(
        select(Registration).where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.REGISTERED,
        )
    ):
        registration.status = RegistrationStatus.NO_SHOW.value
    record_action(session, event, "completed")
    commit(session)
    return get_event(session, event.id)


def cancel_event(
    session: Session,
    *,
    event_id: uuid.UUID,
    reason: str | None,
    if_match: Collection[int] | None,
) -> tuple[Event, int]:
    """Cancel a draft or published event and, in the same transaction, every registration
    still holding or waiting for a place; returns the event and how many were cancelled."""
    lock_event(session, event_id)
    event = get_event(session, event_id)
    check_version(event.version, if_match)
    _transition(event, (EventStatus.DRAFT, EventStatus.PUBLISHED), EventStatus.CANCELLED)
    now = utcnow()
    event.cancelled_at = now
    event.cancel_reason = reason
    cancelled = 0
    for registration in session.scalars(
        select(Registration).where(
            Registration.event_id == event.id,
            Registration.status.in_((RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)),
        )
    ):
        registration.status = RegistrationStatus.CANCELLED.value
        registration.cancelled_at = now
        record_action(session, registration, "cancelled")
        cancelled += 1
    record_action(session, event, "cancelled")
    commit(session)
    return get_event(session, event.id), cancelled


def _set_archived(
    session: Session,
    *,
    event_id: uuid.UUID,
    archived: bool,
    reason: str | None,
    if_match: Collection[int] | None,
) -> Event:
    event = get_event(session, event_id)
    check_version(event.version, if_match)
    if archived:
        mark_archived(event, noun="event", reason=reason)
    else:
        mark_restored(event, noun="event", reason=reason)
    commit(session)
    return get_event(session, event.id)


def archive_event(
    session: Session, *, event_id: uuid.UUID, reason: str | None, if_match: Collection[int] | None
) -> Event:
    """Hide an event from lists, keeping it and its registrations; 409 if already archived."""
    return _set_archived(
        session, event_id=event_id, archived=True, reason=reason, if_match=if_match
    )


def restore_event(
    session: Session, *, event_id: uuid.UUID, reason: str | None, if_match: Collection[int] | None
) -> Event:
    """Bring an archived event back into lists; 409 if it is not archived."""
    return _set_archived(
        session, event_id=event_id, archived=False, reason=reason, if_match=if_match
    )


def delete_event(
    session: Session, *, event_id: uuid.UUID, if_match: Collection[int] | None
) -> None:
    """Delete an event created by mistake; one with registrations is 409 (cancel or archive
    it instead, its registrations are history)."""
    event = get_event(session, event_id)
    check_version(event.version, if_match)
    has_registrations = session.scalar(
        select(Registration.id).where(Registration.event_id == event.id).limit(1)
    )
    if has_registrations is not None:
        raise Conflict(
            "The event has registrations: cancel or archive it instead.",
            field="registrations",
            rule="event-has-registrations",
        )
    session.delete(event)
    commit(session)
