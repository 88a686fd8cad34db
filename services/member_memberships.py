"""A member's standing on a day: its current membership, ``member_since``, and the filter on
membership status that the member list offers.

The list loads every listed member's memberships and their payments in two queries per page
(whatever its size) and reads the rest here, with the one status rule of
``services/membership_status.py``.
"""

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists
from sqlalchemy.orm import selectinload, with_expression

from models import Member, Membership, MembershipPayment, MembershipStatus
from services.membership_status import as_of_expression, status_condition, status_on

MEMBER_STATUSES = (MembershipStatus.ACTIVE, MembershipStatus.GRACE)


def membership_loader_options(as_of: date) -> tuple[Any, ...]:
    """Load the members' memberships and payments, and remember the day they are read at.

    Only the columns the status and ``member_since`` read are loaded (the fee basis, a JSON
    document per membership, cost more to read than the rest of the row).
    """
    return (*_STANDING_LOADERS, with_expression(Member.membership_as_of, as_of_expression(as_of)))


_STANDING_LOADERS = (
    selectinload(Member.memberships)
    .load_only(
        Membership.member_id,
        Membership.plan_id,
        Membership.start_date,
        Membership.end_date,
        Membership.grace_until,
        Membership.approved_on,
        Membership.cancelled_on,
        Membership.fee_cents,
        raiseload=True,
    )
    .selectinload(Membership.payments)
    .load_only(
        MembershipPayment.membership_id,
        MembershipPayment.amount_cents,
        MembershipPayment.paid_on,
        raiseload=True,
    ),
)


def has_membership_status(status: str, as_of: date) -> ColumnElement[bool]:
    """Members with a membership in ``status`` on ``as_of`` (served by the index on the
    memberships' member and start date)."""
    return exists().where(
        Membership.member_id == Member.id, status_condition(MembershipStatus(status), as_of)
    )


def _paid_by(membership: Membership, day: date) -> int:
    return sum(p.amount_cents for p in membership.payments if p.paid_on <= day)


def _status(membership: Membership, as_of: date) -> MembershipStatus:
    return status_on(membership, as_of=as_of, paid_cents=_paid_by(membership, as_of))


def _active_from(membership: Membership, as_of: date) -> date | None:
    """The first day, by ``as_of``, the membership counted: approved or paid in full."""
    candidates = []
    if membership.approved_on is not None:
        candidates.append(membership.approved_on)
    paid = 0
    if membership.fee_cents <= 0:
        candidates.append(membership.start_date)
    for payment in membership.payments:
        paid += payment.amount_cents
        if paid >= membership.fee_cents:
            candidates.append(payment.paid_on)
            break
    counted = [max(day, membership.start_date) for day in candidates]
    first = min(counted, default=None)
    if first is None or first > as_of:
        return None
    if membership.cancelled_on is not None and membership.cancelled_on <= first:
        return None
    return first


def current_membership(member: Member) -> Membership | None:
    """The membership that makes the member one on its ``membership_as_of`` day (active, else
    in grace), or else the latest one started by then."""
    as_of = member.membership_as_of
    if as_of is None:
        return None
    started = [m for m in member.memberships if m.start_date <= as_of]
    for wanted in MEMBER_STATUSES:
        for membership in reversed(started):
            if _status(membership, as_of) == wanted:
                return membership
    return started[-1] if started else None


def membership_summary(member: Member) -> dict[str, Any] | None:
    """The current membership as a list row shows it."""
    membership = current_membership(member)
    if membership is None or member.membership_as_of is None:
        return None
    return {
        "id": str(membership.id),
        "plan_id": str(membership.plan_id),
        "start_date": membership.start_date.isoformat(),
        "end_date": membership.end_date.isoformat(),
        "status": _status(membership, member.membership_as_of).value,
    }


def member_since(member: Member) -> date | None:
    """Since when the member has been one without a break, on its ``membership_as_of`` day.

    A membership that starts counting (approved or paid) by the end of the previous one's
    grace period continues the run; one that starts counting later begins a new run. None
    when the member is not a member (active or in grace) that day.
    """
    as_of = member.membership_as_of
    if as_of is None:
        return None
    since: date | None = None
    covered_until: date | None = None
    for membership in member.memberships:
        if membership.start_date > as_of:
            break
        counted = _active_from(membership, as_of)
        if counted is None:
            continue
        if covered_until is None or counted > covered_until + timedelta(days=1):
            since = counted
        end = membership.grace_until
        if membership.cancelled_on is not None:
            end = min(end, membership.cancelled_on - timedelta(days=1))
        covered_until = end if covered_until is None else max(covered_until, end)
    if covered_until is None or covered_until < as_of:
        return None
    current = current_membership(member)
    if current is None or _status(current, as_of) not in MEMBER_STATUSES:
        return None
    return since
