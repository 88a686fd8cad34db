"""GET /members: filters, accent-insensitive search, sorting, pagination, query count."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.members.factories import make_affiliation, make_contact, make_member

URL = "/api/v1/members"


def _names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [row["name"] for row in response.get_json()["data"]]


def test_search_ignores_accents_and_case(client, viewer_headers, session):
    make_member(session, name="Société Générale", city="Paris")
    make_member(session, name="Hôpital Européen", legal_name="GHU Île-de-France", city="Créteil")
    make_member(session, name="Generic Biotech", siren="303265045", city="Évry")
    session.commit()

    def search(q):
        return sorted(_names(client.get(URL, query_string={"q": q}, headers=viewer_headers)))

    assert search("societe generale") == ["Société Générale"]
    assert search("SOCIÉTÉ") == ["Société Générale"]
    assert search("generale societe") == ["Société Générale"]
    assert search("gener") == ["Generic Biotech", "Société Générale"]
    assert search("ile-de-france") == ["Hôpital Européen"]
    assert search("creteil") == ["Hôpital Européen"]
    assert search("303265") == ["Generic Biotech"]
    assert search("EVRY") == ["Generic Biotech"]
    assert search("%") == []
    assert search("_") == []
    assert search("nothing here") == []


def test_filters(client, viewer_headers, session):
    group = make_member(session, name="Group")
    make_member(
        session,
        name="Paris lab",
        category="academic_lab",
        postal_code="75005",
        domains=["imaging"],
        parent_id=group.id,
    )
    make_member(session, name="Nanterre", postal_code="92000", siren="552120222", external_id="e-1")
    session.commit()

    def listed(**query):
        return sorted(_names(client.get(URL, query_string=query, headers=viewer_headers)))

    assert listed(category="academic_lab") == ["Paris lab"]
    assert listed(departement="92") == ["Nanterre"]
    assert listed(departement="75") == ["Paris lab"]
    assert listed(domain="imaging") == ["Paris lab"]
    assert listed(domain="biotech") == []
    assert listed(has_siren="true") == ["Nanterre"]
    assert listed(has_siren="false") == ["Group", "Paris lab"]
    assert listed(parent_id=str(group.id)) == ["Paris lab"]
    assert listed(external_id="e-1") == ["Nanterre"]
    assert listed(category="sme", departement="92") == ["Nanterre"]


def test_updated_since(client, viewer_headers, session):
    old = make_member(session, name="Old")
    old.updated_at = datetime(2020, 1, 1, tzinfo=UTC)
    make_member(session, name="New")
    session.commit()
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert _names(
        client.get(URL, query_string={"updated_since": since}, headers=viewer_headers)
    ) == ["New"]
    naive = client.get(
        URL, query_string={"updated_since": "2024-01-01T00:00:00"}, headers=viewer_headers
    )
    assert naive.status_code == 422
    assert list(naive.get_json()["errors"]) == ["updated_since"]


def test_archived_members_are_hidden_unless_asked_for(client, viewer_headers, session):
    make_member(session, name="Active")
    make_member(session, name="Gone", archived_at=datetime.now(UTC), archive_reason="closed")
    session.commit()

    def listed(**query):
        return sorted(_names(client.get(URL, query_string=query, headers=viewer_headers)))

    assert listed() == ["Active"]
    assert listed(archived="false") == ["Active"]
    assert listed(archived="true") == ["Gone"]
    assert listed(include_archived="true") == ["Active", "Gone"]
    both = client.get(
        URL, query_string={"archived": "true", "include_archived": "true"}, headers=viewer_headers
    )
    assert both.status_code == 422
    assert list(both.get_json()["errors"]) == ["include_archived"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"category": "bank"}, "category"),
        ({"departement": "20"}, "departement"),
        ({"sort": "city"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"has_siren": "maybe"}, "has_siren"),
        ({"parent_id": "x"}, "parent_id"),
        ({"cursor": "garbage"}, "cursor"),
        ({"q": ""}, "q"),
    ],
)
def test_bad_query_arguments_are_422(client, viewer_headers, query, field):
    response = client.get(URL, query_string=query, headers=viewer_headers)
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["errors"]) == [field]


def test_sort_by_name_ignores_accents_and_case(client, viewer_headers, session):
    for name in ("zeta", "Émile", "alpha", "Eagle", "Ébène"):
        make_member(session, name=name)
    session.commit()
    ascending = _names(client.get(URL, query_string={"sort": "name"}, headers=viewer_headers))
    assert ascending == ["alpha", "Eagle", "Ébène", "Émile", "zeta"]
    descending = _names(client.get(URL, query_string={"sort": "-name"}, headers=viewer_headers))
    assert descending == list(reversed(ascending))


@pytest.mark.parametrize("sort", ["name", "-name", "created_at", "-created_at", "-updated_at"])
def test_pages_cover_every_member_once(client, viewer_headers, session, sort):
    base = datetime(2025, 1, 1, tzinfo=UTC)
    for index in range(7):
        member = make_member(session, name=f"Member {index % 3}")  # repeated names: ties on id
        member.created_at = base + timedelta(minutes=index % 2)
    session.commit()
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3, "sort": sort, **({"cursor": cursor} if cursor else {})}
        response = client.get(URL, query_string=query, headers=viewer_headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        seen += [row["id"] for row in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            break
        assert f"cursor={cursor}" in response.headers["Link"]
        assert 'rel="next"' in response.headers["Link"]
    assert len(seen) == len(set(seen)) == 7
    assert pages == 3


def test_cursor_is_stable_when_members_are_inserted(client, viewer_headers, session):
    for name in ("b", "d", "f", "h"):
        make_member(session, name=name)
    session.commit()
    first = client.get(URL, query_string={"limit": 2}, headers=viewer_headers).get_json()
    assert [row["name"] for row in first["data"]] == ["b", "d"]
    make_member(session, name="a")  # before the cursor: must not shift the next page
    make_member(session, name="e")  # after it: shows up in order
    session.commit()
    second = client.get(
        URL, query_string={"limit": 2, "cursor": first["next_cursor"]}, headers=viewer_headers
    )
    assert _names(second) == ["e", "f"]


def test_cursor_of_another_sort_is_refused(client, viewer_headers, session):
    for _ in range(3):
        make_member(session)
    session.commit()
    cursor = client.get(URL, query_string={"limit": 1}, headers=viewer_headers).get_json()[
        "next_cursor"
    ]
    response = client.get(
        URL,
        query_string={"limit": 1, "cursor": cursor, "sort": "created_at"},
        headers=viewer_headers,
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["cursor"]


def test_include_total(client, viewer_headers, session):
    for _ in range(3):
        make_member(session, category="investor")
    make_member(session)
    session.commit()
    body = client.get(
        URL,
        query_string={"limit": 2, "include_total": "true", "category": "investor"},
        headers=viewer_headers,
    ).get_json()
    assert body["total"] == 3
    assert len(body["data"]) == 2
    assert "total" not in client.get(URL, headers=viewer_headers).get_json()


def test_rows_embed_domains_parent_and_contacts_count(client, viewer_headers, session):
    group = make_member(session, name="Group")
    member = make_member(session, name="Lab", parent_id=group.id, domains=["imaging", "biotech"])
    make_affiliation(session, member=member)  # current
    make_affiliation(session, member=member, end_date=date.today() + timedelta(days=30))
    make_affiliation(session, member=member, end_date=date(2020, 1, 1))  # ended
    gone = make_contact(session, archived_at=datetime.now(UTC))
    make_affiliation(session, member=member, contact=gone)  # archived contact
    session.commit()
    rows = client.get(URL, query_string={"q": "lab"}, headers=viewer_headers).get_json()["data"]
    assert len(rows) == 1
    row = rows[0]
    assert row["contacts_count"] == 2
    assert row["parent"] == {"id": str(group.id), "name": "Group"}
    assert row["domains"] == [
        {"code": "biotech", "label": "Biotechnology"},
        {"code": "imaging", "label": "Medical imaging"},
    ]
    single = client.get(f"{URL}/{member.id}", headers=viewer_headers).get_json()
    assert single == row


def test_a_list_makes_the_same_number_of_queries_whatever_the_page_size(
    client, viewer_headers, session, count_queries
):
    parents = [make_member(session, name=f"Parent {index}") for index in range(3)]
    for index in range(60):
        member = make_member(
            session,
            name=f"Member {index:02d}",
            parent_id=parents[index % 3].id,
            domains=["imaging", "biotech"] if index % 2 else ["diagnostics"],
        )
        make_affiliation(session, member=member)
    session.commit()
    counts = {}
    for limit in (5, 50):
        with count_queries() as statements:
            response = client.get(
                URL, query_string={"limit": limit, "include_total": "true"}, headers=viewer_headers
            )
        assert response.status_code == 200
        assert len(response.get_json()["data"]) == limit
        # SAVEPOINT statements come from the test harness (a SAVEPOINT per test), not the app.
        counts[limit] = len([sql for sql in statements if not sql.startswith("SAVEPOINT")])
    assert counts[5] == counts[50]
    assert counts[50] <= 8
