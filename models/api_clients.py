"""API clients (partner servers calling mrm with client credentials) and idempotency keys."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, RecordMixin
from models.types import utcnow


class ApiClient(RecordMixin, Base):
    """A partner's server: it logs in with its id and a secret, and may do what ``scopes`` say.

    Secrets are stored as SHA-256 digests (they are 256 random bits, so no slow hash is
    needed). During a rotation the previous secret stays valid until
    ``previous_secret_expires_at``.
    """

    __tablename__ = "api_clients"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    scopes: Mapped[str] = mapped_column(String(1000))  # space-separated, sorted
    is_active: Mapped[bool] = mapped_column(default=True)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class IdempotencyKey(Base):
    """The first answer to a POST sent with an ``Idempotency-Key``, kept for replays.

    One row per (caller, key): the unique constraint is what lets only one of several
    concurrent requests with the same key run. ``status`` is null while it runs.
    """

    __tablename__ = "idempotency_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner: Mapped[str] = mapped_column(String(80))  # "user:<uuid>" or "client:<uuid>"
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # method, path and body, hashed
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[int | None] = mapped_column(Integer, default=None)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)

    __table_args__ = (UniqueConstraint("owner", "key"),)
