"""Contact and affiliation rules, called as services (no HTTP)."""

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from models import Affiliation, Contact
from services.affiliations import (
    create_affiliation,
    delete_affiliation,
    list_affiliations,
    update_affiliation,
)
from services.contacts import (
    archive_contact,
    create_contact,
    erase_contact,
    get_contact,
    list_contacts,
    restore_contact,
    update_contact,
    upsert_contact,
)
from services.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from tests.contacts.factories import make_affiliation, make_contact, make_member


def _primary_ids(session, contact_id) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(Affiliation.id).where(
                Affiliation.contact_id == contact_id, Affiliation.is_primary
            )
        )
    )


def test_create_stores_lower_case_email_and_folded_columns(session):
    contact = create_contact(
        session, first_name="Élodie", last_name="Ñúñez", email="Elodie.N@Example.ORG"
    )
    assert contact.email == "elodie.n@example.org"
    assert contact.search_text == "elodie nunez elodie.n@example.org"
    assert contact.sort_name == "nunez elodie"
    assert contact.version == 1


def test_email_is_unique_case_insensitively_among_active_contacts(session):
    first = create_contact(session, first_name="A", last_name="B", email="dup@example.org")
    with pytest.raises(Conflict) as caught:
        create_contact(session, first_name="C", last_name="D", email="DUP@example.org")
    assert caught.value.field == "email"
    assert caught.value.existing == {"id": str(first.id), "href": f"/api/v1/contacts/{first.id}"}
    archive_contact(session, contact_id=first.id, reason=None, if_match=None)
    second = create_contact(session, first_name="C", last_name="D", email="DUP@example.org")
    with pytest.raises(Conflict):
        restore_contact(session, contact_id=first.id, if_match=None)
    erase_contact(session, contact_id=second.id, if_match=None)
    assert restore_contact(session, contact_id=first.id, if_match=None).archived_at is None


def test_update_checks_the_version(session):
    contact = make_contact(session)
    with pytest.raises(PreconditionFailed):
        update_contact(session, contact_id=contact.id, changes={"notes": "x"}, if_match={2})
    updated = update_contact(session, contact_id=contact.id, changes={"notes": "x"}, if_match={1})
    assert (updated.notes, updated.version) == ("x", 2)


def test_upsert_creates_then_updates(session):
    created, was_created = upsert_contact(
        session, external_id=" crm-9 ", values={"first_name": "A", "last_name": "B"}, if_match=None
    )
    assert was_created
    assert created.external_id == "crm-9"
    updated, was_created = upsert_contact(
        session, external_id="crm-9", values={"first_name": "A", "last_name": "C"}, if_match={1}
    )
    assert not was_created
    assert (updated.id, updated.last_name) == (created.id, "C")
    with pytest.raises(InvalidInput):
        upsert_contact(session, external_id=" ", values={}, if_match=None)


def test_list_filters_compose(session):
    member = make_member(session)
    archived = make_contact(session, first_name="Loïc", archived=True)
    active = make_contact(session, first_name="Loïc")
    make_affiliation(session, contact=active, member=member, roles=["board_member"])
    make_affiliation(session, contact=archived, member=member, roles=["board_member"])

    def ids(**filters) -> set[uuid.UUID]:
        return set(session.scalars(list_contacts(**filters)))

    assert {c.id for c in ids(q="loic")} == {active.id}
    assert {c.id for c in ids(q="loic", archived=None)} == {active.id, archived.id}
    assert {c.id for c in ids(member_id=member.id, role="board_member", archived=True)} == {
        archived.id
    }
    assert ids(member_id=member.id, role="billing_contact") == set()


def test_affiliation_rules(session):
    contact = make_contact(session)
    first, second = make_member(session), make_member(session)
    archived_member = make_member(session, archived=True)
    one = create_affiliation(session, contact_id=contact.id, member_id=first.id, is_primary=True)
    with pytest.raises(InvalidInput) as caught:
        create_affiliation(session, contact_id=contact.id, member_id=archived_member.id)
    assert list(caught.value.errors) == ["member_id"]
    with pytest.raises(Conflict) as conflict:
        create_affiliation(session, contact_id=contact.id, member_id=first.id)
    assert conflict.value.field == "member_id"
    two = create_affiliation(
        session, contact_id=contact.id, member_id=second.id, roles=["other", "other"]
    )
    assert two.roles == ["other"]
    update_affiliation(
        session,
        contact_id=contact.id,
        affiliation_id=two.id,
        changes={"is_primary": True},
        if_match={1},
    )
    assert _primary_ids(session, contact.id) == [two.id]
    assert one.version == 2  # demoted, so its ETag moved
    with pytest.raises(InvalidInput):
        update_affiliation(
            session,
            contact_id=contact.id,
            affiliation_id=two.id,
            changes={"start_date": date(2024, 2, 1), "end_date": date(2024, 1, 1)},
            if_match=None,
        )
    delete_affiliation(session, contact_id=contact.id, affiliation_id=two.id, if_match=None)
    assert _primary_ids(session, contact.id) == []
    assert [a.id for a in get_contact(session, contact.id).affiliations] == [one.id]


def test_affiliation_of_another_contact_is_not_found(session):
    member = make_member(session)
    mine, theirs = make_contact(session), make_contact(session)
    affiliation = make_affiliation(session, contact=theirs, member=member)
    with pytest.raises(NotFound):
        update_affiliation(
            session, contact_id=mine.id, affiliation_id=affiliation.id, changes={}, if_match=None
        )
    with pytest.raises(NotFound):
        list_affiliations(session, contact_id=uuid.uuid4())


def test_list_affiliations_updated_since(session):
    contact, member = make_contact(session), make_member(session)
    old = make_affiliation(session, contact=contact, member=member)
    old.updated_at = datetime(2020, 1, 1, tzinfo=UTC)
    recent = make_affiliation(session, contact=contact, member=make_member(session))
    session.flush()
    stmt = list_affiliations(
        session, contact_id=contact.id, updated_since=datetime(2023, 1, 1, tzinfo=UTC)
    )
    assert [a.id for a in session.scalars(stmt)] == [recent.id]


def test_erase_removes_every_trace(session):
    contact, member = make_contact(session), make_member(session)
    make_affiliation(session, contact=contact, member=member)
    erase_contact(session, contact_id=contact.id, if_match={1})
    assert session.scalar(select(func.count()).select_from(Contact)) == 0
    assert session.scalar(select(func.count()).select_from(Affiliation)) == 0
