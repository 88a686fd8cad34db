"""A NUL character in client text is refused with 422 naming the field, on both databases.

PostgreSQL cannot store or compare text containing U+0000 (psycopg raises before sending the
query), so without a check the request would reach the database and fail with a 500.
"""

import pytest

NUL = "a\x00b"


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/members", {"name": NUL, "category": "sme"}, "name"),
        ("/api/v1/members", {"name": "Acme", "category": "sme", "city": NUL}, "city"),
        ("/api/v1/contacts", {"first_name": NUL, "last_name": "Martin"}, "first_name"),
        ("/api/v1/contacts", {"first_name": "Élodie", "last_name": "M", "notes": NUL}, "notes"),
    ],
)
def test_nul_in_a_body_is_422(client, staff_headers, url, body, field):
    response = client.post(url, json=body, headers=staff_headers)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert list(response.get_json()["errors"]) == [field]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/members?q=a%00b", "q"),
        ("/api/v1/members?external_id=a%00b", "external_id"),
        ("/api/v1/members?domain=a%00b", "domain"),
        ("/api/v1/contacts?q=a%00b", "q"),
        ("/api/v1/contacts?external_id=a%00b", "external_id"),
    ],
)
def test_nul_in_a_query_argument_is_422(client, staff_headers, url, field):
    response = client.get(url, headers=staff_headers)
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["errors"]) == [field]


@pytest.mark.parametrize(
    "url", ["/api/v1/members/by-external-id/a%00b", "/api/v1/contacts/by-external-id/a%00b"]
)
def test_nul_in_an_external_id_path_is_422(client, staff_headers, url):
    body = (
        {"name": "Acme", "category": "sme"}
        if "members" in url
        else {"first_name": "Élodie", "last_name": "Martin"}
    )
    response = client.put(url, json=body, headers=staff_headers)
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["errors"]) == ["external_id"]
