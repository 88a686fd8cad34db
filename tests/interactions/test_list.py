"""The interaction list: filters, search, to-do lists, pagination and its query count."""

from datetime import UTC, date, datetime

from tests.contacts.factories import make_contact, make_member
from tests.factories import make_user
from tests.interactions.factories import make_interaction, user_with_headers

URL = "/api/v1/interactions"


def _ids(response):
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["data"]]


def test_filters(client, session):
    me, headers = user_with_headers(client, session)
    other = make_user(session)
    member, second_member = make_member(session), make_member(session)
    contact = make_contact(session)
    early = make_interaction(
        session,
        owner=me,
        members=(member,),
        type="meeting",
        kind="service",
        occurred_at=datetime(2025, 1, 5, tzinfo=UTC),
        external_id="x-1",
    )
    middle = make_interaction(
        session,
        owner=other,
        members=(second_member,),
        contacts=(contact,),
        participants=(me,),
        occurred_at=datetime(2025, 6, 5, tzinfo=UTC),
        follow_up_due=date(2025, 6, 20),
        follow_up_assignee_id=me.id,
    )
    late = make_interaction(
        session,
        owner=other,
        contacts=(contact,),
        occurred_at=datetime(2025, 12, 5, tzinfo=UTC),
        follow_up_due=date(2026, 1, 20),
        follow_up_assignee_id=me.id,
    )
    done = make_interaction(
        session,
        owner=other,
        members=(member,),
        follow_up_assignee_id=me.id,
        follow_up_done=True,
        occurred_at=datetime(2024, 6, 5, tzinfo=UTC),
    )
    session.commit()

    def ids(**query):
        return _ids(client.get(URL, query_string=query, headers=headers))

    assert ids() == [str(late.id), str(middle.id), str(early.id), str(done.id)]
    assert ids(sort="occurred_at")[0] == str(done.id)
    assert ids(member_id=member.id) == [str(early.id), str(done.id)]
    assert ids(contact_id=contact.id) == [str(late.id), str(middle.id)]
    assert ids(owner_id=me.id) == [str(early.id)]
    assert ids(participant_id=me.id) == [str(middle.id), str(early.id)]
    assert ids(type="meeting") == [str(early.id)]
    assert ids(kind="service") == [str(early.id)]
    assert ids(external_id="x-1") == [str(early.id)]
    assert ids(
        occurred_after="2025-06-01T00:00:00+00:00", occurred_before="2025-12-05T00:00:00Z"
    ) == [str(middle.id)]
    assert ids(assignee="me", follow_up="open") == [str(late.id), str(middle.id)]
    assert ids(assignee="me", follow_up="open", due_before="2025-07-01") == [str(middle.id)]
    assert ids(assignee=str(me.id), follow_up="done") == [str(done.id)]
    assert ids(assignee=str(other.id)) == []
    assert ids(updated_since="2000-01-01T00:00:00Z") == ids()
    assert ids(updated_since="2999-01-01T00:00:00Z") == []


def test_q_ignores_case_and_accents_in_subject_and_notes(client, session):
    me, headers = user_with_headers(client, session)
    member = make_member(session)
    by_subject = make_interaction(session, owner=me, members=(member,), subject="Réunion CHU")
    by_notes = make_interaction(
        session, owner=me, members=(member,), subject="Call", notes="Préparer la réunion"
    )
    make_interaction(session, owner=me, members=(member,), subject="Other")
    session.commit()
    response = client.get(
        URL, query_string={"q": "REUNION", "sort": "occurred_at"}, headers=headers
    )
    assert _ids(response) == [str(by_subject.id), str(by_notes.id)]
    response = client.get(URL, query_string={"q": "réunion chu"}, headers=headers)
    assert _ids(response) == [str(by_subject.id)]


def test_bad_query_arguments(client, session, staff_headers):
    cases = [
        ({"assignee": "you"}, "assignee"),
        ({"follow_up": "late"}, "follow_up"),
        ({"due_before": "tomorrow"}, "due_before"),
        ({"type": "lunch"}, "type"),
        ({"kind": "x"}, "kind"),
        ({"member_id": "1"}, "member_id"),
        ({"occurred_after": "2025-01-01T00:00:00"}, "occurred_after"),
        (
            {"occurred_after": "2025-02-01T00:00:00Z", "occurred_before": "2025-01-01T00:00:00Z"},
            "occurred_before",
        ),
        ({"sort": "subject"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"q": "a\x00"}, "q"),
        ({"colour": "red"}, "colour"),
    ]
    for query, field in cases:
        response = client.get(URL, query_string=query, headers=staff_headers)
        assert response.status_code == 422, (query, response.get_json())
        assert field in response.get_json()["errors"], (query, response.get_json())


def test_pages_and_total(client, session):
    me, headers = user_with_headers(client, session)
    member = make_member(session)
    created = [str(make_interaction(session, owner=me, members=(member,)).id) for _ in range(7)]
    session.commit()
    seen, query = [], {"limit": 3, "include_total": "true"}
    while True:
        body = client.get(URL, query_string=query, headers=headers).get_json()
        assert body["total"] == 7
        seen += [item["id"] for item in body["data"]]
        if body["next_cursor"] is None:
            break
        query["cursor"] = body["next_cursor"]
    assert seen == list(reversed(created))


def test_list_runs_a_fixed_number_of_queries(client, session, count_queries):
    me, headers = user_with_headers(client, session)
    colleague = make_user(session)
    members = [make_member(session) for _ in range(3)]
    contacts = [make_contact(session) for _ in range(3)]
    for index in range(60):
        make_interaction(
            session,
            owner=me,
            members=(members[index % 3],),
            contacts=(contacts[index % 3],),
            participants=(colleague,),
        )
    session.commit()
    counts = []
    for limit in (5, 50):
        with count_queries() as statements:
            response = client.get(URL, query_string={"limit": limit}, headers=headers)
        data = response.get_json()["data"]
        assert len(data) == limit
        assert all(data[0][name] for name in ("members", "contacts", "participant_ids"))
        counts.append(len(statements))
    assert counts[0] == counts[1]
