"""Every write path of members, contacts, affiliations, domains and users journals exactly one
entry, with the actor and request id; a refused write journals nothing."""

import uuid

import pytest
from sqlalchemy import select

from models import User
from tests.contacts.factories import make_affiliation, make_contact
from tests.journal.helpers import entries_after, last_seq, summary
from tests.members.factories import make_member, valid_siren

MEMBERS = "/api/v1/members"
CONTACTS = "/api/v1/contacts"


@pytest.fixture
def staff_id(session, staff_headers) -> uuid.UUID:
    return session.scalars(select(User.id).order_by(User.created_at.desc())).first()


def _one(session, start):
    found = entries_after(session, start)
    assert len(found) == 1, summary(found)
    return found[0]


def test_create_member_records_actor_request_and_type(client, session, staff_headers, staff_id):
    start = last_seq(session)
    response = client.post(
        MEMBERS,
        json={"name": "Acme Santé", "category": "sme"},
        headers={**staff_headers, "X-Request-ID": "req-create-1"},
    )
    assert response.status_code == 201
    entry = _one(session, start)
    assert entry.event_type == "member.created"
    assert (entry.resource_type, str(entry.resource_id)) == ("member", response.json["id"])
    assert entry.actor_user_id == staff_id
    assert entry.request_id == "req-create-1"
    assert entry.source == "api"
    assert entry.changes is None
    assert entry.occurred_at is not None


def test_update_member_records_old_and_new_values(client, session, staff_headers):
    member = make_member(session, name="Before", city="Lyon", domains=["imaging"])
    session.commit()
    start = last_seq(session)
    response = client.patch(
        f"{MEMBERS}/{member.id}",
        json={"city": "Paris", "postal_code": "75011", "domains": ["imaging", "biotech"]},
        headers=staff_headers,
    )
    assert response.status_code == 200, response.json
    entry = _one(session, start)
    assert entry.event_type == "member.updated"
    # Derived copies (departement, search_text, sort_name) and bookkeeping are left out.
    assert entry.changes == {
        "city": ["Lyon", "Paris"],
        "postal_code": [None, "75011"],
        "domains": [["imaging"], ["biotech", "imaging"]],
    }


def test_noop_patch_records_nothing(client, session, staff_headers):
    member = make_member(session, name="Same", city="Lyon")
    session.commit()
    start = last_seq(session)
    response = client.patch(
        f"{MEMBERS}/{member.id}", json={"city": "Lyon", "name": "Same"}, headers=staff_headers
    )
    assert response.status_code == 200
    assert entries_after(session, start) == []


def test_archive_restore_delete_member(client, session, staff_headers):
    member = make_member(session, name="Cycle")
    session.commit()
    member_id = member.id
    url = f"{MEMBERS}/{member_id}"
    start = last_seq(session)
    assert (
        client.post(f"{url}/archive", json={"reason": "merged"}, headers=staff_headers).status_code
        == 200
    )
    archived = _one(session, start)
    assert archived.event_type == "member.archived"
    assert archived.changes["archive_reason"] == [None, "merged"]
    start = archived.seq
    assert (
        client.post(f"{url}/restore", json={"reason": "back"}, headers=staff_headers).status_code
        == 200
    )
    restored = _one(session, start)
    assert restored.event_type == "member.restored"
    assert restored.changes["restore_reason"] == [None, "back"]
    assert restored.changes["archived_at"][1] is None
    start = restored.seq
    assert client.delete(url, headers=staff_headers).status_code == 204
    deleted = _one(session, start)
    assert (deleted.event_type, deleted.resource_id, deleted.changes) == (
        "member.deleted",
        member_id,
        None,
    )


def test_upsert_member_creates_then_updates(client, session, staff_headers):
    url = f"{MEMBERS}/by-external-id/crm-42"
    start = last_seq(session)
    body = {"name": "Upserted", "category": "sme"}
    assert client.put(url, json=body, headers=staff_headers).status_code == 201
    created = _one(session, start)
    assert created.event_type == "member.created"
    assert client.put(url, json={**body, "city": "Nice"}, headers=staff_headers).status_code == 200
    assert summary(entries_after(session, created.seq)) == [
        ("member.updated", {"city": [None, "Nice"]})
    ]


def test_refused_member_writes_record_nothing(client, session, staff_headers):
    siren = valid_siren()
    make_member(session, name="Holder", siren=siren)
    other = make_member(session, name="Other")
    session.commit()
    start = last_seq(session)
    duplicate = client.post(
        MEMBERS, json={"name": "Twin", "category": "sme", "siren": siren}, headers=staff_headers
    )
    assert duplicate.status_code == 409
    stale = client.patch(
        f"{MEMBERS}/{other.id}",
        json={"city": "Lille"},
        headers={**staff_headers, "If-Match": '"v9"'},
    )
    assert stale.status_code == 412
    invalid = client.patch(
        f"{MEMBERS}/{other.id}", json={"parent_id": str(other.id)}, headers=staff_headers
    )
    assert invalid.status_code == 422
    taken = client.patch(f"{MEMBERS}/{other.id}", json={"siren": siren}, headers=staff_headers)
    assert taken.status_code == 409
    assert entries_after(session, start) == []


def test_contact_write_paths(client, session, staff_headers):
    start = last_seq(session)
    response = client.post(
        CONTACTS,
        json={"first_name": "Jeanne", "last_name": "Martin", "email": "J.Martin@example.org"},
        headers=staff_headers,
    )
    assert response.status_code == 201
    url = f"{CONTACTS}/{response.json['id']}"
    created = _one(session, start)
    assert created.event_type == "contact.created"

    assert client.patch(url, json={"last_name": "Durand"}, headers=staff_headers).status_code == 200
    updated = _one(session, created.seq)
    assert (updated.event_type, updated.changes) == (
        "contact.updated",
        {"last_name": ["Martin", "Durand"]},
    )
    assert (
        client.post(f"{url}/archive", json={"reason": "left"}, headers=staff_headers).status_code
        == 200
    )
    archived = _one(session, updated.seq)
    assert archived.event_type == "contact.archived"
    assert client.post(f"{url}/restore", headers=staff_headers).status_code == 200
    restored = _one(session, archived.seq)
    assert restored.event_type == "contact.restored"
    assert client.delete(url, headers=staff_headers).status_code == 204
    assert _one(session, restored.seq).event_type == "contact.deleted"


def test_erasing_a_contact_records_one_entry_for_it_and_its_affiliations(
    client, session, staff_headers
):
    contact = make_contact(session)
    make_affiliation(session, contact=contact, member=make_member(session))
    make_affiliation(session, contact=contact, member=make_member(session))
    session.commit()
    start = last_seq(session)
    assert client.delete(f"{CONTACTS}/{contact.id}", headers=staff_headers).status_code == 204
    assert summary(entries_after(session, start)) == [("contact.deleted", None)]


def test_upsert_contact(client, session, staff_headers):
    url = f"{CONTACTS}/by-external-id/hr-7"
    start = last_seq(session)
    body = {"first_name": "Ana", "last_name": "Lopez"}
    assert client.put(url, json=body, headers=staff_headers).status_code == 201
    created = _one(session, start)
    assert created.event_type == "contact.created"
    assert client.put(url, json={**body, "notes": "VIP"}, headers=staff_headers).status_code == 200
    assert summary(entries_after(session, created.seq)) == [
        ("contact.updated", {"notes": [None, "VIP"]})
    ]


def test_refused_contact_writes_record_nothing(client, session, staff_headers):
    make_contact(session, email="taken@example.org")
    other = make_contact(session, email="free@example.org")
    session.commit()
    start = last_seq(session)
    url = f"{CONTACTS}/{other.id}"
    assert (
        client.patch(url, json={"email": "taken@example.org"}, headers=staff_headers).status_code
        == 409
    )
    stale = client.patch(url, json={"notes": "x"}, headers={**staff_headers, "If-Match": '"v7"'})
    assert stale.status_code == 412
    assert client.patch(url, json={"first_name": ""}, headers=staff_headers).status_code == 422
    assert client.post(f"{url}/restore", headers=staff_headers).status_code == 409
    assert entries_after(session, start) == []


def test_affiliation_write_paths(client, session, staff_headers):
    contact = make_contact(session)
    member = make_member(session)
    session.commit()
    url = f"{CONTACTS}/{contact.id}/affiliations"
    start = last_seq(session)
    response = client.post(url, json={"member_id": str(member.id)}, headers=staff_headers)
    assert response.status_code == 201
    # The contact's ETag moves too, but only the affiliation changed: one entry.
    created = _one(session, start)
    assert (created.event_type, str(created.resource_id)) == (
        "affiliation.created",
        response.json["id"],
    )
    one = f"{url}/{response.json['id']}"
    assert client.patch(one, json={"job_title": "CTO"}, headers=staff_headers).status_code == 200
    updated = _one(session, created.seq)
    assert (updated.event_type, updated.changes) == (
        "affiliation.updated",
        {"job_title": [None, "CTO"]},
    )
    assert client.delete(one, headers=staff_headers).status_code == 204
    assert _one(session, updated.seq).event_type == "affiliation.deleted"
    duplicate = client.post(url, json={"member_id": str(member.id)}, headers=staff_headers)
    assert duplicate.status_code == 201
    start = last_seq(session)
    again = client.post(url, json={"member_id": str(member.id)}, headers=staff_headers)
    assert again.status_code == 409
    unknown = client.post(url, json={"member_id": str(uuid.uuid4())}, headers=staff_headers)
    assert unknown.status_code == 422
    assert entries_after(session, start) == []


def test_making_an_affiliation_primary_records_the_demotion_too(client, session, staff_headers):
    contact = make_contact(session)
    first = make_affiliation(session, contact=contact, member=make_member(session), is_primary=True)
    second = make_affiliation(session, contact=contact, member=make_member(session))
    session.commit()
    start = last_seq(session)
    response = client.patch(
        f"{CONTACTS}/{contact.id}/affiliations/{second.id}",
        json={"is_primary": True},
        headers=staff_headers,
    )
    assert response.status_code == 200
    found = {entry.resource_id: entry.changes for entry in entries_after(session, start)}
    assert found == {
        first.id: {"is_primary": [True, False]},
        second.id: {"is_primary": [False, True]},
    }


def test_domain_write_paths(client, session, admin_headers):
    start = last_seq(session)
    response = client.post(
        "/api/v1/domains", json={"code": "genomics", "label": "Genomics"}, headers=admin_headers
    )
    assert response.status_code == 201
    created = _one(session, start)
    assert created.event_type == "domain.created"
    url = f"/api/v1/domains/{response.json['id']}"
    assert client.patch(url, json={"is_active": False}, headers=admin_headers).status_code == 200
    assert summary(entries_after(session, created.seq)) == [
        ("domain.updated", {"is_active": [True, False]})
    ]
    start = last_seq(session)
    again = client.post(
        "/api/v1/domains", json={"code": "genomics", "label": "Again"}, headers=admin_headers
    )
    assert again.status_code == 409
    assert entries_after(session, start) == []


def test_user_write_paths_never_record_the_password(client, session, admin_headers):
    start = last_seq(session)
    response = client.post(
        "/api/v1/users",
        json={"email": "new@example.org", "password": "a long enough password", "role": "staff"},
        headers=admin_headers,
    )
    assert response.status_code == 201
    created = _one(session, start)
    assert (created.event_type, created.changes) == ("user.created", None)
    url = f"/api/v1/users/{response.json['id']}"
    response = client.patch(
        url, json={"password": "another long password", "role": "viewer"}, headers=admin_headers
    )
    assert response.status_code == 200
    updated = _one(session, created.seq)
    assert updated.changes == {
        "password": ["[redacted]", "[redacted]"],
        "role": ["staff", "viewer"],
    }
    assert "argon2" not in str(updated.changes)
    assert client.post(f"{url}/deactivate", headers=admin_headers).status_code == 200
    deactivated = _one(session, updated.seq)
    assert (deactivated.event_type, deactivated.changes) == (
        "user.updated",
        {"is_active": [True, False]},
    )
    start = deactivated.seq
    duplicate = client.post(
        "/api/v1/users",
        json={"email": "new@example.org", "password": "a long enough password", "role": "staff"},
        headers=admin_headers,
    )
    assert duplicate.status_code == 409
    assert entries_after(session, start) == []
    assert client.delete(url, headers=admin_headers).status_code == 204
    deleted = _one(session, start)
    assert (deleted.event_type, deleted.changes) == ("user.deleted", None)


def test_rolled_back_change_leaves_no_entry(session):
    member = make_member(session, name="Rolled")
    session.commit()
    start = last_seq(session)
    member.city = "Brest"
    session.flush()
    session.rollback()
    session.commit()
    assert entries_after(session, start) == []


def test_changes_over_several_flushes_make_one_entry(session):
    member = make_member(session, name="Flushes", city="Metz")
    session.commit()
    start = last_seq(session)
    member.city = "Nancy"
    session.flush()
    member.city = "Reims"
    member.name = "Flushed"
    session.flush()
    session.commit()
    assert summary(entries_after(session, start)) == [
        ("member.updated", {"city": ["Metz", "Reims"], "name": ["Flushes", "Flushed"]})
    ]
