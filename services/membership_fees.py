"""What a membership costs and which period it covers: pure rules over a plan and a schedule.

Kept free of queries so that a quote and a creation compute the same thing, and so that the
rule that produced an amount can be shown to staff who must explain it.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from models import FeeSchedule, LateJoinPolicy, Member, MembershipPlan, PeriodType, SizeBasis
from services.errors import InvalidInput


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    year: int  # the year whose fee schedule prices the period
    late_join: str | None = None  # "half" or "next_year" when the plan's policy applied


@dataclass(frozen=True)
class Quote:
    """A fee, the period it pays for, and how it was reached."""

    fee_cents: int
    currency: str
    period: Period
    basis: dict[str, Any] = field(default_factory=dict)


def _anniversary(start: date) -> date:
    """The same day one year later; 29 February falls on 1 March in a common year."""
    try:
        return start.replace(year=start.year + 1)
    except ValueError:
        return date(start.year + 1, 3, 1)


def period_for(plan: MembershipPlan, start: date) -> Period:
    """The period a membership of ``plan`` starting on ``start`` covers.

    Calendar-year plans end on 31 December, or on 31 December of the next year when the
    plan's ``next_year_from_month`` policy applies; rolling plans last twelve months (the day
    before the anniversary).
    """
    if plan.period_type == PeriodType.ROLLING_12_MONTHS:
        return Period(start, _anniversary(start) - timedelta(days=1), start.year)
    late = plan.late_join_month is not None and start.month >= plan.late_join_month
    if late and plan.late_join_policy == LateJoinPolicy.NEXT_YEAR_FROM_MONTH:
        return Period(start, date(start.year + 1, 12, 31), start.year, "next_year")
    if late and plan.late_join_policy == LateJoinPolicy.HALF_FROM_MONTH:
        return Period(start, date(start.year, 12, 31), start.year, "half")
    return Period(start, date(start.year, 12, 31), start.year)


def _matches(rule: dict[str, Any], index: int, member: Member, turnover_cents: int | None) -> bool:
    """Whether a rule for the member's category applies to its size; a rule that needs a
    value the member lacks is a 422 naming that value, not a silent fall-through."""
    basis = rule["basis"]
    if basis == SizeBasis.FLAT:
        return True
    if basis == SizeBasis.HEADCOUNT:
        if member.headcount_band is None:
            raise InvalidInput(
                {
                    "headcount_band": [
                        f"Rule {index} of the schedule prices by head-count band, and this "
                        "member has none recorded."
                    ]
                },
                "The member lacks data the fee schedule needs.",
            )
        return member.headcount_band in rule.get("headcount_bands", [])
    if turnover_cents is None:
        raise InvalidInput(
            {
                "turnover_cents": [
                    f"Rule {index} of the schedule prices by turnover: declare the member's "
                    "turnover."
                ]
            },
            "The member lacks data the fee schedule needs.",
        )
    low = rule.get("turnover_min_cents") or 0
    high = rule.get("turnover_max_cents")
    return low <= turnover_cents and (high is None or turnover_cents < high)


def _exemption(schedule: FeeSchedule, code: str) -> dict[str, Any]:
    for exemption in schedule.exemptions:
        if exemption["code"] == code:
            return exemption
    known = ", ".join(e["code"] for e in schedule.exemptions) or "none"
    raise InvalidInput(
        {"exemption": [f"The {schedule.year} schedule has no exemption {code!r} (known: {known})."]}
    )


def compute_quote(
    *,
    plan: MembershipPlan,
    schedule: FeeSchedule,
    member: Member,
    start: date,
    turnover_cents: int | None = None,
    exemption: str | None = None,
) -> Quote:
    """The fee of ``member`` joining ``plan`` on ``start`` under ``schedule``.

    The first rule for the member's category (or for any category) that fits its size gives
    the amount; a late joiner under ``half_from_month`` pays half (rounded up to the cent);
    the floor and the cap bound the result; a named exemption replaces it.
    """
    period = period_for(plan, start)
    for index, rule in enumerate(schedule.rules):
        if rule.get("category") not in (None, member.category):
            continue
        if _matches(rule, index, member, turnover_cents):
            break
    else:
        raise InvalidInput(
            {
                "member_id": [
                    f"No rule of the {schedule.year} schedule of plan {plan.code!r} applies to a "
                    f"member of category {member.category!r} of this size."
                ]
            }
        )
    amount = int(rule["amount_cents"])
    basis: dict[str, Any] = {"schedule_year": schedule.year, "rule_index": index, "rule": rule}
    if period.late_join == "half":
        amount = (amount + 1) // 2
    basis["late_join"] = period.late_join
    if schedule.floor_cents is not None and amount < schedule.floor_cents:
        amount, basis["floor_applied"] = schedule.floor_cents, True
    if schedule.cap_cents is not None and amount > schedule.cap_cents:
        amount, basis["cap_applied"] = schedule.cap_cents, True
    if exemption is not None:
        granted = _exemption(schedule, exemption)
        amount = int(granted["amount_cents"])
        basis["exemption"] = granted
    return Quote(fee_cents=amount, currency=schedule.currency, period=period, basis=basis)
