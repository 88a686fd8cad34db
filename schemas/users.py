"""Bodies and query arguments of ``/users``."""

import marshmallow as ma

from schemas.common import AwareDateTime, ListQuery, page_of, sort_field
from schemas.fields import Email, Flag, QueryFlag, Text, TrimmedString
from services.roles import Role

ROLES = [role.value for role in Role]
PASSWORD = ma.validate.Length(min=12, max=256, error="Use 12 to 256 characters.")


class UserOut(ma.Schema):
    """A user account (never its password)."""

    id = ma.fields.UUID(dump_only=True)
    email = ma.fields.String()
    full_name = ma.fields.String()
    role = ma.fields.String(metadata={"enum": ROLES})
    is_active = ma.fields.Boolean()
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class UserCreate(ma.Schema):
    """A new account."""

    email = Email(required=True)
    password = ma.fields.String(required=True, load_only=True, validate=PASSWORD)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    full_name = TrimmedString(load_default="", validate=ma.validate.Length(max=200))


class UserPatch(ma.Schema):
    """Fields of an account that an admin may change; send only those that change."""

    full_name = TrimmedString(validate=ma.validate.Length(max=200))
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    is_active = Flag()
    password = ma.fields.String(load_only=True, validate=PASSWORD)


class UserQuery(ListQuery):
    """Filters of the user list."""

    sort = sort_field("created_at", "updated_at", "email", default="email")
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    is_active = QueryFlag()
    q = Text(
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "Search in e-mail and name."},
    )


UserPage = page_of(UserOut, "UserPage")
