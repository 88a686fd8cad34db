"""Rate limits per caller and per class of request (reads, writes, auth)."""

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask

from api import create_app
from api.config import ConfigurationError, Settings
from api.extensions import db
from api.rate_limits import ProcessStorage
from tests.api_clients.helpers import client_headers, grant, register_client
from tests.conftest import TEST_SECRET, make_settings
from tests.factories import bearer, log_in, make_user

REDIS_URL = os.environ.get("MRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
MEMBER = {"name": "Acme Biotech", "category": "sme"}


@contextmanager
def limited_app(app: Flask, tmp_path, **limits: str) -> Iterator[Flask]:
    """Another app on the test's database and transaction, with the given budgets."""
    settings = make_settings(
        str(db.state(app).engine.url.render_as_string(hide_password=False)),
        tmp_path,
        rate_limit_prefix=f"test-{uuid.uuid4().hex}",
        **limits,
    )
    other = create_app(settings)
    state, shared = db.state(other), db.state(app)
    state.session_factory, state.read_session_factory = shared.session_factory, None
    try:
        yield other
    finally:
        state.engine.dispose()


def _staff(session, client) -> dict[str, str]:
    user = make_user(session, role="staff")
    session.commit()
    return bearer(log_in(client, user.email)["access_token"])


def test_every_response_says_where_the_caller_stands(client, session, staff_headers):
    for response in (
        client.get("/api/v1/members", headers=staff_headers),
        client.get(f"/api/v1/members/{uuid.uuid4()}", headers=staff_headers),
        client.post("/api/v1/members", json=MEMBER, headers=staff_headers),
        client.get("/api/v1/members"),
    ):
        assert int(response.headers["RateLimit-Limit"]) > 0
        assert int(response.headers["RateLimit-Remaining"]) >= 0
        assert 0 <= int(response.headers["RateLimit-Reset"]) <= 60
        assert response.headers["RateLimit-Policy"].endswith(";w=60")
        assert "Retry-After" not in response.headers


def test_writes_past_the_budget_are_refused_with_429(app, session, tmp_path):
    with limited_app(app, tmp_path, rate_limit_writes="2/minute") as limited:
        client = limited.test_client()
        headers, other = _staff(session, client), _staff(session, client)
        statuses = [
            client.post("/api/v1/members", json={**MEMBER, "name": f"M{i}"}, headers=headers)
            for i in range(3)
        ]
        assert [r.status_code for r in statuses] == [201, 201, 429]
        refused = statuses[2]
        assert refused.mimetype == "application/problem+json"
        assert refused.get_json()["status"] == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["RateLimit-Remaining"] == "0"
        assert statuses[1].headers["RateLimit-Remaining"] == "0"
        assert statuses[0].headers["RateLimit-Remaining"] == "1"
        # Reads have their own budget, and another user has their own.
        assert client.get("/api/v1/members", headers=headers).status_code == 200
        assert client.post("/api/v1/members", json=MEMBER, headers=other).status_code == 201


def test_api_clients_have_their_own_budget(app, session, tmp_path, admin_headers, client):
    registered = register_client(client, admin_headers)
    with limited_app(app, tmp_path, rate_limit_reads="2/minute") as limited:
        partner = limited.test_client()
        headers = client_headers(partner, registered)
        statuses = [partner.get("/api/v1/members", headers=headers).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        person = _staff(session, partner)
        assert partner.get("/api/v1/members", headers=person).status_code == 200


def test_token_requests_have_the_auth_budget(app, session, tmp_path, admin_headers, client):
    registered = register_client(client, admin_headers)
    user = make_user(session, role="staff")
    session.commit()
    with limited_app(app, tmp_path, rate_limit_auth="2/minute") as limited:
        partner = limited.test_client()
        first = grant(partner, registered["client_id"], registered["client_secret"])
        second = partner.post(
            "/api/v1/auth/token", json={"email": user.email, "password": "wrong password!"}
        )
        third = grant(partner, registered["client_id"], registered["client_secret"])
        assert [first.status_code, second.status_code, third.status_code] == [200, 401, 429]
        assert third.headers["Retry-After"]
        # Reads are another budget.
        assert partner.get("/api/v1/members").status_code == 401


def test_a_forged_token_counts_against_the_address(app, session, tmp_path):
    with limited_app(app, tmp_path, rate_limit_reads="2/minute") as limited:
        client = limited.test_client()
        headers = _staff(session, client)
        forged = {"Authorization": headers["Authorization"][:-4] + "AAAA"}
        assert client.get("/api/v1/members", headers=forged).status_code == 401
        assert client.get("/api/v1/members", headers=forged).status_code == 401
        assert client.get("/api/v1/members", headers=forged).status_code == 429
        assert client.get("/api/v1/members", headers=headers).status_code == 200


@pytest.mark.parametrize("value", ["lots", "5/fortnight", ""])
def test_budgets_are_checked_at_start_up(tmp_path, value):
    with pytest.raises(ConfigurationError, match="MRM_RATE_LIMIT_WRITES"):
        Settings.from_env(
            {"MRM_RATE_LIMIT_WRITES": value},
            env="test",
            jwt_secret_key=TEST_SECRET,
            instance_dir=tmp_path,
        )


def _redis_or_skip() -> None:
    import redis  # noqa: PLC0415

    try:
        connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        connection.ping()
        connection.close()
    except redis.exceptions.ConnectionError as exc:
        message = f"Redis is not reachable at {REDIS_URL}: {exc}"
        if os.environ.get("MRM_REQUIRE_REDIS") == "1":
            pytest.fail(message + " (MRM_REQUIRE_REDIS=1)", pytrace=False)
        pytest.skip(message)


def test_two_instances_share_one_budget_in_redis(app, session, tmp_path):
    _redis_or_skip()
    prefix = f"test-{uuid.uuid4().hex}"
    limits = {"rate_limit_reads": "3/minute", "redis_url": REDIS_URL}
    with (
        limited_app(app, tmp_path / "a", **limits) as first,
        limited_app(app, tmp_path / "b", **limits) as second,
    ):
        for instance in (first, second):
            instance.extensions["mrm-limiter"]._key_prefix = prefix
        one, two = first.test_client(), second.test_client()
        headers = _staff(session, one)
        statuses = [
            one.get("/api/v1/members", headers=headers).status_code,
            two.get("/api/v1/members", headers=headers).status_code,
            one.get("/api/v1/members", headers=headers).status_code,
            two.get("/api/v1/members", headers=headers).status_code,
            one.get("/api/v1/members", headers=headers).status_code,
        ]
        assert statuses == [200, 200, 200, 429, 429]


def test_process_counters_are_forgotten_after_their_window(monkeypatch):
    storage = ProcessStorage()
    monkeypatch.setattr(storage, "SWEEP_SECONDS", 0.0)
    storage.incr("old", expiry=0.01)
    time.sleep(0.05)
    storage._next_sweep = 0.0
    storage.incr("new", expiry=60)
    assert "old" not in storage.storage
    assert storage.get("new") == 1


def test_an_unreachable_redis_falls_back_to_counting_in_the_process(app, session, tmp_path):
    limits = {"rate_limit_reads": "2/minute", "redis_url": "redis://127.0.0.1:1/0"}
    with limited_app(app, tmp_path, **limits) as limited:
        client = limited.test_client()
        headers = _staff(session, client)
        statuses = [client.get("/api/v1/members", headers=headers) for _ in range(3)]
        assert [r.status_code for r in statuses] == [200, 200, 429]
        assert statuses[0].headers["RateLimit-Remaining"] == "1"


def test_the_tightest_of_several_limits_is_reported_and_enforced(app, session, tmp_path):
    with limited_app(app, tmp_path, rate_limit_reads="100/hour;2/minute") as limited:
        client = limited.test_client()
        headers = _staff(session, client)
        statuses = [client.get("/api/v1/members", headers=headers) for _ in range(3)]
        assert [r.status_code for r in statuses] == [200, 200, 429]
        assert statuses[0].headers["RateLimit-Policy"] == "2;w=60"
        assert statuses[2].headers["RateLimit-Remaining"] == "0"
