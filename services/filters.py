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


def search_words(q: str | None) -> list[str]:
    """The words of ``q`` that each need a test: folded, each once, and none that is part of
    another (``%ab%`` adds nothing to ``%abc%``), so that repeating a word costs nothing."""
    words = sorted(set(fold(q).split()), key=lambda word: (-len(word), word))
    kept: list[str] = []
    for word in words:
        if not any(word in longer for longer in kept):
            kept.append(word)
    return kept


def filter_words(stmt: S, search_text: InstrumentedAttribute[str], q: str | None) -> S:
    """Every word of ``q``, folded like the ``search_text`` column was, must appear in it.

    Folding both sides in the application is what makes "societe generale" find
    "Société Générale" the same way on SQLite and PostgreSQL. The schemas bound the number of
    distinct words (``SearchText``).
    """
    for word in search_words(q):
        stmt = stmt.where(search_text.like(like_pattern(word), escape="\\"))
    return stmt
