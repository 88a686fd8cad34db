"""Engine and per-request session, created by ``create_app()`` and never at import time."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from api.config import Settings


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """SQLite ignores foreign keys unless asked; WAL lets readers run beside the one writer.

    The sqlite3 driver also opens transactions on its own (only before DML, and it commits
    around DDL), which breaks SAVEPOINTs: a rollback to a savepoint, or of the outer
    transaction, could leave rows written. Turning that off and emitting BEGIN from
    SQLAlchemy's own ``begin`` event is the fix the SQLAlchemy pysqlite docs give.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


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
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
        hide_parameters=True,
    )


@dataclass
class DatabaseState:
    """One app's engine and session factory (tests swap the factory for a SAVEPOINT-bound one)."""

    engine: Engine
    session_factory: Callable[[], Session]


class Database:
    """Hands each request its own Session, closed at teardown.

    The object is unbound: the engine lives in ``app.extensions`` so that several apps (SQLite
    and PostgreSQL in one test run) can coexist in one process.
    """

    EXTENSION_KEY = "mrm-database"

    def init_app(self, app: Flask, settings: Settings) -> None:
        engine = build_engine(settings)
        app.extensions[self.EXTENSION_KEY] = DatabaseState(
            engine=engine, session_factory=sessionmaker(engine, expire_on_commit=False)
        )
        app.teardown_appcontext(self._close_session)

    def state(self, app: Flask | None = None) -> DatabaseState:
        return (app or current_app).extensions[self.EXTENSION_KEY]

    @property
    def engine(self) -> Engine:
        return self.state().engine

    @property
    def session(self) -> Session:
        """The current request's session, opened on first use."""
        if "db_session" not in g:
            g.db_session = self.state().session_factory()
        return g.db_session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()
