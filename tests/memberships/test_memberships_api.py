"""/memberships: creation at the schedule's fee, overrides, overlaps, status reads, filters."""

from datetime import date

import pytest
from sqlalchemy import func, select

from models import Membership
from tests.memberships.factories import make_member, make_membership, make_plan, make_schedule

URL = "/api/v1/memberships"
RULES = [
    {"category": "sme", "basis": "headcount", "headcount_bands": ["11", "12"],
     "amount_cents": 150_000},
    {"category": None, "basis": "flat", "amount_cents": 50_000},
]  # fmt: skip


@pytest.fixture
def setup(session):
    plan = make_plan(session, code="full", grace_days=30)
    make_schedule(session, plan=plan, year=2025, rules=RULES,
                  exemptions=[{"code": "founding_member", "amount_cents": 0}])  # fmt: skip
    make_schedule(session, plan=plan, year=2026, rules=RULES)
    member = make_member(session, category="sme", headcount_band="12")
    session.commit()
    return plan, member


def _count(session):
    return session.scalar(select(func.count()).select_from(Membership))


def _create(client, headers, member, **body):
    body = {"member_id": str(member.id), "plan": "full", "start_date": "2025-01-01", **body}
    return client.post(URL, json=body, headers=headers)


def test_create_copies_the_schedules_fee(client, session, setup, staff_headers, admin_headers):
    plan, member = setup
    response = _create(client, staff_headers, member)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"{URL}/{body['id']}")
    assert body["plan"] == {"id": str(plan.id), "code": "full", "name": plan.name}
    assert (body["start_date"], body["end_date"], body["grace_until"]) == (
        "2025-01-01", "2025-12-31", "2026-01-30",
    )  # fmt: skip
    assert (body["fee_cents"], body["schedule_fee_cents"], body["currency"]) == (
        150_000, 150_000, "EUR",
    )  # fmt: skip
    assert body["fee_basis"]["rule_index"] == 0
    assert body["paid_cents"] == 0
    assert body["balance_cents"] == 150_000
    assert body["as_of"] == date.today().isoformat()
    # Changing the schedule afterwards never moves the fee of an existing membership.
    url = f"/api/v1/membership-plans/{plan.id}/fee-schedules/2025"
    cheaper = [{**RULES[0], "amount_cents": 1}, RULES[1]]
    assert client.put(url, json={"rules": cheaper}, headers=admin_headers).status_code == 200
    again = client.get(f"{URL}/{body['id']}", headers=staff_headers).get_json()
    assert again["fee_cents"] == 150_000


def test_status_is_read_as_of_any_day(client, setup, staff_headers):
    _plan, member = setup
    created = _create(client, staff_headers, member, approved_on="2025-01-15").get_json()
    url = f"{URL}/{created['id']}"
    days = {
        "2025-01-14": "pending",
        "2025-01-15": "active",
        "2025-12-31": "active",
        "2026-01-30": "grace",
        "2026-01-31": "expired",
    }
    for day, status in days.items():
        body = client.get(url, query_string={"as_of": day}, headers=staff_headers).get_json()
        assert (body["as_of"], body["status"]) == (day, status)


def test_override_needs_admin_and_a_reason(client, session, setup, staff_headers, admin_headers):
    _plan, member = setup
    override = {"fee_cents": 90_000, "fee_override_reason": "Board decision 2025-03"}
    refused = _create(client, staff_headers, member, **override)
    assert refused.status_code == 403
    assert _count(session) == 0
    no_reason = _create(client, admin_headers, member, fee_cents=90_000)
    assert no_reason.status_code == 422
    assert list(no_reason.get_json()["errors"]) == ["fee_override_reason"]
    accepted = _create(client, admin_headers, member, **override)
    assert accepted.status_code == 201
    body = accepted.get_json()
    assert (body["fee_cents"], body["schedule_fee_cents"]) == (90_000, 150_000)
    assert body["fee_override_reason"] == "Board decision 2025-03"


def test_exemption_and_late_join_period(client, session, setup, staff_headers):
    _plan, member = setup
    exempt = _create(client, staff_headers, member, exemption="founding_member").get_json()
    assert exempt["fee_cents"] == 0
    assert exempt["status"] in {"active", "expired", "grace"}  # paid in full: never pending
    late = make_plan(session, code="late", late_join_policy="next_year_from_month",
                     late_join_month=10)  # fmt: skip
    make_schedule(session, plan=late, year=2026, rules=RULES)
    other = make_member(session, category="investor")
    session.commit()
    body = _create(client, staff_headers, other, plan="late", start_date="2026-10-01").get_json()
    assert (body["end_date"], body["fee_cents"], body["fee_basis"]["late_join"]) == (
        "2027-12-31", 50_000, "next_year",
    )  # fmt: skip


def test_overlapping_periods_are_refused(client, session, setup, staff_headers):
    _plan, member = setup
    first = _create(client, staff_headers, member).get_json()
    clash = _create(client, staff_headers, member, start_date="2025-12-31")
    assert clash.status_code == 409
    assert clash.get_json()["existing"]["id"] == first["id"]
    assert "start_date" in clash.get_json()["errors"]
    assert _count(session) == 1
    following = _create(client, staff_headers, member, start_date="2026-01-01")
    assert following.status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"plan": "gold"}, "plan"),
        ({"end_date": "2024-12-31"}, "end_date"),
        ({"start_date": "2025-02-30"}, "start_date"),
        ({"start_date": "2024-01-01"}, "start_date"),  # no 2024 schedule
        ({"fee_cents": 1500.5, "fee_override_reason": "x"}, "fee_cents"),
        ({"exemption": "public_funder"}, "exemption"),
        ({"member_id": "00000000-0000-0000-0000-000000000000"}, "member_id"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    client, session, setup, admin_headers, change, field
):
    _plan, member = setup
    response = _create(client, admin_headers, member, **change)
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert _count(session) == 0


def test_missing_headcount_band_is_named(client, session, setup, staff_headers):
    member = make_member(session, category="sme")
    session.commit()
    response = _create(client, staff_headers, member)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["headcount_band"]


def test_list_filters(client, session, staff_headers):
    plan = make_plan(session, code="full", grace_days=30)
    other_plan = make_plan(session, code="associate")
    members = [make_member(session) for _ in range(4)]
    active = make_membership(session, member=members[0], plan=plan, start=date(2025, 1, 1),
                             approved_on=date(2025, 1, 1))  # fmt: skip
    pending = make_membership(session, member=members[1], plan=plan, start=date(2025, 1, 1))
    old = make_membership(session, member=members[2], plan=plan, start=date(2024, 1, 1),
                          approved_on=date(2024, 1, 1))  # fmt: skip
    associate = make_membership(session, member=members[3], plan=other_plan,
                                start=date(2025, 1, 1), approved_on=date(2025, 1, 1))  # fmt: skip
    session.commit()

    def ids(**query):
        response = client.get(URL, query_string=query, headers=staff_headers)
        assert response.status_code == 200, response.get_json()
        return {row["id"] for row in response.get_json()["data"]}

    as_of = "2025-06-30"
    assert ids(status="active", as_of=as_of) == {str(active.id), str(associate.id)}
    assert ids(status="active", as_of=as_of, plan="full") == {str(active.id)}
    assert ids(status="pending", as_of=as_of) == {str(pending.id)}
    assert ids(status="expired", as_of=as_of) == {str(old.id)}
    assert ids(status="grace", as_of="2025-01-15") == {str(old.id)}
    assert ids(year=2024) == {str(old.id)}
    assert ids(member_id=str(members[1].id)) == {str(pending.id)}
    assert ids(ends_before="2025-01-01") == {str(old.id)}
    member_url = f"/api/v1/members/{members[0].id}/memberships"
    rows = client.get(member_url, headers=staff_headers).get_json()["data"]
    assert [row["id"] for row in rows] == [str(active.id)]
    unknown = client.get(URL, query_string={"plan": "gold"}, headers=staff_headers)
    assert unknown.status_code == 422
    assert "plan" in unknown.get_json()["errors"]
    bad_status = client.get(URL, query_string={"status": "lapsed"}, headers=staff_headers)
    assert "status" in bad_status.get_json()["errors"]


def test_list_pages_in_a_fixed_number_of_queries(client, session, staff_headers, count_queries):
    plan = make_plan(session, code="full")
    for index in range(12):
        make_membership(session, member=make_member(session), plan=plan,
                        start=date(2025, 1, 1 + index), approved_on=date(2025, 1, 1))  # fmt: skip
    session.commit()
    counts = []
    for limit in (2, 12):
        with count_queries() as statements:
            response = client.get(
                URL,
                query_string={"limit": limit, "status": "active", "as_of": "2025-06-30",
                              "sort": "start_date"},
                headers=staff_headers,
            )  # fmt: skip
        assert len(response.get_json()["data"]) == limit
        counts.append(len(statements))
    assert counts[0] == counts[1]
    second = client.get(
        URL,
        query_string={"limit": 5, "sort": "-start_date",
                      "cursor": client.get(URL, query_string={"limit": 5, "sort": "-start_date"},
                                           headers=staff_headers).get_json()["next_cursor"]},
        headers=staff_headers,
    ).get_json()  # fmt: skip
    assert [row["start_date"] for row in second["data"]] == [
        f"2025-01-{day:02d}" for day in range(7, 2, -1)
    ]


def test_patch_approval_and_cancel(client, setup, staff_headers):
    _plan, member = setup
    created = _create(client, staff_headers, member)
    url = f"{URL}/{created.get_json()['id']}"
    patched = client.patch(
        url, json={"approved_on": "2025-01-10", "notes": "Board of 10 January"},
        headers={**staff_headers, "If-Match": created.headers["ETag"]},
    )  # fmt: skip
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["approved_on"] == "2025-01-10"
    cancel = {"on": "2025-06-30", "reason": "Company closed"}
    cancelled = client.post(f"{url}/cancel", json=cancel, headers=staff_headers)
    assert cancelled.status_code == 200
    assert cancelled.get_json()["cancel_reason"] == "Company closed"
    status = client.get(url, query_string={"as_of": "2025-06-30"}, headers=staff_headers)
    assert status.get_json()["status"] == "cancelled"
    assert client.post(f"{url}/cancel", json=cancel, headers=staff_headers).status_code == 409
    no_reason = client.post(f"{url}/cancel", json={"on": "2025-06-30"}, headers=staff_headers)
    assert list(no_reason.get_json()["errors"]) == ["reason"]


def test_permissions(client, setup, viewer_headers, staff_headers):
    _plan, member = setup
    assert _create(client, viewer_headers, member).status_code == 403
    assert client.get(URL, headers=viewer_headers).status_code == 200
    assert client.get(URL).status_code == 401
    created = _create(client, staff_headers, member).get_json()
    url = f"{URL}/{created['id']}"
    assert client.patch(url, json={"notes": "x"}, headers=viewer_headers).status_code == 403
    payment = {"amount_cents": 100, "paid_on": "2025-01-01", "method": "card"}
    assert client.post(f"{url}/payments", json=payment, headers=viewer_headers).status_code == 403
    assert client.get(f"{URL}/00000000-0000-0000-0000-000000000000",
                      headers=viewer_headers).status_code == 404  # fmt: skip
