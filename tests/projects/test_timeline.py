"""A project's timeline and its links to interactions."""

from datetime import UTC, datetime

import pytest

from tests.interactions.factories import make_interaction, user_with_headers
from tests.journal.helpers import entries_after, last_seq
from tests.members.factories import make_member
from tests.projects.factories import make_project

URL = "/api/v1/projects"


@pytest.fixture
def setup(client, session):
    user, headers = user_with_headers(client, session, "staff")
    other, other_headers = user_with_headers(client, session, "staff")
    member = make_member(session)
    project = make_project(session, follower=user)
    public = make_interaction(
        session,
        owner=user,
        members=(member,),
        subject="Kick-off",
        occurred_at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    secret = make_interaction(
        session,
        owner=user,
        members=(member,),
        subject="Secret call",
        confidential=True,
        occurred_at=datetime(2026, 1, 6, tzinfo=UTC),
    )
    session.commit()
    return user, headers, other_headers, project, public, secret


def test_link_unlink_and_timeline(client, session, setup):
    _user, headers, other_headers, project, public, secret = setup
    base = f"{URL}/{project.id}"
    start = last_seq(session)
    assert client.put(f"{base}/interactions/{public.id}", headers=headers).status_code == 204
    assert client.put(f"{base}/interactions/{public.id}", headers=headers).status_code == 204
    assert client.put(f"{base}/interactions/{secret.id}", headers=headers).status_code == 204
    entries = entries_after(session, start)
    assert [e.event_type for e in entries] == ["project.updated", "project.updated"]
    assert entries[0].changes["interaction_links"] == [[], [str(public.id)]]
    # Someone who may not see the confidential interaction cannot link it either.
    assert client.put(f"{base}/interactions/{secret.id}", headers=other_headers).status_code == 404
    client.post(f"{base}/transitions", json={"to": "consortium_building"}, headers=headers)
    client.post(
        f"{base}/submissions", json={"programme": "anr", "call_name": "AAPG"}, headers=headers
    )
    mine = client.get(f"{base}/timeline", headers=headers).get_json()["data"]
    assert sorted(item["kind"] for item in mine) == [
        "interaction",
        "interaction",
        "submission",
        "transition",
    ]
    theirs = client.get(f"{base}/timeline", headers=other_headers).get_json()["data"]
    assert str(secret.id) not in [item["id"] for item in theirs]
    assert len(theirs) == 3
    only = client.get(
        f"{base}/timeline", query_string={"kinds": "interaction"}, headers=headers
    ).get_json()["data"]
    assert [item["id"] for item in only] == [str(secret.id), str(public.id)]
    first = client.get(f"{base}/timeline", query_string={"limit": 2}, headers=headers).get_json()
    second = client.get(
        f"{base}/timeline",
        query_string={"limit": 2, "cursor": first["next_cursor"]},
        headers=headers,
    ).get_json()
    assert [i["id"] for i in first["data"] + second["data"]] == [i["id"] for i in mine]
    assert second["next_cursor"] is None
    assert client.delete(f"{base}/interactions/{public.id}", headers=headers).status_code == 204
    assert client.delete(f"{base}/interactions/{public.id}", headers=headers).status_code == 404


def test_timeline_bad_input(client, setup):
    _user, headers, _other, project, _public, _secret = setup
    base = f"{URL}/{project.id}/timeline"
    for query in (
        {"kinds": "event"},
        {"cursor": "garbage"},
        {"limit": 0},
        {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"unknown": "1"},
    ):
        assert client.get(base, query_string=query, headers=headers).status_code == 422, query
    missing = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    assert client.get(f"{URL}/{missing}/timeline", headers=headers).status_code == 404
    assert (
        client.put(f"{URL}/{project.id}/interactions/{missing}", headers=headers).status_code == 404
    )


def test_linking_needs_write_scope(client, setup, viewer_headers):
    _user, _headers, _other, project, public, _secret = setup
    url = f"{URL}/{project.id}/interactions/{public.id}"
    assert client.put(url, headers=viewer_headers).status_code == 403
    assert client.delete(url, headers=viewer_headers).status_code == 403
    assert client.get(f"{URL}/{project.id}/timeline", headers=viewer_headers).status_code == 200
