"""Events over HTTP: create, read, update, time zones, lists, status lifecycle, ETags."""

import pytest

from tests.events.factories import make_event, make_participant

URL = "/api/v1/events"

BODY = {
    "title": "Journée de l'innovation en santé",
    "type": "conference",
    "starts_at": "2030-10-24T09:00:00+02:00",
    "ends_at": "2030-10-24T18:00:00+02:00",
}


def test_create_read_update(client, staff_headers, viewer_headers):
    response = client.post(URL, json={**BODY, "capacity": 10}, headers=staff_headers)
    assert response.status_code == 201, response.get_json()
    event = response.get_json()
    assert response.headers["Location"].endswith(f"{URL}/{event['id']}")
    assert event["status"] == "draft"
    assert event["timezone"] == "Europe/Paris"
    assert event["starts_at"] == "2030-10-24T09:00:00+02:00"
    assert event["capacity"] == 10

    read = client.get(f"{URL}/{event['id']}", headers=viewer_headers)
    assert read.status_code == 200
    assert read.headers["ETag"] == response.headers["ETag"]

    stale = client.patch(
        f"{URL}/{event['id']}",
        json={"venue": "Genopole"},
        headers={**staff_headers, "If-Match": '"v0"'},
    )
    assert stale.status_code == 412
    patched = client.patch(
        f"{URL}/{event['id']}",
        json={"venue": "Genopole"},
        headers={**staff_headers, "If-Match": read.headers["ETag"]},
    )
    assert patched.status_code == 200
    assert patched.get_json()["venue"] == "Genopole"


def test_an_event_across_the_change_to_winter_time_keeps_its_wall_times(client, staff_headers):
    # The last Sunday of October 2030 is the 27th: Paris moves from +02:00 to +01:00.
    body = {
        **BODY,
        "starts_at": "2030-10-26T09:00:00+02:00",
        "ends_at": "2030-10-28T17:00:00+01:00",
        "registration_closes_at": "2030-10-27T12:00:00+01:00",
    }
    created = client.post(URL, json=body, headers=staff_headers).get_json()
    assert created["starts_at"] == "2030-10-26T09:00:00+02:00"
    assert created["ends_at"] == "2030-10-28T17:00:00+01:00"
    assert created["registration_closes_at"] == "2030-10-27T12:00:00+01:00"
    # The same instants given in UTC are shown at the event's wall clock.
    utc = {**BODY, "starts_at": "2030-10-26T07:00:00Z", "ends_at": "2030-10-28T16:00:00Z"}
    shown = client.post(URL, json=utc, headers=staff_headers).get_json()
    assert (shown["starts_at"], shown["ends_at"]) == (created["starts_at"], created["ends_at"])
    # Another zone shows its own wall clock.
    london = client.post(
        URL, json={**utc, "timezone": "Europe/London"}, headers=staff_headers
    ).get_json()
    assert london["starts_at"] == "2030-10-26T08:00:00+01:00"
    assert london["ends_at"] == "2030-10-28T16:00:00+00:00"


@pytest.mark.parametrize(
    "field", ["starts_at", "ends_at", "registration_opens_at", "registration_closes_at"]
)
def test_a_datetime_without_offset_is_refused_naming_the_field(client, staff_headers, field):
    body = {**BODY, field: "2030-10-24T10:00:00"}
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_at": "2030-10-24T08:00:00+02:00"}, "ends_at"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"type": "party"}, "type"),
        ({"capacity": -1}, "capacity"),
        ({"member_price_cents": 1.5}, "member_price_cents"),
        ({"status": "completed"}, "status"),
        ({"organiser_ids": ["3fa85f64-5717-4562-b3fc-2c963f66afa6"]}, "organiser_ids"),
        ({"domains": ["astrology"]}, "domains"),
        (
            {
                "registration_opens_at": "2030-10-01T00:00:00Z",
                "registration_closes_at": "2030-09-01T00:00:00Z",
            },
            "registration_closes_at",
        ),
        ({"title": " "}, "title"),
        ({"online_url": "ftp://example.org"}, "online_url"),
    ],
)
def test_bad_inputs_are_422_naming_the_field(client, staff_headers, changes, field):
    response = client.post(URL, json={**BODY, **changes}, headers=staff_headers)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_permissions(client, viewer_headers, session):
    event = make_event(session)
    session.commit()
    assert client.get(URL).status_code == 401
    assert client.post(URL, json=BODY, headers=viewer_headers).status_code == 403
    assert client.patch(f"{URL}/{event.id}", json={}, headers=viewer_headers).status_code == 403
    for action in ("publish", "cancel", "complete", "archive", "restore"):
        assert client.post(f"{URL}/{event.id}/{action}", headers=viewer_headers).status_code == 403
    assert client.delete(f"{URL}/{event.id}", headers=viewer_headers).status_code == 403
    assert client.get(f"{URL}/{event.id}/registrations", headers=viewer_headers).status_code == 200
    assert (
        client.post(
            f"{URL}/{event.id}/registrations", json={"guest_name": "X"}, headers=viewer_headers
        ).status_code
        == 403
    )


def test_unknown_event_is_404(client, staff_headers):
    missing = f"{URL}/3fa85f64-5717-4562-b3fc-2c963f66afa6"
    for path in ("", "/registrations", "/attendance", "/stats", "/history"):
        assert client.get(missing + path, headers=staff_headers).status_code == 404
    assert client.post(missing + "/cancel", headers=staff_headers).status_code == 404


def test_lifecycle_publish_complete(client, staff_headers, session):
    draft = client.post(URL, json=BODY, headers=staff_headers).get_json()
    published = client.post(f"{URL}/{draft['id']}/publish", headers=staff_headers)
    assert published.status_code == 200
    assert published.get_json()["status"] == "published"
    again = client.post(f"{URL}/{draft['id']}/publish", headers=staff_headers)
    assert again.status_code == 409
    assert again.get_json()["type"].endswith(":event-status")
    # Not started yet: cannot be completed.
    early = client.post(f"{URL}/{draft['id']}/complete", headers=staff_headers)
    assert early.status_code == 409
    assert early.get_json()["type"].endswith(":event-not-started")


def test_cancel_cancels_registrations_and_answers_how_many(client, staff_headers, session):
    event = make_event(session, capacity=1)
    contacts = [make_participant(session)[0] for _ in range(3)]
    session.commit()
    for contact in contacts:
        client.post(
            f"{URL}/{event.id}/registrations",
            json={"contact_id": str(contact.id)},
            headers=staff_headers,
        )
    response = client.post(
        f"{URL}/{event.id}/cancel", json={"reason": "Venue flooded."}, headers=staff_headers
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["cancelled_registrations"] == 3
    assert body["event"]["status"] == "cancelled"
    assert body["event"]["cancel_reason"] == "Venue flooded."
    registrations = client.get(f"{URL}/{event.id}/registrations", headers=staff_headers)
    assert {r["status"] for r in registrations.get_json()["data"]} == {"cancelled"}
    again = client.post(f"{URL}/{event.id}/cancel", headers=staff_headers)
    assert again.status_code == 409


def test_delete_only_without_registrations(client, staff_headers, session):
    event = make_event(session)
    empty = make_event(session)
    contact, _ = make_participant(session)
    session.commit()
    client.post(
        f"{URL}/{event.id}/registrations",
        json={"contact_id": str(contact.id)},
        headers=staff_headers,
    )
    refused = client.delete(f"{URL}/{event.id}", headers=staff_headers)
    assert refused.status_code == 409
    assert client.delete(f"{URL}/{empty.id}", headers=staff_headers).status_code == 204
    assert client.get(f"{URL}/{empty.id}", headers=staff_headers).status_code == 404


def test_archive_and_restore(client, staff_headers, session):
    event = make_event(session)
    session.commit()
    archived = client.post(
        f"{URL}/{event.id}/archive", json={"reason": "Old"}, headers=staff_headers
    )
    assert archived.status_code == 200
    assert archived.get_json()["is_archived"] is True
    listed = client.get(URL, headers=staff_headers).get_json()["data"]
    assert str(event.id) not in {e["id"] for e in listed}
    assert client.post(f"{URL}/{event.id}/archive", headers=staff_headers).status_code == 409
    assert client.post(f"{URL}/{event.id}/restore", headers=staff_headers).status_code == 200


def test_upsert_by_external_id(client, staff_headers):
    url = f"{URL}/by-external-id/crm-42"
    first = client.put(url, json=BODY, headers=staff_headers)
    assert first.status_code == 201
    assert first.get_json()["external_id"] == "crm-42"
    second = client.put(url, json={**BODY, "title": "Renamed"}, headers=staff_headers)
    assert second.status_code == 200
    assert second.get_json()["id"] == first.get_json()["id"]
    assert second.get_json()["title"] == "Renamed"
    duplicate = client.post(URL, json={**BODY, "external_id": "crm-42"}, headers=staff_headers)
    assert duplicate.status_code == 409
    assert duplicate.get_json()["existing"]["id"] == first.get_json()["id"]


def test_organisers_and_domains(client, staff_headers, admin_headers):
    me = client.get("/api/v1/auth/me", headers=staff_headers).get_json()
    body = {
        **BODY,
        "organiser_ids": [me["id"]],
        "domains": ["digital_health"],
        "co_funders": ["Bpifrance"],
    }
    created = client.post(URL, json=body, headers=staff_headers)
    assert created.status_code == 201, created.get_json()
    event = created.get_json()
    assert event["organiser_ids"] == [me["id"]]
    assert [d["code"] for d in event["domains"]] == ["digital_health"]
    assert event["co_funders"] == ["Bpifrance"]


def test_list_filters(client, staff_headers, session):
    from datetime import UTC, datetime

    from tests.members.factories import domain_by_code

    imaging = domain_by_code(session, "imaging")
    early = make_event(
        session,
        domains=[imaging],
        title="Matinale Imagerie médicale",
        type="workshop",
        starts_at=datetime(2030, 1, 10, 8, tzinfo=UTC),
        ends_at=datetime(2030, 1, 10, 12, tzinfo=UTC),
    )
    late = make_event(
        session,
        title="Assemblée générale",
        type="general_assembly",
        status="draft",
        starts_at=datetime(2030, 6, 10, 8, tzinfo=UTC),
        ends_at=datetime(2030, 6, 10, 12, tzinfo=UTC),
    )
    session.commit()

    def ids(query: str) -> set[str]:
        response = client.get(f"{URL}?{query}", headers=staff_headers)
        assert response.status_code == 200, response.get_json()
        return {event["id"] for event in response.get_json()["data"]}

    assert ids("q=imagerie%20medicale") == {str(early.id)}
    assert ids("q=ASSEMBLEE") == {str(late.id)}
    assert ids("type=workshop") >= {str(early.id)}
    assert str(late.id) not in ids("type=workshop")
    assert ids("status=draft") >= {str(late.id)}
    assert str(early.id) not in ids("status=draft")
    assert ids("domain=imaging") == {str(early.id)}
    window = ids("starts_after=2030-01-01T00:00:00Z&starts_before=2030-02-01T00:00:00Z")
    assert window == {str(early.id)}
    assert ids("updated_since=2000-01-01T00:00:00Z") >= {str(early.id), str(late.id)}
    assert not ids("updated_since=2999-01-01T00:00:00Z")
    for bad in ("status=over", "starts_after=2030-01-01T00:00:00", "bogus=1", "sort=title"):
        assert client.get(f"{URL}?{bad}", headers=staff_headers).status_code == 422, bad


def test_cursor_pages_through_events(client, staff_headers, session):
    for _ in range(5):
        make_event(session)
    session.commit()
    seen: list[str] = []
    url = f"{URL}?limit=2"
    while url:
        body = client.get(url, headers=staff_headers).get_json()
        seen += [event["id"] for event in body["data"]]
        url = f"{URL}?limit=2&cursor={body['next_cursor']}" if body["next_cursor"] else None
    assert len(seen) == len(set(seen)) >= 5


def test_capacity_and_organisers_in_one_patch(client, staff_headers, session):
    """The event row is locked before it is read, so its lists can still be replaced."""
    event = make_event(session, capacity=1)
    session.commit()
    response = client.patch(
        f"{URL}/{event.id}",
        json={"capacity": 150, "organiser_ids": [], "external_id": "0"},
        headers=staff_headers,
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["capacity"] == 150
