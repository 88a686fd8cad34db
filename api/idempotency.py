"""``Idempotency-Key`` on the POSTs that create or act (Stripe's semantics).

The first answer to a key is kept for 24 hours per caller (user or API client) and replayed,
same status, body and headers plus ``Idempotent-Replayed: true``, to any retry with the
same key. The same key with another method, path or body is a 422. A retry that arrives
while the first request still runs waits for its answer a few seconds
(``MRM_IDEMPOTENCY_WAIT_SECONDS``), then gets a 409 with ``Retry-After``. A server error
(5xx) is not kept: the key is freed and a retry runs the request again. Secrets shown once
(an API client's ``client_secret``) are left out of the kept answer: a replay shows the
record without them.
"""

import hashlib
import json
import re
import time
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request

from api.config import current_settings
from api.extensions import db
from api.problems import problem_response
from services import strict_json
from services.errors import InvalidInput
from services.idempotency import (
    KEY_HEADER,
    Claimed,
    Outcome,
    Running,
    Stored,
    claim_key,
    complete_key,
    poll_key,
    release_key,
)
from services.principals import Principal

REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_POLL_SECONDS = 0.05
# Headers that describe this very exchange, not the answer: never replayed.
_NOT_KEPT = frozenset({"content-length", "x-request-id", "set-cookie"})
# Top-level body fields that are shown once and never stored.
SHOWN_ONCE = frozenset({"client_secret"})


def wants_idempotency() -> bool:
    return request.method == "POST" and KEY_HEADER in request.headers


def _key() -> str:
    key = request.headers[KEY_HEADER].strip()
    if not _KEY.match(key):
        raise InvalidInput({KEY_HEADER: ["Use 1 to 255 visible ASCII characters (a UUID, say)."]})
    return key


def _owner(principal: Principal) -> str:
    if principal.api_client_id is not None:
        return f"client:{principal.api_client_id}"
    return f"user:{principal.user_id}"


def _fingerprint() -> str:
    """The request a key stands for: method, path, query and body (JSON compared by value,
    so that the same object sent with other spacing or key order is the same request)."""
    data = request.get_data(cache=True)
    try:
        body = json.dumps(strict_json.loads(data), sort_keys=True).encode() if data else b""
    except (strict_json.MalformedJson, strict_json.LoneSurrogate):
        body = data
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.query_string, body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _replay(stored: Stored) -> Response:
    response = Response(stored.body, status=stored.status)
    for name, value in stored.headers.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _running() -> Response:
    return problem_response(
        409,
        detail="A request with this Idempotency-Key is still running; retry shortly.",
        slug="idempotency-key-in-use",
        headers={"Retry-After": "1"},
    )


def _kept_body(response: Response) -> bytes:
    body = response.get_data()
    if response.is_json:
        data = response.get_json(silent=True)
        if isinstance(data, dict) and SHOWN_ONCE & data.keys():
            kept = {name: value for name, value in data.items() if name not in SHOWN_ONCE}
            return current_app.json.dumps(kept).encode()
    return body


def _run_and_keep(key_id: Any, view: Callable[[], Any]) -> Response:
    try:
        response = current_app.make_response(view())
    except Exception as error:  # answered as the error handlers would, then kept
        db.session.rollback()
        response = current_app.make_response(current_app.handle_user_exception(error))
    db.session.rollback()  # whatever the view left open
    if response.status_code >= 500:
        release_key(db.session, key_id=key_id)
        return response
    headers = {
        name: value for name, value in response.headers.items() if name.lower() not in _NOT_KEPT
    }
    complete_key(
        db.session,
        key_id=key_id,
        status=response.status_code,
        headers=headers,
        body=_kept_body(response),
    )
    return response


def run_idempotently(principal: Principal, view: Callable[[], Any]) -> Response:
    """Run ``view`` once for this caller's key; replay its answer to retries."""
    key, owner, fingerprint = _key(), _owner(principal), _fingerprint()
    outcome: Outcome = claim_key(db.session, owner=owner, key=key, fingerprint=fingerprint)
    deadline = time.monotonic() + current_settings().idempotency_wait_seconds
    while isinstance(outcome, Running) and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        outcome = poll_key(db.session, owner=owner, key=key, fingerprint=fingerprint)
    if isinstance(outcome, Stored):
        return _replay(outcome)
    if isinstance(outcome, Claimed):
        return _run_and_keep(outcome.key_id, view)
    return _running()
