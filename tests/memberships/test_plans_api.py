"""/membership-plans: plans, fee schedules per year, copy-forward and quotes over HTTP."""

import pytest

from tests.memberships.factories import make_member, make_plan, make_schedule

URL = "/api/v1/membership-plans"
PLAN = {
    "code": "full",
    "name": "Full member",
    "period_type": "calendar_year",
    "grace_days": 45,
    "late_join_policy": "half_from_month",
    "late_join_month": 7,
    "benefits": "Everything",
}
SCHEDULE = {
    "rules": [
        {"category": "sme", "basis": "headcount", "headcount_bands": ["11", "12"],
         "amount_cents": 150_000, "label": "SME 10-49"},
        {"basis": "flat", "amount_cents": 50_000},
    ],
    "floor_cents": 10_000,
    "exemptions": [{"code": "founding_member", "label": "Founding member", "amount_cents": 0}],
}  # fmt: skip


def _plan(client, headers, **overrides):
    response = client.post(URL, json={**PLAN, **overrides}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_get_list_and_patch_a_plan(client, admin_headers, viewer_headers):
    plan = _plan(client, admin_headers)
    assert plan["late_join_month"] == 7
    assert plan["is_active"] is True
    fetched = client.get(f"{URL}/{plan['id']}", headers=viewer_headers)
    assert fetched.get_json() == plan
    assert fetched.headers["ETag"] == '"v1"'
    listed = client.get(URL, query_string={"code": "full"}, headers=viewer_headers)
    assert [p["id"] for p in listed.get_json()["data"]] == [plan["id"]]
    stale = client.patch(
        f"{URL}/{plan['id']}",
        json={"grace_days": 10},
        headers={**admin_headers, "If-Match": '"v9"'},
    )
    assert stale.status_code == 412
    patched = client.patch(
        f"{URL}/{plan['id']}",
        json={"grace_days": 10},
        headers={**admin_headers, "If-Match": '"v1"'},
    )
    assert patched.status_code == 200
    assert patched.get_json()["grace_days"] == 10


def test_plan_code_is_unique(client, admin_headers):
    first = _plan(client, admin_headers)
    response = client.post(URL, json=PLAN, headers=admin_headers)
    assert response.status_code == 409
    assert response.get_json()["existing"]["id"] == first["id"]
    assert "code" in response.get_json()["errors"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"late_join_month": None}, "late_join_month"),
        ({"period_type": "rolling_12_months"}, "late_join_policy"),
        ({"late_join_month": 13}, "late_join_month"),
        ({"code": "Full Member"}, "code"),
        ({"grace_days": 1.5}, "grace_days"),
    ],
)
def test_bad_plans_name_the_field_and_write_nothing(client, admin_headers, overrides, field):
    response = client.post(URL, json={**PLAN, **overrides}, headers=admin_headers)
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert client.get(URL, headers=admin_headers).get_json()["data"] == []


def test_plans_need_the_admin_scope_to_change(client, staff_headers, viewer_headers):
    assert client.post(URL, json=PLAN, headers=staff_headers).status_code == 403
    assert client.get(URL, headers=viewer_headers).status_code == 200
    assert client.get(URL).status_code == 401


def test_schedule_put_get_replace_and_copy_forward(client, admin_headers, staff_headers):
    plan = _plan(client, admin_headers)
    url = f"{URL}/{plan['id']}/fee-schedules"
    created = client.put(f"{url}/2025", json=SCHEDULE, headers=admin_headers)
    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"].endswith(f"{url}/2025")
    body = created.get_json()
    assert body["currency"] == "EUR"
    assert body["rules"][0]["label"] == "SME 10-49"
    assert body["rules"][1]["category"] is None
    replaced = client.put(
        f"{url}/2025", json={**SCHEDULE, "floor_cents": 20_000}, headers=admin_headers
    )
    assert replaced.status_code == 200
    assert replaced.get_json()["floor_cents"] == 20_000
    copied = client.post(f"{url}/2025/copy-forward", headers=admin_headers)
    assert copied.status_code == 201
    assert copied.get_json()["year"] == 2026
    assert copied.get_json()["rules"] == replaced.get_json()["rules"]
    again = client.post(f"{url}/2025/copy-forward", headers=admin_headers)
    assert again.status_code == 409
    years = [s["year"] for s in client.get(url, headers=staff_headers).get_json()["data"]]
    assert years == [2025, 2026]
    assert client.get(f"{url}/2027", headers=staff_headers).status_code == 404
    assert client.put(f"{url}/2027", json=SCHEDULE, headers=staff_headers).status_code == 403


@pytest.mark.parametrize("year", [1899, 2200, 99_999_999_999])
def test_schedule_years_outside_the_handled_range_are_not_found(client, admin_headers, year):
    """A year beyond what an integer column holds once answered 500: the path refuses it."""
    plan = _plan(client, admin_headers)
    url = f"{URL}/{plan['id']}/fee-schedules/{year}"
    assert client.get(url, headers=admin_headers).status_code == 404
    assert client.put(url, json=SCHEDULE, headers=admin_headers).status_code == 404
    assert client.post(f"{url}/copy-forward", headers=admin_headers).status_code == 404


def test_the_last_year_cannot_be_copied_forward(client, admin_headers):
    plan = _plan(client, admin_headers)
    url = f"{URL}/{plan['id']}/fee-schedules"
    assert client.put(f"{url}/2199", json=SCHEDULE, headers=admin_headers).status_code == 201
    refused = client.post(f"{url}/2199/copy-forward", headers=admin_headers)
    assert refused.status_code == 409
    assert "2199" in refused.get_json()["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"floor_cents": 125.50}, "floor_cents"),
        ({"cap_cents": 5_000}, "cap_cents"),
        ({"rules": []}, "rules"),
        ({"rules": [{"basis": "headcount", "amount_cents": 1}]}, "rules.0.headcount_bands"),
        ({"rules": [{"basis": "flat", "amount_cents": 12.5}]}, "rules.0.amount_cents"),
        ({"currency": "euro"}, "currency"),
    ],
)
def test_bad_schedules_name_the_field(client, admin_headers, change, field):
    plan = _plan(client, admin_headers)
    url = f"{URL}/{plan['id']}/fee-schedules/2025"
    response = client.put(url, json={**SCHEDULE, **change}, headers=admin_headers)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert client.get(url, headers=admin_headers).status_code == 404


def test_quote_answers_fee_period_and_rule(client, session, staff_headers):
    plan = make_plan(session, late_join_policy="half_from_month", late_join_month=7)
    make_schedule(session, plan=plan, year=2025, rules=SCHEDULE["rules"])
    member = make_member(session, category="sme", headcount_band="12")
    session.commit()
    response = client.get(
        f"{URL}/{plan.id}/quote",
        query_string={"member_id": str(member.id), "start": "2025-09-01"},
        headers=staff_headers,
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "fee_cents": 75_000,
        "currency": "EUR",
        "start_date": "2025-09-01",
        "end_date": "2025-12-31",
        "year": 2025,
        "late_join": "half",
        "basis": {
            "schedule_year": 2025,
            "rule_index": 0,
            "rule": SCHEDULE["rules"][0],
            "late_join": "half",
        },
    }


def test_quote_names_what_is_missing(client, session, staff_headers):
    plan = make_plan(session)
    make_schedule(session, plan=plan, year=2025, rules=SCHEDULE["rules"])
    member = make_member(session, category="sme")
    session.commit()
    url = f"{URL}/{plan.id}/quote"
    response = client.get(
        url,
        query_string={"member_id": str(member.id), "start": "2025-01-01"},
        headers=staff_headers,
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["headcount_band"]
    no_year = client.get(
        url,
        query_string={"member_id": str(member.id), "start": "2024-01-01"},
        headers=staff_headers,
    )
    assert list(no_year.get_json()["errors"]) == ["start"]
    bad_date = client.get(
        url,
        query_string={"member_id": str(member.id), "start": "2025-02-30"},
        headers=staff_headers,
    )
    assert bad_date.status_code == 422
    assert "start" in bad_date.get_json()["errors"]


def test_if_match_on_a_year_without_schedule_is_a_failed_precondition(client, admin_headers):
    plan = _plan(client, admin_headers)
    url = f"{URL}/{plan['id']}/fee-schedules/2025"
    response = client.put(url, json=SCHEDULE, headers={**admin_headers, "If-Match": '"v1"'})
    assert response.status_code == 412
    assert client.get(url, headers=admin_headers).status_code == 404
    created = client.put(url, json=SCHEDULE, headers=admin_headers)
    stale = client.put(url, json=SCHEDULE, headers={**admin_headers, "If-Match": '"v7"'})
    assert (created.status_code, stale.status_code) == (201, 412)
