"""Password checks are bounded per process, and counted before they run.

A login costs argon2's time and memory on purpose. Unbounded, a flood of logins takes every
core from the rest of the API; counted only after the check, parallel guesses overshoot the
per-account limit.
"""

import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from api.config import SETTINGS_KEY
from api.extensions import db
from models import LoginThrottle
from services.passwords import configure_password_hashing, password_check_slot
from tests.factories import PASSWORD, make_user
from tests.foundation.test_throttling import MAX_FAILURES, attempt


@pytest.fixture
def hashing_restored(app: Flask) -> Iterator[None]:
    """Put back the password hashing of the session's app after a test configured another."""
    yield
    settings = app.extensions[SETTINGS_KEY]
    configure_password_hashing(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        concurrency=settings.password_hash_concurrency,
    )


@pytest.fixture
def user(session):
    account = make_user(session)
    session.commit()
    return account


def test_a_login_beyond_the_bound_is_refused_at_once_and_not_counted(client, session, user):
    with password_check_slot():  # another thread of this process is checking a password
        started = time.perf_counter()
        response = attempt(client, user.email, password=PASSWORD)
        elapsed = time.perf_counter() - started
    assert response.status_code == 503, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert elapsed < 1
    assert session.scalar(select(func.count()).select_from(LoginThrottle)) == 0
    # the slot is free again: the same login goes through
    assert attempt(client, user.email, password=PASSWORD).status_code == 200


def test_refused_logins_never_lock_the_account(client, user):
    with password_check_slot():
        for _ in range(MAX_FAILURES + 2):
            assert attempt(client, user.email).status_code == 503
    assert attempt(client, user.email, password=PASSWORD).status_code == 200


def test_the_bound_is_configurable(joined_app, user, hashing_restored):
    client = joined_app(password_hash_concurrency=2).test_client()
    with password_check_slot():
        assert attempt(client, user.email, password=PASSWORD).status_code == 200
        with password_check_slot():
            assert attempt(client, user.email, password=PASSWORD).status_code == 503


def test_zero_means_no_bound(joined_app, user, hashing_restored):
    client = joined_app(password_hash_concurrency=0).test_client()
    with password_check_slot(), password_check_slot():
        assert attempt(client, user.email, password=PASSWORD).status_code == 200


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread priority is Linux's")
def test_checks_run_at_lower_priority(app):
    def priority() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    with password_check_slot() as run_check:
        assert run_check(priority) > priority()


@pytest.mark.postgres_only
def test_parallel_wrong_passwords_get_exactly_the_limit_of_checks(
    committing_app, make_app, hashing_restored
):
    """32 guesses at once on one account: 5 are checked (401), the others refused (429)."""
    with committing_app.app_context():
        email = make_user(db.session).email
        db.session.commit()
    # No bound on checks here (one test process plays many workers); a real argon2 cost so
    # that the checks overlap as they do in production.
    app = make_app(db_pool_size=16, db_max_overflow=16)
    configure_password_hashing(time_cost=2, memory_kib=8192, concurrency=0)
    barrier = threading.Barrier(32)
    statuses: list[int] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            client = app.test_client()
            barrier.wait(timeout=10)
            statuses.append(attempt(client, email, address="10.3.3.3").status_code)
        except BaseException as exc:  # reported below, in the test thread
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert Counter(statuses) == Counter({401: MAX_FAILURES, 429: 32 - MAX_FAILURES})
    # and the account is locked now, for the right password too
    assert attempt(app.test_client(), email, password=PASSWORD).status_code == 429
