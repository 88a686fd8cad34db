"""Membership plans, their yearly fee schedules, memberships and their payments.

Status is never stored: it follows from the dates, the approval, the payments and the
cancellation of a membership, as of any day (``services/membership_status.py``).
"""

import uuid
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from models.base import Base, RecordMixin
from models.members import Member


class PeriodType(StrEnum):
    CALENDAR_YEAR = "calendar_year"  # 1 January to 31 December of the start year
    ROLLING_12_MONTHS = "rolling_12_months"  # twelve months from the start date


class LateJoinPolicy(StrEnum):
    NONE = "none"
    HALF_FROM_MONTH = "half_from_month"  # joining from month N pays half the fee
    NEXT_YEAR_FROM_MONTH = "next_year_from_month"  # joining from month N also covers next year


class SizeBasis(StrEnum):
    HEADCOUNT = "headcount"  # INSEE head-count bands of the member
    TURNOVER = "turnover"  # turnover brackets, declared with the membership
    FLAT = "flat"


class PaymentMethod(StrEnum):
    TRANSFER = "transfer"
    CARD = "card"
    CHEQUE = "cheque"
    DIRECT_DEBIT = "direct_debit"
    OTHER = "other"


class MembershipStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    GRACE = "grace"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class MembershipPlan(RecordMixin, Base):
    """A kind of adhesion (full member, associate member, start-up offer...)."""

    __tablename__ = "membership_plans"

    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    period_type: Mapped[str] = mapped_column(String(20))
    grace_days: Mapped[int] = mapped_column(default=0)
    late_join_policy: Mapped[str] = mapped_column(String(30), default=LateJoinPolicy.NONE.value)
    late_join_month: Mapped[int | None] = mapped_column(default=None)  # 1-12, with a policy
    benefits: Mapped[str | None] = mapped_column(Text, default=None)
    is_active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        Index("ix_membership_plans_created_at_id", "created_at", "id"),
        Index("ix_membership_plans_updated_at_id", "updated_at", "id"),
    )


class FeeSchedule(RecordMixin, Base):
    """The fees of one plan for one year.

    ``rules`` are tried in order; the first whose category matches the member's decides the
    fee (``services/membership_fees.py``). Amounts are integer cents in ``currency``.
    """

    __tablename__ = "fee_schedules"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("membership_plans.id", ondelete="CASCADE")
    )
    year: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # [{"category": "sme" | null, "basis": "headcount", "headcount_bands": ["11", "12"],
    #   "turnover_min_cents": null, "turnover_max_cents": null, "amount_cents": 120000,
    #   "label": "..."}]
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    floor_cents: Mapped[int | None] = mapped_column(default=None)
    cap_cents: Mapped[int | None] = mapped_column(default=None)
    # [{"code": "founding_member", "label": "...", "amount_cents": 0}]
    exemptions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    plan: Mapped[MembershipPlan] = relationship(lazy="raise_on_sql")

    __table_args__ = (UniqueConstraint("plan_id", "year"),)


class Membership(RecordMixin, Base):
    """A member's adhesion to a plan for a period, at the fee fixed when it was created.

    Periods of one member never overlap: on PostgreSQL an exclusion constraint
    (``ex_memberships_member_period``, created by the migration) refuses it even to writers
    that skip the services' check.
    """

    __tablename__ = "memberships"

    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("membership_plans.id", ondelete="RESTRICT"), index=True
    )
    year: Mapped[int]  # the year of the fee schedule the fee came from
    start_date: Mapped[date]
    end_date: Mapped[date]
    # end_date + the plan's grace days at creation: a later change of the plan moves nothing.
    grace_until: Mapped[date]
    approved_on: Mapped[date | None] = mapped_column(default=None)
    cancelled_on: Mapped[date | None] = mapped_column(default=None)
    cancel_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    fee_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    schedule_fee_cents: Mapped[int]  # what the schedule gave, kept beside an override
    fee_basis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fee_override_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    declared_turnover_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    exemption: Mapped[str | None] = mapped_column(String(50), default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, default=None)
    # The membership this one renews; unique, so a period is renewed at most once.
    renewal_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="RESTRICT"), unique=True, default=None
    )
    # The renewal campaign that created this membership, if any.
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("membership_campaigns.id", ondelete="RESTRICT"), index=True, default=None
    )

    plan: Mapped[MembershipPlan] = relationship(lazy="raise_on_sql")
    member: Mapped[Member] = relationship(lazy="raise_on_sql", back_populates="memberships")
    renewal: Mapped["Membership | None"] = relationship(
        lazy="raise_on_sql",
        primaryjoin="Membership.id == foreign(Membership.renewal_of_id)",
        uselist=False,
        viewonly=True,
    )
    payments: Mapped[list["MembershipPayment"]] = relationship(
        lazy="raise_on_sql",
        order_by="(MembershipPayment.paid_on, MembershipPayment.created_at)",
        viewonly=True,
    )

    # Loaded by the services with ``with_expression`` for the day a read is "as of": the sum of
    # the payments made by then, and that day itself (None when a query did not ask).
    paid_cents: Mapped[int | None] = query_expression()
    as_of: Mapped[date | None] = query_expression()

    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="period"),
        CheckConstraint("grace_until >= end_date", name="grace"),
        CheckConstraint("fee_cents >= 0", name="fee"),
        # "Members active on a day": the member's memberships by start date.
        Index("ix_memberships_member_id_start_date", "member_id", "start_date", "grace_until"),
        Index("ix_memberships_start_date_end_date", "start_date", "end_date"),
        Index("ix_memberships_end_date_id", "end_date", "id"),
        Index("ix_memberships_created_at_id", "created_at", "id"),
        Index("ix_memberships_updated_at_id", "updated_at", "id"),
    )


class MembershipCampaign(RecordMixin, Base):
    """The yearly renewal campaign: pending renewals for the members of the previous period.

    One per year; running it again creates only the renewals still missing.
    """

    __tablename__ = "membership_campaigns"

    year: Mapped[int] = mapped_column(unique=True)
    created_count: Mapped[int] = mapped_column(default=0)  # by the latest run
    skipped_count: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class MembershipPayment(RecordMixin, Base):
    """Money received for a membership, or given back (a negative amount with a reason).

    Never edited: a wrong payment is reversed by a refund.
    """

    __tablename__ = "membership_payments"

    membership_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("memberships.id", ondelete="RESTRICT")
    )
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    paid_on: Mapped[date]
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(100), default=None)
    reason: Mapped[str | None] = mapped_column(String(500), default=None)

    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="amount"),
        Index("ix_membership_payments_membership_id_paid_on", "membership_id", "paid_on"),
        Index("ix_membership_payments_created_at_id", "created_at", "id"),
    )


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceCounter(Base):
    """The last invoice number given in a year; its row is locked by the issuing transaction,
    so numbers follow each other without gaps or duplicates."""

    __tablename__ = "invoice_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Invoice(RecordMixin, Base):
    """An issued invoice or credit note of a membership, frozen as issued.

    ``document`` holds what was issued (seller, buyer, lines, totals) and never changes when
    the member or the schedule does; a correction is a credit note with its own number.
    """

    __tablename__ = "invoices"

    number: Mapped[str] = mapped_column(String(10), unique=True)  # YYYY-NNNNN
    year: Mapped[int]
    sequence: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    membership_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("memberships.id", ondelete="RESTRICT"), index=True
    )
    # The invoice a credit note cancels; unique, so an invoice is credited at most once.
    credited_invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), unique=True, default=None
    )
    issued_on: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    total_excl_tax_cents: Mapped[int]
    vat_cents: Mapped[int]
    total_incl_tax_cents: Mapped[int]
    document: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("year", "sequence"),
        Index("ix_invoices_created_at_id", "created_at", "id"),
    )
