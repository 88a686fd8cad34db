"""Every write path of interactions journals exactly one entry (links and participants as
lists of names), a refused write none; PUT /interactions/by-external-id/{id} upserts."""

from tests.contacts.factories import make_contact, make_member
from tests.factories import make_user
from tests.interactions.factories import make_interaction, user_with_headers
from tests.journal.helpers import entries_after, last_seq, summary

URL = "/api/v1/interactions"


def _body(member, **overrides):
    return {
        "kind": "service",
        "type": "funding_advice",
        "subject": "Dossier i-Nov",
        "occurred_at": "2026-03-02T10:00:00+01:00",
        "members": [{"member_id": str(member.id), "role": "requester"}],
        **overrides,
    }


def _one(session, start):
    found = entries_after(session, start)
    assert len(found) == 1, summary(found)
    return found[0]


def test_each_write_path_writes_one_entry(client, session):
    owner, headers = user_with_headers(client, session)
    colleague = make_user(session, role="staff")
    member, contact = make_member(session), make_contact(session)
    session.commit()
    start = last_seq(session)
    response = client.post(URL, json=_body(member), headers=headers)
    assert response.status_code == 201
    url = f"{URL}/{response.get_json()['id']}"
    created = _one(session, start)
    assert (created.event_type, created.actor_user_id) == ("interaction.created", owner.id)

    change = {
        "notes": "Éligible",
        "contacts": [{"contact_id": str(contact.id)}],
        "participant_ids": [str(colleague.id)],
    }
    assert client.patch(url, json=change, headers=headers).status_code == 200
    updated = _one(session, created.seq)
    assert updated.event_type == "interaction.updated"
    assert updated.changes == {
        "notes": [None, "Éligible"],
        "contacts": [[], [f"{contact.id}:participant"]],
        "participants": [[], [str(colleague.id)]],
    }  # the folded search text is left out

    # Refused: unknown member, no-op, stale If-Match.
    start = updated.seq
    bad = {"members": [{"member_id": str(contact.id)}]}
    assert client.patch(url, json=bad, headers=headers).status_code == 422
    assert client.patch(url, json={"notes": "Éligible"}, headers=headers).status_code == 200
    stale = {**headers, "If-Match": '"v1"'}
    assert client.patch(url, json={"notes": "x"}, headers=stale).status_code == 412
    assert entries_after(session, start) == []

    archive = client.post(f"{url}/archive", json={"reason": "dup"}, headers=headers)
    assert archive.status_code == 200
    archived = _one(session, start)
    assert archived.event_type == "interaction.archived"
    assert client.post(f"{url}/restore", headers=headers).status_code == 200
    restored = _one(session, archived.seq)
    assert restored.event_type == "interaction.restored"

    history = client.get(f"{url}/history", headers=headers)
    assert [entry["type"] for entry in history.get_json()["data"]] == [
        "interaction.restored",
        "interaction.archived",
        "interaction.updated",
        "interaction.created",
    ]
    assert client.delete(url, headers=headers).status_code == 204
    deleted = _one(session, restored.seq)
    assert (deleted.event_type, deleted.changes) == ("interaction.deleted", None)


def test_upsert_creates_then_updates(client, session):
    _owner, headers = user_with_headers(client, session)
    member = make_member(session)
    session.commit()
    url = f"{URL}/by-external-id/crm-7"
    start = last_seq(session)
    created = client.put(url, json=_body(member), headers=headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["external_id"] == "crm-7"
    assert created.headers["Location"].endswith(f"{URL}/{body['id']}")
    again = client.put(url, json=_body(member, outcome="Filed"), headers=headers)
    assert again.status_code == 200, again.get_json()
    assert (again.get_json()["id"], again.get_json()["outcome"]) == (body["id"], "Filed")
    assert again.headers["ETag"] == '"v2"'
    assert summary(entries_after(session, start)) == [
        ("interaction.created", None),
        ("interaction.updated", {"outcome": [None, "Filed"]}),
    ]
    stale = client.put(
        url, json=_body(member, outcome="Late"), headers={**headers, "If-Match": '"v1"'}
    )
    assert stale.status_code == 412


def test_upsert_refusals_write_nothing(client, session):
    owner, headers = user_with_headers(client, session)
    member = make_member(session)
    session.commit()
    start = last_seq(session)
    no_links = _body(member, members=[])
    response = client.put(f"{URL}/by-external-id/crm-8", json=no_links, headers=headers)
    assert response.status_code == 422
    assert "members" in response.get_json()["errors"]
    missing = client.put(f"{URL}/by-external-id/crm-8", json={"subject": "x"}, headers=headers)
    assert missing.status_code == 422
    assert {"kind", "type", "occurred_at"} <= set(missing.get_json()["errors"])
    too_long = client.put(f"{URL}/by-external-id/{'x' * 101}", json=_body(member), headers=headers)
    assert too_long.status_code == 422
    assert entries_after(session, start) == []
    del owner


def test_upsert_of_a_confidential_interaction_others_cannot_see(client, session):
    owner, owner_headers = user_with_headers(client, session)
    _other, other_headers = user_with_headers(client, session)
    member = make_member(session)
    secret = make_interaction(
        session, owner=owner, members=(member,), confidential=True, external_id="secret-9"
    )
    session.commit()
    start = last_seq(session)
    url = f"{URL}/by-external-id/secret-9"
    refused = client.put(url, json=_body(member, subject="Overwrite"), headers=other_headers)
    assert refused.status_code == 409
    assert "existing" not in refused.get_json()  # no pointer to what they cannot see
    assert entries_after(session, start) == []
    session.refresh(secret)
    assert secret.subject != "Overwrite"
    allowed = client.put(url, json=_body(member, subject="Renamed"), headers=owner_headers)
    assert allowed.status_code == 200
