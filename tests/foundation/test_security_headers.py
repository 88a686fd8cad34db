"""Headers that keep answers out of caches, stop MIME sniffing and protect the docs page."""

import re

import pytest

from tests.factories import PASSWORD, log_in, make_user


@pytest.fixture
def staff(session):
    user = make_user(session, role="staff")
    session.commit()
    return user


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/members",
        "/api/v1/auth/me",
        "/api/v1/openapi.json",
        "/docs",
        "/healthz",
        "/api/v1/no-such-thing",
    ],
)
def test_nosniff_on_every_response(client, path):
    assert client.get(path).headers["X-Content-Type-Options"] == "nosniff"


def test_token_and_refresh_answers_are_not_stored(client, staff):
    response = client.post("/api/v1/auth/token", json={"email": staff.email, "password": PASSWORD})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    refreshed = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": response.get_json()["refresh_token"]}
    )
    assert refreshed.status_code == 200
    assert refreshed.headers["Cache-Control"] == "no-store"
    refused = client.post("/api/v1/auth/token", json={"email": staff.email, "password": "no"})
    assert refused.headers["Cache-Control"] == "no-store"


def test_personal_data_is_not_stored(client, staff_headers):
    created = client.post(
        "/api/v1/contacts",
        json={"first_name": "Anne", "last_name": "Durand", "email": "anne@example.org"},
        headers=staff_headers,
    )
    assert created.status_code == 201
    for response in (
        created,
        client.get(created.headers["Location"], headers=staff_headers),
        client.get("/api/v1/contacts", headers=staff_headers),
        client.get("/api/v1/contacts", headers={**staff_headers, "Accept": "text/csv"}),
    ):
        assert response.headers["Cache-Control"] == "no-store", response.status_code


def test_the_spec_stays_cacheable(client):
    assert "no-store" not in client.get("/api/v1/openapi.json").headers.get("Cache-Control", "")


def test_docs_page_is_locked_down(client):
    response = client.get("/docs")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert "unsafe-eval" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    page = response.get_data(as_text=True)
    # the only inline script carries this response's nonce
    nonce = re.search(r"'nonce-([^']+)'", directives["script-src"]).group(1)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert inline == [f' nonce="{nonce}"']
    assert client.get("/docs").headers["Content-Security-Policy"] != policy
    # Swagger UI would otherwise send the spec's URL to validator.swagger.io
    assert "validatorUrl: null" in page
    assert "http" not in page.replace('lang="en"', "")


def test_logged_in_answers_are_not_stored(client, staff):
    tokens = log_in(client, staff.email)
    response = client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.headers["Cache-Control"] == "no-store"
