"""Registrations in the member's and the contact's timelines."""

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
