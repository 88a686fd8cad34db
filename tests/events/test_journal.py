"""Every write path of events and registrations journals one entry per record it changes; a
refused write journals nothing. The database holds the one-active-registration rule itself."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from models import Registration
from services.transactions import violated_constraint
from tests.events.factories import make_event, make_participant
from tests.journal.helpers import entries_after, last_seq, summary

EVENTS = "/api/v1/events"
REGISTRATIONS = "/api/v1/registrations"
BODY = {
    "title": "Atelier",
    "type": "workshop",
    "starts_at": "2030-10-24T09:00:00+02:00",
    "ends_at": "2030-10-24T18:00:00+02:00",
}


def _types(session, start):
    return [entry.event_type for entry in entries_after(session, start)]


def test_event_write_paths(client, session, staff_headers):
    start = last_seq(session)
    event = client.post(EVENTS, json=BODY, headers=staff_headers).get_json()
    assert _types(session, start) == ["event.created"]

    start = last_seq(session)
    client.patch(f"{EVENTS}/{event['id']}", json={"capacity": 5}, headers=staff_headers)
    found = entries_after(session, start)
    assert [(e.event_type, e.changes) for e in found] == [
        ("event.updated", {"capacity": [None, 5]})
    ], summary(found)

    start = last_seq(session)
    client.patch(f"{EVENTS}/{event['id']}", json={"capacity": 5}, headers=staff_headers)
    assert _types(session, start) == []  # nothing changed

    for action, verb in (
        ("publish", "published"),
        ("archive", "archived"),
        ("restore", "restored"),
    ):
        start = last_seq(session)
        assert (
            client.post(f"{EVENTS}/{event['id']}/{action}", headers=staff_headers).status_code
            == 200
        )
        assert _types(session, start) == [f"event.{verb}"]

    start = last_seq(session)
    assert client.post(f"{EVENTS}/{event['id']}/publish", headers=staff_headers).status_code == 409
    bad = client.post(EVENTS, json={**BODY, "ends_at": BODY["starts_at"]}, headers=staff_headers)
    assert bad.status_code == 422
    assert _types(session, start) == []

    history = client.get(f"{EVENTS}/{event['id']}/history", headers=staff_headers).get_json()
    assert [e["type"] for e in history["data"]][:2] == ["event.restored", "event.archived"]


def test_registration_write_paths(client, session, staff_headers):
    now = datetime.now(UTC)
    event = make_event(
        session, capacity=1, starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=1)
    )
    first, _ = make_participant(session)
    second, _ = make_participant(session)
    session.commit()
    url = f"{EVENTS}/{event.id}/registrations"

    start = last_seq(session)
    a = client.post(url, json={"contact_id": str(first.id)}, headers=staff_headers).get_json()
    assert _types(session, start) == ["registration.created"]
    b = client.post(url, json={"contact_id": str(second.id)}, headers=staff_headers).get_json()
    assert b["status"] == "waitlisted"

    start = last_seq(session)
    refused = client.post(url, json={"contact_id": str(first.id)}, headers=staff_headers)
    assert refused.status_code == 409
    assert _types(session, start) == []

    start = last_seq(session)
    client.post(f"{REGISTRATIONS}/{a['id']}/cancel", headers=staff_headers)
    assert sorted(_types(session, start)) == ["registration.cancelled", "registration.promoted"]

    start = last_seq(session)
    client.post(f"{REGISTRATIONS}/{b['id']}/check-in", headers=staff_headers)
    assert _types(session, start) == ["registration.checked_in"]
    start = last_seq(session)
    client.post(f"{REGISTRATIONS}/{b['id']}/check-in", headers=staff_headers)
    assert _types(session, start) == []  # idempotent: nothing new

    history = client.get(f"{REGISTRATIONS}/{b['id']}/history", headers=staff_headers).get_json()
    assert [e["type"] for e in history["data"]] == [
        "registration.checked_in",
        "registration.promoted",
        "registration.created",
    ]


def test_cancelling_an_event_journals_it_and_each_registration(client, session, staff_headers):
    event = make_event(session)
    contacts = [make_participant(session)[0] for _ in range(2)]
    session.commit()
    for contact in contacts:
        client.post(
            f"{EVENTS}/{event.id}/registrations",
            json={"contact_id": str(contact.id)},
            headers=staff_headers,
        )
    start = last_seq(session)
    client.post(f"{EVENTS}/{event.id}/cancel", headers=staff_headers)
    assert sorted(_types(session, start)) == [
        "event.cancelled",
        "registration.cancelled",
        "registration.cancelled",
    ]


def test_the_database_refuses_a_second_active_registration(session):
    event = make_event(session)
    contact, _ = make_participant(session)
    now = datetime.now(UTC)
    fields = {"event_id": event.id, "contact_id": contact.id, "registered_at": now}
    session.add(Registration(status="cancelled", **fields))
    session.add(Registration(status="registered", **fields))
    session.flush()  # a cancelled one does not count
    session.add(Registration(status="waitlisted", **fields))
    with pytest.raises(IntegrityError) as error:
        session.flush()
    assert violated_constraint(error.value) == "uq_registrations_event_id_contact_id"
    session.rollback()
