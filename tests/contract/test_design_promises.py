"""What DESIGN.md and the issues promise, checked the way a client reading them would try it."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.members.factories import make_member


def test_a_created_domain_can_be_read_at_its_location(client, admin_headers, viewer_headers):
    created = client.post(
        "/api/v1/domains", json={"code": "genomics", "label": "Genomics"}, headers=admin_headers
    )
    assert created.status_code == 201
    read = client.get(created.headers["Location"], headers=viewer_headers)
    assert read.status_code == 200
    assert read.get_json() == created.get_json()
    assert read.headers["ETag"] == created.headers["ETag"] == '"v1"'


def test_reading_a_domain_needs_members_read_and_an_existing_id(client, viewer_headers):
    missing = client.get(
        "/api/v1/domains/00000000-0000-0000-0000-000000000000", headers=viewer_headers
    )
    assert missing.status_code == 404
    assert missing.content_type == "application/problem+json"
    assert client.get("/api/v1/domains/00000000-0000-0000-0000-000000000000").status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/members", "/api/v1/contacts", "/api/v1/users"])
def test_updated_since_with_an_unencoded_plus_offset(client, admin_headers, session, path):
    """``?updated_since=2024-01-01T00:00:00+00:00`` typed as is: the ``+`` arrives as a space,
    which no ISO 8601 timestamp holds, so it is read back as the offset sign."""
    make_member(session, name="New")
    session.commit()
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert "+" in since
    response = client.get(f"{path}?updated_since={since}", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert (
        client.get(f"{path}?updated_since={future}", headers=admin_headers).get_json()["data"] == []
    )


def test_updated_since_without_offset_is_still_refused(client, viewer_headers):
    response = client.get(
        "/api/v1/members?updated_since=2024-01-01T00:00:00", headers=viewer_headers
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["updated_since"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/members/{member_id}/restore",
        "/api/v1/contacts/{contact_id}/restore",
        "/api/v1/members/{member_id}",
    ],
)
def test_a_body_field_is_refused_where_no_body_is_expected(client, staff_headers, session, path):
    from tests.contacts.factories import make_contact

    member = make_member(session, name="Lab", archived_at=datetime.now(UTC), archive_reason="x")
    contact = make_contact(session)
    session.commit()
    url = path.format(member_id=member.id, contact_id=contact.id)
    method = client.delete if url.endswith(str(member.id)) else client.post
    response = method(url, json={"bogus": 1}, headers=staff_headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"bogus": ["Unknown field."]}


def test_an_empty_body_is_accepted_where_no_body_is_expected(client, staff_headers, session):
    member = make_member(session, name="Lab")
    session.commit()
    deleted = client.delete(f"/api/v1/members/{member.id}", json={}, headers=staff_headers)
    assert deleted.status_code == 204


def test_a_json_value_is_refused_where_no_body_is_expected(client, staff_headers, session):
    member = make_member(session, name="Lab")
    session.commit()
    response = client.delete(f"/api/v1/members/{member.id}", json=[1], headers=staff_headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"body": ["This operation takes no body."]}


def test_logout_accepts_the_refresh_token_clients_send(client, session):
    from tests.factories import bearer, log_in, make_user

    user = make_user(session)
    session.commit()
    tokens = log_in(client, user.email)
    headers = bearer(tokens["access_token"])
    unknown = client.post("/api/v1/auth/logout", json={"bogus": 1}, headers=headers)
    assert unknown.status_code == 422
    response = client.post(
        "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )
    assert response.status_code == 204
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401


@pytest.mark.parametrize(
    "path", ["/api/v1/members/{member_id}/archive", "/api/v1/contacts/{contact_id}/archive"]
)
def test_archiving_twice_is_a_documented_409(client, path):
    """Archiving an archived record answers 409; the spec must say so to client generators."""
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "409" in spec["paths"][path]["post"]["responses"]


@pytest.mark.parametrize("path", ["/api/v1/members", "/api/v1/contacts", "/api/v1/users"])
@pytest.mark.parametrize("since", ["0001-01-01T00:00:00%2B14:00", "9999-12-31T23:59:59-14:00"])
def test_updated_since_outside_the_utc_range_is_422(client, admin_headers, path, since):
    """A valid timestamp whose offset pushes it past year 1 or 9999 in UTC cannot be compared
    with stored (UTC) times: 422 on the field, not a 500."""
    response = client.get(f"{path}?updated_since={since}", headers=admin_headers)
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["errors"]) == ["updated_since"]
