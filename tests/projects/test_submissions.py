"""A project's submissions to funding calls, and the label decided once per submission."""

import pytest

from tests.factories import bearer, log_in
from tests.interactions.factories import user_with_headers
from tests.journal.helpers import entries_after, last_seq
from tests.projects.factories import make_project, make_submission

URL = "/api/v1/projects"


@pytest.fixture
def project(client, session):
    user, headers = user_with_headers(client, session, "staff")
    project = make_project(session, follower=user)
    session.commit()
    project.headers = headers
    project.user = user
    return project


def test_create_update_and_list(client, session, project):
    url = f"{URL}/{project.id}/submissions"
    start = last_seq(session)
    response = client.post(
        url,
        json={
            "programme": "pspc_regions",
            "call_name": "PSPC-Régions IdF vague 5",
            "deadline": "2027-03-15",
            "requested_cents": 120_000_000,
        },
        headers=project.headers,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["label_decision"] == "pending"
    assert body["outcome"] == "pending"
    assert response.headers["Location"].endswith(f"{url}/{body['id']}")
    second = client.post(
        url, json={"programme": "anr", "call_name": "AAPG 2028"}, headers=project.headers
    )
    assert second.status_code == 201
    item = f"{url}/{body['id']}"
    stale = client.patch(
        item, json={"outcome": "funded"}, headers={**project.headers, "If-Match": '"v2"'}
    )
    assert stale.status_code == 412
    response = client.patch(
        item,
        json={"outcome": "funded", "obtained_cents": 100_000_000, "decision_date": "2027-06-30"},
        headers={**project.headers, "If-Match": '"v1"'},
    )
    assert response.status_code == 200
    assert response.get_json()["obtained_cents"] == 100_000_000
    assert [e.event_type for e in entries_after(session, start)] == [
        "project_submission.created",
        "project_submission.created",
        "project_submission.updated",
    ]
    listed = client.get(url, headers=project.headers).get_json()["data"]
    assert [s["id"] for s in listed] == [body["id"], second.get_json()["id"]]
    assert client.get(item, headers=project.headers).headers["ETag"] == '"v2"'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"call_name": "X"}, "programme"),
        ({"programme": "anr"}, "call_name"),
        ({"programme": "nasa", "call_name": "X"}, "programme"),
        ({"programme": "anr", "call_name": " "}, "call_name"),
        ({"programme": "anr", "call_name": "X", "deadline": "soon"}, "deadline"),
        ({"programme": "anr", "call_name": "X", "requested_cents": -1}, "requested_cents"),
        ({"programme": "anr", "call_name": "X", "outcome": "maybe"}, "outcome"),
        ({"programme": "anr", "call_name": "X", "label_decision": "granted"}, "label_decision"),
    ],
)
def test_bad_submissions(client, session, project, body, field):
    start = last_seq(session)
    response = client.post(f"{URL}/{project.id}/submissions", json=body, headers=project.headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert entries_after(session, start) == []


def test_label_once(client, session, project):
    submission = make_submission(session, project)
    session.commit()
    url = f"{URL}/{project.id}/submissions/{submission.id}/label"
    start = last_seq(session)
    bad = client.post(url, json={"decision": "pending"}, headers=project.headers)
    assert bad.status_code == 422
    response = client.post(
        url,
        json={"decision": "granted", "on": "2027-02-01", "note": "Strong consortium."},
        headers={**project.headers, "If-Match": '"v1"'},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["label_decision"] == "granted"
    assert body["label_decided_on"] == "2027-02-01"
    assert body["label_decided_by_id"] == str(project.user.id)
    assert [e.event_type for e in entries_after(session, start)] == ["project_submission.labelled"]
    again = client.post(url, json={"decision": "refused"}, headers=project.headers)
    assert again.status_code == 409
    assert "already decided (granted)" in again.get_json()["detail"]
    stale = client.post(
        url, json={"decision": "refused"}, headers={**project.headers, "If-Match": '"v1"'}
    )
    assert stale.status_code == 412
    # A decided submission is kept.
    delete = client.delete(
        f"{URL}/{project.id}/submissions/{submission.id}", headers=project.headers
    )
    assert delete.status_code == 409
    assert len(entries_after(session, start)) == 1


def test_labelling_needs_the_label_scope(client, session, project, viewer_headers):
    submission = make_submission(session, project)
    session.commit()
    url = f"{URL}/{project.id}/submissions/{submission.id}/label"
    assert client.post(url, json={"decision": "granted"}, headers=viewer_headers).status_code == 403
    token = log_in(client, project.user.email, scopes=["projects:read", "projects:write"])
    limited = bearer(token["access_token"])
    assert client.post(url, json={"decision": "granted"}, headers=limited).status_code == 403
    assert (
        client.patch(
            f"{URL}/{project.id}/submissions/{submission.id}",
            json={"call_name": "Y"},
            headers=limited,
        ).status_code
        == 200
    )


def test_delete_a_pending_submission(client, session, project):
    submission = make_submission(session, project)
    session.commit()
    url = f"{URL}/{project.id}/submissions/{submission.id}"
    assert client.delete(url, headers=project.headers).status_code == 204
    assert client.get(url, headers=project.headers).status_code == 404


def test_filters_by_submissions(client, session, project):
    from datetime import date

    other = make_project(session, follower=project.user)
    make_submission(
        session,
        project,
        programme="anr",
        label_decision="granted",
        label_decided_on=date(2026, 5, 1),
    )
    make_submission(
        session, other, programme="i_demo", outcome="funded", decision_date=date(2027, 1, 10)
    )
    session.commit()

    def ids(**query):
        response = client.get(URL, query_string=query, headers=project.headers)
        assert response.status_code == 200, response.get_json()
        return {item["id"] for item in response.get_json()["data"]}

    assert ids(programme="anr") == {str(project.id)}
    assert ids(programme="i_demo") == {str(other.id)}
    assert ids(labelled_in=2026) == {str(project.id)}
    assert ids(labelled_in=2027) == set()
    assert ids(funded_in=2027) == {str(other.id)}
    assert ids(funded_in=2026) == set()
