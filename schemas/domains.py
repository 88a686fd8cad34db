"""Bodies and query arguments of ``/domains`` (the vocabulary of domains of activity)."""

import marshmallow as ma

from schemas.common import AwareDateTime, ListQuery, page_of, sort_field
from schemas.fields import Flag, QueryFlag, TrimmedString

CODE = ma.validate.Regexp(
    r"^[a-z][a-z0-9_]{1,49}$",
    error="Use 2 to 50 lower-case letters, digits or underscores, starting with a letter.",
)
LABEL = ma.validate.Length(min=1, max=100)


class DomainOut(ma.Schema):
    """A domain of activity."""

    id = ma.fields.UUID(dump_only=True)
    code = ma.fields.String(metadata={"description": "Stable slug clients send in `domains`."})
    label = ma.fields.String()
    is_active = ma.fields.Boolean(
        metadata={"description": "Inactive domains stay on members but cannot be given."}
    )
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class DomainCreate(ma.Schema):
    """A new domain of activity."""

    code = ma.fields.String(required=True, validate=CODE)
    label = TrimmedString(required=True, validate=LABEL)
    is_active = Flag(load_default=True)


class DomainPatch(ma.Schema):
    """A domain's label or active flag (the code never changes: importers rely on it)."""

    label = TrimmedString(validate=LABEL)
    is_active = Flag()


class DomainQuery(ListQuery):
    """Filters of the domain list."""

    sort = sort_field("code", "label", "created_at", "updated_at", default="code")
    is_active = QueryFlag()


DomainPage = page_of(DomainOut, "DomainPage")
