"""Request ids, JSON access logs and the URL and body gates that every request passes."""

import json
import logging
import math
import re
import secrets
import sys
import time
from urllib.parse import unquote_to_bytes

import orjson
from flask import Flask, Response, g, request
from werkzeug.exceptions import MethodNotAllowed, RequestEntityTooLarge

from api.problems import problem_response

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
# Endpoints that also take a form-encoded body: the OAuth 2 token endpoint (RFC 6749).
FORM_ENDPOINTS = frozenset({"auth.Token"})
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"

access_logger = logging.getLogger("mrm.access")


def _utc_timestamp(created: float) -> str:
    """``datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")``, for a
    fraction of its cost (it runs once per request, for the access log)."""
    fraction, whole = math.modf(created)
    seconds, micros = int(whole), round(fraction * 1e6)  # rounded as datetime rounds
    if micros >= 1_000_000:
        seconds, micros = seconds + 1, micros - 1_000_000
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{stamp}.{micros // 1000:03d}+00:00"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id when there is one (encoded by orjson:
    the access log writes one per request)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        try:
            return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except orjson.JSONEncodeError:  # an integer beyond 64 bits, say
            return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str) -> None:
    """Send mrm's logs to stderr as JSON lines (gunicorn collects them from there)."""
    root = logging.getLogger("mrm")
    root.setLevel(level)
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.propagate = False


def _assign_request_id() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    # 128 random bits in hex, as ``uuid4().hex`` but without building a UUID object.
    g.request_id = given if _SAFE_REQUEST_ID.match(given) else secrets.token_hex(16)
    g.started_at = time.perf_counter()


def _undecodable_query_argument(query: bytes) -> str | None:
    """The first query argument whose name or value is not UTF-8 once percent-decoded
    (``"query"`` when its name is not); None when all are."""
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        try:
            decoded_name = unquote_to_bytes(name.replace(b"+", b" ")).decode()
        except UnicodeDecodeError:
            return "query"
        try:
            unquote_to_bytes(value.replace(b"+", b" ")).decode()
        except UnicodeDecodeError:
            return decoded_name
    return None


def _refuse_undecodable_url() -> Response | None:
    """A path or query argument that is not UTF-8 once percent-decoded is refused.

    Werkzeug would replace the bad bytes with U+FFFD in the path, so that ``/x%FF`` and
    ``/x%FE`` name the same record, and keep them percent-encoded in query values.
    """
    path = request.environ.get("PATH_INFO", "")
    if not path.isascii():
        try:
            path.encode("latin-1").decode()
        except UnicodeError:
            return problem_response(
                404, detail="No resource has this path: it is not UTF-8.", slug="not-found"
            )
    query = request.query_string
    if b"%" in query or not query.isascii():
        name = _undecodable_query_argument(query)
        if name is not None:
            return problem_response(
                422,
                detail="The request has invalid fields; see errors.",
                slug="validation-error",
                errors={name: ["Not valid UTF-8 once percent-decoded."]},
            )
    return None


def _bound_streamed_body() -> None:
    """A body sent without ``Content-Length`` (chunked) and longer than the limit is a 413.

    Werkzeug stops reading such a body at the limit without saying so, and the truncated
    JSON would be reported as malformed.
    """
    limit = request.max_content_length
    if limit is None or request.content_length is not None:
        return
    data = request.get_data(cache=True)
    if len(data) >= limit and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()


# Endpoints whose body is a file of their own format (imports), not JSON.
RAW_BODY_ENDPOINTS: set[str] = set()


def _require_json_body() -> Response | None:
    """Refuse bodies that are not JSON before any view tries to read them."""
    req = request._get_current_object()  # one context lookup, not one per use
    if req.method not in _BODY_METHODS or req.endpoint in RAW_BODY_ENDPOINTS:
        return None
    if isinstance(req.routing_exception, MethodNotAllowed):
        return None  # the method is refused (405) whatever the body
    chunked = "chunked" in req.headers.get("Transfer-Encoding", "")
    has_body = bool(req.content_length) or chunked
    is_form = req.mimetype == FORM_MEDIA_TYPE and req.endpoint in FORM_ENDPOINTS
    if has_body and not req.is_json and not is_form:
        return problem_response(
            415,
            detail="Send the body as application/json.",
            slug="unsupported-media-type",
            headers={"Accept": "application/json"},
        )
    if chunked:
        _bound_streamed_body()
    return None


def _finish(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    duration_ms = (time.perf_counter() - g.get("started_at", time.perf_counter())) * 1000
    if not access_logger.isEnabledFor(logging.INFO):
        return response
    # The record is made here rather than by ``access_logger.info``, which would also walk the
    # stack to find the caller (a line the access log never shows) on every request.
    record = logging.LogRecord(access_logger.name, logging.INFO, __file__, 0, "request", None, None)
    # The path never holds personal data (ids only); query strings may, so they are not logged.
    record.fields = {
        "request_id": request_id,
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round(duration_ms, 2),
    }
    principal = g.get("principal")
    if principal is not None:  # who called: a user's login or an API client
        if principal.api_client_id is not None:
            record.fields["api_client_id"] = str(principal.api_client_id)
        else:
            record.fields["user_id"] = str(principal.user_id)
    access_logger.handle(record)
    return response


def register_request_hooks(app: Flask) -> None:
    app.before_request(_assign_request_id)
    app.before_request(_refuse_undecodable_url)
    app.before_request(_require_json_body)
    app.after_request(_finish)
