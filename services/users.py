"""Managing who may use mrm: staff accounts and API clients."""

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import User
from services.auth import clear_account_lock, revoke_user_sessions
from services.emails import canonical_email
from services.errors import Conflict, NotFound
from services.pagination import attribute_key, datetime_key
from services.passwords import hash_password
from services.roles import Role
from services.transactions import check_version, commit


def _duplicate_email(session: Session, email: str) -> Conflict:
    existing = session.scalar(select(User.id).where(User.email == email))
    return Conflict(
        "A user with this e-mail already exists.",
        field="email",
        existing={"id": str(existing)} if existing else None,
    )


USER_SORT_KEYS = {
    "email": attribute_key(User.email),
    "created_at": datetime_key(User.created_at),
    "updated_at": datetime_key(User.updated_at),
}


def list_users(
    *,
    role: str | None = None,
    is_active: bool | None = None,
    q: str | None = None,
    updated_since: datetime | None = None,
) -> Select[tuple[User]]:
    """Users matching every filter given; the API layer orders and pages the result."""
    stmt = select(User)
    if role is not None:
        stmt = stmt.where(User.role == role)
    if is_active is not None:
        stmt = stmt.where(User.is_active.is_(is_active))
    if updated_since is not None:
        stmt = stmt.where(User.updated_at >= updated_since)
    if q:
        # autoescape: a `%` or `_` typed by the user is a character to find, not a wildcard
        term = q.strip().lower()
        stmt = stmt.where(
            or_(
                User.email.contains(term, autoescape=True),
                func.lower(User.full_name).contains(term, autoescape=True),
            )
        )
    return stmt


def get_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def create_user(
    session: Session, *, email: str, password: str, role: str, full_name: str = ""
) -> User:
    """Create an account; e-mails are unique, compared in their normal form."""
    email = canonical_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise _duplicate_email(session, email)
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=Role(role).value,
        full_name=full_name,
    )
    session.add(user)
    commit(session, {"uq_users_email": lambda: _duplicate_email(session, email)})
    return user


def reset_password(session: Session, *, email: str, password: str) -> User:
    """Give an account a new password from the server's console (a lost admin password).

    Its open logins end, the account is active again and a lock from failed logins is lifted,
    so that the new password works at once.
    """
    email = canonical_email(email)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        raise NotFound("user", email)
    user.password_hash = hash_password(password)
    user.is_active = True
    revoke_user_sessions(session, user_id=user.id, reason="password-reset")
    clear_account_lock(session, email=email)
    commit(session)
    return user


def _active_admins(session: Session) -> int:
    """Count active admins, locking their rows (PostgreSQL) until the commit.

    Without the lock, two admins demoting each other at the same time would each count two
    admins and both succeed, leaving none.
    """
    admins = session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.is_active).with_for_update()
    ).all()
    return len(admins)


def _keep_an_admin(session: Session, *, actor: User, user: User, changes: dict[str, Any]) -> None:
    """Refuse changes that would lock everyone out of user management."""
    demoted = "role" in changes and changes["role"] != Role.ADMIN
    deactivated = changes.get("is_active") is False
    if not (demoted or deactivated) or user.role != Role.ADMIN or not user.is_active:
        return
    field = "role" if demoted else "is_active"
    if user.id == actor.id:
        raise Conflict("You cannot demote or deactivate your own account.", field=field)
    if _active_admins(session) <= 1:
        raise Conflict("At least one active admin must remain.", field=field)


def update_user(
    session: Session,
    *,
    actor: User,
    user_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: Collection[int] | None,
) -> User:
    """Change a user's name, role, active flag or password.

    Deactivating an account, or changing its password, ends its open logins.
    """
    user = get_user(session, user_id)
    check_version(user.version, if_match)
    _keep_an_admin(session, actor=actor, user=user, changes=changes)
    for name in ("full_name", "role", "is_active"):
        if name in changes:
            setattr(user, name, changes[name])
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
    if changes.get("is_active") is False or "password" in changes:
        revoke_user_sessions(session, user_id=user.id, reason="account-changed")
    commit(session)
    return user


def deactivate_user(
    session: Session, *, actor: User, user_id: uuid.UUID, if_match: Collection[int] | None
) -> User:
    """Stop an account from logging in, keeping it (and who did what) readable; its open
    logins end at once. Deactivating an inactive account is a conflict."""
    user = get_user(session, user_id)
    if not user.is_active:
        check_version(user.version, if_match)
        raise Conflict("The account is already deactivated.", field="is_active")
    return update_user(
        session, actor=actor, user_id=user_id, changes={"is_active": False}, if_match=if_match
    )


def reactivate_user(
    session: Session, *, actor: User, user_id: uuid.UUID, if_match: Collection[int] | None
) -> User:
    """Let a deactivated account log in again; reactivating an active one is a conflict."""
    user = get_user(session, user_id)
    check_version(user.version, if_match)
    if user.is_active:
        raise Conflict("The account is active.", field="is_active")
    return update_user(
        session, actor=actor, user_id=user_id, changes={"is_active": True}, if_match=if_match
    )


def delete_user(
    session: Session, *, actor: User, user_id: uuid.UUID, if_match: Collection[int] | None
) -> None:
    """Delete an account, with its logins, when no other record names it.

    An account that records refer to (who did what) answers a conflict: deactivate it
    instead. Nobody deletes their own account, nor the last active admin.
    """
    user = get_user(session, user_id)
    check_version(user.version, if_match)
    if user.id == actor.id:
        raise Conflict("You cannot delete your own account.")
    if user.role == Role.ADMIN and user.is_active and _active_admins(session) <= 1:
        raise Conflict("At least one active admin must remain.")
    session.delete(user)
    try:
        commit(session)
    except IntegrityError as exc:
        # A foreign key of another table refused: the account is part of some history.
        raise Conflict(
            "Other records refer to the account; deactivate it instead of deleting it."
        ) from exc
