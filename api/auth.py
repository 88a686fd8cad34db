"""Access tokens: how they are made, checked against the database, and turned into scopes."""

import uuid
from datetime import timedelta

from flask import Flask, g, request
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    decode_token,
    get_jwt,
    verify_jwt_in_request,
)
from jwt.exceptions import PyJWTError

from api.config import Settings
from api.errors import unauthorized
from api.extensions import db, jwt
from models import User
from services.auth import Grant, load_principal
from services.errors import AuthenticationFailed, PermissionDenied
from services.roles import scopes_for_role

ALGORITHM = "HS256"


def configure_jwt(app: Flask, settings: Settings) -> None:
    """Pin the algorithm (no "none", no key confusion) and answer every token error with a 401."""
    app.config.update(
        JWT_SECRET_KEY=settings.jwt_secret_key,
        JWT_ALGORITHM=ALGORITHM,
        JWT_DECODE_ALGORITHMS=[ALGORITHM],
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ACCESS_TOKEN_EXPIRES=settings.access_token_lifetime,
        JWT_REFRESH_TOKEN_EXPIRES=settings.refresh_token_lifetime,
        JWT_IDENTITY_CLAIM="sub",
        JWT_ERROR_MESSAGE_KEY="detail",
        JWT_COOKIE_CSRF_PROTECT=False,
    )
    jwt.init_app(app)
    jwt.unauthorized_loader(lambda _reason: unauthorized())
    jwt.invalid_token_loader(lambda _reason: unauthorized("The access token is invalid."))
    jwt.expired_token_loader(lambda _header, _payload: unauthorized("The token has expired."))
    jwt.revoked_token_loader(lambda _header, _payload: unauthorized("The token was revoked."))
    jwt.user_lookup_error_loader(lambda _header, _payload: unauthorized("The token was revoked."))
    jwt.needs_fresh_token_loader(lambda _header, _payload: unauthorized("Log in again."))
    jwt.token_verification_failed_loader(lambda _h, _p: unauthorized("The token is invalid."))
    jwt.token_in_blocklist_loader(_token_revoked)
    jwt.user_lookup_loader(lambda _header, _payload: g.get("principal"))


def _token_revoked(_header: dict[str, object], payload: dict[str, object]) -> bool:
    """Check the token's login in the database (one query) and remember the user for the view."""
    try:
        user_id = uuid.UUID(str(payload["sub"]))
        session_id = uuid.UUID(str(payload["sid"]))
    except (KeyError, ValueError):
        return True
    if payload.get("type") != "access":
        return False  # refresh tokens are checked by the rotation itself
    principal = load_principal(db.session, user_id=user_id, session_id=session_id)
    g.principal = principal
    return principal is None


def authorize(scope: str | None) -> User:
    """Require an access token; with ``scope``, require that both token and role grant it."""
    verify_jwt_in_request()
    user: User = g.principal
    if scope is not None and scope not in granted_scopes():
        raise PermissionDenied(f"This action needs the {scope!r} scope.")
    return user


def granted_scopes() -> frozenset[str]:
    token_scopes = frozenset(str(get_jwt().get("scope", "")).split())
    return token_scopes & scopes_for_role(g.principal.role)


def current_user() -> User:
    """The authenticated user of this request (after ``authorize``)."""
    return g.principal


def current_session_id() -> uuid.UUID:
    return uuid.UUID(str(get_jwt()["sid"]))


def encode_grant(grant: Grant, settings: Settings) -> dict[str, object]:
    """The token response body: a short-lived access token and a single-use refresh token."""
    scope = " ".join(sorted(grant.scopes))
    claims = {"sid": str(grant.session_id), "scope": scope}
    access = create_access_token(identity=str(grant.user.id), additional_claims=claims)
    refresh = create_refresh_token(
        identity=str(grant.user.id), additional_claims={**claims, "jti": grant.refresh_jti}
    )
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(settings.access_token_lifetime / timedelta(seconds=1)),
        "scope": scope,
    }


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def decode_refresh_token(token: str | None) -> tuple[uuid.UUID, str]:
    """The login id and refresh id inside a refresh token; any defect is a 401."""
    if not token:
        raise AuthenticationFailed("Send the refresh token in the body or as the bearer token.")
    try:
        claims = decode_token(token)
        if claims.get("type") != "refresh":
            raise AuthenticationFailed("This is not a refresh token.")
        return uuid.UUID(str(claims["sid"])), str(claims["jti"])
    except (PyJWTError, KeyError, ValueError) as exc:
        raise AuthenticationFailed("The refresh token is invalid or expired.") from exc
