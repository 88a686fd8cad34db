"""Every write path of plans, schedules, memberships, payments, invoices and campaigns journals
exactly one entry per record it writes, named after the domain action; a refused write
journals nothing; the history endpoints list a membership's and a plan's entries."""

from datetime import date

import pytest

from tests.journal.helpers import entries_after, last_seq, summary
from tests.memberships.factories import (
    make_member,
    make_membership,
    make_payment,
    make_plan,
    make_schedule,
)

PLANS = "/api/v1/membership-plans"
URL = "/api/v1/memberships"
D = date.fromisoformat


def _one(session, start):
    found = entries_after(session, start)
    assert len(found) == 1, summary(found)
    return found[0]


def _none(session, start):
    assert summary(entries_after(session, start)) == []


@pytest.fixture
def setup(session):
    plan = make_plan(session, code="full", grace_days=30)
    make_schedule(session, plan=plan, year=2025)
    make_schedule(session, plan=plan, year=2026)
    member = make_member(session, category="sme", headcount_band="12")
    session.commit()
    return plan, member


def test_plan_and_schedule_writes(client, session, admin_headers):
    start = last_seq(session)
    body = {"code": "assoc", "name": "Associate", "period_type": "calendar_year"}
    response = client.post(PLANS, json=body, headers=admin_headers)
    assert response.status_code == 201
    plan_id = response.get_json()["id"]
    created = _one(session, start)
    assert (created.event_type, str(created.resource_id)) == ("membership_plan.created", plan_id)

    response = client.patch(f"{PLANS}/{plan_id}", json={"grace_days": 15}, headers=admin_headers)
    assert response.status_code == 200
    updated = _one(session, created.seq)
    assert (updated.event_type, updated.changes) == (
        "membership_plan.updated",
        {"grace_days": [0, 15]},
    )

    schedule = {"rules": [{"basis": "flat", "amount_cents": 1000}]}
    url = f"{PLANS}/{plan_id}/fee-schedules"
    assert client.put(f"{url}/2025", json=schedule, headers=admin_headers).status_code == 201
    put = _one(session, updated.seq)
    assert put.event_type == "fee_schedule.created"
    assert client.post(f"{url}/2025/copy-forward", headers=admin_headers).status_code == 201
    copied = _one(session, put.seq)
    assert (copied.event_type, copied.changes) == (
        "fee_schedule.copied",
        {"copied_from_year": [None, 2025]},
    )
    # Refused: a duplicate code, a second copy-forward.
    start = copied.seq
    assert client.post(PLANS, json=body, headers=admin_headers).status_code == 409
    assert client.post(f"{url}/2025/copy-forward", headers=admin_headers).status_code == 409
    _none(session, start)

    history = client.get(f"{PLANS}/{plan_id}/history", headers=admin_headers)
    assert history.status_code == 200
    assert [e["type"] for e in history.get_json()["data"]] == [
        "membership_plan.updated",
        "membership_plan.created",
    ]


def test_membership_life_in_the_journal_and_its_history(client, session, setup, staff_headers):
    _plan, member = setup
    start = last_seq(session)
    body = {"member_id": str(member.id), "plan": "full", "start_date": "2025-01-01"}
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 201
    membership_id = response.get_json()["id"]
    created = _one(session, start)
    assert (created.event_type, str(created.resource_id)) == ("membership.created", membership_id)

    # Refused: an overlapping period, an unknown plan, a payment beyond the balance.
    assert client.post(URL, json=body, headers=staff_headers).status_code == 409
    unknown = {**body, "plan": "nope", "start_date": "2027-01-01"}
    assert client.post(URL, json=unknown, headers=staff_headers).status_code == 422
    payments = f"{URL}/{membership_id}/payments"
    too_much = {"amount_cents": 100_001, "paid_on": "2025-02-01", "method": "transfer"}
    assert client.post(payments, json=too_much, headers=staff_headers).status_code == 409
    _none(session, created.seq)

    approve = client.patch(
        f"{URL}/{membership_id}", json={"approved_on": "2025-01-10"}, headers=staff_headers
    )
    assert approve.status_code == 200
    approved = _one(session, created.seq)
    assert (approved.event_type, approved.changes) == (
        "membership.approved",
        {"approved_on": [None, "2025-01-10"]},
    )

    paid = {"amount_cents": 60_000, "paid_on": "2025-02-01", "method": "transfer"}
    response = client.post(payments, json=paid, headers=staff_headers)
    assert response.status_code == 201
    payment_entry = _one(session, approved.seq)
    assert (payment_entry.event_type, str(payment_entry.resource_id)) == (
        "membership.paid",
        membership_id,
    )
    assert payment_entry.changes == {
        "payment_id": [None, response.get_json()["id"]],
        "paid_cents": [0, 60_000],
    }
    refund = {"amount_cents": -10_000, "paid_on": "2025-03-01", "method": "transfer",
              "reason": "Overpaid"}  # fmt: skip
    assert client.post(payments, json=refund, headers=staff_headers).status_code == 201
    refunded = _one(session, payment_entry.seq)
    assert refunded.event_type == "membership.refunded"
    assert refunded.changes["paid_cents"] == [60_000, 50_000]

    renew = client.post(f"{URL}/{membership_id}/renew", headers=staff_headers)
    assert renew.status_code == 201
    renewed = _one(session, refunded.seq)
    assert (renewed.event_type, str(renewed.resource_id)) == (
        "membership.renewed",
        renew.get_json()["id"],
    )
    assert renewed.changes == {"renewal_of_id": [None, membership_id]}
    # Renewing again returns the same renewal and writes nothing.
    assert client.post(f"{URL}/{membership_id}/renew", headers=staff_headers).status_code == 200
    _none(session, renewed.seq)

    cancel = {"on": "2025-06-30", "reason": "Left the cluster"}
    url = f"{URL}/{membership_id}/cancel"
    assert client.post(url, json=cancel, headers=staff_headers).status_code == 200
    cancelled = _one(session, renewed.seq)
    assert cancelled.event_type == "membership.cancelled"
    assert cancelled.changes["cancel_reason"] == [None, "Left the cluster"]
    assert client.post(url, json=cancel, headers=staff_headers).status_code == 409
    _none(session, cancelled.seq)

    history = client.get(f"{URL}/{membership_id}/history", headers=staff_headers)
    assert history.status_code == 200
    assert [entry["type"] for entry in history.get_json()["data"]] == [
        "membership.cancelled",
        "membership.refunded",
        "membership.paid",
        "membership.approved",
        "membership.created",
    ]
    missing = client.get(f"{URL}/{member.id}/history", headers=staff_headers)
    assert missing.status_code == 404


def test_invoice_and_credit_note_are_issued_entries(client, session, setup, staff_headers):
    plan, member = setup
    membership = make_membership(session, member=member, plan=plan, start=D("2025-01-01"))
    session.commit()
    start = last_seq(session)
    response = client.post(f"{URL}/{membership.id}/invoices", headers=staff_headers)
    assert response.status_code == 201
    invoice = response.get_json()
    issued = _one(session, start)
    assert (issued.event_type, str(issued.resource_id), issued.changes) == (
        "invoice.issued",
        invoice["id"],
        {"number": [None, invoice["number"]], "kind": [None, "invoice"]},
    )
    assert client.post(f"{URL}/{membership.id}/invoices", headers=staff_headers).status_code == 409
    _none(session, issued.seq)
    url = f"/api/v1/invoices/{invoice['id']}/credit-note"
    assert client.post(url, json={"reason": "Wrong"}, headers=staff_headers).status_code == 201
    note = _one(session, issued.seq)
    assert (note.event_type, note.changes["kind"]) == ("invoice.issued", [None, "credit_note"])


def test_campaign_journals_itself_and_each_renewal(client, session, setup, staff_headers):
    plan, member = setup
    paid = make_membership(session, member=member, plan=plan, start=D("2025-01-01"))
    make_payment(session, membership=paid, amount_cents=100_000, paid_on=D("2025-02-01"))
    session.commit()
    start = last_seq(session)
    response = client.post(
        "/api/v1/membership-campaigns", json={"year": 2026}, headers=staff_headers
    )
    assert response.status_code == 201
    found = entries_after(session, start)
    assert sorted(entry.event_type for entry in found) == [
        "membership.renewed",
        "membership_campaign.created",
    ]
    # Run again: nothing is missing, the counts are unchanged: nothing to journal.
    last = found[-1].seq
    again = client.post("/api/v1/membership-campaigns", json={"year": 2026}, headers=staff_headers)
    assert again.status_code == 200
    assert [e.event_type for e in entries_after(session, last)] in (
        [],
        ["membership_campaign.updated"],
    )


def test_membership_entries_follow_the_read_scope_in_the_feed(
    client, session, setup, staff_headers
):
    plan, member = setup
    start = last_seq(session)
    body = {"member_id": str(member.id), "plan": "full", "start_date": "2025-01-01"}
    assert client.post(URL, json=body, headers=staff_headers).status_code == 201
    feed = client.get(f"/api/v1/changes?after={start}", headers=staff_headers).get_json()
    assert [entry["type"] for entry in feed["data"]] == ["membership.created"]
    del plan
