"""API clients: registration by admins, the client-credentials grant, rotation, deactivation
and attribution of what a client does."""

import hashlib
import logging
import uuid

import pytest
from sqlalchemy import select

from models import ApiClient, JournalEntry
from tests.api_clients.helpers import TOKEN_URL, client_headers, grant, register_client
from tests.journal.helpers import entries_after, last_seq

MEMBER = {"name": "Acme Biotech", "category": "sme"}


def test_register_shows_secret_once_and_stores_a_digest(client, session, admin_headers):
    registered = register_client(client, admin_headers, description="Nightly sync")
    secret = registered["client_secret"]
    assert secret.startswith("mrm_")
    assert len(secret) > 40
    assert registered["client_id"] == registered["id"]
    assert registered["scopes"] == ["members:read", "members:write"]
    assert registered["last_used_at"] is None
    row = session.get(ApiClient, uuid.UUID(registered["id"]))
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(vars(row))
    shown = client.get(f"/api/v1/api-clients/{registered['id']}", headers=admin_headers)
    assert shown.status_code == 200
    assert "client_secret" not in shown.get_json()
    assert shown.headers["ETag"] == '"v1"'
    listed = client.get("/api/v1/api-clients?q=partner", headers=admin_headers).get_json()
    assert [c["id"] for c in listed["data"]] == [registered["id"]]
    assert all("client_secret" not in c for c in listed["data"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["users:admin"]}, "scopes"),
        ({"scopes": ["interactions:read"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"scopes": ["nope"]}, "scopes.0"),
        ({"name": ""}, "name"),
        ({"expires_at": "2001-01-01T00:00:00+00:00"}, "expires_at"),
        ({"expires_at": "2031-01-01T00:00:00"}, "expires_at"),
        ({"secret": "mine"}, "secret"),
    ],
)
def test_register_refuses_bad_input(client, session, admin_headers, body, field):
    payload = {"name": "Partner", "scopes": ["members:read"], **body}
    response = client.post("/api/v1/api-clients", json=payload, headers=admin_headers)
    assert response.status_code == 422, response.get_json()
    assert any(name.startswith(field) for name in response.get_json()["errors"])
    assert session.scalar(select(ApiClient.id)) is None


def test_only_user_admins_manage_clients(client, session, admin_headers, staff_headers):
    registered = register_client(client, admin_headers)
    path = f"/api/v1/api-clients/{registered['id']}"
    for method, url in [
        ("get", "/api/v1/api-clients"),
        ("post", "/api/v1/api-clients"),
        ("get", path),
        ("patch", path),
        ("delete", path),
        ("post", path + "/rotate-secret"),
        ("get", path + "/history"),
    ]:
        response = getattr(client, method)(url, headers=staff_headers)
        assert response.status_code == 403, (method, url)
        assert getattr(client, method)(url).status_code == 401, (method, url)
    missing = f"/api/v1/api-clients/{uuid.uuid4()}"
    assert client.get(missing, headers=admin_headers).status_code == 404
    assert client.patch(missing, json={}, headers=admin_headers).status_code == 404
    assert client.post(missing + "/rotate-secret", headers=admin_headers).status_code == 404
    assert client.get(missing + "/history", headers=admin_headers).status_code == 404


@pytest.mark.parametrize("basic", [False, True])
def test_grant_gives_an_access_token_with_the_clients_scopes(client, session, admin_headers, basic):
    registered = register_client(client, admin_headers)
    response = grant(client, registered["client_id"], registered["client_secret"], basic=basic)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    token = response.get_json()
    assert "refresh_token" not in token
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "members:read members:write"
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/api/v1/members", headers=headers).status_code == 200
    assert client.get("/api/v1/contacts", headers=headers).status_code == 403
    shown = client.get(f"/api/v1/api-clients/{registered['id']}", headers=admin_headers)
    assert shown.get_json()["last_used_at"] is not None
    assert shown.headers["ETag"] == '"v1"'  # using a client is no change of it


def test_grant_with_a_subset_of_scopes(client, session, admin_headers):
    registered = register_client(client, admin_headers)
    response = grant(
        client, registered["client_id"], registered["client_secret"], scope="members:read"
    )
    assert response.get_json()["scope"] == "members:read"
    headers = {"Authorization": f"Bearer {response.get_json()['access_token']}"}
    assert client.post("/api/v1/members", json=MEMBER, headers=headers).status_code == 403
    refused = grant(
        client, registered["client_id"], registered["client_secret"], scope="contacts:read"
    )
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "invalid_scope"


def test_grant_refusals_follow_rfc_6749(client, session, admin_headers):
    registered = register_client(client, admin_headers)
    client_id, secret = registered["client_id"], registered["client_secret"]
    cases = [
        (grant(client, client_id, secret + "x"), 401, "invalid_client"),
        (grant(client, str(uuid.uuid4()), secret), 401, "invalid_client"),
        (grant(client, "not-a-uuid", secret), 401, "invalid_client"),
        (client.post(TOKEN_URL, data={"grant_type": "client_credentials"}), 401, "invalid_client"),
        (client.post(TOKEN_URL, data={"grant_type": "password"}), 400, "unsupported_grant_type"),
        (client.post(TOKEN_URL, data={"client_id": client_id}), 400, "invalid_request"),
        (
            client.post(
                TOKEN_URL,
                data="grant_type=client_credentials&grant_type=x",
                content_type="application/x-www-form-urlencoded",
            ),
            400,
            "invalid_request",
        ),
        (
            client.post(
                TOKEN_URL,
                data={"grant_type": "client_credentials", "client_id": client_id},
                headers={"Authorization": "Basic !!!"},
            ),
            400,
            "invalid_request",
        ),
        (
            grant(client, client_id, secret, basic=True, client_secret=secret),
            400,
            "invalid_request",
        ),
    ]
    for response, status, error in cases:
        body = response.get_json()
        assert response.status_code == status, body
        assert response.mimetype == "application/problem+json"
        assert body["error"] == error, body
        assert body["status"] == status
        assert body["error_description"]
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert session.get(ApiClient, uuid.UUID(client_id)).last_used_at is None


def test_deactivation_expiry_and_scope_changes_apply_to_tokens_at_once(
    client, session, admin_headers
):
    registered = register_client(client, admin_headers)
    headers = client_headers(client, registered)
    path = f"/api/v1/api-clients/{registered['id']}"
    changed = client.patch(path, json={"scopes": ["members:read"]}, headers=admin_headers)
    assert changed.status_code == 200
    assert changed.get_json()["scopes"] == ["members:read"]
    assert client.post("/api/v1/members", json=MEMBER, headers=headers).status_code == 403
    assert client.get("/api/v1/members", headers=headers).status_code == 200
    off = client.patch(path, json={"is_active": False}, headers=admin_headers)
    assert off.status_code == 200
    assert client.get("/api/v1/members", headers=headers).status_code == 401
    refused = grant(client, registered["client_id"], registered["client_secret"])
    assert refused.status_code == 401
    client.patch(path, json={"is_active": True}, headers=admin_headers)
    assert client.get("/api/v1/members", headers=headers).status_code == 200
    # An expiry reached: simulated by moving it into the past behind the API's back.
    row = session.get(ApiClient, uuid.UUID(registered["id"]))
    row.expires_at = row.created_at
    session.commit()
    assert client.get("/api/v1/members", headers=headers).status_code == 401
    assert grant(client, registered["client_id"], registered["client_secret"]).status_code == 401


def test_deleted_client_tokens_stop(client, session, admin_headers):
    registered = register_client(client, admin_headers)
    headers = client_headers(client, registered)
    path = f"/api/v1/api-clients/{registered['id']}"
    assert client.delete(path, headers={**admin_headers, "If-Match": '"v9"'}).status_code == 412
    assert client.delete(path, headers=admin_headers).status_code == 204
    assert client.get("/api/v1/members", headers=headers).status_code == 401


def test_rotation_keeps_both_secrets_for_the_overlap(client, session, admin_headers):
    registered = register_client(client, admin_headers)
    old = registered["client_secret"]
    path = f"/api/v1/api-clients/{registered['id']}/rotate-secret"
    rotated = client.post(path, json={"overlap_seconds": 3600}, headers=admin_headers)
    assert rotated.status_code == 200, rotated.get_json()
    new = rotated.get_json()["client_secret"]
    assert new != old
    assert rotated.get_json()["previous_secret_expires_at"] is not None
    assert grant(client, registered["client_id"], old).status_code == 200
    assert grant(client, registered["client_id"], new).status_code == 200
    # A second rotation without overlap ends both older secrets now.
    again = client.post(path, json={"overlap_seconds": 0}, headers=admin_headers)
    newest = again.get_json()["client_secret"]
    assert again.get_json()["previous_secret_expires_at"] is None
    assert grant(client, registered["client_id"], old).status_code == 401
    assert grant(client, registered["client_id"], new).status_code == 401
    assert grant(client, registered["client_id"], newest).status_code == 200
    too_long = client.post(path, json={"overlap_seconds": 10**7}, headers=admin_headers)
    assert too_long.status_code == 422
    assert "overlap_seconds" in too_long.get_json()["errors"]
    default = client.post(path, headers=admin_headers)
    assert default.status_code == 200
    assert default.get_json()["previous_secret_expires_at"]


def test_rotation_of_a_deactivated_client_is_a_conflict(client, session, admin_headers):
    registered = register_client(client, admin_headers)
    path = f"/api/v1/api-clients/{registered['id']}"
    client.patch(path, json={"is_active": False}, headers=admin_headers)
    response = client.post(path + "/rotate-secret", headers=admin_headers)
    assert response.status_code == 409


def test_client_writes_are_attributed_to_it(client, session, admin_headers):
    registered = register_client(client, admin_headers)
    headers = client_headers(client, registered)
    before = last_seq(session)
    response = client.post(
        "/api/v1/members", json=MEMBER, headers={**headers, "X-Request-ID": "partner-1"}
    )
    assert response.status_code == 201
    [entry] = entries_after(session, before)
    assert entry.event_type == "member.created"
    assert str(entry.api_client_id) == registered["id"]
    assert entry.actor_user_id is None
    assert entry.request_id == "partner-1"


def test_operations_that_need_a_person_refuse_clients(client, session, admin_headers):
    registered = register_client(client, admin_headers)
    headers = client_headers(client, registered)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 403
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 403


def test_client_changes_are_journaled_without_secrets(client, session, admin_headers):
    before = last_seq(session)
    registered = register_client(client, admin_headers)
    path = f"/api/v1/api-clients/{registered['id']}"
    client.post(path + "/rotate-secret", headers=admin_headers)
    grant(client, registered["client_id"], registered["client_secret"])  # bookkeeping only
    client.patch(path, json={"name": "Renamed"}, headers=admin_headers)
    refused = client.patch(path, json={"name": ""}, headers=admin_headers)
    assert refused.status_code == 422
    entries = entries_after(session, before)
    assert [e.event_type for e in entries] == [
        "api_client.created",
        "api_client.updated",
        "api_client.updated",
    ]
    assert entries[1].changes["secret"] == ["[redacted]", "[redacted]"]
    text = str([e.changes for e in entries])
    assert registered["client_secret"][4:] not in text
    history = client.get(path + "/history", headers=admin_headers).get_json()
    assert [e["type"] for e in history["data"]][0] == "api_client.updated"
    assert session.scalar(select(JournalEntry.seq).where(JournalEntry.seq > before + 3)) is None


def test_grant_as_json_for_generated_clients(client, session, admin_headers):
    registered = register_client(client, admin_headers)
    body = {
        "grant_type": "client_credentials",
        "client_id": registered["client_id"],
        "client_secret": registered["client_secret"],
    }
    response = client.post(TOKEN_URL, json=body)
    assert response.status_code == 200
    assert "refresh_token" not in response.get_json()
    wrong = client.post(TOKEN_URL, json={**body, "client_secret": "mrm_wrong"})
    assert wrong.status_code == 401
    assert wrong.get_json()["error"] == "invalid_client"
    typed = client.post(TOKEN_URL, json={**body, "client_id": 42})
    assert typed.status_code == 400
    assert typed.get_json()["error"] == "invalid_request"
    other = client.post(TOKEN_URL, json={**body, "grant_type": "password"})
    assert other.get_json()["error"] == "unsupported_grant_type"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.fields.append(getattr(record, "fields", {}))


def test_access_log_names_the_client_or_the_user(client, session, admin_headers):
    registered = register_client(client, admin_headers)
    headers = client_headers(client, registered)
    logger = logging.getLogger("mrm.access")
    handler = _Records()
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        client.get("/api/v1/members", headers=headers)
        client.get("/api/v1/members", headers=admin_headers)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    by_client, by_user = handler.fields
    assert by_client["api_client_id"] == registered["id"]
    assert "user_id" not in by_client
    assert by_user["user_id"]
    assert "api_client_id" not in by_user


def test_deleting_a_client_is_journaled_once(client, session, admin_headers):
    registered = register_client(client, admin_headers)
    path = f"/api/v1/api-clients/{registered['id']}"
    before = last_seq(session)
    assert client.delete(path, headers={**admin_headers, "If-Match": '"v7"'}).status_code == 412
    assert client.delete(path, headers=admin_headers).status_code == 204
    assert [e.event_type for e in entries_after(session, before)] == ["api_client.deleted"]
    assert client.get(path, headers=admin_headers).status_code == 404
