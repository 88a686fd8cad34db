"""What one registration costs the database, whatever the number already there.

Registering runs a fixed number of statements, and none of them reads the event's other
registrations: the seats and the waiting list are counted only for an event with a capacity,
and a second active registration is refused by the partial unique indexes when the row is
inserted. A duplicate check written as a ``SELECT`` before the insert used to be planned on
whichever index starts with ``event_id``: when the statistics predate the event's
registrations (a new event; autovacuum has not analysed the table since), PostgreSQL
estimates one row for the event and both partial unique indexes cost the same, so it may scan
the contact index and filter every active registration of the event on the e-mail.
"""

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from models import Registration
from models.types import utcnow
from services.event_seats import TERMS, EventTerms
from tests.events.factories import make_event, make_participant

EVENTS = "/api/v1/events"
REGISTRATIONS = "/api/v1/registrations"


def _guests(session: Session, event: Any, count: int, start: int = 0) -> None:
    """``count`` guests registered for ``event``, added as the importer's rows would be."""
    session.add_all(
        Registration(
            event_id=event.id,
            guest_name=f"Guest {number}",
            guest_email=f"guest{number}@example.org",
            role="attendee",
            status="registered",
            registered_at=utcnow(),
        )
        for number in range(start, start + count)
    )
    session.flush()


def _rows_read(session: Session) -> int:
    """Rows of ``registrations`` this transaction has read so far (PostgreSQL's counters of
    the current transaction: sequential scans and heap fetches of index scans)."""
    return session.scalar(
        text(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)"
            " FROM pg_stat_xact_user_tables WHERE relname = 'registrations'"
        )
    )


def test_a_registration_runs_the_same_statements_whatever_the_number_before(
    client, staff_headers, session, count_queries
):
    event = make_event(session)
    session.commit()
    counts = []
    for added, existing in ((1, 1), (39, 40)):
        _guests(session, event, added, start=existing)
        session.commit()
        with count_queries() as statements:
            response = client.post(
                f"{EVENTS}/{event.id}/registrations",
                json={"guest_name": "New", "guest_email": f"new{existing}@example.org"},
                headers=staff_headers,
            )
        assert response.status_code == 201, response.get_json()
        counts.append(len(statements))
    assert counts[0] == counts[1]
    # The lock of the event, the insert and the journal: no count, no duplicate look-up.
    assert not [s for s in statements if s.lstrip().startswith("SELECT") and "registrations" in s]
    # Of the event, only what registering reads (its terms), not the whole record.
    (lock,) = [s for s in statements if "FROM events" in s]
    assert "events.status" in lock
    assert "events.description" not in lock
    assert "events.search_text" not in lock


@pytest.mark.postgres_only
def test_registering_reads_none_of_the_events_registrations_with_stale_statistics(
    client, staff_headers, session
):
    busy, event = make_event(session), make_event(session)
    _guests(session, busy, 30)
    session.commit()
    # Statistics taken while the event had no registration: every event_id in them is
    # another event's, so the planner expects one row for this one.
    session.execute(text("ANALYZE registrations"))
    _guests(session, event, 300, start=1000)
    session.commit()
    before = _rows_read(session)
    response = client.post(
        f"{EVENTS}/{event.id}/registrations",
        json={"guest_name": "New", "guest_email": "new@example.org"},
        headers=staff_headers,
    )
    assert response.status_code == 201, response.get_json()
    assert _rows_read(session) - before < 10
    again = client.post(
        f"{EVENTS}/{event.id}/registrations",
        json={"guest_name": "Again", "guest_email": "guest1005@example.org"},
        headers=staff_headers,
    )
    assert again.status_code == 409
    assert again.get_json()["type"].endswith(":already-registered")


def test_someone_registered_is_told_so_before_any_other_refusal(client, staff_headers, session):
    """No look-up before the insert, yet a registered contact whose organisation is no longer
    a member hears "already registered" from a members-only event, not "members only"."""
    event = make_event(session, members_only=True)
    contact, member = make_participant(session)
    first = Registration(
        event_id=event.id,
        contact_id=contact.id,
        member_id=member.id,
        role="attendee",
        status="registered",
        registered_at=utcnow(),
    )
    session.add(first)
    session.commit()
    again = client.post(
        f"{EVENTS}/{event.id}/registrations",
        json={"contact_id": str(contact.id)},
        headers=staff_headers,
    )
    assert again.status_code == 409
    assert again.get_json()["type"].endswith(":already-registered")
    assert again.get_json()["existing"]["id"] == str(first.id)
    stranger, _ = make_participant(session)
    session.commit()
    refused = client.post(
        f"{EVENTS}/{event.id}/registrations",
        json={"contact_id": str(stranger.id)},
        headers=staff_headers,
    )
    assert refused.get_json()["type"].endswith(":members-only")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "&status=waitlisted",
        "&role=speaker",
        "&sort=-created_at",
        "&sort=updated_at&include_total=true",
        "&updated_since=2000-01-01T00:00:00Z",
    ],
)
def test_an_events_page_of_plain_rows_shows_what_the_registrations_list_shows(
    client, staff_headers, session, query
):
    """The event's page reads plain rows, the list of every registration ORM objects: page
    after page, both answer the same bodies, waiting-list positions included."""
    event = make_event(session, capacity=2)
    session.commit()
    for number in range(7):
        body = {"guest_name": f"Guest {number}", "guest_email": f"g{number}@example.org"}
        if number == 5:
            body["role"] = "speaker"
        response = client.post(
            f"{EVENTS}/{event.id}/registrations", json=body, headers=staff_headers
        )
        assert response.status_code == 201
    pages = []
    for path in (f"{EVENTS}/{event.id}/registrations?", f"{REGISTRATIONS}?event_id={event.id}&"):
        bodies, url = [], f"{path}limit=2{query}"
        while url:
            page = client.get(url, headers=staff_headers)
            assert page.status_code == 200, page.get_json()
            bodies.append({k: v for k, v in page.get_json().items() if k != "next_cursor"})
            link = page.headers.get("Link")
            url = link[1 : link.index(">")] if link else None
        pages.append(bodies)
    event_pages, list_pages = pages
    assert event_pages == list_pages
    shown = [row for body in event_pages for row in body["data"]]
    assert shown
    if "status=waitlisted" in query:
        assert [row["waitlist_position"] for row in shown] == [1, 2, 3, 4]


def test_the_locked_terms_are_what_registering_may_read():
    members = {name for name in vars(EventTerms) if not name.startswith("_")}
    assert members == set(TERMS)
