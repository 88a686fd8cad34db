"""Bodies and query arguments of ``/memberships`` and their payments."""

from datetime import date
from typing import Any

import marshmallow as ma

from models import Membership, MembershipStatus, PaymentMethod
from schemas.common import AwareDateTime, ListQuery, page_of, sort_field
from schemas.fields import Text, TrimmedString
from schemas.membership_plans import CODE, CURRENCY, Cents, Day
from services.membership_status import status_on

STATUSES = [status.value for status in MembershipStatus]
METHODS = [method.value for method in PaymentMethod]
EXTERNAL_ID = ma.validate.Length(min=1, max=100)
REASON = ma.validate.Length(min=1, max=500)
NOTES = ma.validate.Length(max=10_000)


def _as_of(**kwargs: Any) -> Day:
    return Day(
        load_default=date.today,
        metadata={"description": "The day statuses, payments and balances are read at (today)."},
        **kwargs,
    )


class PlanRef(ma.Schema):
    """The plan of a membership."""

    id = ma.fields.UUID()
    code = ma.fields.String()
    name = ma.fields.String()


def _status(membership: Membership) -> str:
    return status_on(membership, as_of=membership.as_of, paid_cents=membership.paid_cents or 0)


class MembershipOut(ma.Schema):
    """A membership as it stood on ``as_of``: status, what was paid by then, the balance."""

    id = ma.fields.UUID()
    member_id = ma.fields.UUID()
    plan = ma.fields.Nested(PlanRef)
    year = ma.fields.Integer(metadata={"description": "Year of the fee schedule applied."})
    start_date = ma.fields.Date()
    end_date = ma.fields.Date()
    grace_until = ma.fields.Date()
    as_of = ma.fields.Date()
    status = ma.fields.Function(
        _status, metadata={"type": "string", "enum": STATUSES, "description": "On `as_of`."}
    )
    approved_on = ma.fields.Date(allow_none=True)
    cancelled_on = ma.fields.Date(allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)
    fee_cents = ma.fields.Integer()
    currency = ma.fields.String()
    schedule_fee_cents = ma.fields.Integer(
        metadata={"description": "The schedule's fee; differs from `fee_cents` when overridden."}
    )
    fee_override_reason = ma.fields.String(allow_none=True)
    fee_basis = ma.fields.Dict(metadata={"description": "The rule that produced the fee."})
    turnover_cents = ma.fields.Integer(attribute="declared_turnover_cents", allow_none=True)
    exemption = ma.fields.String(allow_none=True)
    paid_cents = ma.fields.Function(
        lambda m: m.paid_cents or 0,
        metadata={"type": "integer", "description": "Paid by `as_of`, refunds subtracted."},
    )
    balance_cents = ma.fields.Function(
        lambda m: m.fee_cents - (m.paid_cents or 0),
        metadata={"type": "integer", "description": "Still due on `as_of`."},
    )
    notes = ma.fields.String(allow_none=True)
    external_id = ma.fields.String(allow_none=True)
    renewal_of_id = ma.fields.UUID(allow_none=True)
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class MembershipCreate(ma.Schema):
    """A new membership. The period and fee follow from the plan and its schedule; a fee set
    by hand (`fee_cents`) needs the memberships:admin scope and a `fee_override_reason`."""

    member_id = ma.fields.UUID(required=True)
    plan = ma.fields.String(required=True, validate=CODE, metadata={"description": "Plan code."})
    start_date = Day(required=True)
    end_date = Day(
        load_default=None,
        allow_none=True,
        metadata={"description": "Leave out to take the plan's period."},
    )
    approved_on = Day(load_default=None, allow_none=True)
    turnover_cents = Cents(
        load_default=None,
        allow_none=True,
        maximum=10**15,
        metadata={"description": "Declared turnover, for schedules priced by turnover."},
    )
    exemption = ma.fields.String(load_default=None, allow_none=True, validate=CODE)
    fee_cents = Cents(load_default=None, allow_none=True)
    fee_override_reason = TrimmedString(load_default=None, allow_none=True, validate=REASON)
    notes = TrimmedString(load_default=None, allow_none=True, validate=NOTES)
    external_id = TrimmedString(load_default=None, allow_none=True, validate=EXTERNAL_ID)

    @ma.validates_schema
    def check(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("start_date"), data.get("end_date")
        if start is not None and end is not None and end < start:
            raise ma.ValidationError("The period ends before it starts.", "end_date")
        if data.get("fee_cents") is not None and not data.get("fee_override_reason"):
            raise ma.ValidationError("Say why the fee is set by hand.", "fee_override_reason")
        if data.get("fee_cents") is None and data.get("fee_override_reason"):
            raise ma.ValidationError(
                "Only a fee set by hand takes a reason.", "fee_override_reason"
            )


class MembershipUpsert(MembershipCreate):
    """A membership sent by an importer, identified by the `external_id` in the path.

    On creation the body is the new membership. On update only `approved_on` and `notes`
    change; the terms (member, plan, period, fee, turnover, exemption) may be sent again but
    not changed (409 naming the field).
    """

    class Meta:
        exclude = ("external_id",)

    end_date = Day(
        allow_none=True, metadata={"description": "Leave out to take the plan's period."}
    )
    approved_on = Day(allow_none=True)
    turnover_cents = Cents(
        allow_none=True,
        maximum=10**15,
        metadata={"description": "Declared turnover, for schedules priced by turnover."},
    )
    exemption = ma.fields.String(allow_none=True, validate=CODE)
    fee_cents = Cents(allow_none=True)
    fee_override_reason = TrimmedString(allow_none=True, validate=REASON)
    notes = TrimmedString(allow_none=True, validate=NOTES)


class MembershipPatch(ma.Schema):
    """What may change on a membership: its approval, notes and external id."""

    approved_on = Day(allow_none=True)
    notes = TrimmedString(allow_none=True, validate=NOTES)
    external_id = TrimmedString(allow_none=True, validate=EXTERNAL_ID)


class MembershipCancel(ma.Schema):
    """From when, and why, a membership is cancelled."""

    on = Day(required=True, metadata={"description": "First day the membership is cancelled."})
    reason = TrimmedString(required=True, validate=REASON)


class AsOfQuery(ma.Schema):
    """The day a membership is read at."""

    as_of = _as_of()


class MemberMembershipQuery(ListQuery):
    """Filters of a member's membership list."""

    sort = sort_field("start_date", "end_date", "created_at", "updated_at", default="start_date")
    as_of = _as_of()
    status = ma.fields.String(
        validate=ma.validate.OneOf(STATUSES), metadata={"description": "Status on `as_of`."}
    )
    plan = ma.fields.String(
        validate=[CODE, ma.validate.Length(max=50)], metadata={"description": "Plan code."}
    )
    year = ma.fields.Integer(validate=ma.validate.Range(1900, 2199))
    ends_before = Day(metadata={"description": "Periods ending before this day (reminders)."})
    external_id = Text(validate=EXTERNAL_ID)


class MembershipQuery(MemberMembershipQuery):
    """Filters of the membership list."""

    member_id = ma.fields.UUID()


class PaymentCreate(ma.Schema):
    """Money received, or given back with a negative amount and a reason."""

    amount_cents = Cents(required=True, minimum=-1_000_000_000)
    currency = ma.fields.String(load_default="EUR", validate=CURRENCY)
    paid_on = Day(required=True)
    method = ma.fields.String(required=True, validate=ma.validate.OneOf(METHODS))
    reference = TrimmedString(load_default=None, allow_none=True, validate=EXTERNAL_ID)
    reason = TrimmedString(load_default=None, allow_none=True, validate=REASON)

    @ma.validates_schema
    def check(self, data: dict[str, Any], **_kwargs: Any) -> None:
        amount = data.get("amount_cents")
        if amount == 0:
            raise ma.ValidationError("A payment moves money: not zero.", "amount_cents")
        if amount is not None and amount < 0 and not data.get("reason"):
            raise ma.ValidationError("A refund needs a reason.", "reason")


class PaymentOut(ma.Schema):
    """A payment (or a refund, negative)."""

    id = ma.fields.UUID()
    membership_id = ma.fields.UUID()
    amount_cents = ma.fields.Integer()
    currency = ma.fields.String()
    paid_on = ma.fields.Date()
    method = ma.fields.String()
    reference = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    created_at = AwareDateTime()


class PaymentQuery(ListQuery):
    """Arguments of a membership's payment list."""

    sort = sort_field("created_at", default="created_at")


MembershipPage = page_of(MembershipOut, "MembershipPage")
PaymentPage = page_of(PaymentOut, "PaymentPage")


class CampaignCreate(ma.Schema):
    """The year whose renewals the campaign creates (for periods that ended the year before)."""

    year = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1901, 2199))


class CampaignOut(ma.Schema):
    """A renewal campaign: what its latest run did, and its progress on `as_of`."""

    id = ma.fields.UUID(attribute="campaign.id")
    year = ma.fields.Integer(attribute="campaign.year")
    created_count = ma.fields.Integer(
        attribute="campaign.created_count", metadata={"description": "By the latest run."}
    )
    skipped_count = ma.fields.Integer(attribute="campaign.skipped_count")
    skipped = ma.fields.List(
        ma.fields.Dict(),
        attribute="campaign.skipped",
        metadata={"description": "Memberships the latest run skipped, with the reason."},
    )
    as_of = ma.fields.Date()
    members = ma.fields.Integer(
        metadata={"description": "Members active on the last day of the previous period."}
    )
    renewed = ma.fields.Integer(metadata={"description": "Renewal active (or in grace)."})
    pending = ma.fields.Integer(metadata={"description": "Renewal not yet approved nor paid."})
    lapsed = ma.fields.Integer(metadata={"description": "No renewal past grace, or it lapsed."})
    invoiced_cents = ma.fields.Integer()
    collected_cents = ma.fields.Integer()
    created_at = AwareDateTime(attribute="campaign.created_at")
    updated_at = AwareDateTime(attribute="campaign.updated_at")
