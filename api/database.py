"""Engine and per-request session, created by ``create_app()`` and never at import time."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from api.config import Settings

# Requests that must not change anything (RFC 9110 safe methods).
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadOnlySessionError(RuntimeError):
    """A read-only request tried to write: its statements would each commit on their own."""


# Execution option naming how an SQLite transaction begins (see ``_begin_sqlite_transaction``).
SQLITE_BEGIN = "mrm_sqlite_begin"


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, ConnectionPoolEntry], None]:
    """SQLite ignores foreign keys unless asked; WAL lets readers run beside the one writer.

    The sqlite3 driver also opens transactions on its own (only before DML, and it commits
    around DDL), which breaks SAVEPOINTs: a rollback to a savepoint, or of the outer
    transaction, could leave rows written. Turning that off and emitting BEGIN from
    SQLAlchemy's own ``begin`` event is the fix the SQLAlchemy pysqlite docs give.
    ``busy_timeout`` is how long a writer waits for the write lock before giving up (503).
    """

    def enable(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return enable


def _begin_sqlite_transaction(connection: Connection) -> None:
    """Begin IMMEDIATE (take the write lock now), unless the engine asks for DEFERRED.

    In WAL mode a deferred transaction that has read and then writes cannot upgrade its
    snapshot once another writer has committed: SQLite answers "database is locked" at once,
    without waiting for ``busy_timeout``. Taking the write lock at BEGIN instead makes writers
    wait their turn, as SQLite's documentation advises. IMMEDIATE is the default so that every
    path that may write (requests, commands, migrations, jobs) is safe; only the sessions of
    safe requests, which never write, begin DEFERRED and so run beside the writer.
    """
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def build_engine(settings: Settings) -> Engine:
    """An engine for the configured database; it connects lazily, so it is safe before a fork.

    ``hide_parameters``: a database error's text would otherwise carry the statement's values
    (a contact's name, e-mail, phone) into the logs that record unexpected errors.
    """
    url = settings.database_url
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and ":memory:" not in url:
            settings.instance_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas(settings.sqlite_busy_timeout_ms))
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    engine = create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=settings.db_ping_after_idle_seconds <= 0,
        pool_recycle=1800,
        hide_parameters=True,
    )
    if settings.db_ping_after_idle_seconds > 0:
        pinger = IdleConnectionPinger(settings.db_ping_after_idle_seconds)
        event.listen(engine, "checkout", pinger.on_checkout)
        event.listen(engine, "checkin", pinger.on_checkin)
    return engine


class IdleConnectionPinger:
    """Pre-ping pooled connections that sat idle, instead of every checkout.

    A ping on every checkout costs a round trip per request. A connection that was in use a
    moment ago is known alive; one idle longer than ``after_seconds`` may have been dropped
    (server restart, firewall) and is checked before use. A dead one raises
    ``DisconnectionError``, which makes the pool throw it away and try a fresh connection.
    """

    LAST_USED = "mrm_last_used"

    def __init__(self, after_seconds: float) -> None:
        self.after_seconds = after_seconds

    def on_checkin(self, _dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[self.LAST_USED] = time.monotonic()

    def on_checkout(self, dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        last_used = record.info.get(self.LAST_USED)
        if last_used is None or time.monotonic() - last_used < self.after_seconds:
            return  # new, or recently used
        try:
            self.ping(dbapi_connection)
        except Exception as exc:  # any failure means the connection is unusable
            raise DisconnectionError("idle connection failed its ping") from exc

    @staticmethod
    def ping(dbapi_connection: Any) -> None:
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.rollback()  # the ping must not leave a transaction open


def _refuse_write_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlySessionError("A GET/HEAD/OPTIONS request cannot write to the database.")


def _refuse_flush(_session: Session, _flush: UOWTransaction, _instances: object) -> None:
    raise ReadOnlySessionError("A GET/HEAD/OPTIONS request cannot write to the database.")


def read_only_session_factory(engine: Engine) -> Callable[[], Session]:
    """Sessions for safe requests, which refuse any write.

    On PostgreSQL they run in autocommit, so no BEGIN and no ROLLBACK: a read-only request in
    a transaction pays two extra round trips to the server (psycopg's BEGIN before the first
    query, the pool's ROLLBACK when the connection goes back). At PostgreSQL's READ COMMITTED
    every statement takes its own snapshot anyway, so reading in autocommit sees exactly what
    the transaction would have seen. SQLite runs in the process, where a BEGIN costs
    microseconds rather than a round trip: its safe requests keep a transaction, begun
    DEFERRED so that they never wait for (nor hold) the write lock.

    Any write through such a session raises, so a view that writes by mistake fails loudly
    instead of half-committing (or, on SQLite, failing on a lock it cannot upgrade).
    """
    if engine.dialect.name == "postgresql":
        bind = engine.execution_options(isolation_level="AUTOCOMMIT")
    else:
        bind = engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
    factory = sessionmaker(bind, expire_on_commit=False)
    event.listen(factory, "do_orm_execute", _refuse_write_statement)
    event.listen(factory, "before_flush", _refuse_flush)
    return factory


@dataclass
class DatabaseState:
    """One app's engine and session factories.

    Tests swap ``session_factory`` for a SAVEPOINT-bound one and clear ``read_session_factory``
    so that every request joins the test's transaction.
    """

    engine: Engine
    session_factory: Callable[[], Session]
    read_session_factory: Callable[[], Session] | None = None


class Database:
    """Hands each request its own Session, closed at teardown.

    The object is unbound: the engine lives in ``app.extensions`` so that several apps (SQLite
    and PostgreSQL in one test run) can coexist in one process.
    """

    EXTENSION_KEY = "mrm-database"

    def init_app(self, app: Flask, settings: Settings) -> None:
        engine = build_engine(settings)
        app.extensions[self.EXTENSION_KEY] = DatabaseState(
            engine=engine,
            session_factory=sessionmaker(engine, expire_on_commit=False),
            read_session_factory=read_only_session_factory(engine),
        )
        app.teardown_appcontext(self._close_session)

    def state(self, app: Flask | None = None) -> DatabaseState:
        return (app or current_app).extensions[self.EXTENSION_KEY]

    @property
    def engine(self) -> Engine:
        return self.state().engine

    @property
    def session(self) -> Session:
        """The current request's session, opened on first use.

        Safe methods get a read-only session; every other request, and code outside a request
        (commands, jobs), gets one that may write: on SQLite its transaction begins IMMEDIATE.
        """
        app_globals = g._get_current_object()  # one context lookup, not one per use
        session: Session | None = app_globals.get("db_session")
        if session is not None:
            return session
        state = self.state()
        factory = state.session_factory
        if (
            state.read_session_factory is not None
            and has_request_context()
            and request.method in READ_ONLY_METHODS
        ):
            factory = state.read_session_factory
        session = app_globals.db_session = factory()
        return session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()
