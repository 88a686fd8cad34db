"""Journal entries as the change feed and as a record's history."""

import marshmallow as ma

from schemas.common import AwareDateTime, page_of
from schemas.exports import ExportArgs
from schemas.fields import BoundedDelimitedList, Text
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

EVENT_TYPE = ma.validate.Regexp(
    r"^[a-z_]{1,40}\.([a-z_]{1,40}|\*)$",
    error="Use an event type such as member.updated, or member.* for all of a resource's.",
)


class JournalEntryOut(ma.Schema):
    """One change: what happened to which record, when, by whom, and what changed."""

    seq = ma.fields.Integer(metadata={"description": "Position in the journal."})
    type = ma.fields.String(
        attribute="event_type", metadata={"description": "`<resource>.<verb>`."}
    )
    occurred_at = AwareDateTime()
    resource_type = ma.fields.String()
    resource_id = ma.fields.UUID()
    actor_user_id = ma.fields.UUID(allow_none=True)
    api_client_id = ma.fields.UUID(allow_none=True)
    request_id = ma.fields.String(allow_none=True)
    source = ma.fields.String(metadata={"description": "api, cli, worker or system."})
    changes = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.Raw()),
        allow_none=True,
        metadata={
            "description": "`{field: [old, new]}` for updates (a secret shows as changed, "
            "never its value); null for creations and deletions."
        },
    )


class ChangesQuery(ExportArgs):
    """Where to resume the feed, and which events to keep."""

    after = ma.fields.Integer(
        load_default=0,
        validate=ma.validate.Range(min=0, max=2**63 - 1),
        metadata={"description": "The last `seq` already seen (0 to start)."},
    )
    types = BoundedDelimitedList(
        Text(validate=[EVENT_TYPE, ma.validate.Length(max=81)]),
        max_items=20,
        load_default=(),
        metadata={"description": "Comma-separated event types; `member.*` for a resource's."},
    )
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Page size, at most {MAX_LIMIT}."},
    )


class ChangesPage(ma.Schema):
    """A run of the feed and the number to resume from."""

    data = ma.fields.List(ma.fields.Nested(JournalEntryOut), required=True)
    next_after = ma.fields.Integer(
        required=True,
        metadata={"description": "Pass as `after` to continue (the last `seq` returned)."},
    )
    has_more = ma.fields.Boolean(required=True)


class HistoryQuery(ExportArgs):
    """Paging of a record's history (newest first)."""

    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Page size, at most {MAX_LIMIT}."},
    )
    cursor = Text(
        validate=ma.validate.Length(max=2000),
        metadata={"description": "Opaque cursor from the previous page's `next_cursor`."},
    )


HistoryPage = page_of(JournalEntryOut, "HistoryPage")
