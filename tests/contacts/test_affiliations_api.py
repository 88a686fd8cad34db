"""``/contacts/{id}/affiliations``: one per member, at most one primary, ETags, refusals."""

import uuid

import pytest

from tests.contacts.factories import make_affiliation, make_contact, make_member


def _url(contact, affiliation=None) -> str:
    base = f"/api/v1/contacts/{contact.id if hasattr(contact, 'id') else contact}/affiliations"
    if affiliation is None:
        return base
    return f"{base}/{affiliation.id if hasattr(affiliation, 'id') else affiliation}"


@pytest.fixture
def contact(session):
    return make_contact(session)


@pytest.fixture
def member(session):
    return make_member(session, name="Institut Curie")


def test_create_affiliation(client, staff_headers, contact, member):
    response = client.post(
        _url(contact),
        json={
            "member_id": str(member.id),
            "job_title": " Head of research ",
            "roles": ["decision_maker", "board_member", "decision_maker"],
            "start_date": "2024-01-15",
            "is_primary": True,
        },
        headers=staff_headers,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == _url(contact, body["id"])
    assert response.headers["ETag"] == '"v1"'
    assert body["contact_id"] == str(contact.id)
    assert body["member"] == {"id": str(member.id), "name": "Institut Curie"}
    assert body["job_title"] == "Head of research"
    assert body["roles"] == ["decision_maker", "board_member"]
    assert (body["start_date"], body["end_date"], body["is_primary"]) == ("2024-01-15", None, True)


def test_affiliation_changes_move_the_contact_etag(client, staff_headers, contact, member):
    before = client.get(f"/api/v1/contacts/{contact.id}", headers=staff_headers)
    client.post(_url(contact), json={"member_id": str(member.id)}, headers=staff_headers)
    after = client.get(f"/api/v1/contacts/{contact.id}", headers=staff_headers)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.get_json()["updated_at"] > before.get_json()["updated_at"]
    stale = client.patch(
        f"/api/v1/contacts/{contact.id}",
        json={"notes": "x"},
        headers={**staff_headers, "If-Match": before.headers["ETag"]},
    )
    assert stale.status_code == 412


def test_get_and_list_affiliations(client, viewer_headers, session, contact, member):
    affiliation = make_affiliation(session, contact=contact, member=member, job_title="CEO")
    make_affiliation(session, contact=contact, member=make_member(session))
    response = client.get(_url(contact, affiliation), headers=viewer_headers)
    assert response.status_code == 200
    assert response.get_json()["job_title"] == "CEO"
    assert response.headers["ETag"] == '"v1"'
    listed = client.get(_url(contact), query_string={"limit": 1}, headers=viewer_headers)
    assert listed.status_code == 200
    assert len(listed.get_json()["data"]) == 1
    rest = client.get(
        _url(contact),
        query_string={"limit": 1, "cursor": listed.get_json()["next_cursor"]},
        headers=viewer_headers,
    )
    ids = {listed.get_json()["data"][0]["id"], rest.get_json()["data"][0]["id"]}
    assert len(ids) == 2
    assert rest.get_json()["next_cursor"] is None


def test_a_new_primary_demotes_the_previous_one(client, staff_headers, session, contact, member):
    old = make_affiliation(session, contact=contact, member=member, is_primary=True)
    other = make_member(session)
    response = client.post(
        _url(contact), json={"member_id": str(other.id), "is_primary": True}, headers=staff_headers
    )
    assert response.status_code == 201, response.get_json()
    assert response.headers["ETag"] == '"v1"'
    previous = client.get(_url(contact, old), headers=staff_headers)
    assert previous.get_json()["is_primary"] is False
    assert previous.headers["ETag"] == '"v2"'
    body = client.get(f"/api/v1/contacts/{contact.id}", headers=staff_headers).get_json()
    assert [a["is_primary"] for a in body["affiliations"]] == [True, False]
    assert body["affiliations"][0]["member_id"] == str(other.id)


def test_patching_primary_demotes_the_previous_one(client, staff_headers, session, contact, member):
    old = make_affiliation(session, contact=contact, member=member, is_primary=True)
    new = make_affiliation(session, contact=contact, member=make_member(session))
    response = client.patch(
        _url(contact, new),
        json={"is_primary": True},
        headers={**staff_headers, "If-Match": '"v1"'},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["is_primary"] is True
    assert response.headers["ETag"] == '"v2"'
    assert client.get(_url(contact, old), headers=staff_headers).get_json()["is_primary"] is False
    # Un-setting leaves the contact without a primary; nothing else is promoted.
    response = client.patch(_url(contact, new), json={"is_primary": False}, headers=staff_headers)
    assert response.get_json()["is_primary"] is False
    assert client.get(_url(contact, old), headers=staff_headers).get_json()["is_primary"] is False


def test_patch_fields(client, staff_headers, session, contact, member):
    affiliation = make_affiliation(
        session, contact=contact, member=member, roles=["other"], start_date=None
    )
    response = client.patch(
        _url(contact, affiliation),
        json={"job_title": None, "roles": ["billing_contact"], "end_date": "2025-06-30"},
        headers=staff_headers,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["job_title"], body["roles"], body["end_date"]) == (
        None,
        ["billing_contact"],
        "2025-06-30",
    )


def test_end_before_start_is_refused(client, staff_headers, session, contact, member):
    both = client.post(
        _url(contact),
        json={"member_id": str(member.id), "start_date": "2024-05-01", "end_date": "2024-04-30"},
        headers=staff_headers,
    )
    assert both.status_code == 422
    assert "end_date" in both.get_json()["errors"]
    same_day = client.post(
        _url(contact),
        json={"member_id": str(member.id), "start_date": "2024-05-01", "end_date": "2024-05-01"},
        headers=staff_headers,
    )
    assert same_day.status_code == 201
    # Against the stored start date, when the body has only the end.
    url = _url(contact, same_day.get_json()["id"])
    one = client.patch(url, json={"end_date": "2023-12-31"}, headers=staff_headers)
    assert one.status_code == 422
    assert "end_date" in one.get_json()["errors"]
    other = client.patch(url, json={"start_date": "2024-06-01"}, headers=staff_headers)
    assert other.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"roles": ["cook"]}, "roles.0"),
        ({"roles": "billing_contact"}, "roles"),
        ({"start_date": "15/01/2024"}, "start_date"),
        ({"end_date": "2024-02-30"}, "end_date"),
        ({"is_primary": "maybe"}, "is_primary"),
        ({"job_title": "x" * 201}, "job_title"),
        ({"contact_id": str(uuid.uuid4())}, "contact_id"),
    ],
)
def test_create_rejects_bad_fields(client, staff_headers, contact, member, body, field):
    response = client.post(
        _url(contact), json={"member_id": str(member.id), **body}, headers=staff_headers
    )
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_patch_cannot_move_an_affiliation_to_another_member(
    client, staff_headers, session, contact, member
):
    affiliation = make_affiliation(session, contact=contact, member=member)
    response = client.patch(
        _url(contact, affiliation),
        json={"member_id": str(make_member(session).id)},
        headers=staff_headers,
    )
    assert response.status_code == 422
    assert "member_id" in response.get_json()["errors"]


def test_member_must_exist_and_be_active(client, staff_headers, session, contact):
    for member_id in (str(uuid.uuid4()), str(make_member(session, archived=True).id), "nope"):
        response = client.post(_url(contact), json={"member_id": member_id}, headers=staff_headers)
        assert response.status_code == 422, response.get_json()
        assert "member_id" in response.get_json()["errors"]
    missing = client.post(_url(contact), json={}, headers=staff_headers)
    assert "member_id" in missing.get_json()["errors"]


def test_one_affiliation_per_member(client, staff_headers, session, contact, member):
    existing = make_affiliation(session, contact=contact, member=member)
    response = client.post(_url(contact), json={"member_id": str(member.id)}, headers=staff_headers)
    assert response.status_code == 409
    body = response.get_json()
    assert list(body["errors"]) == ["member_id"]
    assert body["existing"] == {"id": str(existing.id), "href": _url(contact, existing)}


def test_stale_etag_is_412(client, staff_headers, session, contact, member):
    affiliation = make_affiliation(session, contact=contact, member=member)
    stale = {**staff_headers, "If-Match": '"v2"'}
    assert client.patch(_url(contact, affiliation), json={}, headers=stale).status_code == 412
    assert client.delete(_url(contact, affiliation), headers=stale).status_code == 412


def test_delete_affiliation(client, staff_headers, session, contact, member):
    affiliation = make_affiliation(session, contact=contact, member=member, is_primary=True)
    response = client.delete(
        _url(contact, affiliation), headers={**staff_headers, "If-Match": '"v1"'}
    )
    assert response.status_code == 204
    assert client.get(_url(contact, affiliation), headers=staff_headers).status_code == 404
    body = client.get(f"/api/v1/contacts/{contact.id}", headers=staff_headers).get_json()
    assert body["affiliations"] == []


def test_not_found(client, staff_headers, session, contact, member):
    someone_else = make_contact(session)
    theirs = make_affiliation(session, contact=someone_else, member=member)
    # Another contact's affiliation is not reachable under this contact.
    for response in (
        client.get(_url(contact, theirs), headers=staff_headers),
        client.patch(_url(contact, theirs), json={"job_title": "x"}, headers=staff_headers),
        client.delete(_url(contact, theirs), headers=staff_headers),
        client.get(_url(contact, uuid.uuid4()), headers=staff_headers),
        client.get(_url(uuid.uuid4()), headers=staff_headers),
        client.post(_url(uuid.uuid4()), json={"member_id": str(member.id)}, headers=staff_headers),
    ):
        assert response.status_code == 404, response.get_json()
    assert client.get(_url(someone_else, theirs), headers=staff_headers).status_code == 200


def test_unknown_query_parameters(client, viewer_headers, contact):
    response = client.get(_url(contact), query_string={"member_id": "x"}, headers=viewer_headers)
    assert response.status_code == 422
    assert "member_id" in response.get_json()["errors"]


def test_permissions(client, viewer_headers, session, contact, member):
    affiliation = make_affiliation(session, contact=contact, member=member)
    body = {"member_id": str(make_member(session).id)}
    assert client.post(_url(contact), json=body, headers=viewer_headers).status_code == 403
    url = _url(contact, affiliation)
    assert client.patch(url, json={}, headers=viewer_headers).status_code == 403
    assert client.delete(url, headers=viewer_headers).status_code == 403
    assert client.get(url, headers=viewer_headers).status_code == 200
    for response in (
        client.get(_url(contact)),
        client.get(url),
        client.post(_url(contact), json=body),
        client.patch(url, json={}),
        client.delete(url),
    ):
        assert response.status_code == 401
