"""Confidential interactions: only their owner, the staff users taking part and admins know
of them. Everyone else gets 404 on every route, and lists, totals and timelines leave them
out, exactly as if they did not exist."""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import pytest

from models import Interaction
from tests.contacts.factories import make_contact, make_member
from tests.interactions.factories import make_interaction, user_with_headers

URL = "/api/v1/interactions"
WHO = ["owner", "participant", "other", "admin"]
SEES = {"owner": True, "participant": True, "other": False, "admin": True}


@dataclass
class Cast:
    headers: dict
    member: object
    contact: object
    secret: Interaction
    public: Interaction


@pytest.fixture
def cast(client, session):
    users, headers = {}, {}
    for who in WHO:
        users[who], headers[who] = user_with_headers(
            client, session, "admin" if who == "admin" else "staff"
        )
    member, contact = make_member(session), make_contact(session)
    secret = make_interaction(
        session,
        owner=users["owner"],
        participants=(users["participant"],),
        members=(member,),
        contacts=(contact,),
        subject="Levée de fonds confidentielle",
        confidential=True,
        external_id="secret-1",
        follow_up_assignee_id=users["other"].id,  # even the assignee must not see it
        follow_up_due=datetime(2026, 4, 1, tzinfo=UTC).date(),
        occurred_at=datetime(2026, 3, 2, tzinfo=UTC),
    )
    public = make_interaction(
        session,
        owner=users["owner"],
        members=(member,),
        contacts=(contact,),
        subject="Levée de fonds publique",
        occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    session.commit()
    return Cast(headers, member, contact, secret, public)


def _expected(who, allowed_status):
    return allowed_status if SEES[who] else 404


@pytest.mark.parametrize("who", WHO)
def test_get(client, cast, who):
    response = client.get(f"{URL}/{cast.secret.id}", headers=cast.headers[who])
    assert response.status_code == _expected(who, 200)
    if not SEES[who]:
        assert response.get_json()["detail"] == f"No interaction with id {cast.secret.id}."


@pytest.mark.parametrize("who", WHO)
def test_patch(client, session, cast, who):
    response = client.patch(
        f"{URL}/{cast.secret.id}",
        json={"subject": "Changed"},
        headers={**cast.headers[who], "If-Match": '"v1"'},
    )
    assert response.status_code == _expected(who, 200)
    session.expire_all()
    subject = session.get(Interaction, cast.secret.id).subject
    assert subject == ("Changed" if SEES[who] else "Levée de fonds confidentielle")


@pytest.mark.parametrize("who", WHO)
def test_delete(client, session, cast, who):
    secret_id = cast.secret.id
    response = client.delete(f"{URL}/{secret_id}", headers=cast.headers[who])
    assert response.status_code == _expected(who, 204)
    session.expunge_all()
    assert (session.get(Interaction, secret_id) is None) == SEES[who]


@pytest.mark.parametrize("who", WHO)
def test_archive_and_restore(client, session, cast, who):
    url = f"{URL}/{cast.secret.id}"
    response = client.post(f"{url}/archive", json={}, headers=cast.headers[who])
    assert response.status_code == _expected(who, 200)
    if not SEES[who]:
        cast.secret.archived_at = datetime.now(UTC)
        session.commit()
    response = client.post(f"{url}/restore", headers=cast.headers[who])
    assert response.status_code == _expected(who, 200)
    session.expire_all()
    assert (session.get(Interaction, cast.secret.id).archived_at is None) == SEES[who]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": "levee fonds"},
        {"member_id": "MEMBER"},
        {"contact_id": "CONTACT"},
        {"external_id": "secret-1"},
        {"assignee": "me", "follow_up": "open"},
        {"include_archived": "true"},
    ],
)
def test_list_and_total(client, cast, who, query):
    query = {
        key: {"MEMBER": cast.member.id, "CONTACT": cast.contact.id}.get(value, value)
        for key, value in query.items()
    }
    response = client.get(
        URL, query_string={**query, "include_total": "true"}, headers=cast.headers[who]
    )
    assert response.status_code == 200
    body = response.get_json()
    ids = [item["id"] for item in body["data"]]
    # The secret's assignee is "other", who may not see it: no one's to-do list shows it.
    assert (str(cast.secret.id) in ids) == (SEES[who] and "assignee" not in query)
    assert body["total"] == len(ids)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("record", ["members", "contacts"])
def test_timelines(client, cast, who, record):
    record_id = cast.member.id if record == "members" else cast.contact.id
    response = client.get(
        f"/api/v1/{record}/{record_id}/timeline",
        query_string={"kinds": "interaction"},
        headers=cast.headers[who],
    )
    assert response.status_code == 200
    ids = [item["id"] for item in response.get_json()["data"]]
    expected = [str(cast.secret.id), str(cast.public.id)] if SEES[who] else [str(cast.public.id)]
    assert ids == expected


@pytest.mark.parametrize("who", WHO)
def test_duplicate_external_id_does_not_point_at_a_hidden_interaction(client, cast, who):
    response = client.post(
        URL,
        json={
            "kind": "touchpoint",
            "type": "call",
            "subject": "Another",
            "occurred_at": "2026-03-05T10:00:00Z",
            "members": [{"member_id": str(cast.member.id)}],
            "external_id": "secret-1",
        },
        headers=cast.headers[who],
    )
    assert response.status_code == 409
    existing = response.get_json().get("existing")
    assert (existing is not None) == SEES[who]


@pytest.mark.parametrize("who", WHO)
def test_history(client, cast, who):
    response = client.get(f"{URL}/{cast.secret.id}/history", headers=cast.headers[who])
    assert response.status_code == _expected(who, 200)
    if SEES[who]:
        types = [entry["type"] for entry in response.get_json()["data"]]
        assert types == ["interaction.created"]
    public = client.get(f"{URL}/{cast.public.id}/history", headers=cast.headers[who])
    assert public.status_code == 200


@pytest.mark.parametrize("who", WHO)
def test_changes_feed(client, session, cast, who):
    """The feed lists a confidential interaction's entries only to those who may see it,
    and stops listing them to others once it becomes confidential."""
    headers = cast.headers["owner"]
    url = f"{URL}/{cast.secret.id}"
    assert client.patch(url, json={"outcome": "Signed"}, headers=headers).status_code == 200
    public_url = f"{URL}/{cast.public.id}"
    assert client.patch(public_url, json={"outcome": "Done"}, headers=headers).status_code == 200
    feed = client.get("/api/v1/changes?limit=200&types=interaction.*", headers=cast.headers[who])
    assert feed.status_code == 200
    seen = {(entry["resource_id"], entry["type"]) for entry in feed.get_json()["data"]}
    secret_entries = {
        (str(cast.secret.id), "interaction.created"),
        (str(cast.secret.id), "interaction.updated"),
    }
    assert (secret_entries <= seen) is SEES[who]
    assert not (secret_entries & seen) or SEES[who]
    assert (str(cast.public.id), "interaction.updated") in seen
    # Made confidential afterwards: its whole history leaves the feed of those who cannot see it.
    patch = client.patch(public_url, json={"confidential": True}, headers=headers)
    assert patch.status_code == 200
    feed = client.get("/api/v1/changes?limit=200&types=interaction.*", headers=cast.headers[who])
    ids = {entry["resource_id"] for entry in feed.get_json()["data"]}
    assert (str(cast.public.id) in ids) is (who in ("owner", "admin"))  # no participants


def test_a_deleted_interactions_entries_stay_for_admins_only(client, cast):
    """Once deleted, nothing tells whether an interaction was confidential: its entries are
    shown to admins only."""
    url = f"{URL}/{cast.public.id}"
    assert client.delete(url, headers=cast.headers["owner"]).status_code == 204
    for who in WHO:
        feed = client.get(
            "/api/v1/changes?limit=200&types=interaction.*", headers=cast.headers[who]
        )
        ids = {entry["resource_id"] for entry in feed.get_json()["data"]}
        assert (str(cast.public.id) in ids) is (who == "admin"), who


@pytest.mark.parametrize("who", WHO)
def test_exports(client, cast, who):
    """Exports read the lists through the same views: what a page hides, a file hides."""
    headers = cast.headers[who]
    listed = client.get(URL, query_string={"format": "csv"}, headers=headers)
    assert listed.status_code == 200
    ids = [row["id"] for row in csv.DictReader(io.StringIO(listed.get_data(as_text=True)))]
    assert (str(cast.secret.id) in ids) == SEES[who]
    assert str(cast.public.id) in ids
    for record, record_id in (("members", cast.member.id), ("contacts", cast.contact.id)):
        timeline = client.get(
            f"/api/v1/{record}/{record_id}/timeline",
            query_string={"kinds": "interaction"},
            headers={**headers, "Accept": "application/x-ndjson"},
        )
        shown = [orjson.loads(line)["id"] for line in timeline.get_data().splitlines()]
        expected = [str(cast.secret.id), str(cast.public.id)]
        assert shown == (expected if SEES[who] else expected[1:])
    history = client.get(f"{URL}/{cast.secret.id}/history?format=csv", headers=headers)
    history.get_data()  # a streamed answer ends when read
    assert history.status_code == _expected(who, 200)
