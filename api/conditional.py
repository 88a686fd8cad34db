"""Conditional reads: ``If-None-Match`` on a single record answers 304 when it is unchanged.

A client that keeps the ``ETag`` of a record it read sends it back in ``If-None-Match``; if
the record still has that tag the answer is 304 with no body (RFC 9110 section 13.1.2: weak
comparison, ``*`` matches any record). Lists carry no ``ETag`` and are always answered in full.
"""

from flask import Flask, Response, request

_SAFE = frozenset({"GET", "HEAD"})


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def if_none_match_hits(etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return _opaque(etag) in {_opaque(tag) for tag in header.split(",")}


def _not_modified(response: Response) -> Response:
    etag = response.headers.get("ETag")
    if request.method not in _SAFE or response.status_code != 200 or etag is None:
        return response
    if not if_none_match_hits(etag):
        return response
    # 304 keeps the validator and the caching headers, and drops the body (RFC 9110 15.4.5).
    response.status_code = 304
    response.set_data(b"")
    for name in ("Content-Type", "Content-Length"):
        response.headers.pop(name, None)
    return response


def register_conditional_reads(app: Flask) -> None:
    app.after_request(_not_modified)
