"""Concurrent writes on PostgreSQL: the database, not luck, decides who wins."""

import threading
from collections import Counter

import pytest
from flask import Flask

from api.extensions import db
from tests.factories import bearer, log_in, make_user
from tests.members.factories import make_member

URL = "/api/v1/members"


def _staff_headers(app: Flask) -> dict[str, str]:
    with app.app_context():
        session = db.session
        user = make_user(session, role="staff")
        session.commit()
        email = user.email
    return bearer(log_in(app.test_client(), email)["access_token"])


def _race(app: Flask, send) -> Counter:
    """Run ``send(client)`` in two threads released at the same instant; count the statuses."""
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            client = app.test_client()
            barrier.wait(timeout=10)
            statuses.append(send(client).status_code)
        except BaseException as exc:  # reported below, in the test thread
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures
    return Counter(statuses)


@pytest.mark.postgres_only
def test_two_patches_with_the_same_etag_one_wins(committing_app):
    headers = _staff_headers(committing_app)
    with committing_app.app_context():
        member = make_member(db.session, name="Contested")
        db.session.commit()
        url = f"{URL}/{member.id}"
    etag = committing_app.test_client().get(url, headers=headers).headers["ETag"]

    def patch(client):
        return client.patch(url, json={"city": "Lyon"}, headers={**headers, "If-Match": etag})

    assert _race(committing_app, patch) == Counter({200: 1, 412: 1})
    final = committing_app.test_client().get(url, headers=headers)
    assert final.headers["ETag"] == '"v2"'


@pytest.mark.postgres_only
def test_two_creates_with_the_same_siren_one_wins(committing_app):
    headers = _staff_headers(committing_app)

    def create(client):
        body = {"name": "Twin", "category": "sme", "siren": "552120222"}
        return client.post(URL, json=body, headers=headers)

    assert _race(committing_app, create) == Counter({201: 1, 409: 1})
    listed = committing_app.test_client().get(URL, headers=headers).get_json()["data"]
    assert len(listed) == 1
