"""Archiving and restoring: the one rule every archivable record follows.

An archived record is hidden from lists but kept; archiving it again, or restoring one that is
active, is a 409 on ``archived_at``. The reasons of the last archiving and restore are kept.
Callers check the version first and commit after (these helpers only change the record).
"""

from models.base import ArchivableMixin
from models.types import utcnow
from services.errors import Conflict


def mark_archived(record: ArchivableMixin, *, noun: str, reason: str | None) -> None:
    """Archive ``record`` (a "member", "contact"...) with ``reason``; 409 if already archived."""
    if record.archived_at is not None:
        raise Conflict(f"The {noun} is already archived.", field="archived_at")
    record.archived_at = utcnow()
    record.archive_reason = reason


def mark_restored(record: ArchivableMixin, *, noun: str, reason: str | None) -> None:
    """Bring ``record`` back, noting when and why; 409 if it is not archived."""
    if record.archived_at is None:
        raise Conflict(f"The {noun} is not archived.", field="archived_at")
    record.archived_at = None
    record.archive_reason = None
    record.restored_at = utcnow()
    record.restore_reason = reason
