"""Logins, refresh-token rotation and logout (the per-request check is in ``principals``)."""

import hashlib
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import AuthSession, LoginThrottle, User
from models.types import utcnow
from services.errors import AuthenticationFailed, InvalidInput, TooManyAttempts
from services.passwords import burn_verification_time, verify_password
from services.roles import scopes_for_role

BAD_CREDENTIALS = "Invalid e-mail or password."


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures a key may have within ``window`` before it is locked for ``window``."""

    max_failures_per_account: int = 5
    max_failures_per_address: int = 50
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Grant:
    """What a successful login or refresh hands the API layer to encode as tokens."""

    user: User
    session_id: uuid.UUID
    refresh_jti: str
    scopes: frozenset[str]


def _throttle_key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _check_not_locked(session: Session, keys: Collection[str], now: datetime) -> None:
    locks = session.scalars(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now
        )
    ).all()
    if locks:
        raise TooManyAttempts(retry_after=max(1, int((max(locks) - now).total_seconds()) + 1))


def _record_failure(session: Session, key: str, limit: int, policy: ThrottlePolicy) -> None:
    """Count one failure for ``key`` atomically (an upsert), and lock it once over the limit."""
    now = utcnow()
    window_start = now - policy.window
    table = LoginThrottle.__table__
    is_postgres = session.get_bind().dialect.name == "postgresql"
    dialect_insert = postgresql.insert if is_postgres else sqlite.insert
    stmt = dialect_insert(table).values(key=key, failures=1, window_started_at=now)
    expired = table.c.window_started_at < window_start
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "failures": case((expired, 1), else_=table.c.failures + 1),
            "window_started_at": case((expired, now), else_=table.c.window_started_at),
        },
    )
    session.execute(stmt)
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key, LoginThrottle.failures >= limit)
        .values(locked_until=now + policy.window, failures=0, window_started_at=now)
        .execution_options(synchronize_session=False)
    )


def _granted_scopes(user: User, requested: Collection[str] | None) -> frozenset[str]:
    allowed = scopes_for_role(user.role)
    if requested is None:
        return allowed
    unknown = set(requested) - allowed
    if unknown:
        raise InvalidInput(
            {"scopes": [f"Not granted to this account: {', '.join(sorted(unknown))}."]}
        )
    return frozenset(requested)


def log_in(
    session: Session,
    *,
    email: str,
    password: str,
    client_address: str,
    requested_scopes: Collection[str] | None,
    refresh_lifetime: timedelta,
    policy: ThrottlePolicy,
) -> Grant:
    """Check credentials and open a login session.

    Failures are counted per account and per client address; past the limit the key is locked
    (429) whether or not the account exists, so the answer never reveals which e-mails are known.
    """
    now = utcnow()
    email = email.strip().lower()
    account_key = _throttle_key("email", email)
    address_key = _throttle_key("address", client_address)
    _check_not_locked(session, (account_key, address_key), now)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        burn_verification_time(password)
    if user is None or not verify_password(user.password_hash, password) or not user.is_active:
        _record_failure(session, account_key, policy.max_failures_per_account, policy)
        _record_failure(session, address_key, policy.max_failures_per_address, policy)
        session.commit()
        raise AuthenticationFailed(BAD_CREDENTIALS)
    scopes = _granted_scopes(user, requested_scopes)
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == account_key))
    login = AuthSession(
        user_id=user.id,
        scopes=" ".join(sorted(scopes)),
        refresh_jti=secrets.token_hex(16),
        expires_at=now + refresh_lifetime,
    )
    session.add(login)
    session.commit()
    return Grant(user=user, session_id=login.id, refresh_jti=login.refresh_jti, scopes=scopes)


def rotate_refresh_token(
    session: Session, *, session_id: uuid.UUID, refresh_jti: str, refresh_lifetime: timedelta
) -> Grant:
    """Swap a refresh token for a new one; each refresh token works once.

    A second use of the same refresh token means it leaked: the whole login is revoked.
    """
    now = utcnow()
    new_jti = secrets.token_hex(16)
    rotated = session.execute(
        update(AuthSession)
        .where(
            AuthSession.id == session_id,
            AuthSession.refresh_jti == refresh_jti,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .values(refresh_jti=new_jti, refreshed_at=now, expires_at=now + refresh_lifetime)
        .execution_options(synchronize_session=False)
    )
    if rotated.rowcount != 1:  # type: ignore[attr-defined]
        session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason="refresh-token-reuse")
            .execution_options(synchronize_session=False)
        )
        session.commit()
        raise AuthenticationFailed("This refresh token is no longer valid; log in again.")
    login = session.get(AuthSession, session_id)
    user = session.get(User, login.user_id) if login else None
    if login is None or user is None or not user.is_active:
        session.rollback()
        raise AuthenticationFailed("This refresh token is no longer valid; log in again.")
    scopes = frozenset(login.scopes.split()) & scopes_for_role(user.role)
    session.commit()
    return Grant(user=user, session_id=session_id, refresh_jti=new_jti, scopes=scopes)


def log_out(session: Session, *, session_id: uuid.UUID) -> None:
    """Revoke the login: its access and refresh tokens stop working in every worker."""
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason="logout")
        .execution_options(synchronize_session=False)
    )
    session.commit()


def revoke_user_sessions(session: Session, *, user_id: uuid.UUID, reason: str) -> None:
    """Revoke every open login of a user (flushes; the caller commits)."""
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
