"""The lifecycle: every (from, to) pair of states, allowed or refused, on both databases."""

from datetime import date

import pytest

from models import PROJECT_TRANSITIONS, Project, ProjectState
from tests.factories import bearer, log_in
from tests.interactions.factories import user_with_headers
from tests.journal.helpers import entries_after, last_seq
from tests.members.factories import make_member
from tests.projects.factories import make_partner, make_project

URL = "/api/v1/projects"
STATES = [state.value for state in ProjectState]
PAIRS = [(source, target) for source in STATES for target in STATES]


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_every_pair(client, session, source, target):
    user, headers = user_with_headers(client, session, "staff")
    project = make_project(session, follower=user, state=source, state_since=date(2026, 1, 1))
    session.commit()
    allowed = [state.value for state in PROJECT_TRANSITIONS[ProjectState(source)]]
    start = last_seq(session)
    response = client.post(
        f"{URL}/{project.id}/transitions",
        json={"to": target, "on": "2026-02-03", "note": "Decided in committee."},
        headers=headers,
    )
    session.expire_all()
    stored = session.get(Project, project.id)
    if target in allowed:
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["state"] == target
        assert body["state_since"] == "2026-02-03"
        assert body["transitions"][-1] == {
            "from_state": source,
            "to_state": target,
            "on": "2026-02-03",
            "at": body["transitions"][-1]["at"],
            "by_user_id": str(user.id),
            "note": "Decided in committee.",
        }
        assert response.headers["ETag"] == '"v2"'
        assert [e.event_type for e in entries_after(session, start)] == ["project.transitioned"]
    else:
        assert response.status_code == 409, response.get_json()
        detail = response.get_json()["detail"]
        assert f"in state {source} cannot move to {target}" in detail
        assert all(state in detail for state in allowed)
        if not allowed:
            assert "none (a final state)" in detail
        assert stored.state == source
        assert entries_after(session, start) == []


def test_the_allowed_pairs_are_those_of_the_issue():
    S = ProjectState
    assert PROJECT_TRANSITIONS[S.LABEL_REQUESTED] == (S.LABELLED, S.REFUSED, S.SUPPORT_LETTER)
    assert PROJECT_TRANSITIONS[S.SUBMITTED] == (S.FUNDED, S.NOT_FUNDED, S.ABANDONED)
    assert PROJECT_TRANSITIONS[S.RUNNING] == (S.CLOSED, S.ABANDONED)
    assert PROJECT_TRANSITIONS[S.CLOSED] == PROJECT_TRANSITIONS[S.ABANDONED] == ()
    assert sum(len(targets) for targets in PROJECT_TRANSITIONS.values()) == 18


@pytest.mark.parametrize("target", ["labelled", "refused", "support_letter"])
def test_label_outcomes_need_the_label_scope(client, session, target):
    user, _ = user_with_headers(client, session, "staff")
    project = make_project(session, follower=user, state="label_requested")
    session.commit()
    token = log_in(client, user.email, scopes=["projects:read", "projects:write"])
    response = client.post(
        f"{URL}/{project.id}/transitions",
        json={"to": target},
        headers=bearer(token["access_token"]),
    )
    assert response.status_code == 403
    other = client.post(
        f"{URL}/{project.id}/transitions",
        json={"to": "submitted"},
        headers=bearer(token["access_token"]),
    )
    assert other.status_code == 409  # the scope is only needed for label outcomes


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "to"),
        ({"to": "nowhere"}, "to"),
        ({"to": "consortium_building", "on": "2025-12-31"}, "on"),
        ({"to": "consortium_building", "on": "31/12/2026"}, "on"),
        ({"to": "consortium_building", "note": "x" * 1001}, "note"),
        ({"to": "consortium_building", "extra": 1}, "extra"),
    ],
)
def test_bad_transition_bodies(client, session, body, field):
    user, headers = user_with_headers(client, session, "staff")
    project = make_project(session, follower=user, state_since=date(2026, 1, 1))
    session.commit()
    response = client.post(f"{URL}/{project.id}/transitions", json=body, headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_if_match_and_default_date(client, session):
    user, headers = user_with_headers(client, session, "staff")
    project = make_project(session, follower=user)
    session.commit()
    url = f"{URL}/{project.id}/transitions"
    stale = client.post(
        url, json={"to": "consortium_building"}, headers={**headers, "If-Match": '"v7"'}
    )
    assert stale.status_code == 412
    response = client.post(
        url, json={"to": "consortium_building"}, headers={**headers, "If-Match": '"v1"'}
    )
    assert response.status_code == 200
    assert response.get_json()["state_since"] == date.today().isoformat()


def test_submission_freezes_the_partners_categories(client, session):
    user, headers = user_with_headers(client, session, "staff")
    member = make_member(session, category="startup")
    project = make_project(session, follower=user, state="labelled")
    partner = make_partner(session, project, member=member, category="startup")
    session.commit()
    member.category = "sme"  # it grew before submission
    session.commit()
    response = client.post(
        f"{URL}/{project.id}/transitions", json={"to": "submitted"}, headers=headers
    )
    assert response.status_code == 200
    assert response.get_json()["partners"][0]["category"] == "sme"
    member.category = "midcap"  # and after: the partner's category no longer moves
    session.commit()
    response = client.post(
        f"{URL}/{project.id}/transitions", json={"to": "funded"}, headers=headers
    )
    assert response.get_json()["partners"][0]["category"] == "sme"
    assert response.get_json()["partners"][0]["id"] == str(partner.id)
