"""Concurrent writes to projects on PostgreSQL: the database decides who wins."""

from collections import Counter

import pytest
from flask import Flask

from api.extensions import db
from tests.concurrency import send_together
from tests.factories import bearer, log_in, make_user
from tests.projects.factories import make_project, make_submission

URL = "/api/v1/projects"


def _setup(app: Flask) -> tuple[list[dict[str, str]], str, str]:
    """Two staff users' headers, a project's URL and one of its submissions' label URL."""
    with app.app_context():
        session = db.session
        users = [make_user(session, role="staff") for _ in range(2)]
        project = make_project(session, follower=users[0])
        submission = make_submission(session, project)
        session.commit()
        emails = [user.email for user in users]
        project_url = f"{URL}/{project.id}"
        label_url = f"{project_url}/submissions/{submission.id}/label"
    headers = [bearer(log_in(app.test_client(), email)["access_token"]) for email in emails]
    return headers, project_url, label_url


@pytest.mark.postgres_only
@pytest.mark.parametrize("if_match", [None, '"v1"'])
def test_two_staff_users_labelling_the_same_submission(committing_app, if_match):
    headers, _project_url, label_url = _setup(committing_app)
    extra = {"If-Match": if_match} if if_match else {}

    def label(decision: str, user_headers: dict[str, str]):
        return lambda client: client.post(
            label_url, json={"decision": decision}, headers={**user_headers, **extra}
        )

    responses = send_together(
        committing_app, label("granted", headers[0]), label("refused", headers[1])
    )
    statuses = Counter(response.status_code for response in responses)
    loser = 412 if if_match else 409
    assert statuses[200] == 1, statuses
    assert statuses[409] + statuses[412] == 1, statuses
    assert loser in statuses or 409 in statuses
    winner = next(r for r in responses if r.status_code == 200).get_json()["label_decision"]
    final = committing_app.test_client().get(label_url.removesuffix("/label"), headers=headers[0])
    assert final.get_json()["label_decision"] == winner
    assert final.headers["ETag"] == '"v2"'


@pytest.mark.postgres_only
def test_two_transitions_from_one_state_one_wins(committing_app):
    headers, project_url, _label_url = _setup(committing_app)

    def move(user_headers: dict[str, str]):
        return lambda client: client.post(
            f"{project_url}/transitions", json={"to": "consortium_building"}, headers=user_headers
        )

    responses = send_together(committing_app, move(headers[0]), move(headers[1]))
    assert Counter(r.status_code for r in responses) == Counter({200: 1, 409: 1})
    final = committing_app.test_client().get(project_url, headers=headers[0]).get_json()
    assert len(final["transitions"]) == 1


@pytest.mark.postgres_only
def test_two_coordinators_at_once_one_wins(committing_app):
    headers, project_url, _label_url = _setup(committing_app)

    def add(name: str):
        return lambda client: client.post(
            f"{project_url}/partners",
            json={"organisation_name": name, "category": "sme", "role": "coordinator"},
            headers=headers[0],
        )

    responses = send_together(committing_app, add("A"), add("B"))
    assert Counter(r.status_code for r in responses) == Counter({201: 1, 409: 1})
