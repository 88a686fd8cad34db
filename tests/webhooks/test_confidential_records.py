"""A receiver is an outside system: it hears of no change to a record the API hides from
readers outside its team (confidential projects, their partners and submissions,
confidential interactions), exactly as ``/changes`` leaves them out for an API client."""

import json
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from models import (
    Interaction,
    JournalEntry,
    Project,
    ProjectPartner,
    ProjectSubmission,
    WebhookDelivery,
)
from tests.api_clients.helpers import client_headers, register_client
from tests.interactions.factories import make_interaction, user_with_headers
from tests.members.factories import make_member
from tests.projects.factories import make_partner, make_project, make_submission
from tests.webhooks.receiver import receiver

PROJECTS = "/api/v1/projects"
INTERACTIONS = "/api/v1/interactions"
SECRET_WORDS = ("Phase II secrète", "Budget caché", "Vague secrète", "Notes confidentielles")


@dataclass
class Records:
    follower_headers: dict
    secret: Project
    public: Project
    partner: ProjectPartner
    submission: ProjectSubmission
    hidden_call: Interaction
    open_call: Interaction


@pytest.fixture
def records(client, session) -> Records:
    follower, follower_headers = user_with_headers(client, session, "staff")
    teammate = user_with_headers(client, session, "staff")[0]
    member = make_member(session, category="sme")
    secret = make_project(
        session, follower=follower, team=(teammate,), acronym="SECRET", confidential=True
    )
    public = make_project(session, follower=follower, acronym="PUBLIC")
    partner = make_partner(session, secret, member=member, role="coordinator")
    submission = make_submission(session, secret, programme="anr")
    hidden_call = make_interaction(
        session, owner=follower, members=(member,), confidential=True, subject="Hidden"
    )
    open_call = make_interaction(session, owner=follower, members=(member,), subject="Open")
    session.commit()
    return Records(follower_headers, secret, public, partner, submission, hidden_call, open_call)


def _last_seq(session) -> int:
    return session.scalar(select(func.max(JournalEntry.seq))) or 0


def _feed(client, headers: dict, after: int, types: str) -> list[int]:
    query = {"after": after, "limit": 200, "types": types}
    feed = client.get("/api/v1/changes", query_string=query, headers=headers)
    assert feed.status_code == 200, feed.get_json()
    return [entry["seq"] for entry in feed.get_json()["data"]]


def _write_to_everything(client, records: Records) -> None:
    headers = records.follower_headers
    secret = f"{PROJECTS}/{records.secret.id}"
    for url, body in (
        (secret, {"summary": SECRET_WORDS[0]}),
        (f"{PROJECTS}/{records.public.id}", {"summary": "Phase I"}),
        (f"{secret}/partners/{records.partner.id}", {"budget_cents": 1000}),
        (f"{secret}/submissions/{records.submission.id}", {"call_name": SECRET_WORDS[2]}),
        (f"{INTERACTIONS}/{records.hidden_call.id}", {"notes": SECRET_WORDS[3]}),
        (f"{INTERACTIONS}/{records.open_call.id}", {"notes": "Rappeler lundi"}),
    ):
        assert client.patch(url, json=body, headers=headers).status_code == 200, url


def test_changes_to_confidential_records_are_not_delivered(client, session, admin_headers, records):
    hidden = {
        str(record.id)
        for record in (records.secret, records.partner, records.submission, records.hidden_call)
    }
    with receiver() as target:
        response = client.post(
            "/api/v1/webhook-subscriptions",
            json={"url": target.url, "event_types": ["*"]},
            headers=admin_headers,
        )
        assert response.status_code == 201
        _write_to_everything(client, records)

    deliveries = session.scalars(select(WebhookDelivery)).all()
    delivered = {delivery.payload["data"]["id"] for delivery in deliveries}
    assert delivered == {str(records.public.id), str(records.open_call.id)}
    assert not delivered & hidden
    bodies = [request.body.decode() for request in target.requests]
    assert len(bodies) == 2
    assert not any(record_id in body for body in bodies for record_id in hidden)
    public_change = next(json.loads(b) for b in bodies if str(records.public.id) in b)
    assert public_change["data"]["changed_fields"] == ["summary"]  # public records unchanged


def test_receivers_hear_what_the_feed_shows_an_api_client(client, session, admin_headers, records):
    """The same entries as the feed shows an outside reader: an API client for projects, a
    staff user outside the interactions' owner and participants for interactions (API clients
    are not granted ``interactions:read``)."""
    scopes = ["projects:read", "changes:read"]
    partner = client_headers(client, register_client(client, admin_headers, scopes=scopes))
    outsider = user_with_headers(client, session, "staff")[1]
    with receiver() as target:
        response = client.post(
            "/api/v1/webhook-subscriptions",
            json={"url": target.url, "event_types": ["project.*", "interaction.*"]},
            headers=admin_headers,
        )
        assert response.status_code == 201
        after = _last_seq(session)
        _write_to_everything(client, records)
        projects = _feed(client, partner, after, "project.*")
        seen = sorted(projects + _feed(client, outsider, after, "interaction.*"))
        delivered = sorted(d.journal_seq for d in session.scalars(select(WebhookDelivery)))
        assert delivered == seen
        assert len(seen) == 2  # the public project's change and the open call's

        # A public interaction made confidential: hidden from then on, this change included.
        made_secret = client.patch(
            f"{INTERACTIONS}/{records.open_call.id}",
            json={"confidential": True, "notes": "Désormais confidentielles"},
            headers=records.follower_headers,
        )
        assert made_secret.status_code == 200
    assert sorted(d.journal_seq for d in session.scalars(select(WebhookDelivery))) == delivered
    assert _feed(client, outsider, _last_seq(session) - 1, "interaction.*") == []


def test_deletions_of_guarded_types_are_not_delivered_as_the_feed_hides_them(
    client, session, admin_headers, records
):
    """Once deleted, nothing tells whether the record was confidential: the feed shows its
    deletion to admins only, and no receiver hears of it."""
    scopes = ["projects:read", "changes:read"]
    partner = client_headers(client, register_client(client, admin_headers, scopes=scopes))
    public_partner = make_partner(session, records.public, organisation_name="Labo public")
    session.commit()
    with receiver() as target:
        response = client.post(
            "/api/v1/webhook-subscriptions",
            json={"url": target.url, "event_types": ["*"]},
            headers=admin_headers,
        )
        assert response.status_code == 201
        after = _last_seq(session)
        url = f"{PROJECTS}/{records.public.id}/partners/{public_partner.id}"
        assert client.delete(url, headers=records.follower_headers).status_code == 204
    assert session.scalars(select(WebhookDelivery)).all() == []
    assert target.requests == []
    assert _feed(client, partner, after, "project_partner.*") == []
    assert len(_feed(client, admin_headers, after, "project_partner.*")) == 1
