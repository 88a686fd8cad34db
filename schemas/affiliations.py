"""Bodies and query arguments of ``/contacts/{id}/affiliations``."""

from datetime import date
from typing import Any

import marshmallow as ma

from models import AffiliationRole
from schemas.common import AwareDateTime, ListQuery, page_of, sort_field
from schemas.fields import BoundedList, Flag, TrimmedString
from schemas.members import MemberRef

ROLES = [role.value for role in AffiliationRole]
JOB_TITLE = ma.validate.Length(max=200)


class AffiliationOut(ma.Schema):
    """A contact's position at a member."""

    id = ma.fields.UUID(dump_only=True)
    contact_id = ma.fields.UUID()
    member_id = ma.fields.UUID()
    member = ma.fields.Nested(MemberRef)
    job_title = ma.fields.String(allow_none=True)
    roles = ma.fields.List(ma.fields.String(metadata={"enum": ROLES}))
    start_date = ma.fields.Date(allow_none=True)
    end_date = ma.fields.Date(allow_none=True)
    is_primary = ma.fields.Boolean()
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


def _roles(**kwargs: Any) -> ma.fields.List:
    return BoundedList(
        ma.fields.String(validate=ma.validate.OneOf(ROLES)), max_items=len(ROLES), **kwargs
    )


class _PeriodCheck(ma.Schema):
    """The period cannot end before it starts (when both dates are in the body)."""

    @ma.validates_schema
    def _end_after_start(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start: date | None = data.get("start_date")
        end: date | None = data.get("end_date")
        if start is not None and end is not None and end < start:
            raise ma.ValidationError("Must be on or after start_date.", "end_date")


class AffiliationCreate(_PeriodCheck):
    """A new affiliation of the contact with a member."""

    member_id = ma.fields.UUID(required=True)
    job_title = TrimmedString(load_default=None, allow_none=True, validate=JOB_TITLE)
    roles = _roles(load_default=list)
    start_date = ma.fields.Date(load_default=None, allow_none=True)
    end_date = ma.fields.Date(load_default=None, allow_none=True)
    is_primary = Flag(
        load_default=False,
        metadata={"description": "Making it primary demotes the contact's previous primary."},
    )


class AffiliationPatch(_PeriodCheck):
    """Fields of an affiliation to change; its member cannot change (create another)."""

    job_title = TrimmedString(allow_none=True, validate=JOB_TITLE)
    roles = _roles()
    start_date = ma.fields.Date(allow_none=True)
    end_date = ma.fields.Date(allow_none=True)
    is_primary = Flag(
        metadata={"description": "true demotes the contact's previous primary affiliation."}
    )


class AffiliationQuery(ListQuery):
    """Arguments of a contact's affiliation list."""

    sort = sort_field("created_at", "updated_at", default="created_at")


AffiliationPage = page_of(AffiliationOut, "AffiliationPage")
