"""Bodies of ``/auth``."""

import marshmallow as ma

from schemas.fields import BoundedList, Text
from schemas.users import UserOut
from services.roles import ALL_SCOPES


class TokenRequest(ma.Schema):
    """E-mail and password; optionally fewer scopes than the account's role grants."""

    email = Text(required=True, validate=ma.validate.Length(min=1, max=254))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=256)
    )
    scopes = BoundedList(
        ma.fields.String(validate=ma.validate.OneOf(sorted(ALL_SCOPES))),
        min_items=1,
        max_items=len(ALL_SCOPES),
        metadata={"description": "Ask for a subset of your scopes (e.g. a read-only token)."},
    )


class RefreshRequest(ma.Schema):
    """A refresh token, usable once: in the body, or as the bearer token."""

    refresh_token = Text(
        validate=ma.validate.Length(min=1, max=4000),
        metadata={"description": "May instead be sent as `Authorization: Bearer <refresh>`."},
    )


class LogoutRequest(ma.Schema):
    """Optional: what some clients send when logging out."""

    refresh_token = Text(
        validate=ma.validate.Length(min=1, max=4000),
        metadata={
            "description": "Accepted but not needed: the access token's login is revoked, "
            "its refresh token with it."
        },
    )


class TokenOut(ma.Schema):
    """Tokens: send ``Authorization: Bearer <access_token>``; refresh before it expires."""

    access_token = ma.fields.String()
    refresh_token = ma.fields.String(
        metadata={"may_be_absent": True, "description": "Absent for API clients."}
    )
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer(metadata={"description": "Access token lifetime in seconds."})
    scope = ma.fields.String(metadata={"description": "Space-separated scopes granted."})


class MeOut(UserOut):
    """The authenticated user and the scopes this token grants now."""

    scopes = ma.fields.List(ma.fields.String())
