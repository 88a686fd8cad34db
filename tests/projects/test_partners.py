"""A project's partners: members or outside organisations, one coordinator, budgets and aid."""

import pytest

from tests.interactions.factories import user_with_headers
from tests.journal.helpers import entries_after, last_seq
from tests.members.factories import make_member, valid_siren
from tests.projects.factories import make_partner, make_project

URL = "/api/v1/projects"


@pytest.fixture
def project(client, session):
    user, headers = user_with_headers(client, session, "staff")
    project = make_project(session, follower=user)
    session.commit()
    project.headers = headers
    return project


def test_add_member_and_outsider(client, session, project):
    member = make_member(session, category="startup", siren=valid_siren())
    session.commit()
    url = f"{URL}/{project.id}/partners"
    start = last_seq(session)
    response = client.post(
        url,
        json={
            "member_id": str(member.id),
            "role": "coordinator",
            "budget_cents": 1_000_000_00,
            "aid_requested_cents": 450_000_00,
            "aid_form": "grant",
        },
        headers=project.headers,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["category"] == "startup"
    assert body["siren"] == member.siren
    assert response.headers["Location"].endswith(f"{url}/{body['id']}")
    outsider = client.post(
        url,
        json={
            "organisation_name": "CHU de Nulle Part",
            "siren": "552120222",
            "category": "clinical_centre",
            "role": "partner",
        },
        headers=project.headers,
    )
    assert outsider.status_code == 201, outsider.get_json()
    assert [e.event_type for e in entries_after(session, start)] == [
        "project_partner.created",
        "project_partner.created",
    ]
    listed = client.get(url, headers=project.headers, query_string={"include_total": "true"})
    assert [p["id"] for p in listed.get_json()["data"]] == [body["id"], outsider.get_json()["id"]]
    assert listed.get_json()["total"] == 2
    detail = client.get(f"{URL}/{project.id}", headers=project.headers).get_json()
    assert [p["id"] for p in detail["partners"]] == [body["id"], outsider.get_json()["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "partner", "category": "sme"}, "organisation_name"),
        ({"role": "partner", "organisation_name": "X"}, "category"),
        ({"role": "boss", "organisation_name": "X", "category": "sme"}, "role"),
        (
            {"role": "partner", "organisation_name": "X", "category": "sme", "siren": "123456789"},
            "siren",
        ),
        ({"role": "partner", "organisation_name": "X", "category": "giant"}, "category"),
        (
            {"role": "partner", "organisation_name": "X", "category": "sme", "budget_cents": -5},
            "budget_cents",
        ),
        (
            {"role": "partner", "organisation_name": "X", "category": "sme", "aid_form": "gift"},
            "aid_form",
        ),
        ({"role": "partner", "member_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, "member_id"),
        ({"organisation_name": "X", "category": "sme"}, "role"),
    ],
)
def test_bad_partners(client, session, project, body, field):
    start = last_seq(session)
    response = client.post(f"{URL}/{project.id}/partners", json=body, headers=project.headers)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert entries_after(session, start) == []


def test_member_and_outsider_fields_together_are_refused(client, session, project):
    member = make_member(session)
    session.commit()
    response = client.post(
        f"{URL}/{project.id}/partners",
        json={"member_id": str(member.id), "organisation_name": "X", "role": "partner"},
        headers=project.headers,
    )
    assert response.status_code == 422


def test_one_coordinator_and_one_place_per_member(client, session, project):
    member = make_member(session)
    make_partner(session, project, role="coordinator")
    make_partner(session, project, member=member)
    session.commit()
    url = f"{URL}/{project.id}/partners"
    second = client.post(
        url,
        json={"organisation_name": "Y", "category": "sme", "role": "coordinator"},
        headers=project.headers,
    )
    assert second.status_code == 409
    assert second.get_json()["detail"] == "The project already has a coordinator."
    again = client.post(
        url, json={"member_id": str(member.id), "role": "partner"}, headers=project.headers
    )
    assert again.status_code == 409


def test_update_and_remove(client, session, project):
    partner = make_partner(session, project, role="partner")
    coordinator = make_partner(session, project, role="coordinator")
    session.commit()
    url = f"{URL}/{project.id}/partners/{partner.id}"
    assert client.get(url, headers=project.headers).headers["ETag"] == '"v1"'
    promote = client.patch(url, json={"role": "coordinator"}, headers=project.headers)
    assert promote.status_code == 409
    stale = client.patch(
        url, json={"aid_obtained_cents": 5}, headers={**project.headers, "If-Match": '"v3"'}
    )
    assert stale.status_code == 412
    response = client.patch(
        url,
        json={"aid_obtained_cents": 5, "aid_form": "repayable_advance"},
        headers={**project.headers, "If-Match": '"v1"'},
    )
    assert response.status_code == 200
    assert response.get_json()["aid_obtained_cents"] == 5
    assert response.headers["ETag"] == '"v2"'
    assert (
        client.patch(url, json={"organisation_name": None}, headers=project.headers).status_code
        == 422
    )
    assert (
        client.delete(
            f"{URL}/{project.id}/partners/{coordinator.id}", headers=project.headers
        ).status_code
        == 204
    )
    assert (
        client.patch(url, json={"role": "coordinator"}, headers=project.headers).status_code == 200
    )
    assert (
        client.get(
            f"{URL}/{project.id}/partners/{coordinator.id}", headers=project.headers
        ).status_code
        == 404
    )


def test_a_partner_of_another_project_is_404(client, session, project):
    other = make_project(session, follower=project_follower(session, project))
    partner = make_partner(session, other)
    session.commit()
    response = client.get(f"{URL}/{project.id}/partners/{partner.id}", headers=project.headers)
    assert response.status_code == 404


def project_follower(session, project):
    from models import User

    return session.get(User, project.follower_id)


def test_partners_list_has_a_fixed_statement_count(client, session, project, count_queries):
    for _ in range(60):
        make_partner(session, project)
    session.commit()
    counts = []
    for limit in (5, 50):
        with count_queries() as statements:
            response = client.get(
                f"{URL}/{project.id}/partners",
                query_string={"limit": limit},
                headers=project.headers,
            )
        assert len(response.get_json()["data"]) == limit
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_eligibility(client, session, project):
    url = f"{URL}/{project.id}/eligibility"
    empty = client.get(url, query_string={"programme": "pspc_regions"}, headers=project.headers)
    assert empty.status_code == 200
    body = empty.get_json()
    assert body["eligible"] is False
    assert {rule["rule"]: rule["passed"] for rule in body["rules"]} == {
        "one_coordinator": False,
        "two_companies": False,
        "sme_or_midcap": False,
        "research_partner": False,
        "led_by_company": False,
        "budget_range": False,
    }
    make_partner(session, project, role="coordinator", category="sme", budget_cents=150_000_000)
    make_partner(
        session, project, role="partner", category="large_company", budget_cents=100_000_000
    )
    make_partner(session, project, role="partner", category="academic_lab", budget_cents=50_000_000)
    session.commit()
    ok = client.get(url, query_string={"programme": "pspc_regions"}, headers=project.headers)
    assert ok.get_json()["eligible"] is True, ok.get_json()
    too_small = client.get(url, query_string={"programme": "i_demo"}, headers=project.headers)
    rules = {rule["rule"]: rule for rule in too_small.get_json()["rules"]}
    assert rules["budget_range"]["passed"] is False
    assert "below" in rules["budget_range"]["reason"]
    assert client.get(url, headers=project.headers).status_code == 422
    assert (
        client.get(url, query_string={"programme": "x"}, headers=project.headers).status_code == 422
    )


def test_led_by_a_laboratory_fails_with_its_reason(client, session, project):
    make_partner(session, project, role="coordinator", category="academic_lab")
    make_partner(session, project, category="sme")
    make_partner(session, project, category="midcap")
    session.commit()
    body = client.get(
        f"{URL}/{project.id}/eligibility",
        query_string={"programme": "anr"},
        headers=project.headers,
    ).get_json()
    rules = {rule["rule"]: rule for rule in body["rules"]}
    assert rules["led_by_company"] == {
        "rule": "led_by_company",
        "passed": False,
        "reason": "The coordinator must be a company (it is academic_lab).",
    }
    assert rules["two_companies"]["passed"] is True
    assert rules["budget_range"]["passed"] is True
