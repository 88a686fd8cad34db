"""Member and contact timelines: one stream, newest first, across kinds, page by page."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.contacts.factories import make_contact, make_member
from tests.factories import bearer, log_in, make_user
from tests.interactions.factories import make_interaction, user_with_headers

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _timeline(client, headers, path, **query):
    response = client.get(path, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _walk(client, headers, path, **query):
    """Every item, following the cursors; the pages' ids in order."""
    items = []
    while True:
        body = _timeline(client, headers, path, **query)
        items += body["data"]
        if body["next_cursor"] is None:
            return items
        query["cursor"] = body["next_cursor"]


@pytest.mark.parametrize("record", ["members", "contacts"])
def test_order_across_kinds_and_links(client, session, record):
    me, headers = user_with_headers(client, session)
    created = T0 - timedelta(days=30)
    if record == "members":
        target = make_member(session, archived=True)
        other = make_member(session)
        links = {"members": (target,)}
    else:
        target = make_contact(session, archived=True)
        other = make_contact(session)
        links = {"contacts": (target,)}
    target.created_at = created
    target.archived_at = T0 + timedelta(days=10)
    first = make_interaction(session, owner=me, occurred_at=T0, subject="Kick-off", **links)
    second = make_interaction(session, owner=me, occurred_at=T0 + timedelta(days=1), **links)
    make_interaction(session, owner=me, occurred_at=T0, **{record: (other,)})
    session.commit()

    path = f"/api/v1/{record}/{target.id}/timeline"
    items = _timeline(client, headers, path)["data"]
    assert [(item["kind"], item["id"]) for item in items] == [
        ("record.archived", str(target.id)),
        ("interaction", str(second.id)),
        ("interaction", str(first.id)),
        ("record.created", str(target.id)),
    ]
    assert items[2] == {
        "kind": "interaction",
        "at": "2026-03-02T09:00:00+00:00",
        "summary": "Kick-off",
        "id": str(first.id),
        "href": f"/api/v1/interactions/{first.id}",
    }
    assert items[0]["href"] == f"/api/v1/{record}/{target.id}"
    assert _walk(client, headers, path, limit=1) == items

    only = _timeline(client, headers, path, kinds=["record.created", "record.archived"])
    assert [item["kind"] for item in only["data"]] == ["record.archived", "record.created"]
    window = _timeline(
        client,
        headers,
        path,
        since="2026-03-02T09:00:00Z",
        until="2026-03-03T09:00:00Z",
    )
    assert [item["id"] for item in window["data"]] == [str(first.id)]


def test_pages_are_stable_when_items_arrive_between_them(client, session):
    me, headers = user_with_headers(client, session)
    member = make_member(session)
    member.created_at = T0 - timedelta(days=1)
    # Two items at the same instant: the keyset's (kind, id) tie-break must split them cleanly.
    same_time = [
        make_interaction(session, owner=me, members=(member,), occurred_at=T0) for _ in "ab"
    ]
    older = make_interaction(
        session, owner=me, members=(member,), occurred_at=T0 - timedelta(hours=1)
    )
    session.commit()
    path = f"/api/v1/members/{member.id}/timeline"

    first = _timeline(client, headers, path, limit=1)
    expected_first = max(str(item.id) for item in same_time)
    assert [item["id"] for item in first["data"]] == [expected_first]
    # Meanwhile: a newer interaction, one at the same instant as the page's last item, and an
    # older one.
    newer = make_interaction(
        session, owner=me, members=(member,), occurred_at=T0 + timedelta(hours=1)
    )
    backdated = make_interaction(
        session, owner=me, members=(member,), occurred_at=T0 - timedelta(minutes=30)
    )
    session.commit()
    rest = _walk(client, headers, path, limit=1, cursor=first["next_cursor"])
    ids = [item["id"] for item in rest]
    assert str(newer.id) not in ids  # before the cursor: seen on a fresh first page only
    assert ids == [
        min(str(item.id) for item in same_time),
        str(backdated.id),
        str(older.id),
        str(member.id),
    ]


def test_a_page_is_a_fixed_number_of_statements(client, session, count_queries):
    me, headers = user_with_headers(client, session)
    member = make_member(session)
    for day in range(60):
        make_interaction(session, owner=me, members=(member,), occurred_at=T0 + timedelta(days=day))
    session.commit()
    counts = []
    for limit in (5, 50):
        with count_queries() as statements:
            body = _timeline(client, headers, f"/api/v1/members/{member.id}/timeline", limit=limit)
        assert len(body["data"]) == limit
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_bad_arguments_and_unknown_records(client, session, viewer_headers):
    member = make_member(session)
    session.commit()
    path = f"/api/v1/members/{member.id}/timeline"
    cases = [
        ({"kinds": "membership"}, "kinds"),
        ({"since": "2026-01-01T00:00:00"}, "since"),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
        ({"limit": 201}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": "WzEsMiwzXQ"}, "cursor"),  # [1,2,3]
        ({"sort": "at"}, "sort"),
    ]
    for query, field in cases:
        response = client.get(path, query_string=query, headers=viewer_headers)
        assert response.status_code == 422, (query, response.get_json())
        assert any(key.split(".")[0] == field for key in response.get_json()["errors"])
    for record in ("members", "contacts"):
        response = client.get(
            f"/api/v1/{record}/00000000-0000-0000-0000-000000000003/timeline",
            headers=viewer_headers,
        )
        assert response.status_code == 404


def test_needs_the_interactions_read_scope(client, session):
    user = make_user(session, role="staff")
    member = make_member(session)
    contact = make_contact(session)
    session.commit()
    token = log_in(client, user.email, scopes=["members:read", "contacts:read"])
    for path in (
        f"/api/v1/members/{member.id}/timeline",
        f"/api/v1/contacts/{contact.id}/timeline",
        "/api/v1/interactions",
    ):
        assert client.get(path, headers=bearer(token["access_token"])).status_code == 403
        assert client.get(path).status_code == 401


def test_member_timeline_shows_memberships(client, session):
    """Joined, paid, refunded, renewed, lapsed and cancelled, on the days they happened,
    merged with interactions; a payment's item links to its membership."""
    from datetime import date  # noqa: PLC0415

    from tests.memberships.factories import make_membership, make_payment, make_plan  # noqa: PLC0415

    me, headers = user_with_headers(client, session)
    member = make_member(session)
    member.created_at = datetime(2023, 6, 1, tzinfo=UTC)
    plan = make_plan(session, name="Full member", grace_days=30)
    first = make_membership(session, member=member, plan=plan, start=date(2024, 1, 1))
    paid = make_payment(session, membership=first, amount_cents=100_000, paid_on=date(2024, 2, 1))
    refund = make_payment(
        session, membership=first, amount_cents=-20_000, paid_on=date(2024, 3, 1), reason="x"
    )
    renewal = make_membership(
        session, member=member, plan=plan, start=date(2025, 1, 1), renewal_of_id=first.id
    )
    # Lapsed (no renewal); then joined again later and cancelled.
    again = make_membership(
        session, member=member, plan=plan, start=date(2026, 3, 1), end=date(2026, 12, 31),
        cancelled_on=date(2026, 6, 30), cancel_reason="Left",
    )  # fmt: skip
    call = make_interaction(
        session, owner=me, members=(member,), occurred_at=datetime(2024, 2, 1, 9, tzinfo=UTC)
    )
    other = make_member(session)
    make_membership(session, member=other, plan=plan, start=date(2024, 1, 1))
    session.commit()

    path = f"/api/v1/members/{member.id}/timeline"
    items = _walk(client, headers, path, limit=2)
    assert [(item["kind"], item["id"], item["at"][:10]) for item in items] == [
        ("membership.cancelled", str(again.id), "2026-06-30"),
        ("membership.created", str(again.id), "2026-03-01"),
        ("membership.lapsed", str(renewal.id), "2026-01-31"),
        ("membership.renewed", str(renewal.id), "2025-01-01"),
        ("membership.refunded", str(refund.id), "2024-03-01"),
        ("interaction", str(call.id), "2024-02-01"),
        ("membership.paid", str(paid.id), "2024-02-01"),
        ("membership.created", str(first.id), "2024-01-01"),
        ("record.created", str(member.id), "2023-06-01"),
    ]
    by_kind = {item["kind"]: item for item in items}
    assert by_kind["membership.paid"]["href"] == f"/api/v1/memberships/{first.id}"
    assert by_kind["membership.paid"]["at"] == "2024-02-01T00:00:00+00:00"
    assert by_kind["membership.renewed"]["summary"] == "Membership renewed: Full member"
    assert by_kind["membership.lapsed"]["href"] == f"/api/v1/memberships/{renewal.id}"

    only = _timeline(client, headers, path, kinds=["membership.paid", "membership.refunded"])
    assert [item["kind"] for item in only["data"]] == ["membership.refunded", "membership.paid"]
    # Contacts have no memberships: asking for those kinds only gives an empty page.
    contact = make_contact(session)
    session.commit()
    empty = _timeline(client, headers, f"/api/v1/contacts/{contact.id}/timeline",
                      kinds=["membership.paid"])  # fmt: skip
    assert empty == {"data": [], "next_cursor": None}
