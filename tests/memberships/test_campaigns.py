"""Renewal campaigns: pending renewals for last period's members, idempotent, with progress."""

from datetime import date

from sqlalchemy import func, select

from models import Membership
from tests.memberships.factories import (
    make_member,
    make_membership,
    make_payment,
    make_plan,
    make_schedule,
)

URL = "/api/v1/membership-campaigns"
D = date.fromisoformat


def _setup(session):
    plan = make_plan(session, grace_days=30)
    make_schedule(session, plan=plan, year=2026)
    members = {}
    for name, approved in (("Paid", None), ("Approved", "2025-01-01"), ("Unpaid", None)):
        member = make_member(session, name=name, category="sme")
        members[name] = make_membership(
            session, member=member, plan=plan, start=D("2025-01-01"),
            approved_on=D(approved) if approved else None,
        )  # fmt: skip
    make_payment(session, membership=members["Paid"], amount_cents=100_000,
                 paid_on=D("2025-03-01"))  # fmt: skip
    cancelled = make_membership(
        session, member=make_member(session), plan=plan, start=D("2025-01-01"),
        approved_on=D("2025-01-01"), cancelled_on=D("2025-06-30"), cancel_reason="Left",
    )  # fmt: skip
    session.commit()
    return plan, members, cancelled


def test_campaign_renews_last_periods_members_once(client, session, staff_headers):
    _plan, members, _cancelled = _setup(session)
    response = client.post(URL, json={"year": 2026}, headers=staff_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["created_count"], body["skipped_count"], body["members"]) == (2, 0, 2)
    renewals = session.scalars(
        select(Membership).where(Membership.renewal_of_id.is_not(None))
    ).all()
    assert {r.renewal_of_id for r in renewals} == {members["Paid"].id, members["Approved"].id}
    assert {(r.start_date, str(r.campaign_id)) for r in renewals} == {(D("2026-01-01"), body["id"])}
    again = client.post(URL, json={"year": 2026}, headers=staff_headers)
    assert again.status_code == 200
    assert again.get_json()["id"] == body["id"]
    assert (again.get_json()["created_count"], again.get_json()["skipped_count"]) == (0, 2)
    assert session.scalar(select(func.count()).select_from(Membership)) == 6


def test_campaign_progress(client, session, staff_headers):
    _plan, members, _cancelled = _setup(session)
    campaign = client.post(URL, json={"year": 2026}, headers=staff_headers).get_json()
    renewal = session.scalar(
        select(Membership).where(Membership.renewal_of_id == members["Paid"].id)
    )
    make_payment(session, membership=renewal, amount_cents=100_000, paid_on=D("2026-01-10"))
    session.commit()
    invoice = client.post(f"/api/v1/memberships/{renewal.id}/invoices", headers=staff_headers)
    assert invoice.status_code == 201
    url = f"{URL}/{campaign['id']}"
    early = client.get(url, query_string={"as_of": "2026-01-20"}, headers=staff_headers)
    assert early.status_code == 200, early.get_json()
    progress = early.get_json()
    assert (progress["renewed"], progress["pending"], progress["lapsed"]) == (1, 1, 0)
    assert progress["collected_cents"] == 100_000
    assert progress["invoiced_cents"] == 0  # issued today, after 2026-01-20
    today = client.get(url, headers=staff_headers).get_json()
    assert today["as_of"] == date.today().isoformat()
    assert today["invoiced_cents"] == 100_000
    lapsed = client.get(url, query_string={"as_of": "2027-02-01"}, headers=staff_headers)
    # The unpaid renewal's period is over: it lapsed; the paid one stays renewed.
    after = lapsed.get_json()
    assert (after["renewed"], after["pending"], after["lapsed"]) == (1, 0, 1)


def test_members_that_cannot_be_renewed_are_skipped_with_the_reason(client, session, staff_headers):
    plan = make_plan(session)  # no 2026 schedule
    make_membership(session, member=make_member(session), plan=plan, start=D("2025-01-01"),
                    approved_on=D("2025-01-01"))  # fmt: skip
    session.commit()
    body = client.post(URL, json={"year": 2026}, headers=staff_headers).get_json()
    assert (body["created_count"], body["skipped_count"]) == (0, 1)
    assert "no fee schedule for 2026" in body["skipped"][0]["reason"]


def test_campaign_input_and_permissions(client, viewer_headers, staff_headers):
    assert client.post(URL, json={"year": 2026}, headers=viewer_headers).status_code == 403
    bad = client.post(URL, json={"year": "2026.5"}, headers=staff_headers)
    assert bad.status_code == 422
    assert "year" in bad.get_json()["errors"]
    missing = f"{URL}/00000000-0000-0000-0000-000000000000"
    assert client.get(missing, headers=viewer_headers).status_code == 404
