"""If-None-Match on single records and on /auth/me: 304 with no body while unchanged."""

import pytest

MEMBER = {"name": "Acme Biotech", "category": "sme"}


def _member(client, headers) -> tuple[str, str]:
    response = client.post("/api/v1/members", json=MEMBER, headers=headers)
    return response.get_json()["id"], response.headers["ETag"]


def test_unchanged_record_is_304_without_body(client, session, staff_headers):
    member_id, etag = _member(client, staff_headers)
    url = f"/api/v1/members/{member_id}"
    response = client.get(url, headers={**staff_headers, "If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag
    assert "RateLimit-Limit" in response.headers
    for header in (f"W/{etag}", f'"v99", {etag}', "*"):
        again = client.get(url, headers={**staff_headers, "If-None-Match": header})
        assert again.status_code == 304, header
    head = client.head(url, headers={**staff_headers, "If-None-Match": etag})
    assert head.status_code == 304


def test_changed_record_is_answered_in_full(client, session, staff_headers):
    member_id, etag = _member(client, staff_headers)
    url = f"/api/v1/members/{member_id}"
    client.patch(url, json={"city": "Lyon"}, headers=staff_headers)
    response = client.get(url, headers={**staff_headers, "If-None-Match": etag})
    assert response.status_code == 200
    assert response.get_json()["city"] == "Lyon"
    assert response.headers["ETag"] != etag
    assert client.get(url, headers={**staff_headers, "If-None-Match": '"x"'}).status_code == 200


@pytest.mark.parametrize("status", [401, 404])
def test_errors_are_never_304(client, session, staff_headers, status):
    member_id, _ = _member(client, staff_headers)
    url = (
        f"/api/v1/members/{member_id if status == 401 else '00000000-0000-4000-8000-000000000000'}"
    )
    headers = {"If-None-Match": "*"} | (staff_headers if status == 404 else {})
    assert client.get(url, headers=headers).status_code == status


def test_lists_and_writes_ignore_it(client, session, staff_headers):
    member_id, etag = _member(client, staff_headers)
    listed = client.get("/api/v1/members", headers={**staff_headers, "If-None-Match": "*"})
    assert listed.status_code == 200
    patched = client.patch(
        f"/api/v1/members/{member_id}",
        json={"city": "Lyon"},
        headers={**staff_headers, "If-None-Match": "*"},
    )
    assert patched.status_code == 200


def test_me_answers_304_until_the_account_or_scopes_change(
    client, session, staff_headers, admin_headers
):
    me = client.get("/api/v1/auth/me", headers=staff_headers)
    etag = me.headers["ETag"]
    conditional = {**staff_headers, "If-None-Match": etag}
    assert client.get("/api/v1/auth/me", headers=conditional).status_code == 304
    user_id = me.get_json()["id"]
    client.patch(f"/api/v1/users/{user_id}", json={"full_name": "New"}, headers=admin_headers)
    assert client.get("/api/v1/auth/me", headers=conditional).status_code == 200
    admin_me = client.get("/api/v1/auth/me", headers=admin_headers)
    assert admin_me.headers["ETag"] != etag
