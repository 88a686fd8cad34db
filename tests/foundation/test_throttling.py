"""Failed logins are counted per account and per address, the same for unknown e-mails."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from models import LoginThrottle
from models.types import utcnow
from tests.factories import PASSWORD, make_user

TOKEN_URL = "/api/v1/auth/token"
MAX_FAILURES = 5  # Settings.login_max_failures default


def attempt(client, email, password="wrong password", address="10.0.0.1"):
    return client.post(
        TOKEN_URL,
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def assert_locked(response):
    assert response.status_code == 429, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert int(response.headers["Retry-After"]) <= 15 * 60 + 1


@pytest.fixture
def user(session):
    account = make_user(session)
    session.commit()
    return account


@pytest.mark.parametrize("known", [True, False])
def test_account_locks_after_max_failures(client, user, known):
    email = user.email if known else "nobody-here@example.org"
    for _ in range(MAX_FAILURES):
        assert attempt(client, email).status_code == 401
    assert_locked(attempt(client, email))
    # the e-mail is locked from any address
    assert_locked(attempt(client, email, address="10.9.9.9"))


def test_known_and_unknown_accounts_answer_alike(client, user):
    answers = {}
    for email in (user.email, "unknown-account@example.org"):
        statuses = [attempt(client, email).status_code for _ in range(MAX_FAILURES + 1)]
        locked = client.post(
            TOKEN_URL,
            json={"email": email, "password": "x"},
            headers={"X-Request-ID": "same"},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        )
        answers[email] = (statuses, locked.get_json())
    assert answers[user.email] == answers["unknown-account@example.org"]


def test_correct_password_is_refused_during_lock(client, user):
    for _ in range(MAX_FAILURES):
        attempt(client, user.email)
    assert_locked(attempt(client, user.email, password=PASSWORD))


def test_success_before_the_limit_resets_the_account(client, user):
    for _ in range(MAX_FAILURES - 1):
        assert attempt(client, user.email).status_code == 401
    assert attempt(client, user.email, password=PASSWORD).status_code == 200
    for _ in range(MAX_FAILURES - 1):
        assert attempt(client, user.email).status_code == 401
    assert attempt(client, user.email, password=PASSWORD).status_code == 200
    # without the reset, these would have crossed the limit long ago
    for _ in range(MAX_FAILURES):
        assert attempt(client, user.email).status_code == 401
    assert_locked(attempt(client, user.email, password=PASSWORD))


def test_email_case_and_spaces_do_not_dodge_the_count(client, user):
    variants = [user.email.upper(), f" {user.email}", user.email.title(), user.email, user.email]
    for email in variants:
        assert attempt(client, email).status_code == 401
    assert_locked(attempt(client, user.email))


def test_lock_ends_after_the_window(client, session, user):
    for _ in range(MAX_FAILURES):
        attempt(client, user.email)
    assert_locked(attempt(client, user.email, password=PASSWORD))
    session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert attempt(client, user.email, password=PASSWORD).status_code == 200


def test_failures_older_than_the_window_do_not_count(client, session, user):
    for _ in range(MAX_FAILURES - 1):
        attempt(client, user.email)
    session.execute(
        update(LoginThrottle).values(window_started_at=utcnow() - timedelta(minutes=16))
    )
    session.commit()
    # the window expired: this failure starts a new count instead of locking
    assert attempt(client, user.email).status_code == 401
    assert attempt(client, user.email, password=PASSWORD).status_code == 200


def test_throttle_table_holds_no_email(client, session):
    attempt(client, "typo-address@example.org")
    keys = session.scalars(LoginThrottle.__table__.select().with_only_columns(LoginThrottle.key))
    assert all("@" not in key and len(key) == 64 for key in keys)


def test_address_limit(joined_app, session, user):
    app = joined_app(login_ip_max_failures=3)
    client = app.test_client()
    for index in range(3):
        assert attempt(client, f"someone{index}@example.org", address="10.1.1.1").status_code == 401
    # the address is locked, whatever the account, even with the right password
    assert_locked(attempt(client, "fresh@example.org", address="10.1.1.1"))
    assert_locked(attempt(client, user.email, password=PASSWORD, address="10.1.1.1"))
    # another address is not affected, and neither is the account itself
    assert attempt(client, user.email, password=PASSWORD, address="10.2.2.2").status_code == 200


def test_refused_scopes_with_the_right_password_are_no_failure(client, session, user):
    for _ in range(MAX_FAILURES + 1):
        response = client.post(
            TOKEN_URL,
            json={"email": user.email, "password": PASSWORD, "scopes": ["users:admin"]},
        )
        assert response.status_code == 422, response.get_json()
    assert attempt(client, user.email, password=PASSWORD).status_code == 200
