"""Cursors are opaque but not signed: one a client edits is a 422 on ``cursor``, never a 500.

Each case is valid base64 JSON of the right shape whose values the database layer would choke
on (a naive or out-of-range timestamp, a number where the sort column holds text, an id that
is not a string).
"""

import base64
import json

import pytest

ID = "3a50809f-bb56-4629-87cd-a27033f346bf"


def _cursor(sort: str, values: list) -> str:
    raw = json.dumps({"s": sort, "v": values}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "sort", "values"),
    [
        ("/api/v1/members", "created_at", ["2024-01-01T00:00:00", ID]),
        ("/api/v1/members", "created_at", ["0001-01-01T00:00:00+14:00", ID]),
        ("/api/v1/members", "name", [{"a": 1}, ID]),
        ("/api/v1/members", "name", [10**30, ID]),
        ("/api/v1/members", "name", [12, ID]),
        ("/api/v1/members", "name", ["a\x00b", ID]),
        ("/api/v1/members", "name", ["acme", 12]),
        ("/api/v1/contacts", "last_name", [["x"], ID]),
        ("/api/v1/users", "email", [True, ID]),
    ],
)
def test_a_forged_cursor_is_422(client, admin_headers, path, sort, values):
    response = client.get(
        f"{path}?sort={sort}&cursor={_cursor(sort, values)}", headers=admin_headers
    )
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["errors"]) == ["cursor"]
