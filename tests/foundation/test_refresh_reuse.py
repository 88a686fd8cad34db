"""A refresh token presented again moments after its use gets the same new pair.

Clients retry a refresh whose answer was lost, and browsers refresh from several tabs at once:
within the reuse window that must not log the user out. Later, reuse still means a leak.
"""

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select

from api.extensions import db
from models import AuthSession
from tests.factories import bearer, log_in, make_user
from tests.foundation.test_auth_sessions import ME_URL, leave_reuse_window, refresh
from tests.foundation.test_auth_tokens import assert_unauthorized


@pytest.fixture
def staff(session):
    user = make_user(session, role="staff")
    session.commit()
    return user


def test_retry_within_the_window_gets_the_same_pair(client, session, staff):
    first = log_in(client, staff.email)
    second = refresh(client, first["refresh_token"])
    retried = refresh(client, first["refresh_token"])
    assert second.status_code == retried.status_code == 200, retried.get_json()
    assert retried.get_json() == second.get_json()
    tokens = second.get_json()
    assert client.get(ME_URL, headers=bearer(tokens["access_token"])).status_code == 200
    # the login goes on: the successor rotates as usual
    third = refresh(client, tokens["refresh_token"])
    assert third.status_code == 200
    assert client.get(ME_URL, headers=bearer(third.get_json()["access_token"])).status_code == 200
    stored = session.scalar(select(AuthSession).where(AuthSession.user_id == staff.id))
    assert stored.revoked_at is None


def test_reuse_after_the_window_revokes_the_login(client, session, staff):
    first = log_in(client, staff.email)
    second = refresh(client, first["refresh_token"]).get_json()
    leave_reuse_window(session)
    assert_unauthorized(refresh(client, first["refresh_token"]))
    assert_unauthorized(client.get(ME_URL, headers=bearer(second["access_token"])))
    assert_unauthorized(refresh(client, second["refresh_token"]))


def test_only_the_last_rotated_token_is_forgiven(client, staff):
    first = log_in(client, staff.email)
    second = refresh(client, first["refresh_token"]).get_json()
    third = refresh(client, second["refresh_token"]).get_json()
    # two generations back, even within seconds: a copy someone else holds
    assert_unauthorized(refresh(client, first["refresh_token"]))
    assert_unauthorized(client.get(ME_URL, headers=bearer(third["access_token"])))


def test_a_zero_window_revokes_at_once(joined_app, staff):
    client = joined_app(refresh_reuse_seconds=0).test_client()
    first = log_in(client, staff.email)
    assert refresh(client, first["refresh_token"]).status_code == 200
    assert_unauthorized(refresh(client, first["refresh_token"]))


def test_a_revoked_login_is_not_reissued(client, staff):
    first = log_in(client, staff.email)
    second = refresh(client, first["refresh_token"]).get_json()
    assert client.post("/api/v1/auth/logout", headers=bearer(second["access_token"])).status_code
    assert_unauthorized(refresh(client, first["refresh_token"]))


def test_the_reissued_pair_expires_with_the_first(client, staff):
    """The same tokens, not fresh ones: a retry a second later gets the first ``iat``/``exp``."""
    first = log_in(client, staff.email)
    second = refresh(client, first["refresh_token"]).get_json()
    time.sleep(1.1)  # token times are whole seconds
    assert refresh(client, first["refresh_token"]).get_json() == second


@pytest.mark.postgres_only
def test_parallel_refreshes_with_one_token_all_get_one_pair(committing_app):
    with committing_app.app_context():
        user = make_user(db.session, role="staff")
        db.session.commit()
        email = user.email
    tokens = log_in(committing_app.test_client(), email)
    barrier = threading.Barrier(10)
    answers: list[tuple[int, str, str]] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            client = committing_app.test_client()
            barrier.wait(timeout=10)
            response = refresh(client, tokens["refresh_token"])
            body = response.get_json()
            answers.append(
                (response.status_code, body.get("refresh_token"), body.get("access_token"))
            )
        except BaseException as exc:  # reported below, in the test thread
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert Counter(status for status, _r, _a in answers) == Counter({200: 10})
    assert len({(r, a) for _s, r, a in answers}) == 1
    _status, refresh_token, access_token = answers[0]
    client = committing_app.test_client()
    assert client.get(ME_URL, headers=bearer(access_token)).status_code == 200
    assert refresh(client, refresh_token).status_code == 200
