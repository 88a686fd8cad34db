"""The per-request check of a token's login: is the user active and the login still open?

It runs on every authenticated request, so that a logout, a refresh-token reuse or a
deactivation stops every token of the login at once, in every worker. The statement is built
once per process with bind parameters and reads one column: SQLAlchemy reuses its compiled
form and loads no ORM object.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models import AuthSession, User
from services.roles import scopes_for_role

_users = User.__table__
_logins = AuthSession.__table__

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


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user, the login the token belongs to, and what the call may do."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    role: str
    scopes: frozenset[str]


def load_principal(
    session: Session, *, user_id: uuid.UUID, session_id: uuid.UUID, token_scopes: frozenset[str]
) -> Principal | None:
    """The caller behind an open login of an active user, in one query; else None.

    The scopes granted are those of the token that the user's current role still grants.
    """
    role = session.execute(
        _OPEN_LOGIN_ROLE, {"user_id": user_id, "session_id": session_id}
    ).scalar()
    if role is None:
        return None
    return Principal(
        user_id=user_id,
        session_id=session_id,
        role=role,
        scopes=token_scopes & scopes_for_role(role),
    )


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, as services that need only an id and a role take it (``User`` fits too):
    read from the request's principal, so it costs no query."""

    id: uuid.UUID
    role: str
