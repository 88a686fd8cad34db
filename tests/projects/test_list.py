"""The project list: filters, sort, keyset pages and a fixed number of statements."""

import pytest

from models import Domain
from tests.interactions.factories import user_with_headers
from tests.members.factories import make_member
from tests.projects.factories import make_partner, make_project, make_submission

URL = "/api/v1/projects"


def _ids(client, headers, **query):
    response = client.get(URL, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["data"]]


def test_filters(client, session):
    user, headers = user_with_headers(client, session)
    other, _ = user_with_headers(client, session)
    member = make_member(session)
    imaging = session.query(Domain).filter_by(code="imaging").one()
    a = make_project(
        session, follower=user, acronym="ALPHA", title="Imagerie cérébrale", state="running"
    )
    a.domains = [imaging]
    b = make_project(session, follower=other, acronym="BETA", title="Vaccins", state="idea")
    make_partner(session, a, member=member, role="coordinator", category="startup")
    make_partner(session, b, role="coordinator", category="academic_lab")
    session.commit()
    assert _ids(client, headers, state="running") == [str(a.id)]
    assert _ids(client, headers, domain="imaging") == [str(a.id)]
    assert _ids(client, headers, member_id=str(member.id)) == [str(a.id)]
    assert _ids(client, headers, coordinator_category="academic_lab") == [str(b.id)]
    assert _ids(client, headers, q="imagerie CEREBRALE") == [str(a.id)]
    assert _ids(client, headers, q="beta") == [str(b.id)]
    assert _ids(client, headers, follower_id=str(other.id)) == [str(b.id)]
    assert _ids(client, headers, sort="acronym") == [str(a.id), str(b.id)]
    assert _ids(client, headers, sort="-acronym") == [str(b.id), str(a.id)]
    row = client.get(URL, query_string={"state": "running"}, headers=headers).get_json()["data"][0]
    assert row["domains"][0]["code"] == "imaging"
    assert "partners" not in row  # list rows stay light; the record embeds its consortium


@pytest.mark.parametrize(
    "query",
    [
        {"state": "dreaming"},
        {"programme": "nasa"},
        {"labelled_in": "1800"},
        {"funded_in": "soon"},
        {"coordinator_category": "giant"},
        {"member_id": "nope"},
        {"limit": "0"},
        {"limit": "201"},
        {"sort": "title"},
        {"cursor": "garbage"},
        {"unknown": "1"},
        {"q": "a\x00b"},
    ],
)
def test_bad_queries(client, staff_headers, query):
    response = client.get(URL, query_string=query, headers=staff_headers)
    assert response.status_code == 422
    assert set(query) & set(response.get_json()["errors"])


def test_pages_and_fixed_statement_count(client, session, count_queries):
    user, headers = user_with_headers(client, session)
    teammate, _ = user_with_headers(client, session)
    imaging = session.query(Domain).filter_by(code="imaging").one()
    for number in range(60):
        make_project(
            session, follower=user, team=(teammate,), acronym=f"P{number:02d}", domains=(imaging,)
        )
    session.commit()
    counts = []
    for limit in (5, 50):
        with count_queries() as statements:
            response = client.get(
                URL, query_string={"limit": limit, "include_total": "true"}, headers=headers
            )
        assert len(response.get_json()["data"]) == limit
        assert response.get_json()["total"] == 60
        counts.append(len(statements))
    assert counts[0] == counts[1]
    seen, cursor = [], None
    while True:
        query = {"limit": 25, "sort": "acronym", **({"cursor": cursor} if cursor else {})}
        body = client.get(URL, query_string=query, headers=headers).get_json()
        seen += [item["acronym"] for item in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"P{number:02d}" for number in range(60)]


def test_get_a_project_costs_a_fixed_number_of_statements(client, session, count_queries):
    user, headers = user_with_headers(client, session)
    teammates = tuple(user_with_headers(client, session)[0] for _ in range(3))
    domains = tuple(session.query(Domain).order_by(Domain.code).limit(3))
    small = make_project(session, follower=user)
    big = make_project(session, follower=user, team=teammates, domains=domains)
    for _ in range(20):
        make_partner(session, big)
    for _ in range(5):
        make_submission(session, big)
    session.commit()
    counts = []
    for project in (small, big):
        with count_queries() as statements:
            assert client.get(f"{URL}/{project.id}", headers=headers).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_later_and_filtered_pages_cost_the_first_page_statements(client, session, count_queries):
    user, headers = user_with_headers(client, session)
    imaging = session.query(Domain).filter_by(code="imaging").one()
    for number in range(12):
        make_project(session, follower=user, acronym=f"Q{number:02d}", domains=(imaging,))
    session.commit()
    queries = [{"limit": 5}, {"limit": 5, "domain": "imaging", "q": "q0"}]
    first = client.get(URL, query_string={"limit": 5, "sort": "acronym"}, headers=headers)
    queries.append({"limit": 5, "sort": "acronym", "cursor": first.get_json()["next_cursor"]})
    counts = []
    for query in queries:
        with count_queries() as statements:
            response = client.get(URL, query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["data"]
        counts.append(len(statements))
    assert len(set(counts)) == 1
