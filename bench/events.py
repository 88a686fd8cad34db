"""Deterministic event data for the benchmark: one event per ``MEMBERS_PER_EVENT`` members over
three years, each with registrations of contacts for their primary member (full events with a
waiting list among them), and the open event the "register" scenario registers guests for.

Called by ``bench.generate``; the rows follow the rules the services apply (one active
registration per contact, seats within capacity, waiting numbers in order, prices from the
event), so the application reads them as it reads its own.
"""

import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from models import Event, EventType, Registration
from services.text import fold_all

MEMBERS_PER_EVENT = 50
# The event the "register" scenario writes to (found again by this external_id).
OPEN_EVENT_EXTERNAL_ID = "bench-open-event"
REGISTERED_NAME_PREFIX = "Bench Reg "
TITLES = (
    "Journée de l'innovation en santé", "Atelier marquage CE", "Rencontres B2B biotech",
    "Webinaire financement Bpifrance", "Formation RGPD santé", "Assemblée générale",
    "Matinale imagerie médicale", "Club santé numérique", "Rendez-vous investisseurs",
)  # fmt: skip
TYPES = [kind.value for kind in EventType]


@dataclass
class EventCounts:
    events: int = 0
    registrations: int = 0


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _event(rng: random.Random, starts: datetime, now: datetime, **fields: Any) -> dict[str, Any]:
    title = fields.pop("title", rng.choice(TITLES))
    venue = rng.choice(("Genopole, Évry", "Paris Santé Campus", "Biocitech, Romainville"))
    status = "completed" if starts < now else "published"
    return {
        "id": _uuid(rng), "created_at": starts - timedelta(days=60),
        "updated_at": starts - timedelta(days=60), "version": 1, "title": title,
        "type": rng.choice(TYPES), "description": None, "status": status, "starts_at": starts,
        "ends_at": starts + timedelta(hours=rng.choice((2, 4, 8))), "timezone": "Europe/Paris",
        "venue": venue, "online_url": None, "capacity": rng.choice((None, 40, 80, 150)),
        "registration_opens_at": None, "registration_closes_at": None,
        "members_only": rng.random() < 0.2, "member_price_cents": 0,
        "non_member_price_cents": rng.choice((0, 5_000, 15_000)), "currency": "EUR",
        "co_funders": rng.sample(["Région Île-de-France", "Bpifrance", "EU"], rng.randrange(0, 3)),
        "external_id": None, "cancelled_at": None, "cancel_reason": None,
        "completed_at": starts + timedelta(days=1) if status == "completed" else None,
        "search_text": fold_all(title, venue), "archived_at": None, "archive_reason": None,
        "restored_at": None, "restore_reason": None, **fields,
    }  # fmt: skip


def _registrations(
    rng: random.Random, event: dict[str, Any], people: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> Iterator[dict[str, Any]]:
    """Contacts for their member, in registration order; past events have check-ins."""
    past = event["status"] == "completed"
    capacity = event["capacity"]
    seated = waiting = 0
    chosen = rng.sample(list(people), min(len(people), rng.randrange(20, 160)))
    for index, (contact_id, member_id) in enumerate(chosen):
        at = event["created_at"] + timedelta(minutes=7 * index + rng.randrange(7))
        status, number = "registered", None
        if capacity is not None and seated >= capacity:
            waiting += 1
            status, number = "waitlisted", waiting
        else:
            seated += 1
            if past:
                status = "attended" if rng.random() < 0.8 else "no_show"
        member_price = rng.random() < 0.6
        yield {
            "id": _uuid(rng), "created_at": at, "updated_at": at, "version": 1,
            "event_id": event["id"], "contact_id": contact_id, "member_id": member_id,
            "guest_name": None, "guest_email": None, "guest_organisation": None,
            "guest_category": None, "role": "attendee", "status": status, "registered_at": at,
            "cancelled_at": None,
            "checked_in_at": event["starts_at"] + timedelta(minutes=rng.randrange(30))
            if status == "attended" else None,
            "promoted_at": None, "waitlist_number": number,
            "price_cents": 0 if member_price else event["non_member_price_cents"],
            "price_basis": "member" if member_price else "non_member", "currency": "EUR",
            "notes": None,
        }  # fmt: skip


def generate_events(
    session: Session,
    rng: random.Random,
    contacts_of: dict[uuid.UUID, list[uuid.UUID]],
    batch_size: int,
    now: datetime,
) -> EventCounts:
    """Insert the events and their registrations (flushes; the caller commits)."""
    counts = EventCounts()
    # One registrant per member (its first contact), each contact once: a contact affiliated
    # with several members still registers once per event.
    first_member: dict[uuid.UUID, uuid.UUID] = {}
    for member_id, contact_ids in sorted(contacts_of.items()):
        first_member.setdefault(contact_ids[0], member_id)
    people = [(contact_id, member_id) for contact_id, member_id in first_member.items()]
    if not people:
        return counts
    number = max(4, len(contacts_of) // MEMBERS_PER_EVENT)
    span = 3 * 365 * 86400
    events = [
        _event(rng, now - timedelta(days=730) + timedelta(seconds=rng.randrange(span)), now)
        for _ in range(number)
    ]
    # Far in the future, unlimited and open to all: the "register" scenario's event.
    events.append(
        _event(
            rng, datetime(2099, 6, 1, 7, tzinfo=UTC), now, title="Bench open event",
            capacity=None, members_only=False, external_id=OPEN_EVENT_EXTERNAL_ID,
        )
    )  # fmt: skip
    session.execute(insert(Event), events)
    counts.events = len(events)
    pending: list[dict[str, Any]] = []
    for event in events[:-1]:
        for row in _registrations(rng, event, people):
            pending.append(row)
            if len(pending) >= batch_size:
                session.execute(insert(Registration), pending)
                counts.registrations += len(pending)
                pending = []
    if pending:
        session.execute(insert(Registration), pending)
        counts.registrations += len(pending)
    return counts
