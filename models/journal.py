"""The change journal: one row per changed record, appended in the transaction of the change."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.types import utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint sequence.
SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")


class JournalEntry(Base):
    """What changed, when, by whom and through which request.

    ``seq`` orders the journal: integrations read it as a feed from the last number they saw.
    ``changes`` holds ``{field: [old, new]}`` for updates (never a secret's value); it is null
    for creations and deletions.
    """

    __tablename__ = "journal_entries"

    seq: Mapped[int] = mapped_column(SEQUENCE, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    event_type: Mapped[str] = mapped_column(String(80))  # "member.updated"
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[uuid.UUID]
    # No foreign keys: the journal outlives what it describes, and checking them would lock
    # the users row on every write.
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    api_client_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    request_id: Mapped[str | None] = mapped_column(String(128), default=None)
    source: Mapped[str] = mapped_column(String(20))  # api, cli, worker, system
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    __table_args__ = (
        Index("ix_journal_entries_resource", "resource_type", "resource_id", "seq"),
        # Strictly increasing numbers on SQLite too (never reused after a delete).
        {"sqlite_autoincrement": True},
    )
