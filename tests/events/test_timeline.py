"""Registrations in the member's and the contact's timelines."""

from datetime import UTC, datetime, timedelta

from tests.events.factories import make_event, make_participant


def test_registrations_appear_in_both_timelines(client, session, staff_headers):
    event = make_event(session, title="Journée Santé numérique")
    contact, member = make_participant(session)
    session.commit()
    registration = client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={"contact_id": str(contact.id)},
        headers=staff_headers,
    ).get_json()
    for path in (f"/api/v1/members/{member.id}", f"/api/v1/contacts/{contact.id}"):
        response = client.get(f"{path}/timeline?kinds=registration", headers=staff_headers)
        assert response.status_code == 200, response.get_json()
        items = response.get_json()["data"]
        assert [(i["kind"], i["id"]) for i in items] == [("registration", registration["id"])]
        assert items[0]["summary"] == "Event registration: Journée Santé numérique"
        assert items[0]["href"] == f"/api/v1/registrations/{registration['id']}"
        everything = client.get(f"{path}/timeline", headers=staff_headers).get_json()["data"]
        assert "registration" in {i["kind"] for i in everything}


def test_attendance_appears_in_both_timelines_once_checked_in(client, session, staff_headers):
    event = make_event(
        session, title="Atelier DM", starts_at=datetime.now(UTC) + timedelta(minutes=30)
    )
    contact, member = make_participant(session)
    session.commit()
    registration = client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={"contact_id": str(contact.id)},
        headers=staff_headers,
    ).get_json()
    paths = (f"/api/v1/members/{member.id}", f"/api/v1/contacts/{contact.id}")
    for path in paths:
        before = client.get(f"{path}/timeline", headers=staff_headers).get_json()["data"]
        assert "registration.attended" not in {i["kind"] for i in before}
    checked_in = client.post(
        f"/api/v1/registrations/{registration['id']}/check-in", headers=staff_headers
    )
    assert checked_in.status_code == 200, checked_in.get_json()
    for path in paths:
        response = client.get(f"{path}/timeline?kinds=registration.attended", headers=staff_headers)
        assert response.status_code == 200, response.get_json()
        items = response.get_json()["data"]
        assert [(i["kind"], i["id"]) for i in items] == [
            ("registration.attended", registration["id"])
        ]
        assert items[0]["summary"] == "Attended: Atelier DM"
        assert items[0]["href"] == f"/api/v1/registrations/{registration['id']}"
