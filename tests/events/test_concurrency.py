"""Capacity under concurrency: real concurrent transactions, on PostgreSQL (row lock on the
event) and on SQLite (writers serialised by ``BEGIN IMMEDIATE``)."""

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.extensions import db
from models import Registration
from tests.concurrency import send_together
from tests.events.factories import make_event, make_participant
from tests.factories import bearer, log_in, make_user

EVENTS = "/api/v1/events"
REGISTRATIONS = "/api/v1/registrations"


@pytest.fixture
def committed_session(committed: Flask) -> Iterator[Session]:
    session = db.state(committed).session_factory()
    yield session
    session.close()


@pytest.fixture
def committed_headers(committed: Flask, committed_session: Session) -> dict[str, str]:
    user = make_user(committed_session, role="staff")
    committed_session.commit()
    return bearer(log_in(committed.test_client(), user.email)["access_token"])


def _waiting(client, headers, event_id) -> list[dict]:
    response = client.get(
        f"{EVENTS}/{event_id}/registrations?status=waitlisted&limit=200", headers=headers
    )
    return sorted(response.get_json()["data"], key=lambda r: r["waitlist_position"])


def test_forty_registrations_for_ten_seats_then_five_cancellations(
    committed, committed_session, committed_headers
):
    session = committed_session
    event = make_event(session, capacity=10)
    contacts = [make_participant(session)[0] for _ in range(40)]
    session.commit()
    url = f"{EVENTS}/{event.id}/registrations"
    responses = send_together(
        committed,
        *(
            lambda client, c=c: client.post(
                url, json={"contact_id": str(c.id)}, headers=committed_headers
            )
            for c in contacts
        ),
    )
    assert [r.status_code for r in responses] == [201] * 40
    bodies = [r.get_json() for r in responses]
    registered = [b for b in bodies if b["status"] == "registered"]
    waitlisted = [b for b in bodies if b["status"] == "waitlisted"]
    assert len(registered) == 10
    assert len(waitlisted) == 30
    # Each answer gave the position its transaction saw: 1..30, no repeats.
    assert sorted(b["waitlist_position"] for b in waitlisted) == list(range(1, 31))

    client = committed.test_client()
    queue = _waiting(client, committed_headers, event.id)
    assert [r["waitlist_position"] for r in queue] == list(range(1, 31))

    cancellations = send_together(
        committed,
        *(
            lambda client, r=r: client.post(
                f"{REGISTRATIONS}/{r['id']}/cancel", headers=committed_headers
            )
            for r in registered[:5]
        ),
    )
    assert [r.status_code for r in cancellations] == [200] * 5
    # Exactly the first five waiting were promoted, and the rest moved up.
    promoted = {r["id"] for r in queue[:5]}
    for registration_id in promoted:
        now = client.get(f"{REGISTRATIONS}/{registration_id}", headers=committed_headers)
        assert now.get_json()["status"] == "registered"
    remaining = _waiting(client, committed_headers, event.id)
    assert [r["id"] for r in remaining] == [r["id"] for r in queue[5:]]
    assert [r["waitlist_position"] for r in remaining] == list(range(1, 26))
    seated = select(func.count()).where(
        Registration.event_id == event.id, Registration.status == "registered"
    )
    session.expire_all()
    assert session.scalar(seated) == 10


def test_one_contact_registering_twice_at_once_gets_one(
    committed, committed_session, committed_headers
):
    session = committed_session
    event = make_event(session, capacity=5)
    contact, _ = make_participant(session)
    session.commit()
    url = f"{EVENTS}/{event.id}/registrations"
    responses = send_together(
        committed,
        *(
            lambda client: client.post(
                url, json={"contact_id": str(contact.id)}, headers=committed_headers
            )
            for _ in range(6)
        ),
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    created = next(r for r in responses if r.status_code == 201).get_json()
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.get_json()["existing"]["id"] == created["id"]
        assert refused.get_json()["type"].endswith(":already-registered")
