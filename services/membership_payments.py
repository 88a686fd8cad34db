"""Payments and refunds of a membership: recorded once, never edited, only reversed."""

import uuid
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models import Membership, MembershipPayment
from models.types import utcnow
from services.errors import Conflict, InvalidInput, NotFound
from services.journal import record_action
from services.pagination import datetime_key
from services.transactions import commit

PAYMENT_SORT_KEYS = {"created_at": datetime_key(MembershipPayment.created_at)}


def _membership(session: Session, membership_id: uuid.UUID, *, lock: bool = False) -> Membership:
    stmt = select(Membership).where(Membership.id == membership_id)
    if lock:
        stmt = stmt.with_for_update()
    membership = session.scalar(stmt)
    if membership is None:
        raise NotFound("membership", membership_id)
    return membership


def list_payments(
    session: Session, *, membership_id: uuid.UUID, updated_since: datetime | None = None
) -> Select[tuple[MembershipPayment]]:
    """A membership's payments and refunds."""
    _membership(session, membership_id)
    stmt = select(MembershipPayment).where(MembershipPayment.membership_id == membership_id)
    if updated_since is not None:
        stmt = stmt.where(MembershipPayment.updated_at >= updated_since)
    return stmt


def get_payment(
    session: Session, *, membership_id: uuid.UUID, payment_id: uuid.UUID
) -> MembershipPayment:
    payment = session.scalar(
        select(MembershipPayment).where(
            MembershipPayment.id == payment_id, MembershipPayment.membership_id == membership_id
        )
    )
    if payment is None:
        raise NotFound("payment", payment_id)
    return payment


def paid_total(session: Session, membership_id: uuid.UUID) -> int:
    """Everything paid for the membership so far, refunds subtracted."""
    return session.scalar(
        select(func.coalesce(func.sum(MembershipPayment.amount_cents), 0)).where(
            MembershipPayment.membership_id == membership_id
        )
    )


def record_payment(
    session: Session,
    *,
    membership_id: uuid.UUID,
    amount_cents: int,
    paid_on: date,
    method: str,
    currency: str = "EUR",
    reference: str | None = None,
    reason: str | None = None,
) -> MembershipPayment:
    """Record money received (positive) or given back (negative, with a reason).

    A payment beyond the balance, or a refund beyond what was paid, is a 409: the membership
    row is locked while the total is read, so two payments at once cannot both fit.
    """
    membership = _membership(session, membership_id, lock=True)
    payment = stage_payment(
        session,
        membership,
        amount_cents=amount_cents,
        paid_on=paid_on,
        method=method,
        currency=currency,
        reference=reference,
        reason=reason,
    )
    commit(session)
    return payment


def stage_payment(
    session: Session,
    membership: Membership,
    *,
    amount_cents: int,
    paid_on: date,
    method: str,
    currency: str = "EUR",
    reference: str | None = None,
    reason: str | None = None,
) -> MembershipPayment:
    """``record_payment``'s checks and the payment, added to the session but not committed
    (an import commits a whole chunk); the caller holds the membership (locked or not)."""
    membership_id = membership.id
    if currency != membership.currency:
        raise InvalidInput({"currency": [f"The membership is billed in {membership.currency}."]})
    paid = paid_total(session, membership_id)
    if amount_cents > 0:
        if membership.cancelled_on is not None:
            raise Conflict("This membership is cancelled; only refunds are accepted.")
        balance = membership.fee_cents - paid
        if amount_cents > balance:
            raise Conflict(
                f"The payment exceeds the balance of {balance} cents.", field="amount_cents"
            )
    elif -amount_cents > paid:
        raise Conflict(f"The refund exceeds the {paid} cents paid.", field="amount_cents")
    payment = MembershipPayment(
        id=uuid.uuid4(),
        membership_id=membership_id,
        amount_cents=amount_cents,
        currency=currency,
        paid_on=paid_on,
        method=method,
        reference=reference,
        reason=reason,
    )
    session.add(payment)
    # A payment is part of the membership's representation (balance, status): move its ETag.
    membership.updated_at = payment.created_at = payment.updated_at = utcnow()
    # One entry, on the membership: payments are part of its history (membership.paid or
    # .refunded), with the payment and the total paid before and after.
    record_action(
        session,
        membership,
        "paid" if amount_cents > 0 else "refunded",
        {"payment_id": [None, payment.id], "paid_cents": [paid, paid + amount_cents]},
    )
    return payment
