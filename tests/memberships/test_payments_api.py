"""/memberships/{id}/payments: partial payments, balance, overpayment, refunds."""

from datetime import date

import pytest
from sqlalchemy import func, select

from models import MembershipPayment
from tests.memberships.factories import make_member, make_membership, make_plan

URL = "/api/v1/memberships"


@pytest.fixture
def membership(session):
    plan = make_plan(session)
    membership = make_membership(
        session, member=make_member(session), plan=plan, start=date(2025, 1, 1), fee_cents=100_000
    )
    session.commit()
    return membership


def _pay(client, headers, membership, amount, paid_on="2025-02-01", **extra):
    body = {"amount_cents": amount, "paid_on": paid_on, "method": "transfer", **extra}
    return client.post(f"{URL}/{membership.id}/payments", json=body, headers=headers)


def _read(client, headers, membership, as_of="2025-12-31"):
    return client.get(
        f"{URL}/{membership.id}", query_string={"as_of": as_of}, headers=headers
    ).get_json()


def test_partial_payments_and_the_balance(client, staff_headers, membership):
    first = _pay(client, staff_headers, membership, 40_000, reference="VIR-001")
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["reference"] == "VIR-001"
    assert first.headers["Location"].endswith(f"/payments/{first.get_json()['id']}")
    body = _read(client, staff_headers, membership)
    assert (body["paid_cents"], body["balance_cents"], body["status"]) == (
        40_000,
        60_000,
        "pending",
    )
    assert _pay(client, staff_headers, membership, 60_000, "2025-03-01").status_code == 201
    body = _read(client, staff_headers, membership)
    assert (body["paid_cents"], body["balance_cents"], body["status"]) == (100_000, 0, "active")
    early = _read(client, staff_headers, membership, as_of="2025-02-15")
    assert (early["paid_cents"], early["status"]) == (40_000, "pending")
    listed = client.get(f"{URL}/{membership.id}/payments", headers=staff_headers).get_json()
    assert [p["amount_cents"] for p in listed["data"]] == [40_000, 60_000]


def test_a_payment_beyond_the_balance_is_a_conflict(client, session, staff_headers, membership):
    assert _pay(client, staff_headers, membership, 70_000).status_code == 201
    refused = _pay(client, staff_headers, membership, 30_001)
    assert refused.status_code == 409
    assert "amount_cents" in refused.get_json()["errors"]
    count = select(func.count()).select_from(MembershipPayment)
    assert session.scalar(count) == 1


def test_refunds_are_negative_with_a_reason(client, staff_headers, membership):
    assert _pay(client, staff_headers, membership, 100_000).status_code == 201
    no_reason = _pay(client, staff_headers, membership, -20_000)
    assert no_reason.status_code == 422
    assert list(no_reason.get_json()["errors"]) == ["reason"]
    refund = _pay(client, staff_headers, membership, -20_000, "2025-04-01", reason="Discount")
    assert refund.status_code == 201
    assert refund.get_json()["reason"] == "Discount"
    body = _read(client, staff_headers, membership)
    assert (body["paid_cents"], body["balance_cents"]) == (80_000, 20_000)
    too_much = _pay(client, staff_headers, membership, -80_001, reason="Everything back")
    assert too_much.status_code == 409


def test_a_payment_moves_the_memberships_etag(client, staff_headers, membership):
    before = client.get(f"{URL}/{membership.id}", headers=staff_headers).headers["ETag"]
    _pay(client, staff_headers, membership, 1_000)
    after = client.get(f"{URL}/{membership.id}", headers=staff_headers).headers["ETag"]
    assert before != after


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_cents": 125.5}, "amount_cents"),
        ({"amount_cents": "100"}, "amount_cents"),
        ({"amount_cents": 0}, "amount_cents"),
        ({"method": "bitcoin"}, "method"),
        ({"paid_on": "2025-13-01"}, "paid_on"),
        ({"currency": "USD"}, "currency"),
    ],
)
def test_bad_payments_name_the_field(client, session, staff_headers, membership, change, field):
    body = {"amount_cents": 1_000, "paid_on": "2025-02-01", "method": "card", **change}
    response = client.post(f"{URL}/{membership.id}/payments", json=body, headers=staff_headers)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert session.scalar(select(func.count()).select_from(MembershipPayment)) == 0


def test_payments_of_an_unknown_membership(client, staff_headers):
    url = f"{URL}/00000000-0000-0000-0000-000000000000/payments"
    body = {"amount_cents": 1_000, "paid_on": "2025-02-01", "method": "card"}
    assert client.post(url, json=body, headers=staff_headers).status_code == 404
    assert client.get(url, headers=staff_headers).status_code == 404


def test_payments_are_never_edited(client, staff_headers, membership):
    payment = _pay(client, staff_headers, membership, 1_000).get_json()
    url = f"{URL}/{membership.id}/payments/{payment['id']}"
    assert client.get(url, headers=staff_headers).status_code == 200
    assert client.patch(url, json={"amount_cents": 2}, headers=staff_headers).status_code == 405
    assert client.delete(url, headers=staff_headers).status_code == 405
