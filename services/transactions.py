"""The one commit point of a use case, the translation of constraint violations, and what
concurrent writers need: last-write-wins retries and locks for rules that span rows."""

import hashlib
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

# Imported for its session hooks: every use case that commits here is journaled.
from services import journal as _journal  # noqa: F401
from services.errors import Conflict, PreconditionFailed, VersionConflict

ConflictFactory = Callable[[], Conflict]
T = TypeVar("T")

# A change re-run after a version conflict reads its record with a row lock (SELECT ... FOR
# UPDATE), so a second run cannot meet one; the third attempt is only a safety margin.
VERSION_CONFLICT_ATTEMPTS = 3

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
    with translating(session, conflicts):
        session.commit()


@contextmanager
def translating(
    session: Session, conflicts: Mapping[str, ConflictFactory] | None = None
) -> Iterator[None]:
    """Around statements that write (a create's INSERT, which a unique constraint refuses at
    once) and the commit: what ``commit`` does with their errors."""
    try:
        yield
    except IntegrityError as exc:
        session.rollback()
        factory = (conflicts or {}).get(violated_constraint(exc) or "")
        if factory is None:
            raise
        raise factory() from exc
    except StaleDataError as exc:
        session.rollback()
        raise VersionConflict("The record was modified concurrently.") from exc


def retry_on_version_conflict(
    change: Callable[[bool], T], *, if_match: Collection[int] | None
) -> T:
    """Run ``change(lock)``; without ``If-Match``, re-run it when another request changed the
    record between its read and its write, so that the last write wins.

    A client that sends ``If-Match`` asked to change only the version it saw: a concurrent
    change answers 412. One that sends none asked for last-write-wins, so its changes are
    re-applied to the record as it now is. The first run reads without locking (the common,
    uncontended case pays nothing); a re-run gets ``lock=True`` and must read the record with
    a row lock, which holds other writers off until it commits.
    """
    attempts = 0
    while True:
        try:
            return change(attempts > 0)
        except VersionConflict:
            attempts += 1
            if if_match is not None or attempts == VERSION_CONFLICT_ATTEMPTS:
                raise


def check_version(version: int, if_match: Collection[int] | None) -> None:
    """Honour ``If-Match``: ``None`` means the client sent none (or ``*``)."""
    if if_match is not None and version not in if_match:
        raise PreconditionFailed()


def hold_transaction_lock(session: Session, name: str) -> None:
    """Wait until no other transaction holds the lock ``name``, then hold it until this one
    ends (commit or rollback).

    For rules that span several rows, which neither a constraint nor a lock on one row can
    guard: the transactions that may break them run one after the other, and each checks
    what the previous one committed. On PostgreSQL it is a transaction-level advisory lock
    (at READ COMMITTED, every statement after it sees what the holder before committed). On
    SQLite nothing is needed: a transaction that may write holds the database's only write
    lock from its first statement (``BEGIN IMMEDIATE``).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest, signed=True))))
