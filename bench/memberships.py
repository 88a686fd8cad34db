"""Deterministic membership data for the benchmark: plans, three years of fee schedules, each
member's memberships over those years (renewals chained), and their payments.

Called by ``bench.generate``; the rows follow the rules the services apply (periods, grace,
fees copied from the schedule), so the application reads them as it reads its own.
"""

import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bench.bulk import insert_rows
from models import FeeSchedule, Membership, MembershipPayment, MembershipPlan

YEARS = (2024, 2025, 2026)
GRACE_DAYS = 30
# (code, name, flat fee in cents, late-join policy, month)
PLANS = (
    ("full", "Full member", 120_000, "half_from_month", 7),
    ("startup", "Start-up offer", 40_000, "next_year_from_month", 10),
)
METHODS = ("transfer", "transfer", "transfer", "card", "cheque", "direct_debit")


@dataclass
class MembershipCounts:
    plans: int = 0
    schedules: int = 0
    memberships: int = 0
    payments: int = 0


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _plans(rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": _uuid(rng), "code": code, "name": name, "period_type": "calendar_year",
            "grace_days": GRACE_DAYS, "late_join_policy": policy, "late_join_month": month,
            "benefits": None, "is_active": True, "created_at": now, "updated_at": now,
            "version": 1,
        }
        for code, name, _fee, policy, month in PLANS
    ]  # fmt: skip


def _schedules(plans: Sequence[dict[str, Any]], rng: random.Random, now: datetime):
    fees = {code: fee for code, _name, fee, _policy, _month in PLANS}
    for plan in plans:
        for year in YEARS:
            fee = fees[plan["code"]] + (year - YEARS[0]) * 5_000
            yield {
                "id": _uuid(rng), "plan_id": plan["id"], "year": year, "currency": "EUR",
                "rules": [{"category": None, "basis": "flat", "headcount_bands": [],
                           "turnover_min_cents": None, "turnover_max_cents": None,
                           "amount_cents": fee, "label": None}],
                "floor_cents": None, "cap_cents": None, "exemptions": [],
                "created_at": now, "updated_at": now, "version": 1,
            }  # fmt: skip


def _membership_rows(
    rng: random.Random,
    member_ids: Sequence[uuid.UUID],
    plans: Sequence[dict[str, Any]],
    schedules: dict[tuple[uuid.UUID, int], int],
    payments: list[dict[str, Any]],
    now: datetime,
) -> Iterator[dict[str, Any]]:
    """Four members in five join, in one of the three years, and most renew every year."""
    for member_id in member_ids:
        if rng.random() >= 0.8:
            continue
        plan = plans[0] if rng.random() < 0.7 else plans[1]
        first_year = rng.choice(YEARS)
        previous: uuid.UUID | None = None
        start = date(first_year, rng.randrange(1, 13), 1)
        while start.year <= YEARS[-1]:
            end = date(start.year, 12, 31)
            fee = schedules[(plan["id"], start.year)]
            late = start.month >= (plan["late_join_month"] or 13)
            if late and plan["late_join_policy"] == "half_from_month":
                fee = (fee + 1) // 2
            if late and plan["late_join_policy"] == "next_year_from_month":
                end = date(start.year + 1, 12, 31)
            membership_id = _uuid(rng)
            approved = rng.random() < 0.7
            yield {
                "id": membership_id, "member_id": member_id, "plan_id": plan["id"],
                "year": start.year, "start_date": start, "end_date": end,
                "grace_until": end + timedelta(days=GRACE_DAYS),
                "approved_on": start + timedelta(days=rng.randrange(0, 40)) if approved else None,
                "cancelled_on": None, "cancel_reason": None, "fee_cents": fee,
                "currency": "EUR", "schedule_fee_cents": fee,
                "fee_basis": {"schedule_year": start.year, "rule_index": 0},
                "fee_override_reason": None, "declared_turnover_cents": None,
                "exemption": None, "notes": None, "external_id": None,
                "renewal_of_id": previous, "campaign_id": None,
                "created_at": now, "updated_at": now, "version": 1,
            }  # fmt: skip
            paid_share = rng.choice((1.0, 1.0, 1.0, 0.5, 0.0))
            instalments = [fee] if paid_share == 1.0 and rng.random() < 0.7 else []
            if paid_share == 1.0 and not instalments:
                instalments = [fee // 2, fee - fee // 2]
            elif paid_share == 0.5:
                instalments = [fee // 2]
            for number, amount in enumerate(instalments):
                payments.append({
                    "id": _uuid(rng), "membership_id": membership_id, "amount_cents": amount,
                    "currency": "EUR",
                    "paid_on": start + timedelta(days=15 + 45 * number + rng.randrange(0, 30)),
                    "method": rng.choice(METHODS), "reference": f"PAY-{rng.randrange(10**8)}",
                    "reason": None, "created_at": now, "updated_at": now, "version": 1,
                })  # fmt: skip
            if rng.random() < 0.1:
                break  # the member leaves
            previous = membership_id
            start = end + timedelta(days=1)


def generate_memberships(
    session: Session, rng: random.Random, member_ids: Sequence[uuid.UUID], batch_size: int
) -> MembershipCounts:
    """Insert plans, schedules, memberships and payments for ``member_ids`` (flushes only)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    counts = MembershipCounts()
    plans = _plans(rng, now)
    session.execute(insert(MembershipPlan), plans)
    schedules = list(_schedules(plans, rng, now))
    session.execute(insert(FeeSchedule), schedules)
    counts.plans, counts.schedules = len(plans), len(schedules)
    fees = {(s["plan_id"], s["year"]): s["rules"][0]["amount_cents"] for s in schedules}
    payments: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    for row in _membership_rows(rng, member_ids, plans, fees, payments, now):
        batch.append(row)
        if len(batch) >= batch_size:
            insert_rows(session, Membership, batch)
            counts.memberships += len(batch)
            batch = []
    if batch:
        insert_rows(session, Membership, batch)
        counts.memberships += len(batch)
    for start in range(0, len(payments), batch_size):
        insert_rows(session, MembershipPayment, payments[start : start + batch_size])
    counts.payments = len(payments)
    return counts
