"""A membership's status on a given day: the one rule, in Python and as SQL for filters.

The status is never stored. It follows from the dates, the approval, the payments made by that
day and the cancellation:

- ``cancelled`` from the cancellation date on;
- ``pending`` before the period starts, and during it until the membership is approved or
  paid in full (an exempt membership with a zero fee is paid in full);
- ``active`` during the period once approved or paid in full;
- ``grace`` after the period, up to ``grace_until``, for a membership that was approved or paid
  (the member is still counted while it renews);
- ``expired`` afterwards, and at once after the period for one never approved nor paid.

``status_on`` is what responses show; ``status_condition`` is the same rule as a SQL predicate,
written so that each status reads as a range of dates (sargable: the date indexes serve it).
A test runs both over boundary dates and requires them to agree.
"""

from datetime import date

from sqlalchemy import ColumnElement, and_, false, func, literal, not_, or_, select
from sqlalchemy.types import Date

from models import Membership, MembershipPayment, MembershipStatus


def status_on(membership: Membership, *, as_of: date, paid_cents: int) -> MembershipStatus:
    """The status of ``membership`` on ``as_of``, given what was paid by then."""
    if membership.cancelled_on is not None and membership.cancelled_on <= as_of:
        return MembershipStatus.CANCELLED
    if as_of < membership.start_date:
        return MembershipStatus.PENDING
    approved = membership.approved_on is not None and membership.approved_on <= as_of
    in_good_standing = approved or paid_cents >= membership.fee_cents
    if as_of <= membership.end_date:
        return MembershipStatus.ACTIVE if in_good_standing else MembershipStatus.PENDING
    if as_of <= membership.grace_until and in_good_standing:
        return MembershipStatus.GRACE
    return MembershipStatus.EXPIRED


def paid_cents_expression(as_of: date) -> ColumnElement[int]:
    """Payments (refunds subtracted) made for the membership by ``as_of``, as a subquery."""
    return (
        select(func.coalesce(func.sum(MembershipPayment.amount_cents), 0))
        .where(
            MembershipPayment.membership_id == Membership.id,
            MembershipPayment.paid_on <= as_of,
        )
        .correlate(Membership)
        .scalar_subquery()
    )


def as_of_expression(as_of: date) -> ColumnElement[date]:
    """The day itself, echoed by the database so that each loaded row knows it."""
    return literal(as_of, Date())


def status_condition(status: MembershipStatus, as_of: date) -> ColumnElement[bool]:
    """Memberships whose ``status_on(as_of)`` is ``status``, as a WHERE clause."""
    m = Membership
    not_cancelled = or_(m.cancelled_on.is_(None), m.cancelled_on > as_of)
    # Never NULL (NOT NULL would be NULL): an unapproved row must read as plainly false.
    in_good_standing = or_(
        and_(m.approved_on.is_not(None), m.approved_on <= as_of),
        paid_cents_expression(as_of) >= m.fee_cents,
    )
    match status:
        case MembershipStatus.CANCELLED:
            return m.cancelled_on <= as_of
        case MembershipStatus.PENDING:
            return and_(
                not_cancelled,
                or_(
                    m.start_date > as_of,
                    and_(m.start_date <= as_of, m.end_date >= as_of, not_(in_good_standing)),
                ),
            )
        case MembershipStatus.ACTIVE:
            return and_(not_cancelled, m.start_date <= as_of, m.end_date >= as_of, in_good_standing)
        case MembershipStatus.GRACE:
            return and_(not_cancelled, m.end_date < as_of, m.grace_until >= as_of, in_good_standing)
        case MembershipStatus.EXPIRED:
            return and_(
                not_cancelled,
                m.end_date < as_of,
                or_(m.grace_until < as_of, not_(in_good_standing)),
            )
    return false()
