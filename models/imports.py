"""Imports: a file sent to ``POST /imports/{resource}``, its progress and its report.

The file is kept in the row until the import ends, so that any worker (on any machine) can
run it and a worker killed midway can resume it; it is dropped once the import has finished.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from models.base import Base, RecordMixin


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # ran to the end (its report may still list refused rows)
    FAILED = "failed"  # nothing written (atomic) or stopped by an unreadable file


class Import(RecordMixin, Base):
    """One import of a file into one resource."""

    __tablename__ = "imports"

    resource: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.QUEUED.value)
    media_type: Mapped[str] = mapped_column(String(100))
    # key, mode, dry_run, atomic: the options of services.imports.runner.ImportOptions.
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    size_bytes: Mapped[int]
    payload: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, default=None))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_imports_status_heartbeat_at", "status", "heartbeat_at"),)
