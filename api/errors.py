"""Every error path of the API ends here and leaves as one ``application/problem+json`` shape."""

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from api.problems import flatten_messages, problem_response
from services import errors as service_errors

logger = logging.getLogger("mrm.errors")

_HTTP_SLUGS = {
    400: "malformed-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
}


def validation_errors(messages: Mapping[str, Any]) -> dict[str, list[str]]:
    """Flatten webargs messages (keyed by location: json, query...) into field -> messages."""
    flat: dict[str, list[str]] = {}
    for location, location_messages in messages.items():
        root = "body" if location == "json" else location
        for field, field_messages in flatten_messages(location_messages).items():
            flat.setdefault(root if field == "body" else field, []).extend(field_messages)
    return flat


def handle_http_exception(error: HTTPException) -> Response:
    """Werkzeug and webargs errors: 404, 405, 413, 400 for bad JSON, 422 for invalid fields."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = validation_errors(data["messages"]) if "messages" in data else None
    headers: dict[str, str] = dict(data.get("headers") or {})
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    detail = error.description
    if status == 422:
        detail = "The request has invalid fields; see errors."
    elif status == 400 and errors:
        detail = "The request body is not valid JSON."
    if status >= 500:
        return handle_unexpected_error(error)
    return problem_response(
        status, detail=detail, slug=_HTTP_SLUGS.get(status), errors=errors, headers=headers
    )


def handle_service_error(error: service_errors.ServiceError) -> Response:
    """Map each domain error of ``services/errors.py`` to its HTTP status."""
    match error:
        case service_errors.NotFound():
            return problem_response(404, detail=error.detail, slug="not-found")
        case service_errors.InvalidInput():
            return problem_response(
                422,
                detail=error.detail,
                slug=error.rule or "validation-error",
                errors=error.errors,
            )
        case service_errors.Conflict():
            extra = {"existing": error.existing} if error.existing else None
            errors = {error.field: [error.detail]} if error.field else None
            return problem_response(
                409, detail=error.detail, slug=error.rule or "conflict", errors=errors, extra=extra
            )
        case service_errors.PreconditionFailed():
            return problem_response(412, detail=error.detail, slug="precondition-failed")
        case service_errors.AuthenticationFailed():
            return unauthorized(error.detail)
        case service_errors.PermissionDenied():
            return problem_response(403, detail=error.detail, slug="forbidden")
        case service_errors.TooManyAttempts():
            return problem_response(
                429,
                detail=error.detail,
                slug="too-many-requests",
                headers={"Retry-After": str(error.retry_after)},
            )
        case service_errors.ServiceBusy():
            return problem_response(
                503,
                detail=error.detail,
                slug="service-unavailable",
                headers={"Retry-After": str(error.retry_after)},
            )
    return handle_unexpected_error(error)


def handle_stale_data(_error: StaleDataError) -> Response:
    """A concurrent writer changed the row between our read and our UPDATE."""
    return problem_response(
        412, detail="The record was modified concurrently.", slug="precondition-failed"
    )


def handle_integrity_error(error: IntegrityError) -> Response:
    """A constraint no service translated: still the client's conflict, never a 500."""
    logger.warning("untranslated integrity error: %s", error.orig.__class__.__name__)
    return problem_response(
        409, detail="The request conflicts with existing data.", slug="conflict"
    )


def handle_data_error(error: DataError) -> Response:
    """A value the database cannot store (out of range, too long) that validation let through."""
    logger.warning("untranslated data error: %s", error.orig.__class__.__name__)
    return problem_response(
        422, detail="A value cannot be stored (out of range or too long).", slug="validation-error"
    )


def handle_unavailable_database(error: OperationalError) -> Response:
    logger.error(
        "database unavailable: %s",
        error.__class__.__name__,
        exc_info=error,
        extra={"fields": {"request_id": g.get("request_id")}},
    )
    return problem_response(
        503,
        detail="The database is unavailable; try again shortly.",
        slug="service-unavailable",
        headers={"Retry-After": "5"},
    )


def handle_unexpected_error(error: BaseException) -> Response:
    """A bug: log it with the request id and tell the client nothing about internals."""
    original = getattr(error, "original_exception", None) or error
    logger.error(
        "unhandled error",
        exc_info=original,
        extra={"fields": {"request_id": g.get("request_id")}},
    )
    return problem_response(
        500, detail="An unexpected error occurred; quote the request id to support."
    )


def unauthorized(detail: str = "A valid access token is required.") -> Response:
    return problem_response(
        401, detail=detail, slug="unauthorized", headers={"WWW-Authenticate": "Bearer"}
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(service_errors.ServiceError, handle_service_error)
    app.register_error_handler(StaleDataError, handle_stale_data)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(OperationalError, handle_unavailable_database)
    app.register_error_handler(Exception, handle_unexpected_error)
