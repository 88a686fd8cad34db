"""Logging in and out, refreshing tokens, and who am I."""

import hashlib
from types import SimpleNamespace
from typing import Any

from flask import request
from flask.views import MethodView

from api.auth import (
    bearer_token,
    current_session_id,
    current_user,
    decode_refresh_token,
    granted_scopes,
)
from api.blueprint import Blueprint
from api.client_credentials import client_credentials_grant
from api.config import current_settings
from api.extensions import db
from api.tokens import encode_grant
from schemas.api_clients import ClientCredentialsRequest
from schemas.auth import LogoutRequest, MeOut, RefreshRequest, TokenOut, TokenRequest
from schemas.users import UserOut
from services.auth import ThrottlePolicy, log_in, log_out, rotate_refresh_token

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Tokens.")


@blp.before_request
def _grant_client_credentials() -> object:
    """A form-encoded token request is an API client's grant, answered before the JSON
    login's arguments are read."""
    if request.endpoint == "auth.Token":
        return client_credentials_grant()
    return None


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(TokenRequest())
    @blp.doc(
        requestBody={
            "content": {
                "application/json": {"schema": {"oneOf": [TokenRequest, ClientCredentialsRequest]}}
            }
        }
    )
    @blp.response(200, TokenOut())
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, body: dict[str, Any]) -> dict[str, object]:
        """Log in: exchange e-mail and password (JSON), or client credentials (form), for tokens

        A person sends a JSON body and gets an access and a refresh token. An API client
        sends the OAuth 2 client-credentials grant (RFC 6749 section 4.4), form-encoded (or
        the same fields as JSON): `grant_type=client_credentials`, with `client_id` and
        `client_secret` in the body or as HTTP Basic, and optionally `scope` (a subset of its
        scopes); it gets an access token only. The grant's refusals carry the `error` and
        `error_description` members of RFC 6749 section 5.2 in the problem body: 400
        (`invalid_request`, `unsupported_grant_type`, `invalid_scope`) or 401
        (`invalid_client`).

        Repeated failures for one account or one client address are refused with 429 and a
        `Retry-After` header for a while, whether or not the account exists. When the server
        is already checking as many passwords as it allows, the answer is 503 with
        `Retry-After` at once: retry then.
        """
        settings = current_settings()
        grant = log_in(
            db.session,
            email=body["email"],
            password=body["password"],
            client_address=request.remote_addr or "unknown",
            requested_scopes=body.get("scopes"),
            refresh_lifetime=settings.refresh_token_lifetime,
            policy=ThrottlePolicy(
                max_failures_per_account=settings.login_max_failures,
                max_failures_per_address=settings.login_ip_max_failures,
                window=settings.login_lock_lifetime,
            ),
        )
        return encode_grant(grant, settings)


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshRequest(), required=False)
    @blp.response(200, TokenOut())
    @blp.alt_response(401, response="UNAUTHORIZED")
    def post(self, body: dict[str, Any]) -> dict[str, object]:
        """Swap a refresh token for new tokens

        Each refresh token works once. Presented again within a few seconds of its use (a
        retry after a lost answer), it gets the same new tokens again; presented later, it
        revokes the whole login.
        """
        settings = current_settings()
        token = body.get("refresh_token") or bearer_token()
        session_id, refresh_jti = decode_refresh_token(token)
        grant = rotate_refresh_token(
            db.session,
            session_id=session_id,
            refresh_jti=refresh_jti,
            refresh_lifetime=settings.refresh_token_lifetime,
            reuse_window=settings.refresh_reuse_window,
        )
        return encode_grant(grant, settings)


@blp.route("/logout")
class Logout(MethodView):
    @blp.authenticated
    @blp.arguments(LogoutRequest(), required=False)
    @blp.response(204)
    def post(self, _body: dict[str, Any]) -> None:
        """Log out: revoke this login's access and refresh tokens"""
        log_out(db.session, session_id=current_session_id())


@blp.route("/me")
class Me(MethodView):
    @blp.authenticated
    @blp.record_response(MeOut())
    def get(self) -> tuple[SimpleNamespace, dict[str, str]]:
        """The authenticated user and the token's scopes

        The `ETag` changes with the account and the token's scopes: send it in
        `If-None-Match` to get a 304 while neither changed.
        """
        user = current_user()
        fields = {name: getattr(user, name) for name in UserOut().fields}
        scopes = sorted(granted_scopes())
        digest = hashlib.sha256(" ".join(scopes).encode()).hexdigest()[:16]
        return SimpleNamespace(**fields, scopes=scopes), {"ETag": f'"v{user.version}-{digest}"'}
