"""List filters that several resources share, written once so they behave the same."""

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from services.text import fold, like_pattern

S = TypeVar("S", bound=Select[Any])


def filter_archived(
    stmt: S, archived_at: InstrumentedAttribute[datetime | None], archived: bool | None
) -> S:
    """``archived``: False keeps active records only, True archived ones only, None both."""
    if archived is None:
        return stmt
    return stmt.where(archived_at.is_not(None) if archived else archived_at.is_(None))


def filter_words(stmt: S, search_text: InstrumentedAttribute[str], q: str | None) -> S:
    """Every word of ``q``, folded like the ``search_text`` column was, must appear in it.

    Folding both sides in the application is what makes "societe generale" find
    "Société Générale" the same way on SQLite and PostgreSQL.
    """
    for word in fold(q).split():
        stmt = stmt.where(search_text.like(like_pattern(word), escape="\\"))
    return stmt
