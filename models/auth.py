"""Login sessions (refresh-token families) and the failed-login throttle."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.types import utcnow


class AuthSession(Base):
    """One login: every access and refresh token it issues carries its id (``sid``).

    Revoking the row (logout, refresh-token reuse, user deactivation) ends every token of the
    login at once, in every worker, because each request checks the row.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    scopes: Mapped[str] = mapped_column(String(1000))
    refresh_jti: Mapped[str] = mapped_column(String(64))
    # The refresh token rotated away last (at ``refreshed_at``): presented again within the
    # reuse window it gets the current pair again instead of revoking the login.
    previous_refresh_jti: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    refreshed_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(40), default=None)


class LoginThrottle(Base):
    """Failed logins counted per key (an e-mail address or a client address).

    Keys are hashed so that the table never holds the e-mail addresses people mistyped.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
