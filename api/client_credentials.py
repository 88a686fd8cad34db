"""The OAuth 2 client-credentials grant (RFC 6749 section 4.4) of ``POST /auth/token``.

A form-encoded body (as the RFC says), or a JSON object with a ``grant_type`` (as generated
clients send it), is this grant; any other JSON body is a person's login
(``api/resources/auth.py``).
Refusals are problem+json like every error of the API, with the ``error`` and
``error_description`` members of RFC 6749 section 5.2 added, so that OAuth client libraries
(which read those members) understand them too; their statuses are those of section 5.2: 400,
or 401 for a client that failed to authenticate.
"""

import base64
import binascii
from typing import Any
from urllib.parse import unquote

import marshmallow as ma
from flask import Response, current_app, request

from api.blueprint import load_json_body
from api.config import current_settings
from api.extensions import db
from api.problems import problem_response
from api.request_context import FORM_MEDIA_TYPE
from api.tokens import encode_client_token
from schemas.api_clients import ClientCredentialsRequest
from services.api_clients import authenticate_api_client
from services.errors import AuthenticationFailed, InvalidInput

GRANT_TYPE = "client_credentials"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(status: int, error: str, description: str, **headers: str) -> Response:
    slug = "unauthorized" if status == 401 else "oauth-" + error.replace("_", "-")
    return problem_response(
        status,
        detail=description,
        slug=slug,
        headers={**_NO_STORE, **headers},
        extra={"error": error, "error_description": description},
    )


def _basic_credentials() -> tuple[str, str] | None:
    """The client id and secret of an ``Authorization: Basic`` header (form-encoded first,
    RFC 6749 section 2.3.1), or None without one; a malformed header raises."""
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("The Basic credentials are not valid base64 UTF-8.") from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise ValueError("The Basic credentials lack the ':' between id and secret.")
    return unquote(client_id), unquote(secret)


def _grant_fields() -> dict[str, Any] | Response | None:
    """The grant's parameters: a form, or a JSON object with a ``grant_type``; None for a
    person's JSON login."""
    if request.mimetype == FORM_MEDIA_TYPE:
        form = request.form
        repeated = sorted(name for name in form if len(form.getlist(name)) > 1)
        if repeated:
            detail = f"Repeated parameters: {', '.join(repeated)}."
            return _oauth_error(400, "invalid_request", detail)
        return form.to_dict()
    if request.is_json:
        body = load_json_body(request)
        if isinstance(body, dict) and "grant_type" in body:
            return body
    return None


def client_credentials_grant() -> Response | None:
    """Answer a client-credentials ``POST /auth/token``; None lets a person's login through."""
    fields = _grant_fields()
    if fields is None or isinstance(fields, Response):
        return fields
    if fields.get("grant_type") not in (None, GRANT_TYPE):
        return _oauth_error(
            400, "unsupported_grant_type", "Only grant_type=client_credentials is form-encoded."
        )
    try:
        body = ClientCredentialsRequest().load(fields)
        basic = _basic_credentials()
    except ma.ValidationError as error:
        fields_in_error = ", ".join(sorted(str(name) for name in error.messages))
        return _oauth_error(400, "invalid_request", f"Invalid parameters: {fields_in_error}.")
    except ValueError as error:
        return _oauth_error(400, "invalid_request", str(error))
    in_body = "client_id" in body or "client_secret" in body
    if basic is not None and in_body:
        return _oauth_error(
            400, "invalid_request", "Send the client credentials in one place, not both."
        )
    client_id, secret = basic or (body.get("client_id"), body.get("client_secret"))
    if not client_id or not secret:
        return _oauth_error(
            401,
            "invalid_client",
            "Send client_id and client_secret, in the body or as HTTP Basic.",
            **{"WWW-Authenticate": 'Basic realm="mrm"'},
        )
    requested = body["scope"].split() if "scope" in body else None
    try:
        client, scopes = authenticate_api_client(
            db.session, client_id=client_id, secret=secret, requested_scopes=requested
        )
    except AuthenticationFailed as error:
        return _oauth_error(
            401, "invalid_client", error.detail, **{"WWW-Authenticate": 'Basic realm="mrm"'}
        )
    except InvalidInput as error:
        return _oauth_error(400, "invalid_scope", "; ".join(error.errors.get("scope", [])))
    token = encode_client_token(client.id, scopes, current_settings())
    response = current_app.json.response(token)
    response.headers.update(_NO_STORE)
    return response
