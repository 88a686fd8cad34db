"""Declarative base, constraint naming convention and the columns every record has."""

import uuid
from datetime import datetime

from sqlalchemy import Integer, MetaData, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from models.types import UTCDateTime, utcnow

# Alembic needs stable constraint names to alter them later, and SQLite needs them for batch mode.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class RecordMixin:
    """Public UUID, timestamps and a version counter.

    The version doubles as the ETag and as SQLAlchemy's optimistic lock: an UPDATE carries
    ``WHERE version = <read version>``, so two writers holding the same ETag cannot both succeed.
    """

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A new record's updated_at equals its created_at, so "updated_at > created_at" means edited.
    updated_at: Mapped[datetime] = mapped_column(
        default=lambda context: context.get_current_parameters()["created_at"],
        onupdate=utcnow,
        index=True,
    )
    version: Mapped[int] = mapped_column(Integer, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, object]:  # noqa: N805 - declared_attr passes the class
        return {"version_id_col": cls.version}


class ArchivableMixin:
    """Records hidden from lists rather than deleted once they have history.

    The reasons of the last archiving and the last restore are kept with their times.
    """

    archived_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    archive_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    restored_at: Mapped[datetime | None] = mapped_column(default=None)
    restore_reason: Mapped[str | None] = mapped_column(String(500), default=None)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None
