"""The error body every endpoint documents (RFC 9457)."""

import marshmallow as ma

from schemas.common import MAY_BE_ABSENT


class Problem(ma.Schema):
    """An ``application/problem+json`` error body."""

    type = ma.fields.String(metadata={"description": "URI identifying the kind of problem."})
    title = ma.fields.String(metadata={"description": "Short summary of the kind of problem."})
    status = ma.fields.Integer(metadata={"description": "HTTP status code."})
    detail = ma.fields.String(metadata={"description": "What went wrong with this request."})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={
            "description": "Messages per field, for validation errors and conflicts.",
            MAY_BE_ABSENT: True,
        },
    )
    existing = ma.fields.Dict(
        metadata={
            "description": "On a duplicate, the record that already holds the key.",
            MAY_BE_ABSENT: True,
        }
    )
    error = ma.fields.String(
        metadata={
            "description": "On a refused OAuth 2 client-credentials grant, its RFC 6749 "
            "error code (`invalid_client`, `invalid_request`...).",
            MAY_BE_ABSENT: True,
        }
    )
    error_description = ma.fields.String(
        metadata={"description": "With `error`: the same as `detail`.", MAY_BE_ABSENT: True}
    )
    request_id = ma.fields.String(
        allow_none=True, metadata={"description": "Quote it to support; it is in the logs."}
    )
