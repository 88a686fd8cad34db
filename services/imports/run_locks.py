"""Who is running an import: a lock its worker holds for as long as it lives and runs it.

An atomic import writes everything in one transaction, so nothing it does is visible
(heartbeat included) until it ends; a quiet import is therefore no sign of a dead worker.
What is: the worker's lock on the import is gone, because the operating system or the
database server drops it with the process.

- PostgreSQL: a session-level advisory lock held by a connection of its own (outside the
  import's transactions, and across the commits of a non-atomic import). A killed worker's
  connection closes and the server releases the lock; a machine that vanished is noticed by
  the server's TCP keepalives, which this connection shortens to about two minutes.
- SQLite (one machine): an exclusive ``flock`` on a file beside the database, released by the
  kernel when the process dies. A database that is not a file lives in one process only: a
  lock in that process does.

Whoever claims an import takes the lock first (a second worker handed the same import does
not get it and leaves the import alone), and the sweep hands over only imports whose lock
is free.
"""

import fcntl
import hashlib
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

# The server notices a vanished client after idle + interval * count seconds.
PG_KEEPALIVES = (
    "SELECT set_config('tcp_keepalives_idle', '60', false),"
    " set_config('tcp_keepalives_interval', '10', false),"
    " set_config('tcp_keepalives_count', '6', false)"
)
_in_process: set[uuid.UUID] = set()
_in_process_guard = threading.Lock()


def _engine(session: Session) -> Engine:
    return session.get_bind().engine


def _advisory_key(import_id: uuid.UUID) -> int:
    digest = hashlib.blake2b(f"mrm-import:{import_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, signed=True)


def _lock_file(engine: Engine, import_id: uuid.UUID) -> Path | None:
    """The file whose ``flock`` stands for the import's worker; None for a database in memory."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    directory = Path(database).with_name(Path(database).name + "-import-locks")
    directory.mkdir(exist_ok=True)
    return directory / f"{import_id}.lock"


@contextmanager
def _postgres_lock(engine: Engine, import_id: uuid.UUID) -> Iterator[bool]:
    key = _advisory_key(import_id)
    connection: Connection = engine.connect()
    held = False
    try:
        connection.exec_driver_sql(PG_KEEPALIVES)
        held = bool(connection.scalar(select(func.pg_try_advisory_lock(key))))
        connection.commit()  # the lock outlives the transaction; don't sit idle in one
        yield held
    finally:
        try:
            if held:
                connection.scalar(select(func.pg_advisory_unlock(key)))
                connection.commit()
        except Exception:
            # A pooled connection must not keep the lock: drop it, the server releases it.
            connection.invalidate()
            raise
        finally:
            connection.close()


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    handle: IO[bytes] = path.open("ab")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


@contextmanager
def _process_lock(import_id: uuid.UUID) -> Iterator[bool]:
    with _in_process_guard:
        held = import_id not in _in_process
        _in_process.add(import_id)
    try:
        yield held
    finally:
        if held:
            with _in_process_guard:
                _in_process.discard(import_id)


@contextmanager
def running_lock(session: Session, import_id: uuid.UUID) -> Iterator[bool]:
    """Hold the import's lock for the block; yields False (and holds nothing) when a live
    worker already holds it."""
    engine = _engine(session)
    if engine.dialect.name == "postgresql":
        with _postgres_lock(engine, import_id) as held:
            yield held
        return
    path = _lock_file(engine, import_id)
    with _file_lock(path) if path is not None else _process_lock(import_id) as held:
        yield held


def is_being_run(session: Session, import_id: uuid.UUID) -> bool:
    """Whether a live worker holds the import's lock (asked by taking it and letting go)."""
    engine = _engine(session)
    if engine.dialect.name == "postgresql":
        key = _advisory_key(import_id)
        with engine.connect() as connection:
            free = bool(connection.scalar(select(func.pg_try_advisory_lock(key))))
            if free:
                connection.scalar(select(func.pg_advisory_unlock(key)))
            connection.commit()
        return not free
    path = _lock_file(engine, import_id)
    if path is None:
        with _in_process_guard:
            return import_id in _in_process
    if not path.exists():
        return False
    with _file_lock(path) as free:
        return not free


def forget_lock_file(session: Session, import_id: uuid.UUID) -> None:
    """Remove a finished import's lock file (SQLite); nothing to do elsewhere."""
    engine = _engine(session)
    if engine.dialect.name == "postgresql":
        return
    path = _lock_file(engine, import_id)
    if path is not None:
        path.unlink(missing_ok=True)
