"""Factories for plans, schedules, memberships and payments: they add and flush, never commit."""

import itertools
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from models import FeeSchedule, Member, Membership, MembershipPayment, MembershipPlan
from tests.members.factories import make_member

_sequence = itertools.count(1)

__all__ = ["make_member", "make_membership", "make_payment", "make_plan", "make_schedule"]

FLAT_RULES = [{"category": None, "basis": "flat", "amount_cents": 100_000}]


def make_plan(session: Session, **fields: Any) -> MembershipPlan:
    fields.setdefault("code", f"plan-{next(_sequence)}")
    fields.setdefault("name", "Full member")
    fields.setdefault("period_type", "calendar_year")
    fields.setdefault("grace_days", 30)
    plan = MembershipPlan(**fields)
    session.add(plan)
    session.flush()
    return plan


def make_schedule(
    session: Session, *, plan: MembershipPlan, year: int, **fields: Any
) -> FeeSchedule:
    fields.setdefault("rules", FLAT_RULES)
    schedule = FeeSchedule(plan_id=plan.id, year=year, **fields)
    session.add(schedule)
    session.flush()
    return schedule


def make_membership(
    session: Session,
    *,
    member: Member,
    plan: MembershipPlan,
    start: date,
    end: date | None = None,
    fee_cents: int = 100_000,
    grace_days: int | None = None,
    **fields: Any,
) -> Membership:
    end = end or date(start.year, 12, 31)
    grace = plan.grace_days if grace_days is None else grace_days
    membership = Membership(
        member_id=member.id,
        plan_id=plan.id,
        year=start.year,
        start_date=start,
        end_date=end,
        grace_until=end + timedelta(days=grace),
        fee_cents=fee_cents,
        schedule_fee_cents=fee_cents,
        **fields,
    )
    session.add(membership)
    session.flush()
    return membership


def make_payment(
    session: Session, *, membership: Membership, amount_cents: int, paid_on: date, **fields: Any
) -> MembershipPayment:
    fields.setdefault("method", "transfer")
    payment = MembershipPayment(
        membership_id=membership.id, amount_cents=amount_cents, paid_on=paid_on, **fields
    )
    session.add(payment)
    session.flush()
    return payment
