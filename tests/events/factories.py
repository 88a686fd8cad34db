"""Factories for events and participants: they add and flush, never commit."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from models import Contact, Event, Member
from services.text import fold_all
from tests.contacts.factories import make_affiliation, make_contact
from tests.members.factories import make_member

_sequence = itertools.count(1)

__all__ = ["make_event", "make_participant", "soon"]


def soon(days: int = 30) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)


def make_event(session: Session, **fields: Any) -> Event:
    """A published event a month from now, 8 hours long, unless told otherwise."""
    fields.setdefault("title", f"Event {next(_sequence)}")
    fields.setdefault("type", "conference")
    fields.setdefault("status", "published")
    fields.setdefault("starts_at", soon())
    fields.setdefault("ends_at", fields["starts_at"] + timedelta(hours=8))
    event = Event(**fields)
    event.search_text = fold_all(event.title, event.description, event.venue)
    session.add(event)
    session.flush()
    return event


def make_participant(
    session: Session, *, member: Member | None = None, **fields: Any
) -> tuple[Contact, Member]:
    """A contact whose primary affiliation is with ``member`` (a new one by default)."""
    member = member or make_member(session)
    contact = make_contact(session, **fields)
    make_affiliation(session, contact=contact, member=member, is_primary=True)
    return contact, member
