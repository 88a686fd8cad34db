"""Concurrent writes to interactions on PostgreSQL: the database decides who wins."""

import threading
from collections import Counter

import pytest
from flask import Flask

from api.extensions import db
from tests.contacts.factories import make_member
from tests.factories import bearer, log_in, make_user
from tests.interactions.factories import make_interaction

URL = "/api/v1/interactions"


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


def _setup(app: Flask) -> tuple[dict[str, str], str, str]:
    """A staff user's headers, a member id and one of its interactions' URL."""
    with app.app_context():
        session = db.session
        user = make_user(session, role="staff")
        member = make_member(session)
        interaction = make_interaction(session, owner=user, members=(member,))
        session.commit()
        email, member_id, url = user.email, str(member.id), f"{URL}/{interaction.id}"
    return bearer(log_in(app.test_client(), email)["access_token"]), member_id, url


@pytest.mark.postgres_only
def test_two_patches_with_the_same_etag_one_wins(committing_app):
    headers, member_id, url = _setup(committing_app)

    def patch(client):
        return client.patch(
            url,
            json={"contacts": [], "members": [{"member_id": member_id, "role": "requester"}]},
            headers={**headers, "If-Match": '"v1"'},
        )

    assert _race(committing_app, patch) == Counter({200: 1, 412: 1})
    final = committing_app.test_client().get(url, headers=headers)
    assert final.headers["ETag"] == '"v2"'


@pytest.mark.postgres_only
def test_two_creates_with_the_same_external_id_one_wins(committing_app):
    headers, member_id, _url = _setup(committing_app)

    def create(client):
        body = {
            "kind": "touchpoint",
            "type": "call",
            "subject": "Twin",
            "occurred_at": "2026-03-02T10:00:00Z",
            "members": [{"member_id": member_id}],
            "external_id": "twin-1",
        }
        return client.post(URL, json=body, headers=headers)

    assert _race(committing_app, create) == Counter({201: 1, 409: 1})
    listed = committing_app.test_client().get(
        URL, query_string={"external_id": "twin-1"}, headers=headers
    )
    assert len(listed.get_json()["data"]) == 1


UPSERTS = 10


@pytest.mark.postgres_only
def test_concurrent_first_upserts_of_one_external_id_create_it_once(committing_app):
    """The requests that lose the race to create it update it instead: no 409, one row."""
    from tests.concurrency import send_together  # noqa: PLC0415

    headers, member_id, _url = _setup(committing_app)
    url = f"{URL}/by-external-id/crm-race"

    def upsert(n):
        body = {
            "kind": "touchpoint",
            "type": "call",
            "subject": f"Imported {n}",
            "occurred_at": "2026-03-02T10:00:00Z",
            "members": [{"member_id": member_id}],
        }
        return lambda client: client.put(url, json=body, headers=headers)

    responses = send_together(committing_app, *[upsert(n) for n in range(UPSERTS)])
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 200: UPSERTS - 1}, [r.get_json() for r in responses]
    listed = committing_app.test_client().get(
        URL, query_string={"external_id": "crm-race"}, headers=headers
    )
    assert len(listed.get_json()["data"]) == 1
