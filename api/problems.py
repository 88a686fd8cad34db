"""Build RFC 9457 ``application/problem+json`` responses: the one error shape of the API."""

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Response, g

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:mrm:problem:"

# An error body stays small whatever the request was: a client sending thousands of bad
# fields learns about the first ones (the detail says how many more), as a person would fix
# them, and a field name or message echoing a huge input is shortened.
MAX_ERROR_FIELDS = 20
MAX_MESSAGES_PER_FIELD = 5
MAX_TEXT_LENGTH = 200


def problem_type(slug: str) -> str:
    return PROBLEM_TYPE_BASE + slug


def problem_response(
    status: int,
    *,
    detail: str | None = None,
    slug: str | None = None,
    title: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """A problem response with the request id, so that a client can quote it to support."""
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": problem_type(slug) if slug else "about:blank",
        "title": title or phrase,
        "status": status,
        "detail": detail or phrase,
    }
    if errors:
        body["errors"], left_out = _bounded(errors)
        if left_out:
            body["detail"] += (
                f" Only the first {MAX_ERROR_FIELDS} fields with errors are listed;"
                f" {left_out} more were left out."
            )
    if extra:
        body.update(extra)
    body["request_id"] = g.get("request_id")
    text = json.dumps(body, ensure_ascii=False)
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate echoed from the request: escape it
        text = json.dumps(body)
    response = Response(text, status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _shortened(text: str) -> str:
    return text if len(text) <= MAX_TEXT_LENGTH else text[: MAX_TEXT_LENGTH - 3] + "..."


def _bounded(errors: Mapping[str, list[str]]) -> tuple[dict[str, list[str]], int]:
    """The first ``MAX_ERROR_FIELDS`` fields' first messages, and how many fields were left."""
    bounded: dict[str, list[str]] = {}
    for listed, (name, messages) in enumerate(errors.items()):
        if listed == MAX_ERROR_FIELDS:
            return bounded, len(errors) - listed
        bounded.setdefault(_shortened(name), []).extend(
            _shortened(str(message)) for message in messages[:MAX_MESSAGES_PER_FIELD]
        )
    return bounded, 0


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into ``{"address.postal_code": ["..."]}``."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = "body" if key == "_schema" and not prefix else str(key)
            if key == "_schema" and prefix:
                name = ""
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            flat.update(flatten_messages(value, path))
        return flat
    if isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        return {prefix or "body": [str(m) for m in messages]}
    if isinstance(messages, list | tuple):
        flat = {}
        for index, value in enumerate(messages):
            flat.update(flatten_messages(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "body": [str(messages)]}
