"""Interactions over HTTP: create, read, update, archive, restore, delete; bad input; scopes."""

import pytest

from tests.contacts.factories import make_contact, make_member
from tests.factories import make_user
from tests.interactions.factories import make_interaction, user_with_headers

URL = "/api/v1/interactions"


def _body(member, **overrides):
    body = {
        "kind": "service",
        "type": "funding_advice",
        "subject": "Dossier i-Nov",
        "occurred_at": "2026-03-02T10:00:00+01:00",
        "members": [{"member_id": str(member.id), "role": "requester"}],
    }
    body.update(overrides)
    return body


def test_create_read_update_archive_restore_delete(client, session):
    owner, headers = user_with_headers(client, session)
    colleague = make_user(session, role="staff")
    member = make_member(session)
    contact = make_contact(session)
    session.commit()

    response = client.post(
        URL,
        json=_body(
            member,
            contacts=[{"contact_id": str(contact.id)}],
            participant_ids=[str(colleague.id)],
            notes="Éligibilité à vérifier",
            minutes_spent=45,
            channel="video",
            external_id="crm-1",
            source="legacy-crm",
            follow_up_due="2026-03-10",
            follow_up_assignee_id=str(owner.id),
        ),
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"{URL}/{body['id']}")
    assert response.headers["ETag"] == '"v1"'
    assert body["owner_id"] == str(owner.id)
    assert body["participant_ids"] == [str(colleague.id)]
    assert body["members"] == [{"member_id": str(member.id), "role": "requester"}]
    assert body["contacts"] == [{"contact_id": str(contact.id), "role": "participant"}]
    assert body["occurred_at"] == "2026-03-02T09:00:00+00:00"
    assert body["follow_up_done"] is False
    assert body["follow_up_done_at"] is None
    assert body["confidential"] is False
    url = f"{URL}/{body['id']}"

    got = client.get(url, headers=headers)
    assert got.status_code == 200
    assert got.get_json() == body

    stale = client.patch(url, json={"subject": "x"}, headers={**headers, "If-Match": '"v9"'})
    assert stale.status_code == 412
    patched = client.patch(
        url,
        json={"follow_up_done": True, "members": [], "contacts": body["contacts"]},
        headers={**headers, "If-Match": '"v1"'},
    )
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["follow_up_done_at"] is not None
    assert patched.get_json()["members"] == []
    assert patched.headers["ETag"] == '"v2"'

    archived = client.post(f"{url}/archive", json={"reason": "duplicate"}, headers=headers)
    assert archived.status_code == 200
    assert archived.get_json()["is_archived"] is True
    assert client.post(f"{url}/archive", json={}, headers=headers).status_code == 409
    assert client.get(URL, headers=headers).get_json()["data"] == []
    restored = client.post(f"{url}/restore", headers=headers)
    assert restored.status_code == 200
    assert restored.get_json()["restored_at"] is not None
    assert client.post(f"{url}/restore", headers=headers).status_code == 409

    assert client.delete(url, headers={**headers, "If-Match": '"v1"'}).status_code == 412
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_duplicate_external_id_is_a_conflict(client, session):
    owner, headers = user_with_headers(client, session)
    member = make_member(session)
    existing = make_interaction(session, owner=owner, members=(member,), external_id="crm-7")
    session.commit()
    response = client.post(URL, json=_body(member, external_id="crm-7"), headers=headers)
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["existing"]["id"] == str(existing.id)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "chat"}, "kind"),
        ({"type": "lunch"}, "type"),
        ({"channel": "pigeon"}, "channel"),
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "a\x00b"}, "subject"),
        ({"occurred_at": "2026-03-02T10:00:00"}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"minutes_spent": -1}, "minutes_spent"),
        ({"minutes_spent": "30"}, "minutes_spent"),
        ({"confidential": "yes"}, "confidential"),
        ({"members": []}, "members"),
        ({"members": [{"member_id": "nope"}]}, "members"),
        ({"members": [{"role": "participant"}]}, "members"),
        (
            {"contacts": [{"contact_id": "00000000-0000-0000-0000-000000000000", "role": "boss"}]},
            "contacts",
        ),
        ({"participant_ids": ["x"]}, "participant_ids"),
        ({"follow_up_due": "2026-13-01"}, "follow_up_due"),
        ({"follow_up_done": 1}, "follow_up_done"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_create_refuses_bad_shapes(client, session, change, field):
    _user, headers = user_with_headers(client, session)
    member = make_member(session)
    session.commit()
    body = _body(member)
    body.update(change)
    response = client.post(URL, json=body, headers=headers)
    assert response.status_code == 422, response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    assert any(key.split(".")[0] == field for key in response.get_json()["errors"])


def test_create_refuses_unknown_records_and_users(client, session):
    _user, headers = user_with_headers(client, session)
    member = make_member(session)
    inactive = make_user(session, is_active=False)
    viewer = make_user(session, role="viewer")
    session.commit()
    missing = "00000000-0000-0000-0000-000000000001"
    cases = [
        ({"members": [{"member_id": missing}]}, "members"),
        ({"contacts": [{"contact_id": missing}]}, "contacts"),
        ({"owner_id": missing}, "owner_id"),
        ({"owner_id": str(inactive.id)}, "owner_id"),
        ({"participant_ids": [missing]}, "participant_ids"),
        ({"participant_ids": [str(viewer.id)]}, "participant_ids"),
        ({"follow_up_assignee_id": missing}, "follow_up_assignee_id"),
    ]
    for change, field in cases:
        response = client.post(URL, json=_body(member, **change), headers=headers)
        assert response.status_code == 422, (change, response.get_json())
        assert field in response.get_json()["errors"]


def test_patch_refuses_removing_every_link_and_the_owner(client, session):
    owner, headers = user_with_headers(client, session)
    member = make_member(session)
    interaction = make_interaction(session, owner=owner, members=(member,))
    session.commit()
    url = f"{URL}/{interaction.id}"
    response = client.patch(url, json={"members": []}, headers=headers)
    assert response.status_code == 422
    assert "members" in response.get_json()["errors"]
    response = client.patch(url, json={"owner_id": None}, headers=headers)
    assert response.status_code == 422
    assert "owner_id" in response.get_json()["errors"]


def test_new_owner_leaves_the_participants(client, session):
    owner, headers = user_with_headers(client, session)
    colleague = make_user(session)
    member = make_member(session)
    interaction = make_interaction(
        session, owner=owner, members=(member,), participants=(colleague,)
    )
    session.commit()
    response = client.patch(
        f"{URL}/{interaction.id}", json={"owner_id": str(colleague.id)}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["owner_id"] == str(colleague.id)
    assert response.get_json()["participant_ids"] == []


def test_scopes(client, session, viewer_headers):
    owner = make_user(session)
    member = make_member(session)
    interaction = make_interaction(session, owner=owner, members=(member,))
    session.commit()
    url = f"{URL}/{interaction.id}"
    assert client.get(URL, headers=viewer_headers).status_code == 200
    assert client.get(url, headers=viewer_headers).status_code == 200
    assert client.post(URL, json=_body(member), headers=viewer_headers).status_code == 403
    assert client.patch(url, json={"subject": "x"}, headers=viewer_headers).status_code == 403
    assert client.delete(url, headers=viewer_headers).status_code == 403
    assert client.post(f"{url}/archive", json={}, headers=viewer_headers).status_code == 403
    assert client.post(f"{url}/restore", headers=viewer_headers).status_code == 403
    for path in (URL, url, f"/api/v1/members/{member.id}/timeline"):
        assert client.get(path).status_code == 401


def test_unknown_interaction_is_404(client, session, staff_headers):
    url = f"{URL}/00000000-0000-0000-0000-000000000002"
    assert client.get(url, headers=staff_headers).status_code == 404
    assert client.patch(url, json={"subject": "x"}, headers=staff_headers).status_code == 404
    assert client.delete(url, headers=staff_headers).status_code == 404


def test_a_member_with_interactions_is_archived_not_deleted(client, session, admin_headers):
    owner = make_user(session)
    member = make_member(session)
    make_interaction(session, owner=owner, members=(member,))
    session.commit()
    response = client.delete(f"/api/v1/members/{member.id}", headers=admin_headers)
    assert response.status_code == 409


def test_erasing_a_contact_removes_it_from_interactions(client, session, admin_headers):
    owner = make_user(session)
    member, contact = make_member(session), make_contact(session)
    interaction = make_interaction(session, owner=owner, members=(member,), contacts=(contact,))
    session.commit()
    assert client.delete(f"/api/v1/contacts/{contact.id}", headers=admin_headers).status_code == 204
    response = client.get(f"{URL}/{interaction.id}", headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json()["contacts"] == []
