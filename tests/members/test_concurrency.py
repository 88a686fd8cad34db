"""Concurrent writes on PostgreSQL: the database, not luck, decides who wins."""

from collections import Counter
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from api.extensions import db
from models import Member
from tests.concurrency import send_together
from tests.factories import bearer, log_in, make_user
from tests.members.factories import make_member

URL = "/api/v1/members"
# More than the pool's connections (5 + 5 overflow), so that some requests queue for one.
CONCURRENT_WRITERS = 20


def _staff_headers(app: Flask) -> dict[str, str]:
    with app.app_context():
        session = db.session
        user = make_user(session, role="staff")
        session.commit()
        email = user.email
    return bearer(log_in(app.test_client(), email)["access_token"])


def _race(app: Flask, send: Callable[[FlaskClient], TestResponse], times: int = 2) -> Counter:
    """Run ``send(client)`` in ``times`` threads released at the same instant; count the
    statuses."""
    return Counter(response.status_code for response in send_together(app, *([send] * times)))


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


@pytest.mark.postgres_only
def test_concurrent_patches_without_if_match_all_apply(committing_app):
    """Without If-Match the last write wins: a PATCH that loses the race for the row is
    re-applied to the new version instead of being answered 412."""
    headers = _staff_headers(committing_app)
    with committing_app.app_context():
        member = make_member(db.session, name="Busy")
        db.session.commit()
        url = f"{URL}/{member.id}"
    cities = [f"Ville {n}" for n in range(CONCURRENT_WRITERS)]
    responses = send_together(
        committing_app,
        *[
            lambda client, city=city: client.patch(url, json={"city": city}, headers=headers)
            for city in cities
        ],
    )
    assert Counter(r.status_code for r in responses) == {200: CONCURRENT_WRITERS}
    final = committing_app.test_client().get(url, headers=headers)
    # Every PATCH changed the city, so each one made a version of its own.
    assert final.headers["ETag"] == f'"v{CONCURRENT_WRITERS + 1}"'
    assert final.get_json()["city"] in cities


@pytest.mark.postgres_only
def test_concurrent_patches_with_the_current_etag_one_wins_the_others_get_412(committing_app):
    headers = _staff_headers(committing_app)
    with committing_app.app_context():
        member = make_member(db.session, name="Guarded")
        db.session.commit()
        url = f"{URL}/{member.id}"
    guarded = {**headers, "If-Match": '"v1"'}
    responses = send_together(
        committing_app,
        *[
            lambda client, n=n: client.patch(url, json={"city": f"Ville {n}"}, headers=guarded)
            for n in range(CONCURRENT_WRITERS)
        ],
    )
    assert Counter(r.status_code for r in responses) == {200: 1, 412: CONCURRENT_WRITERS - 1}
    final = committing_app.test_client().get(url, headers=headers)
    assert final.headers["ETag"] == '"v2"'


@pytest.mark.postgres_only
def test_concurrent_upserts_of_one_member_without_if_match_all_apply(committing_app):
    headers = _staff_headers(committing_app)
    with committing_app.app_context():
        make_member(db.session, name="Imported", external_id="crm-42")
        db.session.commit()
    url = f"{URL}/by-external-id/crm-42"
    responses = send_together(
        committing_app,
        *[
            lambda client, n=n: client.put(
                url, json={"name": f"Imported {n}", "category": "sme"}, headers=headers
            )
            for n in range(CONCURRENT_WRITERS)
        ],
    )
    assert Counter(r.status_code for r in responses) == {200: CONCURRENT_WRITERS}
    final = committing_app.test_client().put(
        url, json={"name": "Imported", "category": "sme"}, headers=headers
    )
    assert final.headers["ETag"] == f'"v{CONCURRENT_WRITERS + 2}"'


PARENT_RACES = 25


@pytest.mark.postgres_only
def test_crossed_parent_changes_never_save_a_cycle(committing_app):
    """PATCH A {parent: B} and PATCH B {parent: A} at once: each check alone sees no loop, so
    without serialising them both could be saved. One must be refused with 422 on parent_id."""
    headers = _staff_headers(committing_app)
    with committing_app.app_context():
        first, second = make_member(db.session, name="A"), make_member(db.session, name="B")
        db.session.commit()
        a, b = first.id, second.id
    outcomes: Counter = Counter()
    for _ in range(PARENT_RACES):
        with committing_app.app_context():
            db.session.execute(update(Member).values(parent_id=None))
            db.session.commit()
        responses = send_together(
            committing_app,
            *[
                lambda client: client.patch(
                    f"{URL}/{a}", json={"parent_id": str(b)}, headers=headers
                ),
                lambda client: client.patch(
                    f"{URL}/{b}", json={"parent_id": str(a)}, headers=headers
                ),
            ],
        )
        statuses = sorted(response.status_code for response in responses)
        outcomes[tuple(statuses)] += 1
        with committing_app.app_context():
            parents = dict(db.session.execute(select(Member.id, Member.parent_id)).all())
        assert not (parents[a] == b and parents[b] == a), outcomes
        assert statuses == [200, 422], outcomes
        refused = next(response for response in responses if response.status_code == 422)
        assert list(refused.get_json()["errors"]) == ["parent_id"]


@pytest.mark.postgres_only
def test_concurrent_first_upserts_of_one_external_id_create_it_once(committing_app):
    """The requests that lose the race to create the member update it instead (no 409)."""
    headers = _staff_headers(committing_app)
    url = f"{URL}/by-external-id/crm-new"
    responses = send_together(
        committing_app,
        *[
            lambda client, n=n: client.put(
                url, json={"name": f"New {n}", "category": "sme"}, headers=headers
            )
            for n in range(CONCURRENT_WRITERS)
        ],
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 200: CONCURRENT_WRITERS - 1}, statuses
