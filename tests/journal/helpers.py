"""Reading what the journal recorded during a test."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import JournalEntry


def last_seq(session: Session) -> int:
    return session.scalar(select(func.coalesce(func.max(JournalEntry.seq), 0))) or 0


def entries_after(session: Session, seq: int) -> list[JournalEntry]:
    session.expire_all()
    return list(
        session.scalars(
            select(JournalEntry).where(JournalEntry.seq > seq).order_by(JournalEntry.seq)
        )
    )


def summary(entries: list[JournalEntry]) -> list[tuple[str, Any]]:
    return [(entry.event_type, entry.changes) for entry in entries]
