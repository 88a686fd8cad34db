"""POST /members/batch and /contacts/batch: 207 with one result per item, in order."""

import pytest
from sqlalchemy import func, select

from models import Contact, Member
from tests.journal.helpers import entries_after, last_seq

MEMBERS = "/api/v1/members/batch"
CONTACTS = "/api/v1/contacts/batch"


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_members_are_created_and_upserted_independently(client, session, staff_headers):
    client.post(
        "/api/v1/members",
        json={"name": "Old name", "category": "sme", "external_id": "crm-1", "siren": "552120222"},
        headers=staff_headers,
    )
    before = last_seq(session)
    items = [
        {"name": "New name", "category": "sme", "external_id": "crm-1"},
        {"name": "Fresh", "category": "academic_lab"},
        {"name": "", "category": "sme"},
        {"name": "Clash", "category": "sme", "siren": "552120222", "external_id": "crm-3"},
        {"name": "Another", "category": "investor", "external_id": "crm-2"},
        {"name": "Odd", "category": "sme", "unknown": 1},
    ]
    response = client.post(MEMBERS, json={"items": items}, headers=staff_headers)
    assert response.status_code == 207, response.get_json()
    results = response.get_json()["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["status"] for r in results] == [200, 201, 422, 409, 201, 422]
    assert list(results[2]["problem"]["errors"]) == ["name"]
    assert "unknown" in results[5]["problem"]["errors"]
    assert results[3]["problem"]["errors"]["siren"]
    assert all(r["id"] is None for r in results if r["status"] >= 400)
    assert all(r["problem"] is None for r in results if r["status"] < 300)
    updated = client.get(f"/api/v1/members/{results[0]['id']}", headers=staff_headers).get_json()
    assert updated["name"] == "New name"
    assert _count(session, Member) == 3
    # One journal entry per written item, none for a refused one.
    assert [e.event_type for e in entries_after(session, before)] == [
        "member.updated",
        "member.created",
        "member.created",
    ]


def test_atomic_batch_writes_all_or_nothing(client, session, staff_headers):
    before = last_seq(session)
    items = [
        {"name": "One", "category": "sme", "external_id": "a-1"},
        {"name": "Two", "category": "sme", "siren": "552120222"},
        {"name": "Three", "category": "sme", "siren": "552120222", "external_id": "a-3"},
    ]
    response = client.post(MEMBERS, json={"items": items, "atomic": True}, headers=staff_headers)
    assert response.status_code == 207
    statuses = [r["status"] for r in response.get_json()["results"]]
    assert statuses == [424, 424, 409]
    assert _count(session, Member) == 0
    assert entries_after(session, before) == []
    good = client.post(
        MEMBERS, json={"items": items[:2], "atomic": True}, headers=staff_headers
    ).get_json()["results"]
    assert [r["status"] for r in good] == [201, 201]
    assert _count(session, Member) == 2
    assert len(entries_after(session, before)) == 2


def test_contacts_batch(client, session, staff_headers):
    items = [
        {"first_name": "Claire", "last_name": "Martin", "external_id": "c-1"},
        {"first_name": "Claire", "last_name": "Martin-Dubois", "external_id": "c-1"},
        {"first_name": "Paul", "last_name": "Durand", "email": "not-an-email"},
        {"first_name": "Paul", "last_name": "Durand", "email": "paul@example.org"},
        {"first_name": "Paulo", "last_name": "Durand", "email": "PAUL@example.org"},
        {
            "first_name": "Pablo",
            "last_name": "D",
            "email": "paul@example.org",
            "external_id": "c-2",
        },
    ]
    response = client.post(CONTACTS, json={"items": items}, headers=staff_headers)
    assert response.status_code == 207
    results = response.get_json()["results"]
    # The e-mail is the natural key of an item without external_id: the fifth item updates
    # the fourth's contact; the sixth would create a second active contact with it (409).
    assert [r["status"] for r in results] == [201, 200, 422, 201, 200, 409]
    assert results[0]["id"] == results[1]["id"]
    assert results[3]["id"] == results[4]["id"]
    assert results[5]["problem"]["errors"]["email"]
    paul = client.get(f"/api/v1/contacts/{results[3]['id']}", headers=staff_headers).get_json()
    assert paul["first_name"] == "Paulo"
    assert _count(session, Contact) == 2


def test_a_member_item_without_external_id_is_upserted_by_its_siren(client, session, staff_headers):
    created = client.post(
        "/api/v1/members",
        json={"name": "Known by SIREN", "category": "sme", "siren": "552120222"},
        headers=staff_headers,
    ).get_json()
    before = last_seq(session)
    items = [
        {"name": "Renamed", "category": "sme", "siren": "552120222"},
        {"name": "New", "category": "sme", "siren": "732829320"},
    ]
    results = client.post(MEMBERS, json={"items": items}, headers=staff_headers).get_json()[
        "results"
    ]
    assert [r["status"] for r in results] == [200, 201]
    assert results[0]["id"] == created["id"]
    member = client.get(f"/api/v1/members/{created['id']}", headers=staff_headers).get_json()
    assert member["name"] == "Renamed"
    assert _count(session, Member) == 2
    assert [e.event_type for e in entries_after(session, before)] == [
        "member.updated",
        "member.created",
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": []}, "items"),
        ({"items": [{"name": "x", "category": "sme"}] * 101}, "items"),
        ({}, "items"),
        ({"items": "nope"}, "items"),
        ({"items": [{"name": "x", "category": "sme"}], "atomic": "yes"}, "atomic"),
        ({"items": [{"name": "x", "category": "sme"}], "extra": 1}, "extra"),
    ],
)
def test_malformed_batches_are_refused_whole(client, session, staff_headers, body, field):
    response = client.post(MEMBERS, json=body, headers=staff_headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert _count(session, Member) == 0


def test_items_that_are_not_objects_are_refused_one_by_one(client, session, staff_headers):
    response = client.post(
        MEMBERS, json={"items": [42, {"name": "ok", "category": "sme"}]}, headers=staff_headers
    )
    assert [r["status"] for r in response.get_json()["results"]] == [422, 201]


def test_batches_need_the_write_scope(client, session, viewer_headers):
    body = {"items": [{"name": "x", "category": "sme"}]}
    assert client.post(MEMBERS, json=body, headers=viewer_headers).status_code == 403
    assert client.post(MEMBERS, json=body).status_code == 401
    contact = {"items": [{"first_name": "A", "last_name": "B"}]}
    assert client.post(CONTACTS, json=contact, headers=viewer_headers).status_code == 403
    assert _count(session, Member) == 0


def test_a_batch_retried_with_its_key_is_replayed(client, session, staff_headers):
    body = {"items": [{"name": "x", "category": "sme"}]}
    headers = {**staff_headers, "Idempotency-Key": "batch-1"}
    first = client.post(MEMBERS, json=body, headers=headers)
    again = client.post(MEMBERS, json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert _count(session, Member) == 1
