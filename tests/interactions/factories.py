"""Factories for interactions: they add and flush, never commit."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import (
    Contact,
    Interaction,
    InteractionContact,
    InteractionMember,
    InteractionParticipant,
    Member,
    User,
)
from services.text import fold_all
from tests.factories import bearer, log_in, make_user

_sequence = itertools.count(1)
BASE_TIME = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_interaction(
    session: Session,
    *,
    owner: User,
    members: tuple[Member, ...] = (),
    contacts: tuple[Contact, ...] = (),
    participants: tuple[User, ...] = (),
    subject: str | None = None,
    notes: str | None = None,
    occurred_at: datetime | None = None,
    **fields: Any,
) -> Interaction:
    number = next(_sequence)
    fields.setdefault("kind", "touchpoint")
    fields.setdefault("type", "call")
    subject = subject or f"Call {number}"
    interaction = Interaction(
        owner_id=owner.id,
        subject=subject,
        notes=notes,
        occurred_at=occurred_at or BASE_TIME + timedelta(minutes=number),
        search_text=fold_all(subject, notes),
        members=[InteractionMember(member_id=m.id, role="participant") for m in members],
        contacts=[InteractionContact(contact_id=c.id, role="participant") for c in contacts],
        participants=[InteractionParticipant(user_id=u.id) for u in participants],
        **fields,
    )
    session.add(interaction)
    session.flush()
    return interaction


def user_with_headers(
    client: FlaskClient, session: Session, role: str = "staff"
) -> tuple[User, dict[str, str]]:
    """A committed user and the headers of a token for them."""
    user = make_user(session, role=role)
    session.commit()
    return user, bearer(log_in(client, user.email)["access_token"])
