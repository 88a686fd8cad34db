"""The thread that hears PostgreSQL's login notifications and makes the cache forget.

One per process, started by the first authenticated request (so after gunicorn forks, never
in the master), with its own psycopg connection in autocommit that runs ``LISTEN``. While it
is connected and listening the process's ``LoginCache`` may answer login checks; when the
connection drops (server restart, terminated backend, network) the cache is emptied and
switched off, every request checks in the database again, and the thread reconnects after
``retry_seconds`` and empties the cache once more when it listens again. A connection that
died silently is found by a ping every ``ping_seconds``, which fails when the server does not
acknowledge it within ``tcp_user_timeout``, and by TCP keep-alives: a network that drops
packets without a word can hide changes from a worker for up to about 15 seconds.
"""

import logging
import os
import re
import threading
import time
from typing import Any

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from services.login_cache import CHANNEL, LoginCache, forget_everywhere_in_process

logger = logging.getLogger(__name__)

# Tables whose rows a login check reads, and the columns it reads (as migration 0013).
WATCHED_COLUMNS = {
    "users": ("is_active", "role"),
    "auth_sessions": ("revoked_at", "user_id"),
    "api_clients": ("is_active", "scopes", "expires_at"),
}
_SET_CLAUSE = re.compile(r"\bSET\b(.*?)(?:\bWHERE\b|\bRETURNING\b|$)", re.S | re.I)
_LOCAL_WRITE = "mrm_login_write"
APPLICATION_NAME = "mrm-login-listener"


class LoginListener:
    """Owns this process's login cache and the thread that keeps it honest."""

    def __init__(
        self,
        database_url: str,
        *,
        max_entries: int | None = None,
        poll_seconds: float = 0.5,
        ping_seconds: float = 5.0,
        retry_seconds: float = 1.0,
    ) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._max_entries = max_entries
        self._poll_seconds = poll_seconds
        self._ping_seconds = ping_seconds
        self._retry_seconds = retry_seconds
        self._start_lock = threading.Lock()
        self._pid: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.backend_pid: int | None = None  # of the listening connection, when connected
        self.connections = 0  # how many times it connected and listened
        self.cache = self._new_cache()

    def _new_cache(self) -> LoginCache:
        return LoginCache() if self._max_entries is None else LoginCache(self._max_entries)

    def running_cache(self) -> LoginCache:
        """This process's cache, starting the listener on first use in the process.

        A process forked from one that already started it gets a cache and a thread of its
        own: the parent's entries were not heard by any listener of this process.
        """
        if self._pid != os.getpid():
            with self._start_lock:
                if self._pid != os.getpid():
                    self.cache = self._new_cache()
                    self._stop = threading.Event()
                    self._thread = threading.Thread(
                        target=self._run, name=APPLICATION_NAME, daemon=True
                    )
                    self._thread.start()
                    self._pid = os.getpid()
        return self.cache

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening (the cache is switched off) and wait for the thread to end; the
        next ``running_cache`` starts again."""
        with self._start_lock:
            self._stop.set()
            thread = self._thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)
            self.cache.stop_listening()
            self._thread = None
            self._pid = None

    def _run(self) -> None:
        cache, stop = self.cache, self._stop
        while not stop.is_set():
            try:
                with psycopg.connect(
                    self._conninfo,
                    autocommit=True,
                    application_name=APPLICATION_NAME,
                    connect_timeout=5,
                    keepalives=1,
                    keepalives_idle=5,
                    keepalives_interval=2,
                    keepalives_count=3,
                    tcp_user_timeout=10_000,  # ms: a ping nobody acknowledges fails
                ) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.backend_pid = connection.info.backend_pid
                    cache.start_listening()
                    self.connections += 1
                    self._listen(connection, cache, stop)
            except Exception as exc:  # any failure: stop trusting the cache, then reconnect
                logger.warning("login listener disconnected: %s", type(exc).__name__)
            finally:
                cache.stop_listening()
                self.backend_pid = None
            stop.wait(self._retry_seconds)

    def _listen(self, connection: psycopg.Connection[Any], cache: LoginCache, stop: Any) -> None:
        last_ping = time.monotonic()
        while not stop.is_set():
            for notification in connection.notifies(timeout=self._poll_seconds):
                cache.forget(notification.payload)
            if time.monotonic() - last_ping >= self._ping_seconds:
                connection.execute("SELECT 1")  # raises if the server is gone
                last_ping = time.monotonic()


def _changes_login(context: Any, statement: str) -> bool:
    """Whether a compiled DELETE from, or UPDATE of a read column of, a watched table."""
    if context is None or not (context.isupdate or context.isdelete):
        return False
    table = getattr(getattr(context.compiled, "statement", None), "table", None)
    columns = WATCHED_COLUMNS.get(getattr(table, "name", ""))
    if columns is None:
        return False
    if context.isdelete:
        return True
    # A login's refresh or a client's last use updates other columns of these rows.
    match = _SET_CLAUSE.search(statement)
    assigned = match.group(1) if match else statement
    return any(re.search(rf"\b{column}\s*=", assigned) for column in columns)


def _note_login_write(
    conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
) -> None:
    """Mark a connection whose transaction changes a row that a login check reads."""
    if _changes_login(context, statement):
        conn.info[_LOCAL_WRITE] = True


def _forget_on_commit(conn: Any) -> None:
    if conn.info.pop(_LOCAL_WRITE, False):
        forget_everywhere_in_process()


def _unmark(conn: Any) -> None:
    conn.info.pop(_LOCAL_WRITE, None)


def watch_local_writes(engine: Engine) -> None:
    """Make this process forget as it commits a logout, deactivation or role change.

    The notification would arrive a moment after the commit; a request served by this process
    right after it (a keep-alive connection's next request) must not be let in meanwhile.
    SQLAlchemy's ``commit`` event comes just before the commit itself, so a request of another
    thread that reads the old row in that instant may still store it: the notification, which
    follows the commit, removes it. Statements SQLAlchemy did not compile (raw SQL) are left
    to the notification too.
    """
    event.listen(engine, "after_cursor_execute", _note_login_write)
    event.listen(engine, "commit", _forget_on_commit)
    event.listen(engine, "rollback", _unmark)
