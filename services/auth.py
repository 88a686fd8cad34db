"""Logins, refresh-token rotation and logout (the per-request check is in ``principals``)."""

import hashlib
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import AuthSession, LoginThrottle, User
from models.types import utcnow
from services.emails import normalize_login_email
from services.errors import AuthenticationFailed, InvalidInput, TooManyAttempts
from services.passwords import burn_verification_time, password_check_slot, verify_password
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
    """What a successful login or refresh hands the API layer to encode as tokens.

    The tokens are a function of these fields alone (``issued_at`` gives their ``iat`` and
    ``exp``), so a refresh retried within the reuse window can be answered with the very same
    pair without storing the tokens themselves.
    """

    user: User
    session_id: uuid.UUID
    refresh_jti: str
    scopes: frozenset[str]
    issued_at: datetime


def _throttle_key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _check_not_locked(session: Session, keys: Collection[str], now: datetime) -> None:
    locks = session.scalars(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now
        )
    ).all()
    if locks:
        raise TooManyAttempts(retry_after=_seconds_until(max(locks), now))


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds()) + 1)


def _count_attempt(
    session: Session, key: str, now: datetime, policy: ThrottlePolicy
) -> tuple[int, datetime | None]:
    """Count one attempt for ``key`` in one atomic upsert; return (attempts, locked_until).

    Counted before the password is checked, so that parallel attempts each see their own
    number and no more than the limit ever reach the check. A locked key is left as it is; an
    expired window or lock starts a new count.
    """
    table = LoginThrottle.__table__
    is_postgres = session.get_bind().dialect.name == "postgresql"
    dialect_insert = postgresql.insert if is_postgres else sqlite.insert
    locked = table.c.locked_until > now
    restart = or_(
        table.c.window_started_at < now - policy.window,
        table.c.locked_until <= now,
    )
    stmt = dialect_insert(table).values(key=key, failures=1, window_started_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "failures": case((locked, table.c.failures), (restart, 1), else_=table.c.failures + 1),
            "window_started_at": case(
                (locked, table.c.window_started_at), (restart, now), else_=table.c.window_started_at
            ),
            "locked_until": case((locked, table.c.locked_until), else_=None),
        },
    ).returning(table.c.failures, table.c.locked_until)
    attempts, locked_until = session.execute(stmt).one()
    return attempts, locked_until


def _admit_attempt(
    session: Session, limits: dict[str, int], now: datetime, policy: ThrottlePolicy
) -> None:
    """Count the attempt on every key and commit, or refuse it (429) past a key's limit."""
    refusals = []
    for key, limit in limits.items():
        attempts, locked_until = _count_attempt(session, key, now, policy)
        if locked_until is not None and locked_until > now:
            refusals.append(_seconds_until(locked_until, now))
        elif attempts > limit:
            # the attempt that reached the limit is being checked and will lock the key
            refusals.append(int(policy.window.total_seconds()))
    session.commit()
    if refusals:
        raise TooManyAttempts(retry_after=max(refusals))


def _lock_exhausted_keys(
    session: Session, limits: dict[str, int], now: datetime, policy: ThrottlePolicy
) -> None:
    """After a failed check, lock every key whose count has reached its limit (flushes)."""
    for key, limit in limits.items():
        session.execute(
            update(LoginThrottle)
            .where(
                LoginThrottle.key == key,
                LoginThrottle.failures >= limit,
                LoginThrottle.locked_until.is_(None),
            )
            .values(locked_until=now + policy.window)
            .execution_options(synchronize_session=False)
        )


def _forget_successful_attempt(session: Session, *, account_key: str, address_key: str) -> None:
    """A success clears the account's count and is taken back from the address's (flushes).

    A lock that a parallel failure set in the meantime stays.
    """
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.key == account_key, LoginThrottle.locked_until.is_(None)
        )
    )
    session.execute(
        update(LoginThrottle)
        .where(
            LoginThrottle.key == address_key,
            LoginThrottle.locked_until.is_(None),
            LoginThrottle.failures > 0,
        )
        .values(failures=LoginThrottle.failures - 1)
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

    Attempts are counted per account and per client address before the password is checked;
    past the limit the key is locked (429) whether or not the account exists, so the answer
    never reveals which e-mails are known. A success clears the account's count. When this
    process is already checking as many passwords as it allows, the answer is 503 at once and
    nothing is counted.
    """
    now = utcnow()
    email = normalize_login_email(email)
    account_key = _throttle_key("email", email)
    address_key = _throttle_key("address", client_address)
    limits = {
        account_key: policy.max_failures_per_account,
        address_key: policy.max_failures_per_address,
    }
    _check_not_locked(session, limits.keys(), now)
    with password_check_slot() as run_check:
        user = session.scalar(select(User).where(User.email == email))
        # Counting the attempt commits, which also ends the transaction before the deliberately
        # slow hash: on SQLite a request that may write holds the write lock from its first
        # statement, and no other write should wait for a password check.
        _admit_attempt(session, limits, now, policy)
        if user is None:
            verified = run_check(lambda: burn_verification_time(password))
        else:
            stored_hash = user.password_hash
            verified = run_check(lambda: verify_password(stored_hash, password))
    if user is None or not verified or not user.is_active:
        _lock_exhausted_keys(session, limits, utcnow(), policy)
        session.commit()
        raise AuthenticationFailed(BAD_CREDENTIALS)
    # The password was right: this attempt is no failure, even if the scopes asked are refused.
    _forget_successful_attempt(session, account_key=account_key, address_key=address_key)
    session.commit()
    scopes = _granted_scopes(user, requested_scopes)
    issued_at = utcnow()
    login = AuthSession(
        user_id=user.id,
        scopes=" ".join(sorted(scopes)),
        refresh_jti=secrets.token_hex(16),
        expires_at=issued_at + refresh_lifetime,
    )
    session.add(login)
    session.commit()
    return Grant(
        user=user,
        session_id=login.id,
        refresh_jti=login.refresh_jti,
        scopes=scopes,
        issued_at=issued_at,
    )


REFRESH_REFUSED = "This refresh token is no longer valid; log in again."


def _reissuable(
    login: AuthSession | None, *, refresh_jti: str, now: datetime, reuse_window: timedelta
) -> bool:
    """True when ``refresh_jti`` was rotated away from this open login moments ago."""
    return (
        login is not None
        and login.revoked_at is None
        and login.expires_at > now
        and login.previous_refresh_jti == refresh_jti
        and login.refreshed_at is not None
        and now - login.refreshed_at <= reuse_window
    )


def rotate_refresh_token(
    session: Session,
    *,
    session_id: uuid.UUID,
    refresh_jti: str,
    refresh_lifetime: timedelta,
    reuse_window: timedelta,
) -> Grant:
    """Swap a refresh token for a new one; each refresh token works once.

    The same token presented again within ``reuse_window`` of its rotation (a client's retry
    after a lost answer, parallel refreshes from several tabs) gets the same new pair again.
    Presented later, it means the token leaked: the whole login is revoked.
    """
    now = utcnow()
    new_jti = secrets.token_hex(16)
    # On PostgreSQL, parallel rotations of one token queue on the row lock; the losers then
    # find the row rotated and read the winner's committed successor below.
    rotated = session.execute(
        update(AuthSession)
        .where(
            AuthSession.id == session_id,
            AuthSession.refresh_jti == refresh_jti,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .values(
            refresh_jti=new_jti,
            previous_refresh_jti=refresh_jti,
            refreshed_at=now,
            expires_at=now + refresh_lifetime,
        )
        .execution_options(synchronize_session=False)
    )
    login = session.scalar(
        select(AuthSession)
        .where(AuthSession.id == session_id)
        .execution_options(populate_existing=True)
    )
    if rotated.rowcount != 1 and not _reissuable(  # type: ignore[attr-defined]
        login, refresh_jti=refresh_jti, now=now, reuse_window=reuse_window
    ):
        session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason="refresh-token-reuse")
            .execution_options(synchronize_session=False)
        )
        session.commit()
        raise AuthenticationFailed(REFRESH_REFUSED)
    user = session.get(User, login.user_id) if login else None
    if login is None or user is None or not user.is_active or login.refreshed_at is None:
        session.rollback()
        raise AuthenticationFailed(REFRESH_REFUSED)
    scopes = frozenset(login.scopes.split()) & scopes_for_role(user.role)
    grant = Grant(
        user=user,
        session_id=session_id,
        refresh_jti=login.refresh_jti,
        scopes=scopes,
        issued_at=login.refreshed_at,
    )
    session.commit()
    return grant


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


def clear_account_lock(session: Session, *, email: str) -> None:
    """Forget the failed logins counted against an account (flushes; the caller commits)."""
    account_key = _throttle_key("email", normalize_login_email(email))
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == account_key))
