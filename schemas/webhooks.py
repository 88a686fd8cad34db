"""Bodies and query arguments of ``/webhook-subscriptions``."""

import marshmallow as ma

from schemas.common import AwareDateTime, ListQuery, page_of, sort_field
from schemas.exports import ExportArgs
from schemas.fields import BoundedList, Flag, Text, TrimmedString

EVENT_PATTERN = ma.validate.Regexp(
    r"^(\*|[a-z_]{1,40}\.([a-z_]{1,40}|\*))$",
    error="Use an event type (member.updated), a resource's events (member.*) or *.",
)


def _event_types(**kwargs: object) -> ma.fields.List:
    return BoundedList(Text(validate=EVENT_PATTERN), min_items=1, max_items=50, **kwargs)


def _url(**kwargs: object) -> ma.fields.URL:
    return ma.fields.URL(
        schemes={"http", "https"},
        require_tld=False,
        validate=ma.validate.Length(max=2000),
        **kwargs,
    )


class SubscriptionOut(ma.Schema):
    """A subscription (its secret only in the answer that creates it)."""

    id = ma.fields.UUID(dump_only=True)
    url = ma.fields.String()
    event_types = ma.fields.List(ma.fields.String())
    description = ma.fields.String()
    is_active = ma.fields.Boolean()
    disabled_reason = ma.fields.String(
        allow_none=True,
        metadata={"description": "Why deliveries stopped, when they were turned off for failing."},
    )
    disabled_at = AwareDateTime(allow_none=True)
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class SubscriptionCreated(SubscriptionOut):
    """The new subscription with its signing secret, shown this once."""

    secret = ma.fields.String(
        metadata={"description": "Standard Webhooks signing secret (`whsec_...`); keep it."}
    )


class SubscriptionCreate(ma.Schema):
    """Where to send which events."""

    url = _url(required=True)
    event_types = _event_types(required=True)
    description = TrimmedString(load_default="", validate=ma.validate.Length(max=500))
    is_active = Flag(load_default=True)


class SubscriptionPatch(ma.Schema):
    """Fields of a subscription to change; turning it on again clears `disabled_reason`."""

    url = _url()
    event_types = _event_types()
    description = TrimmedString(validate=ma.validate.Length(max=500))
    is_active = Flag()


class SubscriptionQuery(ListQuery):
    """Paging of the subscriptions."""

    sort = sort_field("created_at", default="created_at")


SubscriptionPage = page_of(SubscriptionOut, "SubscriptionPage")


class AttemptOut(ma.Schema):
    """One HTTP request of a delivery."""

    attempted_at = AwareDateTime()
    status_code = ma.fields.Integer(allow_none=True)
    duration_ms = ma.fields.Integer()
    error = ma.fields.String(allow_none=True)
    response_body = ma.fields.String(
        allow_none=True, metadata={"description": "The first 1 KiB of the answer."}
    )


class DeliveryOut(ma.Schema):
    """A journal entry sent (or to send) to the subscription, with its attempts."""

    id = ma.fields.UUID()
    webhook_id = ma.fields.String(
        attribute="journal_seq", metadata={"description": "The `webhook-id` header: the seq."}
    )
    event_type = ma.fields.String()
    payload = ma.fields.Dict()
    status = ma.fields.String(metadata={"enum": ["pending", "succeeded", "failed"]})
    attempts = ma.fields.Integer()
    created_at = AwareDateTime()
    next_attempt_at = AwareDateTime(allow_none=True)
    delivered_at = AwareDateTime(allow_none=True)
    attempt_log = ma.fields.List(ma.fields.Nested(AttemptOut))


class DeliveryQuery(ExportArgs):
    """Paging and filter of a subscription's delivery log (newest first)."""

    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))
    cursor = Text(validate=ma.validate.Length(max=2000))
    status = ma.fields.String(validate=ma.validate.OneOf(["pending", "succeeded", "failed"]))


DeliveryPage = page_of(DeliveryOut, "DeliveryPage")
