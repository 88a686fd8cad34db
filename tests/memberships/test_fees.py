"""Periods and fees: late-join policies, size bases, floors, caps, exemptions (pure rules)."""

from datetime import date

import pytest

from models import FeeSchedule, Member, MembershipPlan
from services.errors import InvalidInput
from services.membership_fees import compute_quote, period_for

D = date.fromisoformat
RULES = [
    {"category": "startup", "basis": "flat", "amount_cents": 50_000},
    {"category": "sme", "basis": "headcount", "headcount_bands": ["01", "02", "03"],
     "amount_cents": 80_000},
    {"category": "sme", "basis": "headcount", "headcount_bands": ["11", "12", "21"],
     "amount_cents": 150_000},
    {"category": "large_company", "basis": "turnover", "turnover_min_cents": 0,
     "turnover_max_cents": 100_000_000_00, "amount_cents": 500_000},
    {"category": "large_company", "basis": "turnover", "turnover_min_cents": 100_000_000_00,
     "amount_cents": 1_500_000},
    {"category": None, "basis": "flat", "amount_cents": 30_000},
]  # fmt: skip


def plan(**fields):
    fields.setdefault("code", "full")
    fields.setdefault("period_type", "calendar_year")
    fields.setdefault("late_join_policy", "none")
    fields.setdefault("grace_days", 30)
    return MembershipPlan(name="Full", **fields)


def schedule(**fields):
    fields.setdefault("rules", RULES)
    fields.setdefault("exemptions", [{"code": "founding_member", "amount_cents": 0}])
    fields.setdefault("currency", "EUR")
    return FeeSchedule(year=2025, **fields)


def member(category="sme", band=None):
    return Member(name="M", category=category, headcount_band=band)


def quote(start="2025-01-15", plan_=None, schedule_=None, member_=None, **kwargs):
    return compute_quote(
        plan=plan_ or plan(), schedule=schedule_ or schedule(),
        member=member_ or member(band="12"), start=D(start), **kwargs,
    )  # fmt: skip


def test_calendar_year_period():
    period = period_for(plan(), D("2025-03-10"))
    assert (period.start, period.end, period.year, period.late_join) == (
        D("2025-03-10"), D("2025-12-31"), 2025, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("start", "end"),
    [("2024-02-29", "2025-02-28"), ("2024-03-01", "2025-02-28"), ("2025-01-01", "2025-12-31"),
     ("2023-03-01", "2024-02-29")],
)  # fmt: skip
def test_rolling_period_is_twelve_months(start, end):
    assert period_for(plan(period_type="rolling_12_months"), D(start)).end == D(end)


def test_no_late_join_policy_pays_in_full_whenever():
    result = quote("2025-11-30")
    assert result.fee_cents == 150_000
    assert result.period.end == D("2025-12-31")
    assert result.basis["late_join"] is None


def test_half_from_month():
    late = plan(late_join_policy="half_from_month", late_join_month=7)
    assert quote("2025-06-30", plan_=late).fee_cents == 150_000
    joined = quote("2025-07-01", plan_=late)
    assert joined.fee_cents == 75_000
    assert joined.basis["late_join"] == "half"
    assert joined.period.end == D("2025-12-31")
    odd = schedule(rules=[{"category": None, "basis": "flat", "amount_cents": 10_001}])
    assert quote("2025-07-01", plan_=late, schedule_=odd).fee_cents == 5_001  # rounded up


def test_next_year_from_month():
    late = plan(late_join_policy="next_year_from_month", late_join_month=10)
    assert quote("2025-09-30", plan_=late).period.end == D("2025-12-31")
    joined = quote("2025-10-01", plan_=late)
    assert joined.period.end == D("2026-12-31")
    assert joined.fee_cents == 150_000
    assert joined.period.year == 2025


def test_headcount_band_picks_the_rule_and_says_which():
    result = quote(member_=member(band="02"))
    assert result.fee_cents == 80_000
    assert result.basis["rule_index"] == 1
    assert result.basis["rule"] == RULES[1]
    assert result.currency == "EUR"


def test_missing_headcount_band_names_the_field():
    with pytest.raises(InvalidInput) as error:
        quote(member_=member(band=None))
    assert list(error.value.errors) == ["headcount_band"]


def test_turnover_brackets():
    big = member(category="large_company", band="53")
    assert quote(member_=big, turnover_cents=99_999_999_99).fee_cents == 500_000
    assert quote(member_=big, turnover_cents=100_000_000_00).fee_cents == 1_500_000
    with pytest.raises(InvalidInput) as error:
        quote(member_=big)
    assert list(error.value.errors) == ["turnover_cents"]


def test_any_category_rule_and_no_rule():
    assert quote(member_=member(category="investor")).fee_cents == 30_000
    only_sme = schedule(rules=RULES[1:3])
    with pytest.raises(InvalidInput) as error:
        quote(member_=member(category="investor"), schedule_=only_sme)
    assert list(error.value.errors) == ["member_id"]


def test_floor_and_cap():
    bounded = schedule(floor_cents=90_000, cap_cents=100_000)
    low = quote(member_=member(band="01"), schedule_=bounded)
    assert (low.fee_cents, low.basis.get("floor_applied")) == (90_000, True)
    high = quote(member_=member(band="12"), schedule_=bounded)
    assert (high.fee_cents, high.basis.get("cap_applied")) == (100_000, True)


def test_floor_applies_after_the_half_fee():
    late = plan(late_join_policy="half_from_month", late_join_month=7)
    assert quote("2025-09-01", plan_=late, schedule_=schedule(floor_cents=100_000)).fee_cents == (
        100_000
    )


def test_named_exemption_sets_the_fee():
    result = quote(exemption="founding_member")
    assert result.fee_cents == 0
    assert result.basis["exemption"]["code"] == "founding_member"
    with pytest.raises(InvalidInput) as error:
        quote(exemption="public_funder")
    assert list(error.value.errors) == ["exemption"]
