"""Renewals: the next period of a membership, created at most once."""

import uuid
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Membership
from services.errors import Conflict, InvalidInput
from services.journal import record_action
from services.membership_fees import compute_quote
from services.membership_plans import member_for_fee, schedule_for_period
from services.memberships import commit_membership, find_overlap, get_membership


def _renewal_of(session: Session, membership_id: uuid.UUID) -> uuid.UUID | None:
    return session.scalar(select(Membership.id).where(Membership.renewal_of_id == membership_id))


def build_renewal(session: Session, original: Membership) -> Membership:
    """The next period of ``original``, priced and checked, not yet added to the session.

    ``original.plan`` must be loaded. Raises ``InvalidInput`` when the schedule or the member's
    data cannot price it, ``Conflict`` when another membership takes the period.
    """
    plan = original.plan
    start = original.end_date + timedelta(days=1)
    member = member_for_fee(session, original.member_id)
    schedule = schedule_for_period(session, plan, start.year)
    quote = compute_quote(
        plan=plan,
        schedule=schedule,
        member=member,
        start=start,
        turnover_cents=original.declared_turnover_cents,
        exemption=original.exemption,
    )
    if clash := find_overlap(session, original.member_id, start, quote.period.end):
        raise clash
    renewal = Membership(
        id=uuid.uuid4(),
        member_id=original.member_id,
        plan_id=plan.id,
        year=quote.period.year,
        start_date=start,
        end_date=quote.period.end,
        grace_until=quote.period.end + timedelta(days=plan.grace_days),
        fee_cents=quote.fee_cents,
        currency=quote.currency,
        schedule_fee_cents=quote.fee_cents,
        fee_basis=quote.basis,
        declared_turnover_cents=original.declared_turnover_cents,
        exemption=original.exemption,
        renewal_of_id=original.id,
    )
    # Journaled as membership.renewed (not .created), naming the period it renews.
    record_action(session, renewal, "renewed", {"renewal_of_id": [None, original.id]})
    return renewal


def renew_membership(
    session: Session, *, membership_id: uuid.UUID, as_of: date
) -> tuple[Membership, bool]:
    """The membership's next period, starting the day after it ends, at the fee of that year's
    schedule; True if this call created it.

    Calling it again returns the same renewal: the original's row is locked while the renewal
    is looked for and created, and ``renewal_of_id`` is unique, so concurrent calls create one.
    The member's category, size, declared turnover and exemption are read again for the fee.
    """
    original = get_membership(session, membership_id, as_of=as_of, lock=True)
    if (existing := _renewal_of(session, membership_id)) is not None:
        session.rollback()  # release the lock; nothing was written
        return get_membership(session, existing, as_of=as_of), False
    if original.cancelled_on is not None:
        session.rollback()
        raise Conflict("A cancelled membership is not renewed.", field="cancelled_on")
    try:
        renewal = build_renewal(session, original)
    except (Conflict, InvalidInput):
        session.rollback()
        raise
    session.add(renewal)
    try:
        commit_membership(session, renewal)
    except Conflict:
        # Another transaction renewed it first (only possible for writers that skip the lock).
        if (existing := _renewal_of(session, membership_id)) is not None:
            return get_membership(session, existing, as_of=as_of), False
        raise
    return get_membership(session, renewal.id, as_of=as_of), True
