"""Idempotency keys: one run of a POST per (caller, key), its answer kept for replays.

The unique constraint on (owner, key) decides which of several concurrent requests runs:
the first to insert the row claims the key and commits the claim before doing the work; the
others find the row and wait for its answer, or get told it is still running. A key reused
with another request is refused rather than answered with something the caller did not ask.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import IdempotencyKey
from models.types import utcnow
from services.errors import InvalidInput

KEY_HEADER = "Idempotency-Key"
KEY_LIFETIME = timedelta(hours=24)
# A claim this old without an answer belongs to a process that died mid-request: the key is
# free again (no request runs that long: the server's timeouts end it first).
ABANDONED_AFTER = timedelta(minutes=5)
REUSED = "This key was used with another request (method, path or body); use a new key."

_table = IdempotencyKey.__table__


@dataclass(frozen=True)
class Claimed:
    """This request holds the key: run it, then ``complete_key`` or ``release_key``."""

    key_id: uuid.UUID


@dataclass(frozen=True)
class Stored:
    """The key's first answer, to replay."""

    status: int
    headers: dict[str, Any]
    body: bytes


@dataclass(frozen=True)
class Running:
    """Another request with the key has not answered yet."""


Outcome = Claimed | Stored | Running


def _insert(session: Session) -> Any:
    is_postgres = session.get_bind().dialect.name == "postgresql"
    return (postgresql.insert if is_postgres else sqlite.insert)(_table)


def _read(session: Session, *, owner: str, key: str, fingerprint: str) -> Outcome | None:
    row = session.execute(
        select(
            _table.c.id,
            _table.c.fingerprint,
            _table.c.status,
            _table.c.response_headers,
            _table.c.response_body,
            _table.c.started_at,
        ).where(_table.c.owner == owner, _table.c.key == key)
    ).one_or_none()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise InvalidInput({KEY_HEADER: [REUSED]}, REUSED)
    if row.status is not None:
        return Stored(row.status, dict(row.response_headers or {}), bytes(row.response_body or b""))
    if row.started_at < utcnow() - ABANDONED_AFTER:
        taken = session.execute(
            update(_table)
            .where(_table.c.id == row.id, _table.c.started_at == row.started_at)
            .values(started_at=utcnow())
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return Claimed(row.id)
    return Running()


def claim_key(session: Session, *, owner: str, key: str, fingerprint: str) -> Outcome:
    """Claim ``key`` for this request, or say what became of the request that claimed it.

    Commits: the claim must be visible to concurrent requests before the work starts.
    """
    now = utcnow()
    session.execute(
        delete(_table).where(
            _table.c.owner == owner, _table.c.key == key, _table.c.expires_at <= now
        )
    )
    inserted = session.execute(
        _insert(session)
        .values(
            id=uuid.uuid4(),
            owner=owner,
            key=key,
            fingerprint=fingerprint,
            started_at=now,
            expires_at=now + KEY_LIFETIME,
        )
        .on_conflict_do_nothing(index_elements=[_table.c.owner, _table.c.key])
        .returning(_table.c.id)
    ).scalar()
    try:
        outcome = Claimed(inserted) if inserted is not None else None
        if outcome is None:
            outcome = _read(session, owner=owner, key=key, fingerprint=fingerprint)
    except InvalidInput:
        session.rollback()
        raise
    session.commit()
    # Deleted (released after a failure, or expired) between our insert and our read.
    return outcome if outcome is not None else Running()


def poll_key(session: Session, *, owner: str, key: str, fingerprint: str) -> Outcome:
    """What the request holding ``key`` has answered so far (ends its transaction, so that
    on SQLite the write lock is not held while waiting)."""
    try:
        outcome = _read(session, owner=owner, key=key, fingerprint=fingerprint)
    finally:
        session.commit()
    if outcome is None:  # released: the first try failed, so this one may run
        return claim_key(session, owner=owner, key=key, fingerprint=fingerprint)
    return outcome


def complete_key(
    session: Session, *, key_id: uuid.UUID, status: int, headers: dict[str, Any], body: bytes
) -> None:
    """Keep the answer of the request that held the key, for its retries."""
    session.execute(
        update(_table)
        .where(_table.c.id == key_id)
        .values(status=status, response_headers=headers, response_body=body)
    )
    session.commit()


def release_key(session: Session, *, key_id: uuid.UUID) -> None:
    """Free the key after a server error, so that a retry runs the request again."""
    session.execute(delete(_table).where(_table.c.id == key_id))
    session.commit()


def purge_expired_keys(session: Session, *, now: datetime | None = None) -> int:
    """Forget answers older than their lifetime; returns how many."""
    result = session.execute(delete(_table).where(_table.c.expires_at <= (now or utcnow())))
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
