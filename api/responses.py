"""What a single-record or list response carries besides its body, written once.

Views return ``with_etag(record)`` or ``created(record, endpoint, **path)``; the blueprint's
``record_response``, ``created_response`` and ``page_response`` document the same headers in the
spec, from the header components registered here.
"""

from typing import Any, Protocol, TypeVar

from apispec import APISpec
from flask import url_for

from api.etag import etag_for

Headers = dict[str, str]

# Names of the OpenAPI header components (``#/components/headers/...``).
ETAG = "ETAG"
LOCATION = "LOCATION"
LINK = "LINK"

HEADER_COMPONENTS: dict[str, dict[str, Any]] = {
    ETAG: {
        "description": "The record's version; send it back in `If-Match` to write only if the "
        "record has not changed since.",
        "required": True,
        "schema": {"type": "string", "examples": ['"v1"']},
    },
    LOCATION: {
        "description": "The URL of the created record.",
        "required": True,
        "schema": {"type": "string", "format": "uri-reference"},
    },
    LINK: {
        "description": 'The next page (`<url>; rel="next"`), absent on the last page.',
        "schema": {"type": "string"},
    },
}


class Versioned(Protocol):
    version: int


R = TypeVar("R", bound=Versioned)


def register_header_components(spec: APISpec) -> None:
    """Add the header components the response decorators refer to."""
    for name, header in HEADER_COMPONENTS.items():
        spec.components.header(name, header, lazy=True)


def etag_headers(record: Versioned) -> Headers:
    return {"ETag": etag_for(record.version)}


def with_etag(record: R) -> tuple[R, Headers]:
    """A record and its ``ETag``: every single-record response carries one."""
    return record, etag_headers(record)


def created(record: R, endpoint: str, **path: Any) -> tuple[R, int, Headers]:
    """A 201 with the new record's ``ETag`` and its ``Location`` (``url_for(endpoint, **path)``)."""
    return record, 201, {**etag_headers(record), "Location": url_for(endpoint, **path)}
