"""Registrations over HTTP: participants, waiting list, refusals by rule, check-in, lists."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.events.factories import make_event, make_participant
from tests.members.factories import make_member
from tests.memberships.factories import make_membership, make_plan

EVENTS = "/api/v1/events"
REGISTRATIONS = "/api/v1/registrations"


def _register(client, headers, event, **body):
    return client.post(f"{EVENTS}/{event.id}/registrations", json=body, headers=headers)


def _rule(response):
    return response.get_json()["type"].rsplit(":", 1)[-1]


def test_a_contact_comes_for_their_primary_affiliation(client, staff_headers, session):
    event = make_event(session, member_price_cents=0, non_member_price_cents=15_000)
    contact, member = make_participant(session)
    session.commit()
    response = _register(client, staff_headers, event, contact_id=str(contact.id))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"{REGISTRATIONS}/{body['id']}")
    assert body["member_id"] == str(member.id)
    assert body["status"] == "registered"
    assert body["role"] == "attendee"
    assert body["waitlist_position"] is None
    # No membership: the non-member price.
    assert (body["price_cents"], body["price_basis"]) == (15_000, "non_member")


def test_a_guest(client, staff_headers, session):
    event = make_event(session, non_member_price_cents=5_000)
    session.commit()
    response = _register(
        client,
        staff_headers,
        event,
        guest_name="Claire Martin",
        guest_email="Claire.Martin@Example.fr",
        guest_organisation="Example Biotech",
        guest_category="startup",
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["contact_id"] is None
    assert body["guest_email"] == "claire.martin@example.fr"
    again = _register(
        client, staff_headers, event, guest_name="C.", guest_email="claire.martin@example.fr"
    )
    assert again.status_code == 409
    assert _rule(again) == "already-registered"
    assert again.get_json()["existing"]["id"] == body["id"]


def test_full_event_waitlists_and_a_cancellation_promotes_the_first(client, staff_headers, session):
    event = make_event(session, capacity=2)
    contacts = [make_participant(session)[0] for _ in range(5)]
    session.commit()
    bodies = [
        _register(client, staff_headers, event, contact_id=str(c.id)).get_json() for c in contacts
    ]
    assert [b["status"] for b in bodies] == ["registered"] * 2 + ["waitlisted"] * 3
    assert [b["waitlist_position"] for b in bodies] == [None, None, 1, 2, 3]
    # A speaker takes no seat and never waits.
    speaker, _ = make_participant(session)
    session.commit()
    spoken = _register(client, staff_headers, event, contact_id=str(speaker.id), role="speaker")
    assert spoken.get_json()["status"] == "registered"

    cancelled = client.post(f"{REGISTRATIONS}/{bodies[0]['id']}/cancel", headers=staff_headers)
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    promoted = client.get(f"{REGISTRATIONS}/{bodies[2]['id']}", headers=staff_headers).get_json()
    assert promoted["status"] == "registered"
    assert promoted["promoted_at"] is not None
    waiting = client.get(
        f"{EVENTS}/{event.id}/registrations?status=waitlisted", headers=staff_headers
    ).get_json()["data"]
    assert [(r["id"], r["waitlist_position"]) for r in waiting] == [
        (bodies[3]["id"], 1),
        (bodies[4]["id"], 2),
    ]
    # Cancelling a waiting registration promotes nobody and moves the others up.
    client.post(f"{REGISTRATIONS}/{bodies[3]['id']}/cancel", headers=staff_headers)
    last = client.get(f"{REGISTRATIONS}/{bodies[4]['id']}", headers=staff_headers).get_json()
    assert (last["status"], last["waitlist_position"]) == ("waitlisted", 1)
    # A larger capacity promotes at once.
    client.patch(f"{EVENTS}/{event.id}", json={"capacity": 3}, headers=staff_headers)
    last = client.get(f"{REGISTRATIONS}/{bodies[4]['id']}", headers=staff_headers).get_json()
    assert last["status"] == "registered"
    again = client.post(f"{REGISTRATIONS}/{bodies[0]['id']}/cancel", headers=staff_headers)
    assert again.status_code == 409


def test_one_active_registration_per_contact(client, staff_headers, session):
    event = make_event(session)
    contact, _ = make_participant(session)
    session.commit()
    first = _register(client, staff_headers, event, contact_id=str(contact.id)).get_json()
    second = _register(client, staff_headers, event, contact_id=str(contact.id))
    assert second.status_code == 409
    assert _rule(second) == "already-registered"
    assert second.get_json()["existing"] == {
        "id": first["id"],
        "href": f"{REGISTRATIONS}/{first['id']}",
    }
    client.post(f"{REGISTRATIONS}/{first['id']}/cancel", headers=staff_headers)
    assert _register(client, staff_headers, event, contact_id=str(contact.id)).status_code == 201


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"status": "draft"}, "event-not-published"),
        ({"status": "cancelled"}, "event-cancelled"),
        ({"status": "completed"}, "event-completed"),
        (
            {"registration_opens_at": datetime.now(UTC) + timedelta(days=1)},
            "registration-not-open",
        ),
        (
            {"registration_closes_at": datetime.now(UTC) - timedelta(minutes=1)},
            "registration-closed",
        ),
        (
            {
                "starts_at": datetime.now(UTC) - timedelta(hours=9),
                "ends_at": datetime.now(UTC) - timedelta(hours=1),
            },
            "registration-closed",
        ),
        ({"members_only": True}, "members-only"),
    ],
)
def test_refusals_name_their_rule(client, staff_headers, session, fields, rule):
    event = make_event(session, **fields)
    contact, _ = make_participant(session)
    session.commit()
    response = _register(client, staff_headers, event, contact_id=str(contact.id))
    assert response.status_code == 409
    assert _rule(response) == rule
    assert (
        client.get(f"{EVENTS}/{event.id}/registrations", headers=staff_headers).get_json()["data"]
        == []
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "contact_id"),
        ({"contact_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "guest_name": "X"}, "contact_id"),
        ({"contact_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, "contact_id"),
        ({"guest_name": "X", "guest_email": "not an address"}, "guest_email"),
        ({"guest_name": "X", "role": "vip"}, "role"),
        ({"guest_name": "X", "guest_category": "pirate"}, "guest_category"),
        ({"guest_name": "X", "member_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, "member_id"),
        ({"guest_name": ""}, "guest_name"),
        ({"guest_name": "X", "unknown": 1}, "unknown"),
    ],
)
def test_bad_registrations_are_422(client, staff_headers, session, body, field):
    event = make_event(session)
    session.commit()
    response = _register(client, staff_headers, event, **body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_a_member_the_contact_is_not_affiliated_with_is_422(client, staff_headers, session):
    event = make_event(session)
    contact, _ = make_participant(session)
    other = make_member(session)
    session.commit()
    response = _register(
        client, staff_headers, event, contact_id=str(contact.id), member_id=str(other.id)
    )
    assert response.status_code == 422
    assert "member_id" in response.get_json()["errors"]


def _event_on(session, day: date, **fields):
    starts = datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC)
    return make_event(
        session,
        starts_at=starts,
        ends_at=starts + timedelta(hours=8),
        member_price_cents=0,
        non_member_price_cents=20_000,
        **fields,
    )


@pytest.mark.parametrize(
    ("membership", "member"),
    [
        # Starts the day after the event: not yet a member that day.
        (
            {"start": date(2030, 3, 2), "end": date(2030, 12, 31), "approved_on": date(2030, 1, 1)},
            False,
        ),
        # Starts on the event's day.
        (
            {"start": date(2030, 3, 1), "end": date(2030, 12, 31), "approved_on": date(2030, 1, 1)},
            True,
        ),
        # Ended the day before, no grace: lapsed.
        (
            {
                "start": date(2029, 3, 1),
                "end": date(2030, 2, 28),
                "approved_on": date(2029, 3, 1),
                "grace_days": 0,
            },
            False,
        ),
        # Ended the day before, still in grace.
        (
            {
                "start": date(2029, 3, 1),
                "end": date(2030, 2, 28),
                "approved_on": date(2029, 3, 1),
                "grace_days": 30,
            },
            True,
        ),
        # Never approved nor paid: pending on the day.
        ({"start": date(2030, 1, 1), "end": date(2030, 12, 31)}, False),
        # Cancelled the day before.
        (
            {
                "start": date(2030, 1, 1),
                "end": date(2030, 12, 31),
                "approved_on": date(2030, 1, 1),
                "cancelled_on": date(2030, 2, 28),
            },
            False,
        ),
    ],
)
def test_price_and_members_only_follow_the_membership_on_the_event_day(
    client, staff_headers, session, membership, member
):
    plan = make_plan(session)
    contact, organisation = make_participant(session)
    make_membership(session, member=organisation, plan=plan, **membership)
    open_event = _event_on(session, date(2030, 3, 1))
    members_only = _event_on(session, date(2030, 3, 1), members_only=True)
    session.commit()
    priced = _register(client, staff_headers, open_event, contact_id=str(contact.id)).get_json()
    assert priced["price_basis"] == ("member" if member else "non_member")
    assert priced["price_cents"] == (0 if member else 20_000)
    refused = _register(client, staff_headers, members_only, contact_id=str(contact.id))
    if member:
        assert refused.status_code == 201
    else:
        assert refused.status_code == 409
        assert _rule(refused) == "members-only"


def test_the_event_day_is_read_in_the_event_time_zone(client, staff_headers, session):
    """23:30 UTC on 28 February is already 1 March in Paris: the membership starting on
    1 March counts."""
    plan = make_plan(session)
    contact, organisation = make_participant(session)
    make_membership(
        session,
        member=organisation,
        plan=plan,
        start=date(2030, 3, 1),
        approved_on=date(2030, 1, 1),
    )
    starts = datetime(2030, 2, 28, 23, 30, tzinfo=UTC)
    event = make_event(
        session, starts_at=starts, ends_at=starts + timedelta(hours=2), members_only=True
    )
    session.commit()
    assert _register(client, staff_headers, event, contact_id=str(contact.id)).status_code == 201


def test_check_in_and_completion(client, staff_headers, session):
    now = datetime.now(UTC)
    event = make_event(
        session, starts_at=now - timedelta(minutes=30), ends_at=now + timedelta(hours=3)
    )
    later = make_event(
        session, starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=5)
    )
    contacts = [make_participant(session)[0] for _ in range(3)]
    session.commit()
    ids = [
        _register(client, staff_headers, event, contact_id=str(c.id)).get_json()["id"]
        for c in contacts
    ]
    early = _register(client, staff_headers, later, contact_id=str(contacts[0].id)).get_json()
    refused = client.post(f"{REGISTRATIONS}/{early['id']}/check-in", headers=staff_headers)
    assert refused.status_code == 409
    assert _rule(refused) == "check-in-not-open"

    first = client.post(f"{REGISTRATIONS}/{ids[0]}/check-in", headers=staff_headers)
    assert first.status_code == 200
    assert first.get_json()["status"] == "attended"
    again = client.post(f"{REGISTRATIONS}/{ids[0]}/check-in", headers=staff_headers)
    assert again.status_code == 200
    assert again.get_json()["checked_in_at"] == first.get_json()["checked_in_at"]
    client.post(f"{REGISTRATIONS}/{ids[1]}/cancel", headers=staff_headers)
    cancelled = client.post(f"{REGISTRATIONS}/{ids[1]}/check-in", headers=staff_headers)
    assert cancelled.status_code == 409
    assert _rule(cancelled) == "not-registered"

    completed = client.post(f"{EVENTS}/{event.id}/complete", headers=staff_headers)
    assert completed.status_code == 200, completed.get_json()
    statuses = {
        r["id"]: r["status"]
        for r in client.get(f"{EVENTS}/{event.id}/registrations", headers=staff_headers).get_json()[
            "data"
        ]
    }
    assert statuses == {ids[0]: "attended", ids[1]: "cancelled", ids[2]: "no_show"}
    # A late arrival is still checked in.
    late = client.post(f"{REGISTRATIONS}/{ids[2]}/check-in", headers=staff_headers)
    assert late.get_json()["status"] == "attended"


def test_attendance_sheet_and_stats_by_category(client, staff_headers, session):
    plan = make_plan(session)
    now = datetime.now(UTC)
    event = make_event(
        session, capacity=3, starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=2)
    )
    startup = make_member(session, category="startup", name="Start")
    lab = make_member(session, category="academic_lab", name="Lab")
    today = now.date()
    make_membership(
        session, member=startup, plan=plan, start=today - timedelta(days=10),
        end=today + timedelta(days=100), approved_on=today - timedelta(days=10),
    )  # fmt: skip
    # The lab's membership lapsed before the event.
    make_membership(
        session, member=lab, plan=plan, start=today - timedelta(days=400),
        end=today - timedelta(days=40), approved_on=today - timedelta(days=400), grace_days=0,
    )  # fmt: skip
    a, _ = make_participant(session, member=startup, first_name="Ada")
    b, _ = make_participant(session, member=startup, first_name="Bea")
    c, _ = make_participant(session, member=lab, first_name="Cyd")
    d, _ = make_participant(session, member=lab, first_name="Dan")
    session.commit()
    ids = [
        _register(client, staff_headers, event, contact_id=str(x.id)).get_json()["id"]
        for x in (a, b, c)
    ]
    _register(client, staff_headers, event, guest_name="Guest", guest_category="investor")
    _register(client, staff_headers, event, contact_id=str(d.id))  # waitlisted
    client.post(f"{REGISTRATIONS}/{ids[0]}/check-in", headers=staff_headers)
    client.post(f"{REGISTRATIONS}/{ids[2]}/check-in", headers=staff_headers)

    sheet = client.get(f"{EVENTS}/{event.id}/attendance", headers=staff_headers)
    assert sheet.status_code == 200
    body = sheet.get_json()
    assert [p["name"].split()[0] for p in body["participants"]] == ["Ada", "Bea", "Cyd"]
    by_name = {p["name"].split()[0]: p for p in body["participants"]}
    assert by_name["Ada"]["membership_status"] == "active"
    assert by_name["Ada"]["is_member"] is True
    assert by_name["Cyd"]["membership_status"] == "expired"
    assert by_name["Cyd"]["is_member"] is False
    assert by_name["Ada"]["checked_in_at"] is not None
    totals = {row["category"]: row for row in body["totals"]["by_category"]}
    assert totals["startup"]["participants"] == 2
    assert totals["startup"]["attended"] == 1
    assert totals["startup"]["members"] == 2
    assert totals["academic_lab"]["attended"] == 1
    assert totals["academic_lab"]["non_members"] == 1
    assert body["totals"]["attended"] == 2

    as_csv = client.get(
        f"{EVENTS}/{event.id}/attendance", headers={**staff_headers, "Accept": "text/csv"}
    )
    assert as_csv.status_code == 200
    assert as_csv.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert [row["category"] for row in rows] == ["startup", "startup", "academic_lab"]
    assert rows[0]["membership_status"] == "active"

    stats = client.get(f"{EVENTS}/{event.id}/stats", headers=staff_headers).get_json()
    # Three seats: Ada, Bea and Cyd; the guest and Dan wait.
    assert (stats["registered"], stats["attended"], stats["waitlisted"]) == (1, 2, 2)
    assert (stats["capacity"], stats["seats_left"]) == (3, 0)
    categories = {row["category"]: row for row in stats["by_category"]}
    assert categories["academic_lab"]["waitlisted"] == 1
    assert categories["investor"]["waitlisted"] == 1
    assert categories["startup"]["registered"] == 1


def test_lists_run_a_fixed_number_of_statements(client, staff_headers, session, count_queries):
    event = make_event(session)
    for _ in range(8):
        contact, _ = make_participant(session)
        session.commit()
        _register(client, staff_headers, event, contact_id=str(contact.id))
    counts = []
    for limit in (2, 50):
        with count_queries() as statements:
            response = client.get(
                f"{EVENTS}/{event.id}/registrations?limit={limit}", headers=staff_headers
            )
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
    event_counts = []
    for limit in (1, 50):
        with count_queries() as statements:
            client.get(f"{EVENTS}?limit={limit}", headers=staff_headers)
        event_counts.append(len(statements))
    assert event_counts[0] == event_counts[1]


def test_a_contact_and_a_member_event_history(client, staff_headers, session):
    first, second = make_event(session), make_event(session)
    contact, member = make_participant(session)
    session.commit()
    for event in (first, second):
        _register(client, staff_headers, event, contact_id=str(contact.id))
    by_contact = client.get(f"{REGISTRATIONS}?contact_id={contact.id}", headers=staff_headers)
    assert {r["event_id"] for r in by_contact.get_json()["data"]} == {str(first.id), str(second.id)}
    by_member = client.get(f"{REGISTRATIONS}?member_id={member.id}", headers=staff_headers)
    assert len(by_member.get_json()["data"]) == 2
    assert client.get(f"{REGISTRATIONS}?bogus=1", headers=staff_headers).status_code == 422


def test_registration_permissions_and_404(client, viewer_headers, staff_headers, session):
    event = make_event(session)
    contact, _ = make_participant(session)
    session.commit()
    rid = _register(client, staff_headers, event, contact_id=str(contact.id)).get_json()["id"]
    assert client.get(f"{REGISTRATIONS}/{rid}", headers=viewer_headers).status_code == 200
    for action in ("cancel", "check-in"):
        assert (
            client.post(f"{REGISTRATIONS}/{rid}/{action}", headers=viewer_headers).status_code
            == 403
        )
    assert (
        client.patch(f"{REGISTRATIONS}/{rid}", json={}, headers=viewer_headers).status_code == 403
    )
    assert client.get(f"{REGISTRATIONS}/{rid}").status_code == 401
    missing = f"{REGISTRATIONS}/3fa85f64-5717-4562-b3fc-2c963f66afa6"
    assert client.get(missing, headers=staff_headers).status_code == 404
    assert client.post(f"{missing}/cancel", headers=staff_headers).status_code == 404
    assert client.post(f"{missing}/check-in", headers=staff_headers).status_code == 404
    assert client.get(f"{missing}/history", headers=staff_headers).status_code == 404


def test_update_registration_reprices(client, staff_headers, session):
    plan = make_plan(session)
    event = _event_on(session, date(2030, 3, 1))
    contact, first = make_participant(session)
    second = make_member(session)
    from tests.contacts.factories import make_affiliation

    make_affiliation(session, contact=contact, member=second)
    make_membership(
        session, member=second, plan=plan, start=date(2030, 1, 1), approved_on=date(2030, 1, 1)
    )
    session.commit()
    body = _register(client, staff_headers, event, contact_id=str(contact.id)).get_json()
    assert body["price_basis"] == "non_member"
    patched = client.patch(
        f"{REGISTRATIONS}/{body['id']}",
        json={"member_id": str(second.id), "notes": "Changed employer."},
        headers=staff_headers,
    )
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["price_basis"] == "member"
    assert patched.get_json()["notes"] == "Changed employer."
