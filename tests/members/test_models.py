"""The constraints of the member and contact tables hold on both databases."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Affiliation, Contact, Domain, Member
from services.transactions import violated_constraint


def _member(session, **fields):
    member = Member(name=fields.pop("name", "Acme"), category="sme", **fields)
    session.add(member)
    session.flush()
    return member


def _violation(session, record) -> str | None:
    session.add(record)
    with pytest.raises(IntegrityError) as caught:
        session.flush()
    session.rollback()
    return violated_constraint(caught.value)


def test_domains_are_seeded(session):
    codes = set(session.scalars(select(Domain.code)))
    assert {"diagnostics", "therapeutics", "medical_devices", "imaging", "biotech"} <= codes


def test_siren_is_unique(session):
    _member(session, siren="552120222")
    session.commit()
    assert _violation(session, Member(name="B", category="sme", siren="552120222")) == (
        "uq_members_siren"
    )


def test_external_id_is_unique(session):
    _member(session, external_id="crm-1")
    session.commit()
    assert _violation(session, Member(name="B", category="sme", external_id="crm-1")) == (
        "uq_members_external_id"
    )


def test_contact_email_is_unique_among_active_contacts_only(session):
    session.add(
        Contact(first_name="A", last_name="B", email="a@example.org", archived_at=datetime.now(UTC))
    )
    session.add(Contact(first_name="A", last_name="B", email="a@example.org"))
    session.commit()
    duplicate = Contact(first_name="C", last_name="D", email="a@example.org")
    assert _violation(session, duplicate) == "uq_contacts_email"


def test_one_primary_affiliation_per_contact(session):
    first, second, third = (_member(session, name=name) for name in ("A", "B", "C"))
    contact = Contact(first_name="A", last_name="B")
    session.add(contact)
    session.flush()
    session.add(Affiliation(contact_id=contact.id, member_id=first.id, is_primary=True))
    session.add(Affiliation(contact_id=contact.id, member_id=second.id, is_primary=False))
    session.commit()
    extra_primary = Affiliation(contact_id=contact.id, member_id=third.id, is_primary=True)
    assert _violation(session, extra_primary) == "uq_affiliations_contact_id"


def test_one_affiliation_per_contact_and_member(session):
    member = _member(session)
    contact = Contact(first_name="A", last_name="B")
    session.add(contact)
    session.flush()
    session.add(Affiliation(contact_id=contact.id, member_id=member.id))
    session.commit()
    again = Affiliation(contact_id=contact.id, member_id=member.id)
    assert _violation(session, again) == "uq_affiliations_contact_id_member_id"
