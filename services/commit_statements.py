"""Statements sent with a transaction's COMMIT, in the same round trip (PostgreSQL).

The change journal writes its entries in one statement at the end of every write transaction.
Sent on its own it costs a network round trip, and then the COMMIT costs another: on a write
that otherwise takes four (begin, login check, insert, commit) that is a quarter more time.
Nothing needs the statement's answer before the commit, so it can travel with the COMMIT: a
statement handed to ``send_with_commit`` waits on the connection, and when the transaction
commits it goes with the COMMIT in one libpq pipeline (one Sync), which the server runs in
order in the same transaction: a failing statement aborts the transaction and the COMMIT is
skipped, so the change and its entries still commit together or not at all.

The pipeline is driven at libpq's level, with the statement prepared once per server session
under a name of ours: psycopg's own pipeline mode runs about 150 us more Python per commit
than the journal's whole statement costs the server. psycopg alone decides when the server
forgets prepared statements (DEALLOCATE ALL after a ROLLBACK or a DROP), so ours are noted in
psycopg's own record of them (``prepared_names``), which psycopg empties when it does: a
statement is sent prepared only while the server is known to hold it, and otherwise is
prepared again in the same round trip. Measured on one connection (a statement and COMMIT,
``bench.journal`` for the whole request): about 180 us less wall time and 130 us less CPU per
commit than psycopg's pipeline.

A transaction that rolls back drops what waits. Only a connection's outermost transaction
commits for real: under a SAVEPOINT (a batch's item, a test's session) the caller runs its
statement at once instead (``waits_for_commit``).
"""

import contextlib
import functools
import hashlib
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import errors, generators, waiting
from psycopg.adapt import Transformer
from psycopg.pq import ExecStatus, PGconn, PGresult
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError

_WAITING = "mrm.commit_statements"


@dataclass(frozen=True)
class CommitStatement:
    """Fixed SQL and its parameters; ``on_rows`` gets the rows it returns (before the
    session's after-commit hooks run)."""

    sql: str
    params: Mapping[str, Any]
    on_rows: Callable[[list[Any]], None] | None = None


def waits_for_commit(connection: Connection) -> bool:
    """Whether a statement for ``connection`` may wait for its COMMIT: PostgreSQL, and the
    connection in its outermost transaction (no SAVEPOINT open)."""
    return connection.dialect.name == "postgresql" and not connection.in_nested_transaction()


def send_with_commit(connection: Connection, statement: CommitStatement) -> None:
    """Send ``statement`` with the COMMIT of ``connection``'s transaction (see the module)."""
    waiting = connection.info.setdefault(_WAITING, [])
    waiting.append((connection.get_transaction(), statement))


def commit_pipelined(dbapi_connection: Any, statements: Sequence[CommitStatement]) -> None:
    """Run ``statements`` and COMMIT on a psycopg connection in one round trip, then hand each
    statement's rows to its ``on_rows``. psycopg's errors are raised as they are."""
    prepared = prepared_names(dbapi_connection)
    if prepared is None:  # a psycopg without the bookkeeping this relies on
        _commit_in_psycopg_pipeline(dbapi_connection, statements)
        return
    with dbapi_connection.lock:
        results = _send_in_libpq_pipeline(dbapi_connection, prepared, statements)
    for statement, result in zip(statements, results, strict=True):
        rows: list[Any] = []
        if result.status == ExecStatus.TUPLES_OK and result.ntuples:
            transformer = Transformer(dbapi_connection)
            transformer.set_pgresult(result)
            rows = transformer.load_rows(0, result.ntuples, tuple)
        if statement.on_rows is not None:
            statement.on_rows(rows)


# The key under which a statement of ours is noted among psycopg's prepared statements: a str
# where psycopg's own keys start with the query's bytes, so the two never meet.
_PREPARED_KEY = "mrm.commit_statements"
# How often a wait for the server wakes to let signals in (psycopg's own interval); without
# one, psycopg's wait functions poll without sleeping.
_WAIT_INTERVAL = 0.1
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def prepared_names(dbapi_connection: Any) -> OrderedDict[Any, bytes] | None:
    """psycopg's record of the statements prepared on ``dbapi_connection``'s server session.

    Ours are noted there too, because psycopg alone decides when the server forgets them: it
    sends DEALLOCATE ALL after a ROLLBACK or a DROP, and then empties this record, ours
    included; when the record outgrows its size it deallocates the oldest name, which may be
    ours, and removes it. So a statement of ours is in the record exactly while the server
    holds it. ``None`` when psycopg keeps no such record (another version's internals).
    """
    names = getattr(getattr(dbapi_connection, "_prepared", None), "_names", None)
    return names if isinstance(names, OrderedDict) else None


@dataclass(frozen=True)
class _ServerStatement:
    """A statement's SQL with numbered parameters, under a name derived from its text."""

    name: bytes
    sql: bytes
    param_names: tuple[str, ...]


@functools.cache
def _server_statement(sql: str) -> _ServerStatement:
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    numbered = _PLACEHOLDER.sub(number, sql)
    digest = hashlib.sha256(sql.encode()).hexdigest()[:20]
    return _ServerStatement(f"mrm_commit_{digest}".encode(), numbered.encode(), tuple(names))


def _aware_datetime_text(value: datetime) -> bytes:
    if value.tzinfo is None:
        raise TypeError("a statement sent with the COMMIT takes aware datetimes only")
    return value.isoformat().encode()


# A parameter in PostgreSQL's text format, by its exact type (the statements cast every one).
_TEXT_OF: dict[type, Callable[[Any], bytes]] = {
    str: str.encode,
    uuid.UUID: lambda value: str(value).encode(),
    int: lambda value: str(value).encode(),
    bool: lambda value: b"true" if value else b"false",
    datetime: _aware_datetime_text,
}


def _text(value: Any) -> bytes | None:
    if value is None:
        return None
    for kind in type(value).__mro__:  # the exact type first, then a subclass's (a str enum)
        to_text = _TEXT_OF.get(kind)
        if to_text is not None:
            return to_text(value)
    raise TypeError(f"cannot send a {type(value).__name__} with the COMMIT")


def _send_in_libpq_pipeline(
    dbapi_connection: Any,
    prepared: OrderedDict[Any, bytes],
    statements: Sequence[CommitStatement],
) -> list[PGresult]:
    """Each statement (prepared first if the server does not hold it yet), COMMIT and Sync,
    in one libpq pipeline: one write to the socket, one round trip. Returns each statement's
    result; raises the first error the server answered (the transaction is then aborted)."""
    pgconn: PGconn = dbapi_connection.pgconn
    sends = []  # every value converted before the first byte is queued
    for statement in statements:
        server = _server_statement(statement.sql)
        values = [_text(statement.params[name]) for name in server.param_names]
        sends.append((server, (_PREPARED_KEY, server.name), values))
    preparing: list[tuple[Any, bytes]] = []
    pgconn.enter_pipeline_mode()
    try:
        for server, key, values in sends:
            if key in prepared:
                prepared.move_to_end(key)  # psycopg evicts the least recently used
            else:
                pgconn.send_prepare(server.name, server.sql)
                preparing.append((key, server.name))
            pgconn.send_query_prepared(server.name, values)
        pgconn.send_query_params(b"COMMIT", None)
        pgconn.pipeline_sync()
        waiting.wait(generators.send(pgconn), pgconn.socket, interval=_WAIT_INTERVAL)
        answers = waiting.wait(_answers(pgconn), pgconn.socket, interval=_WAIT_INTERVAL)
    except BaseException:
        with contextlib.suppress(errors.OperationalError):  # results left unread: say why
            pgconn.exit_pipeline_mode()
        raise
    pgconn.exit_pipeline_mode()
    for (key, name), answer in zip(preparing, answers, strict=False):
        if answer.status == ExecStatus.COMMAND_OK:
            prepared[key] = name  # held by the server from now on, whatever follows
    failed = next((answer for answer in answers if answer.status == ExecStatus.FATAL_ERROR), None)
    if failed is not None:
        raise errors.error_from_result(failed, encoding=dbapi_connection.info.encoding)
    return answers[len(preparing) : len(preparing) + len(statements)]


def _answers(pgconn: PGconn) -> Generator[Any, Any, list[PGresult]]:
    """psycopg wait-generator: every result up to the pipeline's Sync, waiting for the socket
    (GIL released) whenever the next one has not arrived. Each query's results end with a
    None; a None that ends nothing means that the next query's have not arrived yet."""
    answers: list[PGresult] = []
    ended = True
    while True:
        if pgconn.is_busy():
            if (yield waiting.WAIT_R):
                pgconn.consume_input()
            continue
        answer = pgconn.get_result()
        if answer is None:
            if ended and (yield waiting.WAIT_R):
                pgconn.consume_input()
            ended = True
            continue
        if answer.status == ExecStatus.PIPELINE_SYNC:
            return answers
        answers.append(answer)
        ended = False


def _commit_in_psycopg_pipeline(
    dbapi_connection: Any, statements: Sequence[CommitStatement]
) -> None:
    cursors = []
    with dbapi_connection.pipeline():
        for statement in statements:
            cursor = dbapi_connection.cursor()
            cursor.execute(statement.sql, statement.params)
            cursors.append(cursor)
        dbapi_connection.commit()
    for cursor, statement in zip(cursors, statements, strict=True):
        rows = cursor.fetchall() if cursor.description else []
        cursor.close()
        if statement.on_rows is not None:
            statement.on_rows(rows)


def _commit_with_statements(connection: Connection) -> None:
    """Before SQLAlchemy's own COMMIT (then a no-op: psycopg skips a COMMIT with no
    transaction open): the waiting statements and the COMMIT in one pipeline."""
    waiting = connection.info.pop(_WAITING, None)
    if not waiting:
        return
    transaction = connection.get_transaction()
    statements = [statement for owner, statement in waiting if owner is transaction]
    if not statements:
        return
    for statement in statements:
        connection.dispatch.before_cursor_execute(
            connection, None, statement.sql, statement.params, None, False
        )
    dbapi = connection.dialect.loaded_dbapi
    dbapi_connection = connection.connection.dbapi_connection
    try:
        commit_pipelined(dbapi_connection, statements)
    except dbapi.Error as error:
        # SQLAlchemy counts its transaction as ended once its COMMIT is under way and returns
        # the connection to the pool without a rollback: end the failed transaction here.
        if not dbapi_connection.closed:
            dbapi_connection.rollback()
        raise DBAPIError.instance(
            statements[0].sql,
            None,
            error,
            dbapi.Error,
            hide_parameters=True,
            dialect=connection.dialect,
        ) from error


def _drop_waiting(connection: Connection) -> None:
    """A transaction that rolls back takes its waiting statements with it."""
    connection.info.pop(_WAITING, None)


event.listen(Engine, "commit", _commit_with_statements)
event.listen(Engine, "rollback", _drop_waiting)
