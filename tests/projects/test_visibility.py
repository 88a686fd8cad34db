"""Confidential projects: only their follower, their team and admins know of them. Everyone
else gets 404 on every route, and lists, totals and member timelines leave them out, exactly
as if they did not exist."""

import csv
import io
from dataclasses import dataclass
from datetime import date

import orjson
import pytest

from models import Interaction, Project, ProjectInteraction, ProjectPartner, ProjectSubmission
from tests.interactions.factories import make_interaction, user_with_headers
from tests.members.factories import make_member
from tests.projects.factories import make_partner, make_project, make_submission

URL = "/api/v1/projects"
WHO = ["follower", "team", "other", "admin"]
SEES = {"follower": True, "team": True, "other": False, "admin": True}


@dataclass
class Cast:
    headers: dict
    member: object
    secret: Project
    public: Project
    partner: ProjectPartner
    submission: ProjectSubmission
    linked: Interaction
    unlinked: Interaction


@pytest.fixture
def cast(client, session):
    users, headers = {}, {}
    for who in WHO:
        users[who], headers[who] = user_with_headers(
            client, session, "admin" if who == "admin" else "staff"
        )
    member = make_member(session, category="sme")
    secret = make_project(
        session,
        follower=users["follower"],
        team=(users["team"],),
        acronym="SECRET",
        title="Thérapie génique confidentielle",
        confidential=True,
        external_id="secret-1",
        state="running",
    )
    public = make_project(
        session, follower=users["follower"], acronym="PUBLIC", title="Thérapie génique publique"
    )
    partner = make_partner(session, secret, member=member, role="coordinator")
    make_partner(session, public, member=member, role="coordinator")
    submission = make_submission(
        session,
        secret,
        programme="anr",
        label_decision="granted",
        label_decided_on=date(2026, 4, 1),
        outcome="funded",
        decision_date=date(2026, 6, 1),
    )
    linked = make_interaction(session, owner=users["other"], members=(member,))
    unlinked = make_interaction(session, owner=users["other"], members=(member,))
    session.add(ProjectInteraction(project_id=secret.id, interaction_id=linked.id))
    session.commit()
    return Cast(headers, member, secret, public, partner, submission, linked, unlinked)


def _expected(who, allowed_status):
    return allowed_status if SEES[who] else 404


def _routes(cast):
    """Every route about one project: (method, path, body, status for those who see it)."""
    project = f"{URL}/{cast.secret.id}"
    partner = f"{project}/partners/{cast.partner.id}"
    submission = f"{project}/submissions/{cast.submission.id}"
    return [
        ("get", project, None, 200),
        ("patch", project, {"summary": "Changed"}, 200),
        ("get", f"{project}/history", None, 200),
        ("get", f"{project}/eligibility?programme=anr", None, 200),
        ("post", f"{project}/transitions", {"to": "closed"}, 200),
        ("get", f"{project}/partners", None, 200),
        (
            "post",
            f"{project}/partners",
            {"organisation_name": "X", "category": "sme", "role": "partner"},
            201,
        ),
        ("get", partner, None, 200),
        ("patch", partner, {"budget_cents": 100}, 200),
        ("get", f"{project}/submissions", None, 200),
        ("post", f"{project}/submissions", {"programme": "anr", "call_name": "AAPG"}, 201),
        ("get", submission, None, 200),
        ("patch", submission, {"call_name": "AAPG bis"}, 200),
        ("post", f"{submission}/label", {"decision": "refused"}, 409),  # decided already
        ("delete", submission, None, 409),  # a labelled submission is kept
        ("get", f"{project}/timeline", None, 200),
        ("put", f"{project}/interactions/{cast.unlinked.id}", None, 204),
        ("delete", f"{project}/interactions/{cast.linked.id}", None, 204),
        ("delete", partner, None, 204),
        ("delete", project, None, 409),  # not an idea any more
    ]


ROUTE_COUNT = 20


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("route", range(ROUTE_COUNT))
def test_every_route(client, session, cast, who, route):
    routes = _routes(cast)
    assert len(routes) == ROUTE_COUNT
    method, path, body, status = routes[route]
    kwargs = {"json": body} if body is not None else {}
    response = getattr(client, method)(path, headers=cast.headers[who], **kwargs)
    assert response.status_code == _expected(who, status), (method, path, response.get_json())
    if not SEES[who]:
        assert response.get_json()["detail"] == f"No project with id {cast.secret.id}."
        session.expire_all()
        stored = session.get(Project, cast.secret.id)
        assert stored.summary is None
        assert stored.state == "running"
        assert stored.version == 1


@pytest.mark.parametrize("who", WHO)
def test_upsert_by_external_id(client, session, cast, who):
    response = client.put(
        f"{URL}/by-external-id/secret-1",
        json={"acronym": "TAKEN", "title": "Over"},
        headers=cast.headers[who],
    )
    assert response.status_code == (200 if SEES[who] else 409)
    if not SEES[who]:
        assert response.get_json().get("existing") is None
        session.expire_all()
        assert session.get(Project, cast.secret.id).acronym == "SECRET"


@pytest.mark.parametrize("who", WHO)
def test_duplicate_external_id_does_not_point_at_a_hidden_project(client, cast, who):
    response = client.post(
        URL,
        json={"acronym": "A", "title": "B", "external_id": "secret-1"},
        headers=cast.headers[who],
    )
    assert response.status_code == 409
    assert (response.get_json().get("existing") is not None) == SEES[who]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": "therapie genique"},
        {"member_id": "MEMBER"},
        {"external_id": "secret-1"},
        {"programme": "anr"},
        {"labelled_in": "2026"},
        {"funded_in": "2026"},
        {"coordinator_category": "sme"},
        {"sort": "acronym"},
    ],
)
def test_list_and_total(client, cast, who, query):
    query = {key: cast.member.id if value == "MEMBER" else value for key, value in query.items()}
    response = client.get(
        URL, query_string={**query, "include_total": "true"}, headers=cast.headers[who]
    )
    assert response.status_code == 200
    body = response.get_json()
    ids = [item["id"] for item in body["data"]]
    assert (str(cast.secret.id) in ids) == SEES[who]
    assert body["total"] == len(ids)


@pytest.mark.parametrize("who", WHO)
def test_member_timeline(client, cast, who):
    response = client.get(
        f"/api/v1/members/{cast.member.id}/timeline",
        query_string={"kinds": "project"},
        headers=cast.headers[who],
    )
    assert response.status_code == 200
    items = response.get_json()["data"]
    ids = [item["id"] for item in items]
    expected = [str(cast.public.id)]
    if SEES[who]:
        expected = [str(cast.public.id), str(cast.secret.id)]
    assert sorted(ids) == sorted(expected)
    assert all(item["kind"] == "project" for item in items)
    assert all(item["href"] == f"{URL}/{item['id']}" for item in items)
    everything = client.get(
        f"/api/v1/members/{cast.member.id}/timeline", headers=cast.headers[who]
    ).get_json()["data"]
    assert ("SECRET: Thérapie génique confidentielle" in [i["summary"] for i in everything]) == (
        SEES[who]
    )


@pytest.mark.parametrize("who", WHO)
def test_changes_feed(client, cast, who):
    """The feed lists a confidential project's entries, and its partners' and submissions',
    only to those who may see the project; a public project's entries to every reader."""
    headers = cast.headers["follower"]
    for url, body in (
        (f"{URL}/{cast.secret.id}", {"summary": "Phase II"}),
        (f"{URL}/{cast.public.id}", {"summary": "Phase I"}),
        (f"{URL}/{cast.secret.id}/partners/{cast.partner.id}", {"budget_cents": 1000}),
        (f"{URL}/{cast.secret.id}/submissions/{cast.submission.id}", {"call_name": "Vague 2"}),
    ):
        assert client.patch(url, json=body, headers=headers).status_code == 200, url
    feed = client.get(
        "/api/v1/changes",
        query_string={
            "limit": 200,
            "types": "project.*,project_partner.*,project_submission.*",
        },
        headers=cast.headers[who],
    )
    assert feed.status_code == 200
    seen = {entry["resource_id"] for entry in feed.get_json()["data"]}
    secret_records = {str(cast.secret.id), str(cast.partner.id), str(cast.submission.id)}
    assert str(cast.public.id) in seen
    assert (secret_records <= seen) is SEES[who]
    assert not (secret_records & seen) or SEES[who]


def _csv_column(response, name):
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    return [row[name] for row in rows]


@pytest.mark.parametrize("who", WHO)
def test_exports(client, cast, who):
    """Exports read the lists through the same views: what a page hides, a file hides."""
    headers = cast.headers[who]
    ids = _csv_column(client.get(f"{URL}?format=csv", headers=headers), "id")
    assert (str(cast.secret.id) in ids) == SEES[who]
    assert str(cast.public.id) in ids
    timeline = client.get(
        f"/api/v1/members/{cast.member.id}/timeline",
        query_string={"format": "ndjson", "kinds": "project"},
        headers=headers,
    )
    shown = [orjson.loads(line)["id"] for line in timeline.get_data().splitlines()]
    assert (str(cast.secret.id) in shown) == SEES[who]
    assert str(cast.public.id) in shown
    partners = client.get(f"{URL}/{cast.secret.id}/partners?format=csv", headers=headers)
    partners.get_data()  # a streamed answer ends when read
    assert partners.status_code == _expected(who, 200)
    secret_timeline = client.get(
        f"{URL}/{cast.secret.id}/timeline", headers={**headers, "Accept": "text/csv"}
    )
    secret_timeline.get_data()
    assert secret_timeline.status_code == _expected(who, 200)
