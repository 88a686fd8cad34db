"""The one commit point of a use case, and the translation of constraint violations."""

import re
from collections.abc import Callable, Collection, Mapping

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

# Imported for its session hooks: every use case that commits here is journaled.
from services import journal as _journal  # noqa: F401
from services.errors import Conflict, PreconditionFailed

ConflictFactory = Callable[[], Conflict]

_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)")
_SQLITE_INDEX = re.compile(r"UNIQUE constraint failed: index '(\w+)'")


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint or unique index that refused the write, on either database.

    SQLite names columns rather than constraints; the name is rebuilt with the naming
    convention of ``models/base.py`` (``uq_<table>_<columns>``).
    """
    diag = getattr(error.orig, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None):
        return str(diag.constraint_name)
    message = str(error.orig)
    if match := _SQLITE_INDEX.search(message):
        return match.group(1)
    if match := _SQLITE_COLUMNS.search(message):
        qualified = match.group(1).split(", ")
        table = qualified[0].split(".")[0]
        columns = "_".join(name.split(".")[1] for name in qualified)
        return f"uq_{table}_{columns}"
    return None


def commit(session: Session, conflicts: Mapping[str, ConflictFactory] | None = None) -> None:
    """Commit, turning a known constraint violation into its ``Conflict`` and a lost optimistic
    lock into ``PreconditionFailed``; anything else rolls back and propagates."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        factory = (conflicts or {}).get(violated_constraint(exc) or "")
        if factory is None:
            raise
        raise factory() from exc
    except StaleDataError as exc:
        session.rollback()
        raise PreconditionFailed("The record was modified concurrently.") from exc


def check_version(version: int, if_match: Collection[int] | None) -> None:
    """Honour ``If-Match``: ``None`` means the client sent none (or ``*``)."""
    if if_match is not None and version not in if_match:
        raise PreconditionFailed()
