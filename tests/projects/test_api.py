"""Projects over HTTP: create, read, update, delete, upsert, history; bad input and scopes."""

import uuid

import pytest

from models import Project
from tests.interactions.factories import user_with_headers
from tests.journal.helpers import entries_after, last_seq, summary
from tests.members.factories import make_member
from tests.projects.factories import make_partner, make_project, make_submission

URL = "/api/v1/projects"


def _create(client, headers, **fields):
    body = {"acronym": "CARDIA", "title": "Détection précoce", **fields}
    return client.post(URL, json=body, headers=headers)


def test_create_get_and_etag(client, session, staff_headers):
    response = _create(
        client,
        staff_headers,
        summary="ECG",
        domains=["digital_health"],
        trl_start=3,
        trl_target=6,
        duration_months=36,
        total_budget_cents=250_000_000,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["state"] == "idea"
    assert body["allowed_transitions"] == ["consortium_building"]
    assert body["domains"] == [{"code": "digital_health", "label": body["domains"][0]["label"]}]
    assert body["partners"] == []
    assert body["transitions"] == []
    assert response.headers["Location"].endswith(f"{URL}/{body['id']}")
    assert response.headers["ETag"] == '"v1"'
    got = client.get(f"{URL}/{body['id']}", headers=staff_headers)
    assert got.status_code == 200
    assert got.get_json()["total_budget_cents"] == 250_000_000
    assert got.headers["ETag"] == '"v1"'


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"trl_start": 0}, "trl_start"),
        ({"trl_target": 10}, "trl_target"),
        ({"trl_start": 5, "trl_target": 4}, "trl_target"),
        ({"trl_start": "3"}, "trl_start"),
        ({"total_budget_cents": -1}, "total_budget_cents"),
        ({"total_budget_cents": 1.5}, "total_budget_cents"),
        ({"duration_months": 0}, "duration_months"),
        ({"acronym": ""}, "acronym"),
        ({"acronym": "x" * 31}, "acronym"),
        ({"title": "a\x00b"}, "title"),
        ({"confidential": "yes"}, "confidential"),
        ({"domains": ["nope"]}, "domains"),
        ({"domains": ["imaging", "imaging"]}, "domains"),
        ({"follower_id": "not-a-uuid"}, "follower_id"),
        ({"follower_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, "follower_id"),
        ({"team_ids": ["3fa85f64-5717-4562-b3fc-2c963f66afa6"]}, "team_ids"),
        ({"state": "running"}, "state"),
        ({"results": {"patents_filed": 1}}, None),
    ],
)
def test_create_refuses_bad_input(client, session, staff_headers, fields, field):
    start = last_seq(session)
    response = _create(client, staff_headers, **fields)
    if field is None:
        assert response.status_code == 409  # results before closing
    else:
        assert response.status_code == 422, response.get_json()
        assert field in response.get_json()["errors"]
    assert entries_after(session, start) == []


def test_required_fields(client, staff_headers):
    response = client.post(URL, json={}, headers=staff_headers)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"acronym", "title"}


def test_a_viewer_cannot_follow_a_project(client, session, staff_headers):
    viewer, _ = user_with_headers(client, session, "viewer")
    response = _create(client, staff_headers, follower_id=str(viewer.id))
    assert response.status_code == 422
    assert "follower_id" in response.get_json()["errors"]


def test_permissions(client, session, viewer_headers, staff_headers):
    owner, _ = user_with_headers(client, session)
    project = make_project(session, follower=owner)
    session.commit()
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}/{project.id}").status_code == 401
    assert client.get(URL, headers=viewer_headers).status_code == 200
    assert client.get(f"{URL}/{project.id}", headers=viewer_headers).status_code == 200
    assert _create(client, viewer_headers).status_code == 403
    for method, path, body in (
        ("patch", f"{URL}/{project.id}", {"title": "x"}),
        ("delete", f"{URL}/{project.id}", None),
        ("put", f"{URL}/by-external-id/e1", {"acronym": "A", "title": "B"}),
        ("post", f"{URL}/{project.id}/transitions", {"to": "consortium_building"}),
        (
            "post",
            f"{URL}/{project.id}/partners",
            {"organisation_name": "X", "role": "partner", "category": "sme"},
        ),
        ("post", f"{URL}/{project.id}/submissions", {"programme": "anr", "call_name": "AAPG"}),
    ):
        response = getattr(client, method)(path, json=body, headers=viewer_headers)
        assert response.status_code == 403, (method, path)
    # Staff without the label scope cannot record a label outcome.
    assert client.get(f"{URL}/{project.id}/history", headers=viewer_headers).status_code == 200


def test_patch_with_if_match_and_lists(client, session, staff_headers):
    teammate, _ = user_with_headers(client, session)
    created = _create(client, staff_headers, domains=["imaging"]).get_json()
    url = f"{URL}/{created['id']}"
    stale = client.patch(url, json={"title": "New"}, headers={**staff_headers, "If-Match": '"v9"'})
    assert stale.status_code == 412
    response = client.patch(
        url,
        json={"title": "New", "domains": ["biotech"], "team_ids": [str(teammate.id)]},
        headers={**staff_headers, "If-Match": '"v1"'},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["title"] == "New"
    assert [d["code"] for d in body["domains"]] == ["biotech"]
    assert body["team_ids"] == [str(teammate.id)]
    assert response.headers["ETag"] == '"v2"'
    assert (
        client.patch(url, json={"trl_start": 7, "trl_target": 8}, headers=staff_headers).status_code
        == 200
    )
    response = client.patch(url, json={"trl_target": 5}, headers=staff_headers)
    assert response.status_code == 422
    assert "trl_target" in response.get_json()["errors"]
    assert client.patch(url, json={"nope": 1}, headers=staff_headers).status_code == 422
    assert (
        client.patch(
            f"{URL}/3fa85f64-5717-4562-b3fc-2c963f66afa6", json={}, headers=staff_headers
        ).status_code
        == 404
    )


def test_results_only_once_closed(client, session, staff_headers):
    owner, headers = user_with_headers(client, session)
    running = make_project(session, follower=owner, state="running")
    closed = make_project(session, follower=owner, state="closed")
    session.commit()
    results = {
        "products_launched": 1,
        "patents_filed": 2,
        "jobs_created": 5,
        "follow_on_funding_cents": 100_000_00,
        "notes": "CE mark obtained.",
    }
    response = client.patch(f"{URL}/{running.id}", json={"results": results}, headers=headers)
    assert response.status_code == 409
    assert "running" in response.get_json()["detail"]
    response = client.patch(f"{URL}/{closed.id}", json={"results": results}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["results"] == results
    bad = client.patch(
        f"{URL}/{closed.id}", json={"results": {"jobs_created": -1}}, headers=headers
    )
    assert bad.status_code == 422


def test_delete_only_an_idea(client, session, staff_headers):
    owner, headers = user_with_headers(client, session)
    idea = make_project(session, follower=owner)
    running = make_project(session, follower=owner, state="running")
    session.commit()
    assert client.delete(f"{URL}/{running.id}", headers=headers).status_code == 409
    assert (
        client.delete(f"{URL}/{idea.id}", headers={**headers, "If-Match": '"v5"'}).status_code
        == 412
    )
    assert client.delete(f"{URL}/{idea.id}", headers=headers).status_code == 204
    assert client.get(f"{URL}/{idea.id}", headers=headers).status_code == 404


def test_external_id_unique_and_upsert(client, session, staff_headers):
    first = _create(client, staff_headers, external_id="ext-1")
    assert first.status_code == 201
    duplicate = _create(client, staff_headers, external_id="ext-1")
    assert duplicate.status_code == 409
    assert duplicate.get_json()["existing"]["id"] == first.get_json()["id"]
    response = client.put(
        f"{URL}/by-external-id/ext-1", json={"acronym": "NEW", "title": "T"}, headers=staff_headers
    )
    assert response.status_code == 200
    assert response.get_json()["id"] == first.get_json()["id"]
    assert response.get_json()["acronym"] == "NEW"
    response = client.put(
        f"{URL}/by-external-id/ext-2", json={"acronym": "B", "title": "T"}, headers=staff_headers
    )
    assert response.status_code == 201
    assert response.get_json()["external_id"] == "ext-2"
    missing = client.put(
        f"{URL}/by-external-id/ext-3", json={"acronym": "B"}, headers=staff_headers
    )
    assert missing.status_code == 422
    body_id = client.put(
        f"{URL}/by-external-id/ext-3",
        json={"acronym": "B", "title": "T", "external_id": "x"},
        headers=staff_headers,
    )
    assert body_id.status_code == 422


def test_history_one_entry_per_write(client, session, staff_headers):
    start = last_seq(session)
    created = _create(client, staff_headers).get_json()
    url = f"{URL}/{created['id']}"
    client.patch(url, json={"title": "Changed"}, headers=staff_headers)
    client.post(f"{url}/transitions", json={"to": "consortium_building"}, headers=staff_headers)
    entries = entries_after(session, start)
    assert [e.event_type for e in entries] == [
        "project.created",
        "project.updated",
        "project.transitioned",
    ], summary(entries)
    assert entries[2].changes["state"] == ["idea", "consortium_building"]
    history = client.get(f"{url}/history", headers=staff_headers)
    assert history.status_code == 200
    assert [e["type"] for e in history.get_json()["data"]] == [
        "project.transitioned",
        "project.updated",
        "project.created",
    ]
    refused = client.post(f"{url}/transitions", json={"to": "running"}, headers=staff_headers)
    assert refused.status_code == 409
    assert len(entries_after(session, start)) == 3


def test_unknown_project_routes_are_404(client, staff_headers):
    missing = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    for path in ("", "/history", "/partners", "/submissions", "/eligibility?programme=anr"):
        response = client.get(f"{URL}/{missing}{path}", headers=staff_headers)
        assert response.status_code == 404, path
    assert client.get(f"{URL}/not-a-uuid", headers=staff_headers).status_code == 404


def test_the_read_path_answers_what_the_write_path_answers(client, session, staff_headers):
    """GET reads plain rows; writes answer with the ORM record: the same body either way."""
    owner, headers = user_with_headers(client, session)
    teammate, _ = user_with_headers(client, session)
    created = _create(
        client,
        headers,
        domains=["imaging", "biotech"],
        team_ids=[str(teammate.id)],
        total_budget_cents=10**11,
    ).get_json()
    url = f"{URL}/{created['id']}"
    client.post(f"{url}/transitions", json={"to": "consortium_building"}, headers=headers)
    stored = session.get(Project, uuid.UUID(created["id"]))
    make_partner(session, stored, member=make_member(session), role="coordinator")
    make_partner(session, stored, organisation_name="Outside", siren="552120222")
    make_submission(session, stored, requested_cents=5)
    session.commit()
    written = client.patch(url, json={"summary": "Same"}, headers=headers)
    read = client.get(url, headers=headers)
    assert read.status_code == 200
    assert read.get_json() == written.get_json()
    assert read.headers["ETag"] == written.headers["ETag"]
    assert len(read.get_json()["partners"]) == 2
