"""Factories for contacts and affiliations: they add and flush, never commit."""

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from models import Affiliation, Contact, Member
from services.text import fold_all

_sequence = itertools.count(1)


def make_member(session: Session, *, name: str | None = None, archived: bool = False) -> Member:
    member = Member(
        name=name or f"Member {next(_sequence)}",
        category="sme",
        archived_at=datetime.now(UTC) if archived else None,
    )
    session.add(member)
    session.flush()
    return member


def make_contact(
    session: Session,
    *,
    first_name: str = "Jeanne",
    last_name: str | None = None,
    email: str | None = None,
    archived: bool = False,
    **fields: Any,
) -> Contact:
    last_name = last_name or f"Martin{next(_sequence)}"
    contact = Contact(
        first_name=first_name,
        last_name=last_name,
        email=email,
        archived_at=datetime.now(UTC) if archived else None,
        search_text=fold_all(first_name, last_name, email),
        sort_name=fold_all(last_name, first_name),
        **fields,
    )
    session.add(contact)
    session.flush()
    return contact


def make_affiliation(
    session: Session, *, contact: Contact, member: Member, **fields: Any
) -> Affiliation:
    affiliation = Affiliation(contact_id=contact.id, member_id=member.id, **fields)
    session.add(affiliation)
    session.flush()
    return affiliation
