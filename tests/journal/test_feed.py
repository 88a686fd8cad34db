"""``/changes`` (the feed) and ``/{resource}/{id}/history``: order, paging, filters, scopes."""

import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.extensions import db
from models import JournalEntry, Member
from services import journal
from tests.contacts.factories import make_contact
from tests.factories import bearer, log_in, make_user
from tests.journal.helpers import last_seq
from tests.members.factories import make_member

CHANGES = "/api/v1/changes"


def _member_changes(client, session, headers, count):
    """Create a member and change its city ``count`` times through the API."""
    member = make_member(session, name="Fed", city="City 0")
    session.commit()
    for number in range(1, count + 1):
        response = client.patch(
            f"/api/v1/members/{member.id}", json={"city": f"City {number}"}, headers=headers
        )
        assert response.status_code == 200
    return member


def test_feed_reads_in_order_from_a_position(client, session, staff_headers):
    start = last_seq(session)
    member = _member_changes(client, session, staff_headers, 3)
    first = client.get(CHANGES, query_string={"after": start, "limit": 2}, headers=staff_headers)
    assert first.status_code == 200, first.json
    body = first.json
    assert [entry["type"] for entry in body["data"]] == ["member.created", "member.updated"]
    assert body["has_more"] is True
    assert body["next_after"] == body["data"][-1]["seq"]
    assert f"after={body['next_after']}" in first.headers["Link"]
    rest = client.get(
        CHANGES, query_string={"after": body["next_after"]}, headers=staff_headers
    ).json
    assert [entry["changes"]["city"] for entry in rest["data"]] == [
        ["City 1", "City 2"],
        ["City 2", "City 3"],
    ]
    assert rest["has_more"] is False
    seqs = [entry["seq"] for entry in body["data"] + rest["data"]]
    assert seqs == sorted(seqs)
    entry = rest["data"][-1]
    assert entry["resource_type"] == "member"
    assert entry["resource_id"] == str(member.id)
    assert entry["source"] == "api"
    empty = client.get(CHANGES, query_string={"after": seqs[-1]}, headers=staff_headers).json
    assert empty == {"data": [], "next_after": seqs[-1], "has_more": False}


def test_feed_filters_on_types(client, session, staff_headers):
    start = last_seq(session)
    _member_changes(client, session, staff_headers, 1)
    response = client.post(
        "/api/v1/contacts", json={"first_name": "A", "last_name": "B"}, headers=staff_headers
    )
    assert response.status_code == 201

    def types(value):
        query = {"after": start, "types": value}
        return [
            e["type"]
            for e in client.get(CHANGES, query_string=query, headers=staff_headers).json["data"]
        ]

    assert types("member.updated") == ["member.updated"]
    assert types("contact.*,member.created") == ["member.created", "contact.created"]


@pytest.mark.parametrize(
    "query",
    [
        {"after": "-1"},
        {"after": "x"},
        {"types": "member"},
        {"types": "*"},
        {"limit": "0"},
        {"since": "1"},
    ],
)
def test_feed_refuses_bad_arguments(client, staff_headers, query):
    response = client.get(CHANGES, query_string=query, headers=staff_headers)
    assert response.status_code == 422
    assert {name.split(".")[0] for name in response.json["errors"]} == set(query)


def test_feed_lists_only_what_the_token_may_read(client, session, staff_headers, admin_headers):
    start = last_seq(session)
    response = client.post(
        "/api/v1/users",
        json={"email": "fed@example.org", "password": "a long enough password", "role": "staff"},
        headers=admin_headers,
    )
    assert response.status_code == 201
    query = {"after": start}
    as_admin = client.get(CHANGES, query_string=query, headers=admin_headers).json["data"]
    assert [entry["type"] for entry in as_admin] == ["user.created"]
    assert client.get(CHANGES, query_string=query, headers=staff_headers).json["data"] == []


def test_feed_needs_changes_read(client, viewer_headers):
    assert client.get(CHANGES).status_code == 401
    assert client.get(CHANGES, headers=viewer_headers).status_code == 403


def test_member_history_newest_first_paged(client, session, staff_headers, viewer_headers):
    member = _member_changes(client, session, staff_headers, 3)
    url = f"/api/v1/members/{member.id}/history"
    first = client.get(url, query_string={"limit": 3}, headers=viewer_headers)
    assert first.status_code == 200, first.json
    cities = [entry["changes"]["city"][1] for entry in first.json["data"]]
    assert cities == ["City 3", "City 2", "City 1"]
    assert 'rel="next"' in first.headers["Link"]
    second = client.get(
        url, query_string={"cursor": first.json["next_cursor"]}, headers=viewer_headers
    ).json
    assert [entry["type"] for entry in second["data"]] == ["member.created"]
    assert second["next_cursor"] is None


def test_contact_history_and_refusals(client, session, staff_headers, viewer_headers):
    contact = make_contact(session)
    session.commit()
    url = f"/api/v1/contacts/{contact.id}/history"
    assert (
        client.patch(
            f"/api/v1/contacts/{contact.id}", json={"notes": "met"}, headers=staff_headers
        ).status_code
        == 200
    )
    body = client.get(url, headers=viewer_headers).json
    assert [entry["type"] for entry in body["data"]][:1] == ["contact.updated"]
    assert client.get(url).status_code == 401
    missing = client.get(
        "/api/v1/contacts/00000000-0000-0000-0000-000000000000/history", headers=viewer_headers
    )
    assert missing.status_code == 404
    forged = client.get(
        url, query_string={"cursor": "eyJzIjoiLXNlcSIsInYiOlsieCIsMV19"}, headers=viewer_headers
    )
    assert forged.status_code == 422
    assert client.get(url, query_string={"sort": "seq"}, headers=viewer_headers).status_code == 422


def _staff(app):
    with app.app_context():
        user = make_user(db.session, role="staff")
        db.session.commit()
        email = user.email
    return bearer(log_in(app.test_client(), email)["access_token"])


@pytest.mark.postgres_only
def test_a_later_commit_never_shows_below_a_number_already_read(committing_app):
    """T1 writes its entry first but commits last; T2 commits meanwhile. A reader that polls
    all along must see T1's entry before T2's, never T2's alone."""
    headers = _staff(committing_app)
    with committing_app.app_context():
        first = make_member(db.session, name="First")
        second = make_member(db.session, name="Second")
        db.session.commit()
        first_id, second_id = first.id, second.id
        start = last_seq(db.session)

    engine = db.state(committing_app).engine
    session_1 = Session(bind=engine, expire_on_commit=False)
    done = threading.Event()
    statuses: list[int] = []

    def t2() -> None:
        response = committing_app.test_client().patch(
            f"/api/v1/members/{second_id}", json={"city": "Nice"}, headers=headers
        )
        statuses.append(response.status_code)
        done.set()

    thread = threading.Thread(target=t2)
    reader = committing_app.test_client()

    def read() -> list[tuple[int, str]]:
        query = {"after": start}
        data = reader.get(CHANGES, query_string=query, headers=headers).json["data"]
        return [(entry["seq"], entry["resource_id"]) for entry in data]

    try:
        session_1.get(Member, first_id).city = "Lyon"
        # T1 takes its journal number (the first half of its commit) and stops there. Its
        # statement normally travels with the COMMIT; under a SAVEPOINT it runs at once,
        # which opens the window between the two halves that this test needs.
        session_1.begin_nested()
        journal.write_entries(session_1)
        session_1.flush()
        t1_seq = session_1.scalar(select(func.max(JournalEntry.seq)))
        thread.start()
        seen = []
        for _ in range(5):
            time.sleep(0.1)
            seen.append(read())
        assert not done.is_set(), "T2 committed while T1 held a lower number"
        assert seen == [[]] * 5
        session_1.commit()
    finally:
        session_1.close()
        thread.join(timeout=10)
    assert statuses == [200]
    final = read()
    assert [resource for _, resource in final] == [str(first_id), str(second_id)]
    assert final[0][0] == t1_seq < final[1][0]
