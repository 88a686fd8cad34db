"""Access tokens: how they are made, checked against the database, and turned into scopes.

flask-jwt-extended creates the tokens. Checking one is done here, once per request: the
``Authorization`` header is read (the scheme in any case, RFC 7235), the token decoded once with
PyJWT, and its login looked up with one prepared statement (``services/principals.py``).

On PostgreSQL the lookups are remembered per process (``services/login_cache.py``) and
forgotten when the database notifies a change (``services/login_listener.py``).
"""

import uuid

from flask import Flask, current_app, g, request
from flask_jwt_extended import decode_token
from jwt.exceptions import ExpiredSignatureError, PyJWTError
from sqlalchemy import Engine, event

from api.config import Settings
from api.errors import unauthorized
from api.extensions import db, jwt
from api.token_claims import ALGORITHM, verified_claims
from models import User
from services.errors import AuthenticationFailed, PermissionDenied
from services.login_cache import LoginCache
from services.login_listener import LoginListener, watch_local_writes
from services.principals import Actor, Principal, load_client_principal, load_principal

_DECODE_ALGORITHMS = [ALGORITHM]

TOKEN_REQUIRED = "A valid access token is required."
TOKEN_INVALID = "The access token is invalid."
TOKEN_EXPIRED = "The token has expired."
TOKEN_REVOKED = "The token was revoked."
PEOPLE_ONLY = "API clients cannot call this operation: it needs a person's token."
# The claim that marks an API client's token (its value is the client id).
CLIENT_CLAIM = "cid"
LOGIN_LISTENER_KEY = "mrm-login-listener"


def configure_jwt(app: Flask, settings: Settings) -> None:
    """Pin the algorithm (no "none", no key confusion) and answer every token error with a 401."""
    app.config.update(
        JWT_SECRET_KEY=settings.jwt_secret_key,
        JWT_ALGORITHM=ALGORITHM,
        JWT_DECODE_ALGORITHMS=_DECODE_ALGORITHMS,
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ACCESS_TOKEN_EXPIRES=settings.access_token_lifetime,
        JWT_REFRESH_TOKEN_EXPIRES=settings.refresh_token_lifetime,
        JWT_IDENTITY_CLAIM="sub",
        JWT_ERROR_MESSAGE_KEY="detail",
        JWT_COOKIE_CSRF_PROTECT=False,
    )
    jwt.init_app(app)
    # Requests are authenticated by ``authorize`` below; these keep flask-jwt-extended's own
    # error handlers on the API's problem shape should any of its checks ever run.
    jwt.unauthorized_loader(lambda _reason: unauthorized())
    jwt.invalid_token_loader(lambda _reason: unauthorized(TOKEN_INVALID))
    jwt.expired_token_loader(lambda _header, _payload: unauthorized(TOKEN_EXPIRED))
    jwt.revoked_token_loader(lambda _header, _payload: unauthorized(TOKEN_REVOKED))
    jwt.user_lookup_error_loader(lambda _header, _payload: unauthorized(TOKEN_REVOKED))
    jwt.needs_fresh_token_loader(lambda _header, _payload: unauthorized("Log in again."))
    jwt.token_verification_failed_loader(lambda _h, _p: unauthorized("The token is invalid."))
    configure_login_cache(app, settings)


def configure_login_cache(app: Flask, settings: Settings) -> None:
    """On PostgreSQL (unless ``MRM_LOGIN_CACHE=0``), remember login checks per process.

    Nothing starts here: the listener thread and its connection start with the first
    authenticated request of each process (after gunicorn forks), and stop when the app's
    engine is disposed.
    """
    engine = db.state(app).engine
    if not settings.login_cache or engine.dialect.name != "postgresql":
        return
    listener = LoginListener(settings.database_url)
    app.extensions[LOGIN_LISTENER_KEY] = listener
    watch_local_writes(engine)
    event.listen(engine, "engine_disposed", lambda _engine: listener.stop())


def login_listener(app: Flask) -> LoginListener | None:
    """The app's login listener (PostgreSQL with the cache on), for tests and diagnostics."""
    return app.extensions.get(LOGIN_LISTENER_KEY)


def _login_cache() -> LoginCache | None:
    """The process's login cache, if this request may use it.

    A session bound to a connection of its own rather than to the engine runs inside a
    transaction someone else commits (or rolls back): what it sees may not be committed, and
    the cache, which holds what the notifications of commits allow, must not meet it.
    """
    listener: LoginListener | None = current_app.extensions.get(LOGIN_LISTENER_KEY)
    if listener is None or not isinstance(db.session.bind, Engine):
        return None
    return listener.running_cache()


def _split_authorization() -> tuple[bool, str | None]:
    """(whether the header names the Bearer scheme, its token if well formed)."""
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False, None
    token = credentials.strip()
    # One word (no whitespace inside), checked in C: a per-character loop cost ~100 µs.
    return True, token if len(token.split(maxsplit=1)) == 1 else None


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer ...`` header (scheme in any case), if any."""
    return _split_authorization()[1]


def _access_claims() -> dict[str, object]:
    """The claims of the request's access token, decoded and verified once; else a 401."""
    is_bearer, token = _split_authorization()
    if not is_bearer:
        raise AuthenticationFailed(TOKEN_REQUIRED)
    if token is None:
        raise AuthenticationFailed(TOKEN_INVALID)
    verified = g.get("verified_access_claims")  # by the rate limiter, for this very token
    claims = verified[1] if verified is not None and verified[0] == token else _decode(token)
    if "sub" not in claims or claims.get("type", "access") != "access":
        raise AuthenticationFailed(TOKEN_INVALID)
    return claims


def _decode(token: str) -> dict[str, object]:
    try:
        claims: dict[str, object] = verified_claims(token, current_app.config["JWT_SECRET_KEY"])
    except ExpiredSignatureError as exc:
        raise AuthenticationFailed(TOKEN_EXPIRED) from exc
    except PyJWTError as exc:
        raise AuthenticationFailed(TOKEN_INVALID) from exc
    return claims


def _authenticate_client(claims: dict[str, object]) -> Principal:
    """The caller of a client-credentials token: an active, unexpired client (one query, or
    none when this process remembers the client)."""
    try:
        client_id = uuid.UUID(str(claims[CLIENT_CLAIM]))
    except ValueError as exc:
        raise AuthenticationFailed(TOKEN_REVOKED) from exc
    principal = load_client_principal(
        db.session,
        client_id=client_id,
        token_scopes=frozenset(str(claims.get("scope", "")).split()),
        cache=_login_cache(),
    )
    if principal is None:
        raise AuthenticationFailed(TOKEN_REVOKED)
    g.principal = principal
    return principal


def _authenticate() -> Principal:
    """The caller of this request: a verified access token of an open login (one query, or
    none when this process remembers the login)."""
    claims = _access_claims()
    if CLIENT_CLAIM in claims:
        return _authenticate_client(claims)
    try:
        user_id = uuid.UUID(str(claims["sub"]))
        session_id = uuid.UUID(str(claims["sid"]))
    except (KeyError, ValueError) as exc:
        raise AuthenticationFailed(TOKEN_REVOKED) from exc
    principal = load_principal(
        db.session,
        user_id=user_id,
        session_id=session_id,
        token_scopes=frozenset(str(claims.get("scope", "")).split()),
        cache=_login_cache(),
    )
    if principal is None:
        raise AuthenticationFailed(TOKEN_REVOKED)
    g.principal = principal
    return principal


def _principal() -> Principal:
    principal: Principal | None = g.get("principal")
    if principal is None:
        raise AuthenticationFailed(TOKEN_REQUIRED)
    return principal


def authorize(scope: str | None) -> Principal:
    """Require an access token; with ``scope``, require that both token and role grant it.

    Runs once per request, before the view; the accessors below read what it found.
    """
    g.principal = None
    principal = _authenticate()
    if scope is not None and scope not in principal.scopes:
        raise PermissionDenied(f"This action needs the {scope!r} scope.")
    return principal


def granted_scopes() -> frozenset[str]:
    """The scopes of this request's token that the user's role grants (after ``authorize``)."""
    return _principal().scopes


def current_user() -> User:
    """The authenticated user of this request (after ``authorize``), loaded when asked for.

    An API client is no user: operations that act as a person refuse it (403).
    """
    user_id = _principal().user_id
    if user_id is None:
        raise PermissionDenied(PEOPLE_ONLY)
    user = db.session.get(User, user_id)
    if user is None:  # removed since the login check of this request
        raise AuthenticationFailed(TOKEN_REVOKED)
    return user


def current_actor() -> Actor:
    """The authenticated user's id and role, as this request's login check read them (no
    query)."""
    principal = _principal()
    return Actor(id=principal.user_id, role=principal.role)


def current_session_id() -> uuid.UUID:
    session_id = _principal().session_id
    if session_id is None:
        raise PermissionDenied(PEOPLE_ONLY)
    return session_id


def current_principal() -> Principal:
    """Who is calling (after ``authorize``): a user's login or an API client."""
    return _principal()


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
