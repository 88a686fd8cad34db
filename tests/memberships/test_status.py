"""Status on any day, at its boundary dates, in Python and in SQL (both databases)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import Membership, MembershipStatus
from services.membership_status import status_condition, status_on
from services.memberships import get_membership
from tests.memberships.factories import make_member, make_membership, make_payment, make_plan

D = date.fromisoformat
PENDING, ACTIVE, GRACE, EXPIRED, CANCELLED = (
    MembershipStatus.PENDING,
    MembershipStatus.ACTIVE,
    MembershipStatus.GRACE,
    MembershipStatus.EXPIRED,
    MembershipStatus.CANCELLED,
)


@pytest.fixture
def plan(session):
    return make_plan(session, grace_days=30)


def _status(session, membership, day):
    loaded = get_membership(session, membership.id, as_of=D(day))
    return status_on(loaded, as_of=loaded.as_of, paid_cents=loaded.paid_cents)


def _statuses(session, membership, days):
    return {day: _status(session, membership, day) for day in days}


def test_approved_membership_at_each_boundary(session, plan):
    membership = make_membership(
        session, member=make_member(session), plan=plan, start=D("2024-01-01"),
        approved_on=D("2024-01-01"),
    )  # fmt: skip
    assert membership.grace_until == D("2025-01-30")
    assert _statuses(
        session,
        membership,
        ["2023-12-31", "2024-01-01", "2024-12-31", "2025-01-01", "2025-01-30", "2025-01-31"],
    ) == {
        "2023-12-31": PENDING,
        "2024-01-01": ACTIVE,
        "2024-12-31": ACTIVE,  # last day of the period
        "2025-01-01": GRACE,
        "2025-01-30": GRACE,  # last grace day
        "2025-01-31": EXPIRED,
    }


def test_neither_approved_nor_paid_stays_pending_then_expires_without_grace(session, plan):
    membership = make_membership(
        session, member=make_member(session), plan=plan, start=D("2024-01-01")
    )
    assert _statuses(session, membership, ["2024-06-01", "2024-12-31", "2025-01-01"]) == {
        "2024-06-01": PENDING,
        "2024-12-31": PENDING,
        "2025-01-01": EXPIRED,
    }


def test_approval_counts_from_its_date(session, plan):
    membership = make_membership(
        session, member=make_member(session), plan=plan, start=D("2024-01-01"),
        approved_on=D("2024-03-15"),
    )  # fmt: skip
    assert _status(session, membership, "2024-03-14") == PENDING
    assert _status(session, membership, "2024-03-15") == ACTIVE


def test_partial_payments_activate_once_the_fee_is_paid(session, plan):
    membership = make_membership(
        session, member=make_member(session), plan=plan, start=D("2024-01-01"), fee_cents=100_000
    )
    make_payment(session, membership=membership, amount_cents=40_000, paid_on=D("2024-02-01"))
    make_payment(session, membership=membership, amount_cents=60_000, paid_on=D("2024-04-15"))
    assert _status(session, membership, "2024-04-14") == PENDING
    loaded = get_membership(session, membership.id, as_of=D("2024-04-14"))
    assert (loaded.paid_cents, loaded.fee_cents - loaded.paid_cents) == (40_000, 60_000)
    assert _status(session, membership, "2024-04-15") == ACTIVE


def test_a_refund_below_the_fee_makes_it_pending_again(session, plan):
    membership = make_membership(
        session, member=make_member(session), plan=plan, start=D("2024-01-01"), fee_cents=100_000
    )
    make_payment(session, membership=membership, amount_cents=100_000, paid_on=D("2024-02-01"))
    make_payment(
        session, membership=membership, amount_cents=-30_000, paid_on=D("2024-05-01"),
        reason="Paid twice by mistake",
    )  # fmt: skip
    assert _status(session, membership, "2024-04-30") == ACTIVE
    assert _status(session, membership, "2024-05-01") == PENDING


def test_a_zero_fee_is_paid_in_full(session, plan):
    membership = make_membership(
        session, member=make_member(session), plan=plan, start=D("2024-01-01"), fee_cents=0
    )
    assert _status(session, membership, "2024-01-01") == ACTIVE


def test_cancelled_from_its_date(session, plan):
    membership = make_membership(
        session, member=make_member(session), plan=plan, start=D("2024-01-01"),
        approved_on=D("2024-01-01"), cancelled_on=D("2024-06-30"), cancel_reason="Left",
    )  # fmt: skip
    assert _status(session, membership, "2024-06-29") == ACTIVE
    assert _status(session, membership, "2024-06-30") == CANCELLED
    assert _status(session, membership, "2025-06-30") == CANCELLED


def test_grace_ending_on_29_february(session):
    plan = make_plan(session, grace_days=60)
    membership = make_membership(
        session, member=make_member(session), plan=plan, start=D("2023-01-01"),
        approved_on=D("2023-01-01"),
    )  # fmt: skip
    assert membership.grace_until == D("2024-02-29")
    assert _status(session, membership, "2024-02-29") == GRACE
    assert _status(session, membership, "2024-03-01") == EXPIRED


def test_rolling_period_from_29_february(session):
    plan = make_plan(session, period_type="rolling_12_months", grace_days=0)
    membership = make_membership(
        session, member=make_member(session), plan=plan, start=D("2024-02-29"),
        end=D("2025-02-28"), approved_on=D("2024-02-29"),
    )  # fmt: skip
    assert _status(session, membership, "2024-02-28") == PENDING
    assert _status(session, membership, "2024-02-29") == ACTIVE
    assert _status(session, membership, "2025-02-28") == ACTIVE
    assert _status(session, membership, "2025-03-01") == EXPIRED


def test_sql_condition_agrees_with_python_on_every_boundary(session, plan):
    """The filters' SQL and the responses' Python are one rule: compare them day by day."""
    member = make_member
    cases = [
        make_membership(session, member=member(session), plan=plan, start=D("2024-01-01"),
                        approved_on=D("2024-01-01")),
        make_membership(session, member=member(session), plan=plan, start=D("2024-01-01")),
        make_membership(session, member=member(session), plan=plan, start=D("2024-01-01"),
                        approved_on=D("2024-03-15"), cancelled_on=D("2025-01-10"),
                        cancel_reason="Left"),
        make_membership(session, member=member(session), plan=plan, start=D("2024-02-29"),
                        end=D("2025-02-28"), fee_cents=0),
    ]  # fmt: skip
    paid = make_membership(session, member=member(session), plan=plan, start=D("2024-01-01"))
    make_payment(session, membership=paid, amount_cents=50_000, paid_on=D("2024-02-01"))
    make_payment(session, membership=paid, amount_cents=50_000, paid_on=D("2024-12-31"))
    cases.append(paid)
    ids = [m.id for m in cases]
    days = [D("2023-12-31"), D("2024-01-01"), D("2024-02-28"), D("2024-02-29"), D("2024-03-15")]
    days += [D("2024-12-30"), D("2024-12-31"), D("2025-01-01"), D("2025-01-10"), D("2025-01-30")]
    days += [D("2025-01-31"), D("2025-02-28"), D("2025-03-01"), D("2025-03-30"), D("2025-04-01")]
    seen = set()
    for day in days:
        expected = {status: set() for status in MembershipStatus}
        for membership in cases:
            expected[_status(session, membership, day.isoformat())].add(membership.id)
        for status in MembershipStatus:
            found = set(
                session.scalars(
                    select(Membership.id).where(
                        Membership.id.in_(ids), status_condition(status, day)
                    )
                )
            )
            assert found == expected[status], (day, status)
            if found:
                seen.add(status)
    assert seen == set(MembershipStatus)
    assert days[-1] - days[0] > timedelta(days=365)
