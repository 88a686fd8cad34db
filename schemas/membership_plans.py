"""Bodies and query arguments of ``/membership-plans``, their fee schedules and quotes."""

from datetime import date
from typing import Any

import marshmallow as ma

from models import HEADCOUNT_BANDS, LateJoinPolicy, MemberCategory, PeriodType, SizeBasis
from schemas.common import AwareDateTime, ListQuery, page_of, sort_field
from schemas.fields import BoundedList, Flag, QueryFlag, Text, TrimmedString

MAX_CENTS = 1_000_000_000  # ten million euros: far above any fee
CODE = ma.validate.Regexp(
    r"^[a-z0-9][a-z0-9_-]{0,49}$",
    error="Use 1 to 50 lower-case letters, digits, '-' or '_', starting with a letter or digit.",
)
NAME = ma.validate.Length(min=1, max=200)
CURRENCY = ma.validate.Regexp(r"^[A-Z]{3}$", error="An ISO 4217 code such as EUR.")
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)


class Cents(ma.fields.Integer):
    """An amount in integer cents: 1250 for 12.50 EUR. Euros with decimals are refused."""

    default_error_messages = {
        "invalid": "Amounts are integer cents (1250 for 12.50 EUR).",
    }

    def __init__(
        self, *, minimum: int = 0, maximum: int = MAX_CENTS, strict: bool = True, **kwargs: Any
    ) -> None:
        # Not strict in query strings, where every value arrives as text.
        super().__init__(strict=strict, validate=ma.validate.Range(minimum, maximum), **kwargs)


class Day(ma.fields.Date):
    """A ``YYYY-MM-DD`` date within the years mrm handles (1900-2199)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=ma.validate.Range(FIRST_DAY, LAST_DAY), **kwargs)


class PlanOut(ma.Schema):
    """A membership plan."""

    id = ma.fields.UUID()
    code = ma.fields.String()
    name = ma.fields.String()
    period_type = ma.fields.String()
    grace_days = ma.fields.Integer()
    late_join_policy = ma.fields.String()
    late_join_month = ma.fields.Integer(allow_none=True)
    benefits = ma.fields.String(allow_none=True)
    is_active = ma.fields.Boolean()
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class PlanCreate(ma.Schema):
    """A new plan. A late-join policy (calendar-year plans only) needs its month."""

    code = ma.fields.String(required=True, validate=CODE)
    name = TrimmedString(required=True, validate=NAME)
    period_type = ma.fields.String(
        required=True, validate=ma.validate.OneOf([p.value for p in PeriodType])
    )
    grace_days = ma.fields.Integer(
        load_default=0, strict=True, validate=ma.validate.Range(min=0, max=366)
    )
    late_join_policy = ma.fields.String(
        load_default=LateJoinPolicy.NONE.value,
        validate=ma.validate.OneOf([p.value for p in LateJoinPolicy]),
        metadata={
            "description": "`half_from_month`: joining from `late_join_month` pays half; "
            "`next_year_from_month`: joining from that month also covers the next year."
        },
    )
    late_join_month = ma.fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=ma.validate.Range(1, 12)
    )
    benefits = TrimmedString(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=10_000)
    )
    is_active = Flag(load_default=True)


class PlanPatch(ma.Schema):
    """Fields of a plan to change; existing memberships keep their period and fee."""

    code = ma.fields.String(validate=CODE)
    name = TrimmedString(validate=NAME)
    period_type = ma.fields.String(validate=ma.validate.OneOf([p.value for p in PeriodType]))
    grace_days = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=366))
    late_join_policy = ma.fields.String(
        validate=ma.validate.OneOf([p.value for p in LateJoinPolicy])
    )
    late_join_month = ma.fields.Integer(
        allow_none=True, strict=True, validate=ma.validate.Range(1, 12)
    )
    benefits = TrimmedString(allow_none=True, validate=ma.validate.Length(max=10_000))
    is_active = Flag()


class PlanQuery(ListQuery):
    """Filters of the plan list."""

    sort = sort_field("code", "created_at", "updated_at", default="code")
    is_active = QueryFlag()
    code = Text(validate=ma.validate.Length(min=1, max=50))


class FeeRule(ma.Schema):
    """One line of a schedule: a category (null: any) and a size, and their fee."""

    category = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.OneOf([c.value for c in MemberCategory]),
    )
    basis = ma.fields.String(
        required=True, validate=ma.validate.OneOf([b.value for b in SizeBasis])
    )
    headcount_bands = BoundedList(
        ma.fields.String(validate=ma.validate.OneOf(HEADCOUNT_BANDS)),
        max_items=len(HEADCOUNT_BANDS),
        load_default=list,
        metadata={"description": "INSEE head-count band codes this rule covers (`headcount`)."},
    )
    turnover_min_cents = Cents(
        load_default=None, allow_none=True, maximum=10**15, metadata={"description": "Inclusive."}
    )
    turnover_max_cents = Cents(
        load_default=None, allow_none=True, maximum=10**15, metadata={"description": "Exclusive."}
    )
    amount_cents = Cents(required=True)
    label = TrimmedString(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))

    @ma.validates_schema
    def check_basis(self, data: dict[str, Any], **_kwargs: Any) -> None:
        basis = data.get("basis")
        if basis == SizeBasis.HEADCOUNT and not data.get("headcount_bands"):
            raise ma.ValidationError("Give the bands this rule covers.", "headcount_bands")
        if basis != SizeBasis.HEADCOUNT and data.get("headcount_bands"):
            raise ma.ValidationError("Only headcount rules list bands.", "headcount_bands")
        low, high = data.get("turnover_min_cents"), data.get("turnover_max_cents")
        if basis != SizeBasis.TURNOVER and (low is not None or high is not None):
            raise ma.ValidationError("Only turnover rules have brackets.", "turnover_min_cents")
        if low is not None and high is not None and high <= low:
            raise ma.ValidationError(
                "The bracket's maximum is not above its minimum.", "turnover_max_cents"
            )


class FeeExemption(ma.Schema):
    """A named exemption (founding member, public funder...) and the fee it sets."""

    code = ma.fields.String(required=True, validate=CODE)
    label = TrimmedString(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))
    amount_cents = Cents(load_default=0)


class ScheduleWrite(ma.Schema):
    """A plan's fees for one year; rules are tried in order, the first that fits applies."""

    currency = ma.fields.String(load_default="EUR", validate=CURRENCY)
    rules = BoundedList(ma.fields.Nested(FeeRule), required=True, min_items=1, max_items=200)
    floor_cents = Cents(load_default=None, allow_none=True)
    cap_cents = Cents(load_default=None, allow_none=True)
    exemptions = BoundedList(ma.fields.Nested(FeeExemption), load_default=list, max_items=50)

    @ma.validates_schema
    def check_bounds(self, data: dict[str, Any], **_kwargs: Any) -> None:
        floor, cap = data.get("floor_cents"), data.get("cap_cents")
        if floor is not None and cap is not None and cap < floor:
            raise ma.ValidationError("The cap is below the floor.", "cap_cents")
        codes = [exemption["code"] for exemption in data.get("exemptions", [])]
        if len(codes) != len(set(codes)):
            raise ma.ValidationError("Exemption codes must differ.", "exemptions")


class ScheduleOut(ma.Schema):
    """A fee schedule."""

    id = ma.fields.UUID()
    plan_id = ma.fields.UUID()
    year = ma.fields.Integer()
    currency = ma.fields.String()
    rules = ma.fields.List(ma.fields.Nested(FeeRule))
    floor_cents = ma.fields.Integer(allow_none=True)
    cap_cents = ma.fields.Integer(allow_none=True)
    exemptions = ma.fields.List(ma.fields.Nested(FeeExemption))
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class ScheduleQuery(ListQuery):
    """Arguments of a plan's schedule list."""

    sort = sort_field("year", "updated_at", default="year")


class QuoteQuery(ma.Schema):
    """Who would join, from when, and the data the schedule may need."""

    member_id = ma.fields.UUID(required=True)
    start = Day(required=True, metadata={"description": "First day of the period."})
    turnover_cents = Cents(
        maximum=10**15,
        strict=False,
        metadata={"description": "Declared turnover, for turnover brackets."},
    )
    exemption = ma.fields.String(validate=[CODE, ma.validate.Length(max=50)])


class FeeQuote(ma.Schema):
    """A fee, the period it pays for, and the rule that produced it."""

    fee_cents = ma.fields.Integer()
    currency = ma.fields.String()
    start_date = ma.fields.Date(attribute="period.start")
    end_date = ma.fields.Date(attribute="period.end")
    year = ma.fields.Integer(attribute="period.year")
    late_join = ma.fields.String(attribute="period.late_join", allow_none=True)
    basis = ma.fields.Dict(
        metadata={"description": "The schedule year, the rule (and its index), and adjustments."}
    )


PlanPage = page_of(PlanOut, "PlanPage")
SchedulePage = page_of(ScheduleOut, "SchedulePage")
