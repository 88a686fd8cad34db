"""Bodies and query arguments of ``/api-clients`` and of the client-credentials grant."""

import marshmallow as ma

from schemas.common import MAY_BE_ABSENT, AwareDateTime, ListQuery, page_of, sort_field
from schemas.fields import BoundedList, Flag, QueryFlag, Text, TrimmedString
from services.api_clients import CLIENT_SCOPES, MAX_OVERLAP

DEFAULT_OVERLAP_SECONDS = 24 * 3600


def _scopes(**kwargs: object) -> ma.fields.List:
    return BoundedList(
        ma.fields.String(validate=ma.validate.OneOf(sorted(CLIENT_SCOPES))),
        min_items=1,
        max_items=len(CLIENT_SCOPES),
        metadata={
            "description": "What the client may do: a subset of the scopes (not `users:admin` "
            "nor the interactions scopes, which need a person)."
        },
        **kwargs,
    )


class ApiClientOut(ma.Schema):
    """An API client (never its secret). Its `id` is the OAuth 2 `client_id`."""

    id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String()
    description = ma.fields.String()
    scopes = ma.fields.List(ma.fields.String(), attribute="scope_list")
    is_active = ma.fields.Boolean()
    expires_at = AwareDateTime(
        allow_none=True, metadata={"description": "After this instant the client cannot log in."}
    )
    last_used_at = AwareDateTime(
        allow_none=True, metadata={"description": "When the client last obtained a token."}
    )
    secret_rotated_at = AwareDateTime(allow_none=True)
    previous_secret_expires_at = AwareDateTime(
        allow_none=True,
        metadata={"description": "Until when the secret replaced by the last rotation works."},
    )
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class ApiClientWithSecret(ApiClientOut):
    """The client with its new secret, shown this once (store it: it cannot be read again)."""

    client_id = ma.fields.UUID(attribute="id", metadata={"description": "Same as `id`."})
    client_secret = ma.fields.String(
        metadata={
            "description": "The secret (`mrm_...`), shown only in this answer: a replay of "
            "it for a retried `Idempotency-Key` leaves it out (it is never stored).",
            MAY_BE_ABSENT: True,
        }
    )


class ApiClientCreate(ma.Schema):
    """A new client and the scopes it gets (least privilege: only what it needs)."""

    name = TrimmedString(required=True, validate=ma.validate.Length(min=1, max=200))
    description = TrimmedString(load_default="", validate=ma.validate.Length(max=1000))
    scopes = _scopes(required=True)
    expires_at = AwareDateTime(allow_none=True, load_default=None)


class ApiClientPatch(ma.Schema):
    """Fields of a client an admin may change; send only those that change."""

    name = TrimmedString(validate=ma.validate.Length(min=1, max=200))
    description = TrimmedString(validate=ma.validate.Length(max=1000))
    scopes = _scopes()
    expires_at = AwareDateTime(allow_none=True)
    is_active = Flag(
        metadata={"description": "`false` stops the client's tokens at once."},
    )


class SecretRotation(ma.Schema):
    """How long the current secret keeps working beside the new one."""

    overlap_seconds = ma.fields.Integer(
        load_default=DEFAULT_OVERLAP_SECONDS,
        strict=True,
        validate=ma.validate.Range(min=0, max=int(MAX_OVERLAP.total_seconds())),
        metadata={"description": "0 revokes the current secret at once; default one day."},
    )


class ApiClientQuery(ListQuery):
    """Filters of the client list."""

    sort = sort_field("created_at", "updated_at", "name", default="name")
    is_active = QueryFlag()
    q = Text(
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "Search in name and description."},
    )


ApiClientPage = page_of(ApiClientOut, "ApiClientPage")


class ClientCredentialsRequest(ma.Schema):
    """OAuth 2 client-credentials grant (RFC 6749 section 4.4), form-encoded as the RFC says
    or as JSON. The client id and secret go here or in an `Authorization: Basic` header."""

    grant_type = ma.fields.String(required=True, validate=ma.validate.OneOf(["client_credentials"]))
    client_id = Text(validate=ma.validate.Length(min=1, max=100))
    client_secret = Text(validate=ma.validate.Length(min=1, max=200))
    scope = Text(
        validate=ma.validate.Length(min=1, max=1000),
        metadata={"description": "Space-separated subset of the client's scopes."},
    )
