"""Bodies and query arguments of ``/events``, ``/events/{id}/registrations`` and
``/registrations``, and the attendance sheet and figures of an event."""

from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma

from models import EventStatus, EventType, MemberCategory, RegistrationRole, RegistrationStatus
from schemas.common import (
    ArchiveFilters,
    AwareDateTime,
    ListQuery,
    QueryDateTime,
    page_of,
    sort_field,
)
from schemas.fields import BoundedList, Email, Flag, SearchText, Text, TrimmedString, Website
from schemas.members import DomainRef
from services.events import time_zones

TYPES = [kind.value for kind in EventType]
STATUSES = [status.value for status in EventStatus]
CREATE_STATUSES = [EventStatus.DRAFT.value, EventStatus.PUBLISHED.value]
ROLES = [role.value for role in RegistrationRole]
REGISTRATION_STATUSES = [status.value for status in RegistrationStatus]
CATEGORIES = [category.value for category in MemberCategory]
TITLE = ma.validate.Length(min=1, max=200)
LONG_TEXT = ma.validate.Length(max=10_000)
EXTERNAL_ID = ma.validate.Length(min=1, max=100)
REASON = ma.validate.Length(max=500)
CENTS = ma.validate.Range(min=0, max=100_000_000)
CAPACITY = ma.validate.Range(min=0, max=1_000_000)


def _known_zone(name: str) -> None:
    """An IANA name; not an enum in the spec: hundreds of names such as ``Etc/GMT+1`` and
    ``Etc/GMT-1`` would make generated clients' enumerations collide."""
    if name not in time_zones():
        raise ma.ValidationError("Not an IANA time zone name (such as Europe/Paris).")


FIRST_YEAR, LAST_YEAR = 1970, 2199


class EventTime(AwareDateTime):
    """A timestamp with its offset on input (422 without one), between 1970 and 2199; shown at
    the event's wall clock, with the offset of that day in the event's time zone."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise ma.ValidationError(f"Use a time between {FIRST_YEAR} and {LAST_YEAR}.")
        return moment

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        local = value.astimezone(ZoneInfo(obj.timezone))
        offset = local.utcoffset()
        if offset is not None and offset.seconds % 60:
            # A local mean time of long ago has no RFC 3339 form: show UTC instead.
            return super()._serialize(value, attr, obj, **kwargs)
        return local.isoformat()


class EventPatch(ma.Schema):
    """Fields of an event to change; `domains` and `organiser_ids`, when sent, replace the
    previous lists. Times need an offset; they are shown in the event's `timezone`."""

    title = TrimmedString(validate=TITLE)
    type = ma.fields.String(validate=ma.validate.OneOf(TYPES))
    description = TrimmedString(allow_none=True, validate=LONG_TEXT)
    starts_at = EventTime()
    ends_at = EventTime()
    timezone = Text(
        allow_none=True,
        validate=[ma.validate.Length(min=1, max=64), _known_zone],
        metadata={"description": "IANA time zone of the event (default Europe/Paris)."},
    )
    venue = TrimmedString(allow_none=True, validate=ma.validate.Length(max=300))
    online_url = Website(allow_none=True)
    capacity = ma.fields.Integer(
        allow_none=True,
        strict=True,
        validate=CAPACITY,
        metadata={"description": "Seats for attendees; null: unlimited."},
    )
    registration_opens_at = EventTime(allow_none=True)
    registration_closes_at = EventTime(
        allow_none=True,
        metadata={"description": "Null: registration stays open until the event ends."},
    )
    members_only = Flag()
    member_price_cents = ma.fields.Integer(strict=True, validate=CENTS)
    non_member_price_cents = ma.fields.Integer(strict=True, validate=CENTS)
    organiser_ids = BoundedList(
        ma.fields.UUID(),
        max_items=20,
        metadata={"description": "Staff users who organise the event."},
    )
    co_funders = BoundedList(
        TrimmedString(validate=ma.validate.Length(min=1, max=100)),
        max_items=20,
        metadata={"description": "Labels of the co-funders (Région, Bpifrance, EU...)."},
    )
    domains = BoundedList(
        Text(validate=ma.validate.Length(min=1, max=50)),
        max_items=50,
        metadata={"description": "Codes of domains of activity (see `/domains`)."},
    )
    external_id = TrimmedString(allow_none=True, validate=EXTERNAL_ID)


class EventCreate(EventPatch):
    """A new event, a `draft` unless `status` is `published`."""

    title = TrimmedString(required=True, validate=TITLE)
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(TYPES))
    starts_at = EventTime(required=True)
    ends_at = EventTime(required=True)
    status = ma.fields.String(
        load_default=EventStatus.DRAFT.value, validate=ma.validate.OneOf(CREATE_STATUSES)
    )
    members_only = Flag(load_default=False)
    member_price_cents = ma.fields.Integer(strict=True, validate=CENTS, load_default=0)
    non_member_price_cents = ma.fields.Integer(strict=True, validate=CENTS, load_default=0)
    organiser_ids = BoundedList(ma.fields.UUID(), max_items=20, load_default=list)
    co_funders = BoundedList(
        TrimmedString(validate=ma.validate.Length(min=1, max=100)),
        max_items=20,
        load_default=list,
    )
    domains = BoundedList(
        Text(validate=ma.validate.Length(min=1, max=50)), max_items=50, load_default=list
    )


class EventUpsert(EventPatch):
    """An event sent by an importer, identified by the `external_id` in the path.

    On creation the body is the new event; on update only the fields sent change.
    """

    title = TrimmedString(required=True, validate=TITLE)
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(TYPES))
    starts_at = EventTime(required=True)
    ends_at = EventTime(required=True)


class EventOut(ma.Schema):
    """An event; its times are shown at its own wall clock (offset of the day)."""

    id = ma.fields.UUID(dump_only=True)
    title = ma.fields.String()
    type = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    starts_at = EventTime()
    ends_at = EventTime()
    timezone = ma.fields.String()
    venue = ma.fields.String(allow_none=True)
    online_url = ma.fields.String(allow_none=True)
    capacity = ma.fields.Integer(allow_none=True)
    registration_opens_at = EventTime(allow_none=True)
    registration_closes_at = EventTime(allow_none=True)
    members_only = ma.fields.Boolean()
    member_price_cents = ma.fields.Integer()
    non_member_price_cents = ma.fields.Integer()
    currency = ma.fields.String()
    organiser_ids = ma.fields.Function(
        lambda event: sorted(str(user.id) for user in event.organisers),
        metadata={"type": "array", "items": {"type": "string", "format": "uuid"}},
    )
    co_funders = ma.fields.List(ma.fields.String())
    domains = ma.fields.List(ma.fields.Nested(DomainRef))
    external_id = ma.fields.String(allow_none=True)
    cancelled_at = AwareDateTime(allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)
    completed_at = AwareDateTime(allow_none=True)
    is_archived = ma.fields.Function(
        lambda event: event.archived_at is not None, metadata={"type": "boolean"}
    )
    archived_at = AwareDateTime(allow_none=True)
    archive_reason = ma.fields.String(allow_none=True)
    restored_at = AwareDateTime(allow_none=True)
    restore_reason = ma.fields.String(allow_none=True)
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class EventCancellationOut(ma.Schema):
    """The cancelled event and how many registrations its cancellation cancelled."""

    event = ma.fields.Nested(EventOut)
    cancelled_registrations = ma.fields.Integer()


class EventCancel(ma.Schema):
    """Why the event is cancelled (optional)."""

    reason = TrimmedString(load_default=None, allow_none=True, validate=REASON)


class EventArchive(ma.Schema):
    """Why the event is archived (optional)."""

    reason = TrimmedString(load_default=None, allow_none=True, validate=REASON)


class EventQuery(ArchiveFilters, ListQuery):
    """Filters of the event list."""

    sort = sort_field("starts_at", "created_at", "updated_at", default="starts_at")
    q = SearchText(description="Search title, description and venue (accents ignored).")
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    type = ma.fields.String(validate=ma.validate.OneOf(TYPES))
    domain = Text(
        validate=ma.validate.Length(min=1, max=50), metadata={"description": "A domain code."}
    )
    organiser_id = ma.fields.UUID(metadata={"description": "Events this staff user organises."})
    starts_after = QueryDateTime(metadata={"description": "Starting at or after this instant."})
    starts_before = QueryDateTime(metadata={"description": "Starting before this instant."})
    external_id = Text(validate=EXTERNAL_ID)

    @ma.validates_schema
    def check_range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        after, before = data.get("starts_after"), data.get("starts_before")
        if after is not None and before is not None and after > before:
            raise ma.ValidationError("Must not be before starts_after.", field_name="starts_before")


EventPage = page_of(EventOut, "EventPage")


class RegistrationCreate(ma.Schema):
    """A contact (`contact_id`, for the member of their primary affiliation unless
    `member_id` says another) or a guest (`guest_name`, with an optional e-mail, organisation
    and its category)."""

    contact_id = ma.fields.UUID()
    member_id = ma.fields.UUID(
        metadata={"description": "The organisation the participant comes for."}
    )
    guest_name = TrimmedString(validate=TITLE)
    guest_email = Email()
    guest_organisation = TrimmedString(validate=ma.validate.Length(min=1, max=200))
    guest_category = ma.fields.String(validate=ma.validate.OneOf(CATEGORIES))
    role = ma.fields.String(
        load_default=RegistrationRole.ATTENDEE.value, validate=ma.validate.OneOf(ROLES)
    )
    notes = TrimmedString(validate=LONG_TEXT)

    @ma.validates_schema
    def check_participant(self, data: dict[str, Any], **_kwargs: Any) -> None:
        has_contact, has_guest = "contact_id" in data, "guest_name" in data
        if has_contact == has_guest:
            raise ma.ValidationError(
                "Give either contact_id or guest_name.", field_name="contact_id"
            )
        if has_contact:
            guest_fields = [
                name
                for name in ("guest_email", "guest_organisation", "guest_category")
                if name in data
            ]
            if guest_fields:
                raise ma.ValidationError("Only for a guest.", field_name=guest_fields[0])


class RegistrationPatch(ma.Schema):
    """The notes, or the organisation the participant comes for (the price follows it)."""

    member_id = ma.fields.UUID(allow_none=True)
    notes = TrimmedString(allow_none=True, validate=LONG_TEXT)


class RegistrationOut(ma.Schema):
    """A registration, with its place on the waiting list while it waits."""

    id = ma.fields.UUID(dump_only=True)
    event_id = ma.fields.UUID()
    contact_id = ma.fields.UUID(allow_none=True)
    member_id = ma.fields.UUID(allow_none=True)
    guest_name = ma.fields.String(allow_none=True)
    guest_email = ma.fields.String(allow_none=True)
    guest_organisation = ma.fields.String(allow_none=True)
    guest_category = ma.fields.String(allow_none=True)
    role = ma.fields.String()
    status = ma.fields.String()
    waitlist_position = ma.fields.Integer(
        allow_none=True, metadata={"description": "1 = next promoted; null unless waitlisted."}
    )
    price_cents = ma.fields.Integer()
    price_basis = ma.fields.String(
        metadata={"description": "`member` or `non_member`, from the membership on the day."}
    )
    currency = ma.fields.String()
    notes = ma.fields.String(allow_none=True)
    registered_at = AwareDateTime()
    cancelled_at = AwareDateTime(allow_none=True)
    checked_in_at = AwareDateTime(allow_none=True)
    promoted_at = AwareDateTime(allow_none=True)
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class EventRegistrationQuery(ListQuery):
    """Filters of an event's registrations."""

    sort = sort_field("registered_at", "created_at", "updated_at", default="registered_at")
    status = ma.fields.String(validate=ma.validate.OneOf(REGISTRATION_STATUSES))
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))


class RegistrationQuery(EventRegistrationQuery):
    """Filters of every registration: a contact's or a member's event history."""

    event_id = ma.fields.UUID()
    contact_id = ma.fields.UUID()
    member_id = ma.fields.UUID()


RegistrationPage = page_of(RegistrationOut, "RegistrationPage")


class ParticipantOut(ma.Schema):
    """One line of an attendance sheet."""

    registration_id = ma.fields.UUID()
    name = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    organisation = ma.fields.String(allow_none=True)
    member_id = ma.fields.UUID(allow_none=True)
    category = ma.fields.String()
    membership_status = ma.fields.String(
        allow_none=True, metadata={"description": "On the day of the event; null: none."}
    )
    is_member = ma.fields.Boolean()
    role = ma.fields.String()
    status = ma.fields.String()
    checked_in_at = AwareDateTime(allow_none=True)


class CategoryTotalsOut(ma.Schema):
    """Participants of one category of organisation."""

    category = ma.fields.String()
    participants = ma.fields.Integer()
    attended = ma.fields.Integer()
    no_show = ma.fields.Integer()
    registered = ma.fields.Integer()
    members = ma.fields.Integer()
    non_members = ma.fields.Integer()


class AttendanceTotalsOut(ma.Schema):
    participants = ma.fields.Integer()
    attended = ma.fields.Integer()
    no_show = ma.fields.Integer()
    members = ma.fields.Integer()
    non_members = ma.fields.Integer()
    by_category = ma.fields.List(ma.fields.Nested(CategoryTotalsOut))


class AttendanceSheet(ma.Schema):
    """The attendance sheet of an event: participants and totals by category."""

    event_id = ma.fields.UUID()
    title = ma.fields.String()
    starts_at = AwareDateTime()
    as_of = ma.fields.Date(metadata={"description": "The event's day, for membership status."})
    participants = ma.fields.List(ma.fields.Nested(ParticipantOut))
    totals = ma.fields.Nested(AttendanceTotalsOut)


class StatusCountsOut(ma.Schema):
    category = ma.fields.String()
    registered = ma.fields.Integer()
    waitlisted = ma.fields.Integer()
    cancelled = ma.fields.Integer()
    attended = ma.fields.Integer()
    no_show = ma.fields.Integer()


class EventFigures(ma.Schema):
    """Registrations of an event by status, overall and by category of organisation."""

    event_id = ma.fields.UUID()
    capacity = ma.fields.Integer(allow_none=True)
    seats_left = ma.fields.Integer(allow_none=True)
    registered = ma.fields.Integer()
    waitlisted = ma.fields.Integer()
    cancelled = ma.fields.Integer()
    attended = ma.fields.Integer()
    no_show = ma.fields.Integer()
    by_category = ma.fields.List(ma.fields.Nested(StatusCountsOut))
