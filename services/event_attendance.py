"""Attendance sheets and per-event figures, as co-funders (the Région, Bpifrance, the EU) ask
for them: each participant with their organisation, its category and its membership status on
the day of the event, and totals by category.

A participant is anyone admitted to the event (registered, attended or no-show); the waiting
list and cancellations appear only in the figures. The membership status comes from the one
rule of ``services/membership_status.py`` through the member list's loader.
"""

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Contact, Member, Registration, RegistrationStatus
from services.event_seats import taken_seats
from services.events import event_day, get_event
from services.member_memberships import (
    MEMBER_STATUSES,
    membership_loader_options,
    membership_summary,
)

PARTICIPANT_STATUSES = (
    RegistrationStatus.REGISTERED.value,
    RegistrationStatus.ATTENDED.value,
    RegistrationStatus.NO_SHOW.value,
)
STATUSES = [status.value for status in RegistrationStatus]
# The category of a guest who gave none.
UNKNOWN_CATEGORY = "unknown"


@dataclass(frozen=True)
class Participant:
    registration_id: uuid.UUID
    name: str
    email: str | None
    organisation: str | None
    member_id: uuid.UUID | None
    category: str
    membership_status: str | None
    is_member: bool
    role: str
    status: str
    checked_in_at: datetime | None


def _members_on(session: Session, ids: set[uuid.UUID], day: date) -> dict[uuid.UUID, Member]:
    """The members with their memberships, read as of ``day`` (three statements)."""
    if not ids:
        return {}
    stmt = select(Member).where(Member.id.in_(ids)).options(*membership_loader_options(day))
    return {member.id: member for member in session.scalars(stmt)}


def attendance_sheet(session: Session, *, event_id: uuid.UUID) -> dict[str, Any]:
    """The participants of the event, in registration order, and totals by category."""
    event = get_event(session, event_id)
    day = event_day(event)
    rows = session.execute(
        select(Registration, Contact.first_name, Contact.last_name, Contact.email)
        .outerjoin(Contact, Contact.id == Registration.contact_id)
        .where(Registration.event_id == event.id, Registration.status.in_(PARTICIPANT_STATUSES))
        .order_by(Registration.registered_at, Registration.id)
    ).all()
    members = _members_on(session, {r.Registration.member_id for r in rows} - {None}, day)
    participants = []
    for row in rows:
        registration: Registration = row.Registration
        member = members.get(registration.member_id) if registration.member_id else None
        summary = membership_summary(member) if member is not None else None
        status = summary["status"] if summary else None
        if registration.contact_id is not None:
            name, email = f"{row.first_name} {row.last_name}", row.email
        else:
            name, email = registration.guest_name or "", registration.guest_email
        participants.append(
            Participant(
                registration_id=registration.id,
                name=name,
                email=email,
                organisation=member.name if member else registration.guest_organisation,
                member_id=registration.member_id,
                category=(member.category if member else registration.guest_category)
                or UNKNOWN_CATEGORY,
                membership_status=status,
                is_member=status in MEMBER_STATUSES,
                role=registration.role,
                status=registration.status,
                checked_in_at=registration.checked_in_at,
            )
        )
    return {
        "event_id": event.id,
        "title": event.title,
        "starts_at": event.starts_at,
        "as_of": day,
        "participants": participants,
        "totals": _totals(participants),
    }


def _totals(participants: list[Participant]) -> dict[str, Any]:
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    for participant in participants:
        counts = by_category[participant.category]
        counts["participants"] += 1
        counts[participant.status] += 1
        counts["members" if participant.is_member else "non_members"] += 1
    rows = [
        {
            "category": category,
            "participants": counts["participants"],
            "attended": counts[RegistrationStatus.ATTENDED],
            "no_show": counts[RegistrationStatus.NO_SHOW],
            "registered": counts[RegistrationStatus.REGISTERED],
            "members": counts["members"],
            "non_members": counts["non_members"],
        }
        for category, counts in sorted(by_category.items())
    ]
    return {
        "participants": len(participants),
        "attended": sum(row["attended"] for row in rows),
        "no_show": sum(row["no_show"] for row in rows),
        "members": sum(row["members"] for row in rows),
        "non_members": sum(row["non_members"] for row in rows),
        "by_category": rows,
    }


def event_stats(session: Session, *, event_id: uuid.UUID) -> dict[str, Any]:
    """Registrations of the event by status, overall and by category of organisation."""
    event = get_event(session, event_id)
    category = func.coalesce(Member.category, Registration.guest_category, UNKNOWN_CATEGORY)
    rows = session.execute(
        select(category.label("category"), Registration.status, func.count())
        .select_from(Registration)
        .outerjoin(Member, Member.id == Registration.member_id)
        .where(Registration.event_id == event.id)
        .group_by(category, Registration.status)
    ).all()
    totals: Counter[str] = Counter()
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        totals[row.status] += row[2]
        by_category[row.category][row.status] += row[2]
    seats_left = None
    if event.capacity is not None:
        seats_left = max(0, event.capacity - taken_seats(session, event.id))
    return {
        "event_id": event.id,
        "capacity": event.capacity,
        "seats_left": seats_left,
        **{status: totals[status] for status in STATUSES},
        "by_category": [
            {"category": name, **{status: counts[status] for status in STATUSES}}
            for name, counts in sorted(by_category.items())
        ],
    }
