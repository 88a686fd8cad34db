"""The per-request check of a token's login: is the user active and the login still open?

It runs on every authenticated request, so that a logout, a refresh-token reuse or a
deactivation stops every token of the login at once, in every worker. The statement is built
once per process with bind parameters and reads one column: SQLAlchemy reuses its compiled
form and loads no ORM object. Tokens of API clients are checked the same way against their
client (active, not expired, scopes still granted).

Given a ``LoginCache`` (PostgreSQL, see ``services/login_cache.py``), a check answered before
is answered from memory, without the round trip, until a notification makes it forget.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from models import ApiClient, AuthSession, User
from models.types import utcnow
from services.login_cache import LoginCache
from services.roles import scopes_for_role

_users = User.__table__
_logins = AuthSession.__table__
_clients = ApiClient.__table__

_OPEN_LOGIN_ROLE = (
    select(_users.c.role)
    .join(_logins, _logins.c.user_id == _users.c.id)
    .where(
        _users.c.id == bindparam("user_id"),
        _users.c.is_active.is_(True),
        _logins.c.id == bindparam("session_id"),
        _logins.c.revoked_at.is_(None),
    )
)


_ACTIVE_CLIENT_SCOPES = select(_clients.c.scopes, _clients.c.expires_at).where(
    _clients.c.id == bindparam("client_id"),
    _clients.c.is_active.is_(True),
    or_(_clients.c.expires_at.is_(None), _clients.c.expires_at > bindparam("now")),
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user and the login the token belongs to (or the API client), and
    what the call may do."""

    user_id: uuid.UUID | None
    session_id: uuid.UUID | None
    role: str
    scopes: frozenset[str]
    api_client_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """The acting user as far as visibility rules need it (id and role), without loading the
    user's row: read paths that only filter by who is asking take this."""

    id: uuid.UUID | None  # None for an API client: it sees no confidential record
    role: str


def load_principal(
    session: Session,
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    token_scopes: frozenset[str],
    cache: LoginCache | None = None,
) -> Principal | None:
    """The caller behind an open login of an active user, in one query (or none, when
    ``cache`` knows the login); else None.

    The scopes granted are those of the token that the user's current role still grants.
    """
    role = None if cache is None else cache.role(user_id=user_id, session_id=session_id)
    if role is None:
        generation = None if cache is None else cache.generation()  # before the query
        # On the connection: a Core statement needs none of the ORM session's execution steps.
        role = (
            session.connection()
            .execute(_OPEN_LOGIN_ROLE, {"user_id": user_id, "session_id": session_id})
            .scalar()
        )
        if role is None:
            return None
        if cache is not None and generation is not None:
            cache.store_role(generation, user_id=user_id, session_id=session_id, role=role)
    return Principal(
        user_id=user_id,
        session_id=session_id,
        role=role,
        scopes=token_scopes & scopes_for_role(role),
    )


def load_client_principal(
    session: Session,
    *,
    client_id: uuid.UUID,
    token_scopes: frozenset[str],
    cache: LoginCache | None = None,
) -> Principal | None:
    """The API client behind a token, if it is active and unexpired, in one query (or none,
    when ``cache`` knows the client); else None.

    The scopes granted are those of the token that the client still holds.
    """
    scopes = None if cache is None else cache.client_scopes(client_id)
    if scopes is None:
        generation = None if cache is None else cache.generation()  # before the query
        row = (
            session.connection()
            .execute(_ACTIVE_CLIENT_SCOPES, {"client_id": client_id, "now": utcnow()})
            .first()
        )
        if row is None:
            return None
        scopes = row.scopes
        if cache is not None and generation is not None:
            cache.store_client(
                generation, client_id=client_id, scopes=scopes, expires_at=row.expires_at
            )
    return Principal(
        user_id=None,
        session_id=None,
        role="api-client",
        scopes=token_scopes & frozenset(scopes.split()),
        api_client_id=client_id,
    )
