"""Idempotency-Key on POSTs: one run per key and caller, its answer replayed to retries."""

import dataclasses
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.config import SETTINGS_KEY
from api.jobs import app_jobs
from models import IdempotencyKey, JournalEntry, Member
from models.types import utcnow
from tests.api_clients.helpers import client_headers, register_client
from tests.concurrency import send_together
from tests.factories import bearer, log_in, make_user

URL = "/api/v1/members"
MEMBER = {"name": "Acme Biotech", "category": "sme"}


def _members(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Member))


def _post(client, headers, key, body=MEMBER, url=URL):
    return client.post(url, json=body, headers={**headers, "Idempotency-Key": key})


def test_retry_replays_the_first_answer(client, session, staff_headers):
    first = _post(client, staff_headers, "key-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    journal = session.scalar(select(func.count()).select_from(JournalEntry))
    again = _post(client, staff_headers, "key-1", body={"category": "sme", "name": "Acme Biotech"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert _members(session) == 1
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == journal
    other = _post(client, staff_headers, "key-2", body={**MEMBER, "name": "Other"})
    assert other.status_code == 201
    assert _members(session) == 2


def test_without_a_key_each_post_runs(client, session, staff_headers):
    assert client.post(URL, json=MEMBER, headers=staff_headers).status_code == 201
    assert client.post(URL, json=MEMBER, headers=staff_headers).status_code == 201
    assert _members(session) == 2


def test_a_key_reused_for_another_request_is_a_422(client, session, staff_headers):
    assert _post(client, staff_headers, "key-1").status_code == 201
    other_body = _post(client, staff_headers, "key-1", body={**MEMBER, "name": "Changed"})
    assert other_body.status_code == 422
    assert "Idempotency-Key" in other_body.get_json()["errors"]
    member_id = _post(client, staff_headers, "key-1").get_json()["id"]
    other_path = _post(client, staff_headers, "key-1", body={}, url=f"{URL}/{member_id}/restore")
    assert other_path.status_code == 422
    assert _members(session) == 1


def test_refusals_are_kept_too(client, session, staff_headers):
    bad = {"name": "", "category": "sme"}
    first = _post(client, staff_headers, "key-bad", body=bad)
    assert first.status_code == 422
    again = _post(client, staff_headers, "key-bad", body=bad)
    assert again.status_code == 422
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["errors"] == first.get_json()["errors"]


def test_keys_belong_to_their_caller(client, session, staff_headers, admin_headers):
    assert _post(client, staff_headers, "shared").status_code == 201
    response = _post(client, admin_headers, "shared", body={**MEMBER, "name": "Admin's"})
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    registered = register_client(client, admin_headers)
    partner = client_headers(client, registered)
    by_client = _post(client, partner, "shared", body={**MEMBER, "name": "Partner's"})
    assert by_client.status_code == 201
    assert (
        _post(client, partner, "shared", body={**MEMBER, "name": "Partner's"}).headers[
            "Idempotent-Replayed"
        ]
        == "true"
    )
    owners = session.scalars(select(IdempotencyKey.owner).order_by(IdempotencyKey.owner)).all()
    assert owners[0] == f"client:{registered['id']}"
    assert _members(session) == 3


@pytest.mark.parametrize("key", ["", " ", "é", "a" * 256, "with space"])
def test_malformed_keys_are_refused(client, session, staff_headers, key):
    response = _post(client, staff_headers, key)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["errors"]
    assert _members(session) == 0


def test_a_key_in_use_answers_409_after_the_wait(client, session, app, monkeypatch):
    user = make_user(session, role="staff")
    session.commit()
    headers = bearer(log_in(client, user.email)["access_token"])
    running = _post(client, headers, "running")  # learn the fingerprint of the request
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "running"))
    row.status, row.response_body, row.response_headers = None, None, None
    session.commit()
    settings = app.extensions[SETTINGS_KEY]
    monkeypatch.setitem(
        app.extensions, SETTINGS_KEY, dataclasses.replace(settings, idempotency_wait_seconds=0)
    )
    response = _post(client, headers, "running")
    assert running.status_code == 201
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    assert response.mimetype == "application/problem+json"
    # A claim left by a process that died is taken over after a while.
    row.started_at = utcnow() - timedelta(minutes=10)
    session.commit()
    assert _post(client, headers, "running").status_code == 201
    assert _members(session) == 2


def test_expired_keys_run_again(client, session, staff_headers):
    assert _post(client, staff_headers, "old").status_code == 201
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "old"))
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    response = _post(client, staff_headers, "old")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert _members(session) == 2


def test_other_methods_ignore_the_header(client, session, staff_headers):
    member_id = _post(client, staff_headers, "k").get_json()["id"]
    for _ in range(2):
        response = client.patch(
            f"{URL}/{member_id}",
            json={"city": "Paris"},
            headers={**staff_headers, "Idempotency-Key": "k"},
        )
        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response.headers


def test_unauthenticated_posts_store_nothing(client, session):
    response = client.post(URL, json=MEMBER, headers={"Idempotency-Key": "k"})
    assert response.status_code == 401
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


@pytest.mark.postgres_only
def test_twenty_concurrent_requests_with_one_key_create_one_member(committing_app, real_session):
    user = make_user(real_session, role="staff")
    real_session.commit()
    headers = bearer(log_in(committing_app.test_client(), user.email)["access_token"])
    key = str(uuid.uuid4())

    def send(client):
        return client.post(URL, json=MEMBER, headers={**headers, "Idempotency-Key": key})

    responses = send_together(committing_app, *([send] * 20))
    assert {response.status_code for response in responses} == {201}
    assert len({response.get_json()["id"] for response in responses}) == 1
    assert sum("Idempotent-Replayed" in response.headers for response in responses) == 19
    assert real_session.scalar(select(func.count()).select_from(Member)) == 1


def test_secrets_shown_once_are_not_kept(client, session, admin_headers):
    body = {"name": "Partner", "scopes": ["members:read"]}
    headers = {**admin_headers, "Idempotency-Key": "client-1"}
    first = client.post("/api/v1/api-clients", json=body, headers=headers)
    secret = first.get_json()["client_secret"]
    stored = session.scalar(select(IdempotencyKey.response_body))
    assert secret.encode() not in stored
    again = client.post("/api/v1/api-clients", json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert "client_secret" not in again.get_json()


def test_the_hourly_job_forgets_expired_answers(app, client, session, staff_headers):
    assert _post(client, staff_headers, "old").status_code == 201
    assert _post(client, staff_headers, "new", body={**MEMBER, "name": "N"}).status_code == 201
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "old"))
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert app_jobs(app)._purge_keys() == 1
    session.expire_all()
    assert session.scalars(select(IdempotencyKey.key)).all() == ["new"]
