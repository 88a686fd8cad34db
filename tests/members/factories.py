"""Factories for members, domains, contacts and affiliations: they add and flush, never commit."""

import itertools
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import luhn

from models import Affiliation, Contact, Domain, Member
from services.geography import departement_of
from services.text import fold, fold_all

_sequence = itertools.count(1)


def valid_siren(seed: int | None = None) -> str:
    """A SIREN with a correct Luhn check digit, different on every call by default."""
    body = f"{(seed if seed is not None else 10_000_000 + next(_sequence)):08d}"
    return body + luhn.calc_check_digit(body)


def valid_siret(siren: str, establishment: int = 1) -> str:
    body = f"{siren}{establishment:04d}"
    return body + luhn.calc_check_digit(body)


def domain_by_code(session: Session, code: str) -> Domain:
    return session.scalars(select(Domain).where(Domain.code == code)).one()


def make_member(
    session: Session, *, name: str | None = None, domains: Sequence[str] = (), **fields: Any
) -> Member:
    """A member with its derived columns computed as the services do."""
    fields.setdefault("category", "sme")
    member = Member(name=name or f"Member {next(_sequence)}", **fields)
    member.country = member.country or "FR"
    member.departement = departement_of(member.postal_code)
    member.search_text = fold_all(member.name, member.legal_name, member.siren, member.city)
    member.sort_name = fold(member.name)
    member.domains = [domain_by_code(session, code) for code in domains]
    session.add(member)
    session.flush()
    return member


def make_contact(session: Session, **fields: Any) -> Contact:
    fields.setdefault("first_name", "Jeanne")
    fields.setdefault("last_name", f"Contact {next(_sequence)}")
    contact = Contact(**fields)
    contact.search_text = fold_all(contact.first_name, contact.last_name, contact.email)
    contact.sort_name = fold_all(contact.last_name, contact.first_name)
    session.add(contact)
    session.flush()
    return contact


def make_affiliation(
    session: Session,
    *,
    member: Member,
    contact: Contact | None = None,
    end_date: date | None = None,
    **fields: Any,
) -> Affiliation:
    contact = contact or make_contact(session)
    affiliation = Affiliation(
        contact_id=contact.id, member_id=member.id, end_date=end_date, **fields
    )
    session.add(affiliation)
    session.flush()
    return affiliation
