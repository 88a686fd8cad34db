"""flask-smorest's Blueprint, adjusted to the API's conventions.

- Unknown query parameters and body fields are rejected (422), never silently ignored, also
  where the operation takes no query arguments or no body.
- ``Blueprint.auth(scope)`` checks a token and a scope, and documents both in the spec.
- ``Blueprint.if_match`` documents optimistic concurrency on writes.
- Response bodies are dumped by a function compiled from the output schema.
- ``record_response``, ``created_response`` and ``page_response`` document the headers of
  ``api/responses.py`` (``ETag``, ``Location``, ``Link``) with the body.
- Every list (``page_response``) also answers as a CSV or NDJSON file (``api/list_exports.py``).
- Every operation documents the errors the shared machinery may answer: 422 (unknown query
  arguments are refused everywhere), 429 (rate limits, ``api/rate_limits.py``) and, with a
  JSON body, 400, 413 and 415.
"""

import http
from collections.abc import Callable
from functools import wraps
from typing import Any

import flask_smorest
import marshmallow as ma
from flask import Request, current_app, request
from flask_smorest import abort
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from api.auth import authorize
from api.dumpers import use_compiled_dumper
from api.exports import EXPORT_CONTENT
from api.idempotency import run_idempotently, wants_idempotency
from api.list_exports import exportable
from api.openapi import security_requirement
from api.request_context import RAW_BODY_ENDPOINTS
from api.responses import ETAG, LINK, LOCATION
from services import strict_json
from services.errors import InvalidInput

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

# Errors any operation with a JSON body may answer before its view runs.
_BODY_ERRORS = (400, 413, 415)


class StrictParser(FlaskParser):
    """A webargs parser that refuses what the schema does not know, in every location."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
        "json": ma.RAISE,
    }

    def _raw_load_json(self, req: Request) -> Any:
        """The body read by ``load_json_body``, the one reader of JSON bodies."""
        if not is_json_request(req):
            return core.missing
        return load_json_body(req)


def load_json_body(req: Request) -> Any:
    """The body as strict JSON (``services/strict_json.py``); ``missing`` when empty.

    Malformed JSON (duplicate keys, huge integers, deep nesting, bytes that are not UTF-8...) is
    a 400 saying why; a string holding a lone surrogate is a 422 naming its field.
    """
    data = req.get_data(cache=True)
    if not data:
        return core.missing
    try:
        return strict_json.loads(data)
    except strict_json.MalformedJson as error:
        abort(400, messages={"json": [str(error)]})
    except strict_json.LoneSurrogate as error:
        raise InvalidInput(
            {error.path or "body": [error.MESSAGE]}, "The request has invalid fields; see errors."
        ) from None


PARSER = StrictParser()


def _declared_locations(view: Any, method: str) -> set[str]:
    """Where the operation reads arguments (``@blp.arguments(location=...)``): json, query..."""
    handler = getattr(getattr(view, "view_class", None), method.lower(), view)
    parameters = getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return {p.get("in") for p in parameters}


def _declares_query_arguments(view: Any, method: str) -> bool:
    return bool(_declared_locations(view, method) & {"query", "querystring"})


def refuse_undeclared_query_arguments() -> None:
    """An operation without query arguments refuses any (422), as the strict parser does."""
    if not request.args or request.endpoint is None:
        return
    view = current_app.view_functions[request.endpoint]
    if not _declares_query_arguments(view, request.method):
        raise InvalidInput(
            {name: ["Unknown field."] for name in request.args},
            "The request has invalid fields; see errors.",
        )


def _document_shared_errors(
    doc: dict[str, Any], doc_info: dict[str, Any], **_kwargs: Any
) -> dict[str, Any]:
    """Add the error responses of the shared machinery to an operation's responses."""
    responses = doc_info.setdefault("response", {}).setdefault("responses", {})
    statuses = {int(status) for status in responses if status != "default"}
    arguments = doc_info.get("arguments", {})
    statuses |= {int(status) for status in arguments.get("responses", {})}
    has_body = any(p.get("in") == "json" for p in arguments.get("parameters", []))
    for status in (422, 429, *(_BODY_ERRORS if has_body else ())):
        if status not in statuses:
            responses.setdefault(status, []).append(http.HTTPStatus(status).name)
    return doc


def refuse_undeclared_body() -> None:
    """An operation that takes no body refuses the fields of a JSON body sent anyway (422),
    as the strict parser does for one that takes a body; ``{}`` is accepted, and a body that
    is not JSON is a 400 as anywhere else."""
    req = request._get_current_object()  # one context lookup, not one per use
    if req.endpoint is None or not req.is_json or req.endpoint in RAW_BODY_ENDPOINTS:
        return
    view = current_app.view_functions[req.endpoint]
    if "json" in _declared_locations(view, req.method):
        return
    body = load_json_body(req)
    if body is core.missing or body in (None, {}):
        return
    if isinstance(body, dict):
        errors = {name: ["Unknown field."] for name in body}
    else:
        errors = {"body": ["This operation takes no body."]}
    raise InvalidInput(errors, "The request has invalid fields; see errors.")


class Blueprint(flask_smorest.Blueprint):
    """A resource's routes; see the module docstring for what it adds."""

    ARGUMENTS_PARSER = PARSER

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(refuse_undeclared_query_arguments)
        self.before_request(refuse_undeclared_body)
        # Before flask-smorest turns the collected responses into the operation's doc.
        self._prepare_doc_cbks.insert(0, _document_shared_errors)

    def arguments(self, schema: Any, **kwargs: Any) -> Decorator:
        """flask-smorest's ``arguments`` with one schema instance per operation: given a
        class, webargs would build a new schema (all its fields) on every request."""
        if isinstance(schema, type) and issubclass(schema, ma.Schema):
            schema = schema()
        return super().arguments(schema, **kwargs)

    def response(self, status_code: Any, schema: Any = None, **kwargs: Any) -> Decorator:
        """flask-smorest's ``response``, dumping the body with a function compiled once from
        the schema's fields (``api/dumpers.py``) instead of walking them on every request."""
        if isinstance(schema, type) and issubclass(schema, ma.Schema):
            schema = schema()
        if isinstance(schema, ma.Schema):
            use_compiled_dumper(schema)
        return super().response(status_code, schema, **kwargs)

    def record_response(self, schema: Any, status: int = 200) -> Decorator:
        """A single record in the body and its ``ETag`` header."""
        return self.response(status, schema, headers={"ETag": ETAG})

    def created_response(self, schema: Any, *, alternative: bool = False) -> Decorator:
        """201 with the new record, its ``ETag`` and ``Location``; ``alternative`` when the
        operation's main answer is another status (an upsert that usually updates)."""
        headers = {"ETag": ETAG, "Location": LOCATION}
        if alternative:
            return self.alt_response(
                201, schema=schema, description="Created", headers=headers, success=True
            )
        return self.response(201, schema, headers=headers)

    def page_response(self, schema: Any, *, own_export: bool = False) -> Decorator:
        """A page of a list and the ``Link`` header to the next page; or, asked with
        ``format=`` or ``Accept``, every row as CSV or NDJSON (``api/list_exports.py``).

        ``own_export``: the view answers exports itself (a faster path written for the list),
        so it only gets the documentation.
        """
        if isinstance(schema, type):
            schema = schema()
        use_compiled_dumper(schema)
        respond = self.response(200, schema, headers={"Link": LINK})
        document = self.doc(responses={200: {"content": EXPORT_CONTENT}})

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            view = func if own_export else exportable(schema)(func)
            return document(respond(view))

        return decorator

    def auth(self, scope: str) -> Decorator:
        """Require a valid access token granting ``scope``; document 401 and 403.

        A POST sent with an ``Idempotency-Key`` runs once per key (``api/idempotency.py``;
        ``api/openapi.py`` documents the header on every such operation).
        """

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                principal = authorize(scope)
                if wants_idempotency():
                    return run_idempotently(principal, lambda: func(*args, **kwargs))
                return func(*args, **kwargs)

            documented = self.doc(security=security_requirement(scope))(wrapper)
            documented = self.alt_response(401, response="UNAUTHORIZED")(documented)
            return self.alt_response(403, response="FORBIDDEN")(documented)

        return decorator

    def if_match(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Document the optional ``If-Match`` header and its 412 answer."""
        documented = self.doc(parameters=["IF_MATCH"])(func)
        return self.alt_response(412, response="PRECONDITION_FAILED")(documented)

    def authenticated(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Require a valid access token, whatever its scopes."""

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            authorize(None)
            return func(*args, **kwargs)

        documented = self.doc(security=security_requirement(None))(wrapper)
        return self.alt_response(401, response="UNAUTHORIZED")(documented)
