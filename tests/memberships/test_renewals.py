"""POST /memberships/{id}/renew: the next period at that year's fee, created once."""

from datetime import date

import pytest
from sqlalchemy import func, select

from models import Membership
from tests.memberships.factories import make_member, make_membership, make_plan, make_schedule

URL = "/api/v1/memberships"


@pytest.fixture
def original(session):
    plan = make_plan(session, code="full", grace_days=30)
    make_schedule(session, plan=plan, year=2025)
    make_schedule(session, plan=plan, year=2026,
                  rules=[{"category": None, "basis": "flat", "amount_cents": 120_000}])  # fmt: skip
    membership = make_membership(
        session, member=make_member(session), plan=plan, start=date(2025, 1, 1),
        approved_on=date(2025, 1, 1),
    )  # fmt: skip
    session.commit()
    return membership


def test_renewal_takes_next_years_fee_and_is_created_once(client, session, staff_headers, original):
    first = client.post(f"{URL}/{original.id}/renew", headers=staff_headers)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert first.headers["Location"].endswith(f"{URL}/{body['id']}")
    assert (body["start_date"], body["end_date"], body["fee_cents"]) == (
        "2026-01-01", "2026-12-31", 120_000,
    )  # fmt: skip
    assert body["renewal_of_id"] == str(original.id)
    again = client.post(f"{URL}/{original.id}/renew", headers=staff_headers)
    assert again.status_code == 200
    assert again.get_json()["id"] == body["id"]
    count = select(func.count()).select_from(Membership)
    assert session.scalar(count) == 2


def test_renewal_without_next_years_schedule_names_the_date(client, session, staff_headers):
    plan = make_plan(session)
    membership = make_membership(session, member=make_member(session), plan=plan,
                                 start=date(2030, 1, 1))  # fmt: skip
    session.commit()
    response = client.post(f"{URL}/{membership.id}/renew", headers=staff_headers)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["start_date"]


def test_cancelled_memberships_are_not_renewed(client, session, staff_headers, original):
    original.cancelled_on, original.cancel_reason = date(2025, 6, 1), "Left"
    session.commit()
    response = client.post(f"{URL}/{original.id}/renew", headers=staff_headers)
    assert response.status_code == 409


def test_renewal_needs_write_scope(client, viewer_headers, original):
    assert client.post(f"{URL}/{original.id}/renew", headers=viewer_headers).status_code == 403
    unknown = f"{URL}/00000000-0000-0000-0000-000000000000/renew"
    assert client.post(unknown, headers=viewer_headers).status_code == 403


def test_a_renewal_is_pending_while_the_original_is_in_grace(
    client, session, staff_headers, original
):
    renewal = client.post(f"{URL}/{original.id}/renew", headers=staff_headers).get_json()
    url = f"{URL}/{renewal['id']}"
    during_grace = client.get(url, query_string={"as_of": "2026-01-15"}, headers=staff_headers)
    assert during_grace.get_json()["status"] == "pending"
    original_url = f"{URL}/{original.id}"
    old = client.get(original_url, query_string={"as_of": "2026-01-15"}, headers=staff_headers)
    assert old.get_json()["status"] == "grace"
