"""Bodies and query arguments of ``/interactions`` and of the member and contact timelines."""

from typing import Any

import marshmallow as ma

from models import InteractionChannel, InteractionKind, InteractionType, LinkRole
from schemas.common import (
    ArchiveFilters,
    AwareDateTime,
    ListQuery,
    QueryDateTime,
    page_of,
    sort_field,
)
from schemas.exports import ExportArgs
from schemas.fields import BoundedList, Flag, SearchText, Text, TrimmedString
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.timeline import TIMELINE_KINDS

KINDS = [kind.value for kind in InteractionKind]
TYPES = [kind.value for kind in InteractionType]
CHANNELS = [channel.value for channel in InteractionChannel]
ROLES = [role.value for role in LinkRole]
MAX_LINKS = 50
MAX_PARTICIPANTS = 20
SUBJECT = ma.validate.Length(min=1, max=200)
LONG_TEXT = ma.validate.Length(max=10_000)
EXTERNAL_ID = ma.validate.Length(min=1, max=100)
SOURCE = ma.validate.Length(min=1, max=100)
MINUTES = ma.validate.Range(min=0, max=100_000)
REASON = ma.validate.Length(max=500)


class MemberLink(ma.Schema):
    """A member concerned by the interaction, and its role in it."""

    member_id = ma.fields.UUID(required=True)
    role = ma.fields.String(
        load_default=LinkRole.PARTICIPANT.value, validate=ma.validate.OneOf(ROLES)
    )


class ContactLink(ma.Schema):
    """A contact concerned by the interaction, and their role in it."""

    contact_id = ma.fields.UUID(required=True)
    role = ma.fields.String(
        load_default=LinkRole.PARTICIPANT.value, validate=ma.validate.OneOf(ROLES)
    )


def _unique_ids(key: str) -> Any:
    def check(links: list[dict[str, Any]]) -> None:
        ids = [link[key] for link in links]
        if len(ids) != len(set(ids)):
            raise ma.ValidationError(f"Each {key} may appear only once.")

    return check


def _no_repeats(values: list[Any]) -> None:
    if len(values) != len(set(values)):
        raise ma.ValidationError("Each user may appear only once.")


def _members(**kwargs: Any) -> ma.fields.List:
    return BoundedList(
        ma.fields.Nested(MemberLink),
        max_items=MAX_LINKS,
        validate=_unique_ids("member_id"),
        **kwargs,
    )


def _contacts(**kwargs: Any) -> ma.fields.List:
    return BoundedList(
        ma.fields.Nested(ContactLink),
        max_items=MAX_LINKS,
        validate=_unique_ids("contact_id"),
        **kwargs,
    )


def _participants(**kwargs: Any) -> ma.fields.List:
    return BoundedList(ma.fields.UUID(), max_items=MAX_PARTICIPANTS, validate=_no_repeats, **kwargs)


class InteractionOut(ma.Schema):
    """An interaction with its links, staff users and follow-up."""

    id = ma.fields.UUID(dump_only=True)
    kind = ma.fields.String()
    type = ma.fields.String()
    channel = ma.fields.String(allow_none=True)
    subject = ma.fields.String()
    notes = ma.fields.String(allow_none=True)
    outcome = ma.fields.String(allow_none=True)
    minutes_spent = ma.fields.Integer(allow_none=True)
    occurred_at = AwareDateTime()
    members = ma.fields.List(ma.fields.Nested(MemberLink))
    contacts = ma.fields.List(ma.fields.Nested(ContactLink))
    owner_id = ma.fields.UUID()
    participant_ids = ma.fields.Function(
        lambda interaction: sorted(str(p.user_id) for p in interaction.participants),
        metadata={"type": "array", "items": {"type": "string", "format": "uuid"}},
    )
    confidential = ma.fields.Boolean()
    external_id = ma.fields.String(allow_none=True)
    source = ma.fields.String(allow_none=True)
    follow_up_due = ma.fields.Date(allow_none=True)
    follow_up_assignee_id = ma.fields.UUID(allow_none=True)
    follow_up_done = ma.fields.Boolean()
    follow_up_done_at = AwareDateTime(allow_none=True)
    is_archived = ma.fields.Function(
        lambda interaction: interaction.archived_at is not None, metadata={"type": "boolean"}
    )
    archived_at = AwareDateTime(allow_none=True)
    archive_reason = ma.fields.String(allow_none=True)
    restored_at = AwareDateTime(allow_none=True)
    restore_reason = ma.fields.String(allow_none=True)
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class InteractionPatch(ma.Schema):
    """Fields of an interaction to change; ``members``, ``contacts`` and ``participant_ids``,
    when sent, replace the previous lists."""

    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    type = ma.fields.String(validate=ma.validate.OneOf(TYPES))
    channel = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(CHANNELS))
    subject = TrimmedString(validate=SUBJECT)
    notes = TrimmedString(allow_none=True, validate=LONG_TEXT)
    outcome = TrimmedString(allow_none=True, validate=LONG_TEXT)
    minutes_spent = ma.fields.Integer(allow_none=True, strict=True, validate=MINUTES)
    occurred_at = AwareDateTime()
    members = _members()
    contacts = _contacts()
    owner_id = ma.fields.UUID(
        metadata={"description": "The staff user who owns the interaction (default: you)."}
    )
    participant_ids = _participants(
        metadata={"description": "Other staff users taking part (not the owner)."}
    )
    confidential = Flag()
    external_id = TrimmedString(allow_none=True, validate=EXTERNAL_ID)
    source = TrimmedString(allow_none=True, validate=SOURCE)
    follow_up_due = ma.fields.Date(allow_none=True)
    follow_up_assignee_id = ma.fields.UUID(allow_none=True)
    follow_up_done = Flag()


class InteractionCreate(InteractionPatch):
    """A new interaction: at least one member or contact."""

    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(TYPES))
    subject = TrimmedString(required=True, validate=SUBJECT)
    occurred_at = AwareDateTime(required=True)
    members = _members(load_default=list)
    contacts = _contacts(load_default=list)
    participant_ids = _participants(load_default=list)
    confidential = Flag(load_default=False)

    @ma.validates_schema
    def check_links(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.get("members") and not data.get("contacts"):
            raise ma.ValidationError(
                "Link the interaction to at least one member or contact.", field_name="members"
            )


class InteractionUpsert(InteractionPatch):
    """An interaction sent by an importer, identified by the `external_id` in the path.

    On creation the body is the new interaction (at least one member or contact); on update
    only the fields sent change, and lists sent replace the previous ones.
    """

    class Meta:
        exclude = ("external_id",)

    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(TYPES))
    subject = TrimmedString(required=True, validate=SUBJECT)
    occurred_at = AwareDateTime(required=True)


class InteractionArchive(ma.Schema):
    """Why an interaction is archived (optional)."""

    reason = TrimmedString(load_default=None, allow_none=True, validate=REASON)


class InteractionQuery(ArchiveFilters, ListQuery):
    """Filters of the interaction list."""

    sort = sort_field("occurred_at", "created_at", "updated_at", default="-occurred_at")
    q = SearchText(description="Search subject and notes, ignoring case and accents.")
    member_id = ma.fields.UUID(metadata={"description": "Only interactions with this member."})
    contact_id = ma.fields.UUID(metadata={"description": "Only interactions with this contact."})
    owner_id = ma.fields.UUID(metadata={"description": "Only interactions this user owns."})
    participant_id = ma.fields.UUID(
        metadata={"description": "Only interactions this staff user takes part in (or owns)."}
    )
    type = ma.fields.String(validate=ma.validate.OneOf(TYPES))
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    occurred_after = QueryDateTime(metadata={"description": "Occurred at or after this instant."})
    occurred_before = QueryDateTime(metadata={"description": "Occurred before this instant."})
    external_id = Text(validate=EXTERNAL_ID)
    assignee = Text(
        validate=[
            ma.validate.Length(max=36),
            ma.validate.Regexp(
                r"^(me|[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})$",
                error="Use me or a user id.",
            ),
        ],
        metadata={"description": "Follow-ups assigned to this user id, or `me`."},
    )
    follow_up = ma.fields.String(
        validate=ma.validate.OneOf(["open", "done"]),
        metadata={"description": "`open`: a follow-up not done yet; `done`: one done."},
    )
    due_before = ma.fields.Date(metadata={"description": "Follow-ups due before this date."})

    @ma.validates_schema
    def check_range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        after, before = data.get("occurred_after"), data.get("occurred_before")
        if after is not None and before is not None and after > before:
            raise ma.ValidationError(
                "Must not be before occurred_after.", field_name="occurred_before"
            )


InteractionPage = page_of(InteractionOut, "InteractionPage")


class TimelineItemOut(ma.Schema):
    """Something that happened with a member or a contact."""

    kind = ma.fields.String(
        metadata={"description": "One of: " + ", ".join(f"`{kind}`" for kind in TIMELINE_KINDS)}
    )
    at = AwareDateTime()
    summary = ma.fields.String()
    id = ma.fields.UUID(metadata={"description": "The id of the record the item is about."})
    href = ma.fields.String(metadata={"description": "Where to read that record."})


class TimelineQuery(ExportArgs):
    """Page and filters of a timeline (newest first)."""

    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Page size, at most {MAX_LIMIT}."},
    )
    cursor = Text(
        validate=ma.validate.Length(max=2000),
        metadata={"description": "Opaque cursor from the previous page's `next_cursor`."},
    )
    kinds = BoundedList(
        ma.fields.String(validate=ma.validate.OneOf(TIMELINE_KINDS)),
        max_items=len(TIMELINE_KINDS),
        metadata={"description": "Only these kinds (repeat the argument for several)."},
    )
    since = QueryDateTime(metadata={"description": "At or after this instant."})
    until = QueryDateTime(metadata={"description": "Before this instant."})

    @ma.validates_schema
    def check_range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ma.ValidationError("Must not be before since.", field_name="until")


TimelinePage = page_of(TimelineItemOut, "TimelinePage")
