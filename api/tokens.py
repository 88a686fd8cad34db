"""The token response: an access token and a refresh token encoded from a grant.

Every claim, ``iat``, ``exp`` and ``jti`` included, comes from the grant, so encoding one grant
twice gives the same two tokens: a refresh retried within the reuse window is answered with
the pair the first try received, and nothing but the refresh token's id is stored.
"""

import hashlib
import secrets
import uuid
from datetime import timedelta

from flask_jwt_extended import create_access_token, create_refresh_token

from api.config import Settings
from services.auth import Grant


def _access_jti(refresh_jti: str) -> str:
    """The access token's id, derived from its refresh token's (one pair, one derivation)."""
    return hashlib.sha256(f"access:{refresh_jti}".encode()).hexdigest()[:32]


def encode_grant(grant: Grant, settings: Settings) -> dict[str, object]:
    """The token response body: a short-lived access token and a single-use refresh token."""
    scope = " ".join(sorted(grant.scopes))
    issued = grant.issued_at
    claims = {"sid": str(grant.session_id), "scope": scope, "iat": issued, "nbf": issued}
    access = create_access_token(
        identity=str(grant.user.id),
        additional_claims={
            **claims,
            "jti": _access_jti(grant.refresh_jti),
            "exp": issued + settings.access_token_lifetime,
        },
    )
    refresh = create_refresh_token(
        identity=str(grant.user.id),
        additional_claims={
            **claims,
            "jti": grant.refresh_jti,
            "exp": issued + settings.refresh_token_lifetime,
        },
    )
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(settings.access_token_lifetime / timedelta(seconds=1)),
        "scope": scope,
    }


def encode_client_token(
    client_id: uuid.UUID, scopes: frozenset[str], settings: Settings
) -> dict[str, object]:
    """The token response of the client-credentials grant: an access token only (RFC 6749
    section 4.4.3: no refresh token; the client asks for a new one with its secret)."""
    scope = " ".join(sorted(scopes))
    access = create_access_token(
        identity=str(client_id),
        additional_claims={"cid": str(client_id), "scope": scope, "jti": secrets.token_hex(16)},
        expires_delta=settings.access_token_lifetime,
    )
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": int(settings.access_token_lifetime / timedelta(seconds=1)),
        "scope": scope,
    }
