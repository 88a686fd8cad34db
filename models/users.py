"""Staff members and API clients who may call mrm."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, RecordMixin


class User(RecordMixin, Base):
    """Someone (or some integration) allowed to log in; what they may do follows from ``role``."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(default=True)
