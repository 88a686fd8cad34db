"""``/contacts``: create, read, update, archive, erase and upsert, with every refusal."""

import uuid

import pytest
from sqlalchemy import func, select

from models import Affiliation, Contact
from tests.contacts.factories import make_affiliation, make_contact, make_member

URL = "/api/v1/contacts"
NEW = {
    "first_name": "Hélène",
    "last_name": "Lefèvre",
    "email": "Helene.Lefevre@Example.org",
    "phones": [{"number": "06 12 34 56 78", "kind": "mobile"}, {"number": "+33 1 42 68 53 00"}],
    "preferred_language": "fr",
    "notes": "Met at the annual meeting.",
    "external_id": "crm-42",
}


def _create(client, headers, **overrides):
    response = client.post(URL, json={**NEW, **overrides}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response


def test_create_returns_the_contact_normalised(client, staff_headers):
    response = _create(client, staff_headers)
    body = response.get_json()
    assert response.headers["Location"] == f"{URL}/{body['id']}"
    assert response.headers["ETag"] == '"v1"'
    assert body["first_name"] == "Hélène"
    assert body["email"] == "helene.lefevre@example.org"
    assert body["phones"] == [
        {"number": "+33612345678", "kind": "mobile"},
        {"number": "+33142685300", "kind": "work"},
    ]
    assert body["preferred_language"] == "fr"
    assert body["affiliations"] == []
    assert body["is_archived"] is False
    assert body["archived_at"] is None


def test_create_with_names_only(client, staff_headers):
    response = client.post(
        URL, json={"first_name": " Ana ", "last_name": "Silva"}, headers=staff_headers
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["first_name"] == "Ana"
    assert (body["email"], body["phones"], body["external_id"]) == (None, [], None)


def test_folded_columns_are_written(client, staff_headers, session):
    contact_id = _create(client, staff_headers).get_json()["id"]
    contact = session.get(Contact, uuid.UUID(contact_id))
    assert contact.search_text == "helene lefevre helene.lefevre@example.org"
    assert contact.sort_name == "lefevre helene"


def test_get_contact(client, viewer_headers, session):
    contact = make_contact(session, email="a@example.org")
    response = client.get(f"{URL}/{contact.id}", headers=viewer_headers)
    assert response.status_code == 200
    assert response.get_json()["email"] == "a@example.org"
    assert response.headers["ETag"] == '"v1"'


def test_get_embeds_affiliations_primary_first(client, viewer_headers, session):
    contact = make_contact(session)
    first, second = make_member(session, name="Zeta"), make_member(session, name="Alpha")
    make_affiliation(session, contact=contact, member=first, job_title="CTO")
    make_affiliation(session, contact=contact, member=second, is_primary=True, roles=["billing"])
    body = client.get(f"{URL}/{contact.id}", headers=viewer_headers).get_json()
    assert [a["member"]["name"] for a in body["affiliations"]] == ["Alpha", "Zeta"]
    assert body["affiliations"][0]["is_primary"] is True
    assert body["affiliations"][0]["roles"] == ["billing"]
    assert body["affiliations"][1]["job_title"] == "CTO"


@pytest.mark.parametrize(
    ("field", "value", "error_field"),
    [
        ("email", "not-an-email", "email"),
        ("email", "a@b", "email"),
        ("phones", [{"number": "12"}], "phones.0.number"),
        ("phones", [{"number": "abc"}], "phones.0.number"),
        ("phones", [{"number": "0612345678", "kind": "pager"}], "phones.0.kind"),
        ("phones", [{"number": "0612345678", "extension": "12"}], "phones.0.extension"),
        ("phones", "0612345678", "phones"),
        ("preferred_language", "french", "preferred_language"),
        ("preferred_language", "xx", "preferred_language"),
        ("first_name", "", "first_name"),
        ("last_name", "x" * 101, "last_name"),
        ("external_id", "", "external_id"),
        ("notes", 12, "notes"),
        ("nickname", "Jo", "nickname"),
    ],
)
def test_create_rejects_bad_fields(client, staff_headers, field, value, error_field):
    response = client.post(URL, json={**NEW, field: value}, headers=staff_headers)
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    assert error_field in response.get_json()["errors"]


def test_create_requires_names(client, staff_headers):
    response = client.post(URL, json={"email": "a@example.org"}, headers=staff_headers)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"first_name", "last_name"}


def test_duplicate_email_is_a_conflict_pointing_at_the_contact(client, staff_headers):
    first = _create(client, staff_headers).get_json()
    response = client.post(
        URL,
        json={"first_name": "X", "last_name": "Y", "email": "HELENE.lefevre@example.org"},
        headers=staff_headers,
    )
    assert response.status_code == 409
    body = response.get_json()
    assert list(body["errors"]) == ["email"]
    assert body["existing"] == {"id": first["id"], "href": f"{URL}/{first['id']}"}
    # No personal data of the other contact in the answer.
    assert "Hélène" not in response.get_data(as_text=True)
    assert "Lefèvre" not in response.get_data(as_text=True)


def test_duplicate_external_id_is_a_conflict(client, staff_headers):
    first = _create(client, staff_headers).get_json()
    response = client.post(
        URL,
        json={"first_name": "X", "last_name": "Y", "external_id": "crm-42"},
        headers=staff_headers,
    )
    assert response.status_code == 409
    assert response.get_json()["existing"]["id"] == first["id"]
    assert list(response.get_json()["errors"]) == ["external_id"]


def test_unique_index_decides_when_the_check_is_skipped(
    client, staff_headers, session, monkeypatch
):
    """The pre-check only improves the message; the partial unique index is the guard."""
    _create(client, staff_headers)
    monkeypatch.setattr("services.contacts._check_unique", lambda _session, _contact: None)
    response = client.post(
        URL,
        json={"first_name": "X", "last_name": "Y", "email": NEW["email"]},
        headers=staff_headers,
    )
    assert response.status_code == 409
    assert list(response.get_json()["errors"]) == ["email"]
    assert response.get_json()["existing"]["href"].startswith(URL)


def test_patch_changes_fields_and_bumps_the_etag(client, staff_headers):
    created = _create(client, staff_headers)
    contact_id = created.get_json()["id"]
    response = client.patch(
        f"{URL}/{contact_id}",
        json={"last_name": "Dupré", "phones": [], "email": None},
        headers={**staff_headers, "If-Match": created.headers["ETag"]},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["last_name"], body["phones"], body["email"]) == ("Dupré", [], None)
    assert body["first_name"] == "Hélène"
    assert response.headers["ETag"] == '"v2"'


def test_patch_refreshes_the_search_text(client, staff_headers, viewer_headers):
    contact_id = _create(client, staff_headers).get_json()["id"]
    client.patch(f"{URL}/{contact_id}", json={"last_name": "Ørsted"}, headers=staff_headers)
    found = client.get(URL, query_string={"q": "orsted"}, headers=viewer_headers).get_json()
    assert [c["id"] for c in found["data"]] == [contact_id]


def test_patch_with_a_stale_etag_is_refused(client, staff_headers):
    contact_id = _create(client, staff_headers).get_json()["id"]
    client.patch(f"{URL}/{contact_id}", json={"notes": "x"}, headers=staff_headers)
    response = client.patch(
        f"{URL}/{contact_id}", json={"notes": "y"}, headers={**staff_headers, "If-Match": '"v1"'}
    )
    assert response.status_code == 412
    assert client.get(f"{URL}/{contact_id}", headers=staff_headers).get_json()["notes"] == "x"


def test_patch_to_a_taken_email_is_a_conflict(client, staff_headers, session):
    other = make_contact(session, email="taken@example.org")
    contact_id = _create(client, staff_headers).get_json()["id"]
    response = client.patch(
        f"{URL}/{contact_id}", json={"email": "Taken@example.org"}, headers=staff_headers
    )
    assert response.status_code == 409
    assert response.get_json()["existing"]["id"] == str(other.id)


def test_patch_keeping_its_own_email_is_fine(client, staff_headers):
    contact_id = _create(client, staff_headers).get_json()["id"]
    response = client.patch(
        f"{URL}/{contact_id}", json={"email": NEW["email"]}, headers=staff_headers
    )
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    ("body", "error_field"),
    [
        ({"email": "nope"}, "email"),
        ({"phones": [{"number": "+33 6 12"}]}, "phones.0.number"),
        ({"preferred_language": "FR "}, "preferred_language"),
        ({"id": str(uuid.uuid4())}, "id"),
        ({"affiliations": []}, "affiliations"),
    ],
)
def test_patch_rejects_bad_fields(client, staff_headers, session, body, error_field):
    contact = make_contact(session)
    response = client.patch(f"{URL}/{contact.id}", json=body, headers=staff_headers)
    assert response.status_code == 422
    assert error_field in response.get_json()["errors"]


def test_unknown_contact_is_404(client, staff_headers):
    missing = f"{URL}/{uuid.uuid4()}"
    assert client.get(missing, headers=staff_headers).status_code == 404
    assert client.patch(missing, json={"notes": "x"}, headers=staff_headers).status_code == 404
    assert client.delete(missing, headers=staff_headers).status_code == 404
    assert client.post(f"{missing}/archive", json={}, headers=staff_headers).status_code == 404
    assert client.post(f"{missing}/restore", headers=staff_headers).status_code == 404


def test_archive_hides_the_contact_and_frees_its_email(client, staff_headers, viewer_headers):
    created = _create(client, staff_headers)
    contact_id = created.get_json()["id"]
    response = client.post(
        f"{URL}/{contact_id}/archive",
        json={"reason": "Left the company"},
        headers={**staff_headers, "If-Match": created.headers["ETag"]},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["is_archived"] is True
    assert response.get_json()["archive_reason"] == "Left the company"
    listed = client.get(URL, headers=viewer_headers).get_json()["data"]
    assert contact_id not in [c["id"] for c in listed]
    # Still readable by id, and its address may be given to someone else.
    assert client.get(f"{URL}/{contact_id}", headers=viewer_headers).status_code == 200
    again = client.post(
        URL,
        json={"first_name": "N", "last_name": "M", "email": NEW["email"]},
        headers=staff_headers,
    )
    assert again.status_code == 201, again.get_json()
    # Restoring would make two active contacts share the address.
    response = client.post(f"{URL}/{contact_id}/restore", headers=staff_headers)
    assert response.status_code == 409
    assert response.get_json()["existing"]["id"] == again.get_json()["id"]


def test_restore_brings_the_contact_back(client, staff_headers, viewer_headers, session):
    contact = make_contact(session, archived=True, archive_reason="duplicate")
    response = client.post(f"{URL}/{contact.id}/restore", headers=staff_headers)
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["is_archived"], response.get_json()["archive_reason"]) == (
        False,
        None,
    )
    listed = client.get(URL, headers=viewer_headers).get_json()["data"]
    assert str(contact.id) in [c["id"] for c in listed]


def test_archive_rejects_unknown_fields_and_stale_etags(client, staff_headers, session):
    contact = make_contact(session)
    url = f"{URL}/{contact.id}/archive"
    assert client.post(url, json={"why": "x"}, headers=staff_headers).status_code == 422
    stale = {**staff_headers, "If-Match": '"v7"'}
    assert client.post(url, json={}, headers=stale).status_code == 412
    assert client.post(f"{URL}/{contact.id}/restore", headers=stale).status_code == 412


def test_archive_and_restore_are_state_changes(client, staff_headers, session):
    contact = make_contact(session)
    session.commit()
    url = f"{URL}/{contact.id}"
    assert client.post(f"{url}/restore", headers=staff_headers).status_code == 409
    assert client.post(f"{url}/archive", json={}, headers=staff_headers).status_code == 200
    again = client.post(f"{url}/archive", json={"reason": "x"}, headers=staff_headers)
    assert again.status_code == 409
    assert "archived_at" in again.get_json()["errors"]
    assert client.post(f"{url}/restore", headers=staff_headers).status_code == 200


def test_restore_keeps_an_optional_reason(client, staff_headers, session):
    contact = make_contact(session)
    session.commit()
    url = f"{URL}/{contact.id}"
    client.post(f"{url}/archive", json={}, headers=staff_headers)
    restored = client.post(f"{url}/restore", json={"reason": "Back"}, headers=staff_headers)
    assert restored.status_code == 200, restored.get_json()
    assert restored.get_json()["restore_reason"] == "Back"
    assert restored.get_json()["restored_at"] is not None


def test_delete_erases_the_person_and_their_affiliations(client, staff_headers, session):
    contact = make_contact(session, email="gone@example.org")
    member = make_member(session)
    make_affiliation(session, contact=contact, member=member, is_primary=True)
    session.commit()
    response = client.delete(f"{URL}/{contact.id}", headers={**staff_headers, "If-Match": '"v1"'})
    assert response.status_code == 204
    assert client.get(f"{URL}/{contact.id}", headers=staff_headers).status_code == 404
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Contact)) == 0
    assert session.scalar(select(func.count()).select_from(Affiliation)) == 0


def test_delete_with_a_stale_etag_keeps_the_contact(client, staff_headers, session):
    contact = make_contact(session)
    response = client.delete(f"{URL}/{contact.id}", headers={**staff_headers, "If-Match": '"v2"'})
    assert response.status_code == 412
    assert client.get(f"{URL}/{contact.id}", headers=staff_headers).status_code == 200


def test_upsert_creates_then_replaces(client, staff_headers):
    url = f"{URL}/by-external-id/hubspot-7"
    body = {"first_name": "Paul", "last_name": "Durand", "email": "paul@example.org"}
    created = client.put(url, json=body, headers=staff_headers)
    assert created.status_code == 201, created.get_json()
    contact_id = created.get_json()["id"]
    assert created.headers["Location"] == f"{URL}/{contact_id}"
    assert created.get_json()["external_id"] == "hubspot-7"
    replaced = client.put(
        url,
        json={"first_name": "Paul", "last_name": "Durand-Roy"},
        headers={**staff_headers, "If-Match": created.headers["ETag"]},
    )
    assert replaced.status_code == 200, replaced.get_json()
    assert replaced.get_json()["id"] == contact_id
    assert replaced.get_json()["last_name"] == "Durand-Roy"
    assert replaced.get_json()["email"] is None  # left out: back to its default
    assert replaced.headers["ETag"] == '"v2"'


def test_upsert_refusals(client, staff_headers, session):
    make_contact(session, email="taken@example.org")
    url = f"{URL}/by-external-id/ext-1"
    body = {"first_name": "A", "last_name": "B"}
    assert (
        client.put(url, json={**body, "external_id": "x"}, headers=staff_headers).status_code == 422
    )
    assert client.put(url, json={"first_name": "A"}, headers=staff_headers).status_code == 422
    conflict = client.put(url, json={**body, "email": "taken@example.org"}, headers=staff_headers)
    assert conflict.status_code == 409
    too_long = client.put(f"{URL}/by-external-id/{'x' * 101}", json=body, headers=staff_headers)
    assert too_long.status_code == 422
    assert "external_id" in too_long.get_json()["errors"]
    precondition = client.put(url, json=body, headers={**staff_headers, "If-Match": '"v1"'})
    assert precondition.status_code == 412
    created = client.put(url, json=body, headers=staff_headers)
    assert created.status_code == 201
    stale = client.put(url, json=body, headers={**staff_headers, "If-Match": '"v9"'})
    assert stale.status_code == 412


def test_upsert_accepts_external_ids_with_slashes(client, staff_headers):
    response = client.put(
        f"{URL}/by-external-id/crm/2024/17",
        json={"first_name": "A", "last_name": "B"},
        headers=staff_headers,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["external_id"] == "crm/2024/17"


def test_viewer_cannot_write(client, viewer_headers, session):
    contact = make_contact(session)
    url = f"{URL}/{contact.id}"
    assert client.post(URL, json=NEW, headers=viewer_headers).status_code == 403
    assert client.patch(url, json={"notes": "x"}, headers=viewer_headers).status_code == 403
    assert client.delete(url, headers=viewer_headers).status_code == 403
    assert client.post(f"{url}/archive", json={}, headers=viewer_headers).status_code == 403
    assert client.post(f"{url}/restore", headers=viewer_headers).status_code == 403
    put = client.put(f"{URL}/by-external-id/x", json=NEW, headers=viewer_headers)
    assert put.status_code == 403
    assert put.content_type == "application/problem+json"


def test_no_token_is_401(client, session):
    contact = make_contact(session)
    url = f"{URL}/{contact.id}"
    for response in (
        client.get(URL),
        client.post(URL, json=NEW),
        client.get(url),
        client.patch(url, json={"notes": "x"}),
        client.delete(url),
        client.post(f"{url}/archive", json={}),
        client.put(f"{URL}/by-external-id/x", json=NEW),
    ):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_unique_index_decides_on_update_too(client, staff_headers, session, monkeypatch):
    other = make_contact(session, email="taken@example.org")
    contact = make_contact(session, email="mine@example.org")
    monkeypatch.setattr("services.contacts._check_unique", lambda _session, _contact: None)
    response = client.patch(
        f"{URL}/{contact.id}", json={"email": "taken@example.org"}, headers=staff_headers
    )
    assert response.status_code == 409
    assert response.get_json()["existing"]["id"] == str(other.id)
