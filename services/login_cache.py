"""What this process remembers of its login checks, and when it must forget.

A login check (``services/principals.py``) reads the database on every request so that a
logout, a deactivation or a role change stops a token at once, in every worker. On PostgreSQL
the answers are remembered here instead, as long as the database can tell this process that
one may have changed: triggers notify every change of the rows a check reads (migration
0013), a listener thread (``services/login_listener.py``) hears them and calls ``forget``.

The rules that keep an answer from outliving its row:

- Only while the listener is connected and listening is anything read or stored; when it
  connects, and when it loses its connection, everything is forgotten (a notification sent
  while it was away is lost, so nothing remembered before can be trusted).
- Only answers that let a caller in are kept: a refused token is checked again each time, so
  a new row can never be hidden by a remembered refusal.
- A request may read the database just before a change commits, and want to store the old
  answer just after the notification was handled: that would keep a stale answer until the
  next change. Every ``forget`` (and every connect or loss) increments ``generation``; a
  request reads the generation before its query and stores only if it has not moved since.
  A change committed after the query read the row is notified after it, so either its
  ``forget`` comes before the store (the generation moved: nothing stored) or after it (the
  entry is forgotten then). This needs the query to read what committed before it started,
  as every statement does at READ COMMITTED (mrm's only isolation level): a transaction with
  an older snapshot (REPEATABLE READ) could read a row older than the generation.
- An API client's expiry is remembered with its scopes and compared with the clock on every
  use: time passing sends no notification.
- At most ``max_entries`` logins and as many clients are kept; the oldest go first.
"""

import threading
import uuid
import weakref
from datetime import datetime

from models.types import utcnow

# The channel and the payload prefixes of the notifications (migration 0013).
CHANNEL = "mrm_logins"
USER, LOGIN, CLIENT = "u", "s", "c"
DEFAULT_MAX_ENTRIES = 10_000


class LoginCache:
    """Open logins (login id -> user id and role) and API clients (client id -> scopes and
    expiry) known valid when read, and the generation that guards their storage."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._listening = False
        self._generation = 0
        self._logins: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
        self._logins_of_user: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._clients: dict[uuid.UUID, tuple[str, datetime | None]] = {}
        _CACHES.add(self)

    # Reads: no lock (a dict read is atomic); a miss falls back to the database.

    @property
    def listening(self) -> bool:
        return self._listening

    def generation(self) -> int | None:
        """The generation to hand back to ``store_*``; None while nothing may be stored."""
        return self._generation if self._listening else None

    def role(self, *, user_id: uuid.UUID, session_id: uuid.UUID) -> str | None:
        """The role of an open login of this active user, if known."""
        if not self._listening:
            return None
        entry = self._logins.get(session_id)
        if entry is None or entry[0] != user_id:
            return None
        return entry[1]

    def client_scopes(self, client_id: uuid.UUID) -> str | None:
        """The scopes of this active API client, if known and not expired by now."""
        if not self._listening:
            return None
        entry = self._clients.get(client_id)
        if entry is None:
            return None
        scopes, expires_at = entry
        if expires_at is not None and expires_at <= utcnow():
            return None  # the database says no too; asking it keeps one rule in one place
        return scopes

    def __len__(self) -> int:
        return len(self._logins) + len(self._clients)

    # Writes, under the lock.

    def store_role(
        self, generation: int, *, user_id: uuid.UUID, session_id: uuid.UUID, role: str
    ) -> bool:
        """Remember a login read at ``generation``, unless something was forgotten since."""
        with self._lock:
            if not self._listening or generation != self._generation:
                return False
            if session_id not in self._logins and len(self._logins) >= self.max_entries:
                self._drop_login(next(iter(self._logins)))
            self._logins[session_id] = (user_id, role)
            self._logins_of_user.setdefault(user_id, set()).add(session_id)
            return True

    def store_client(
        self, generation: int, *, client_id: uuid.UUID, scopes: str, expires_at: datetime | None
    ) -> bool:
        """Remember an API client read at ``generation``, unless something was forgotten since."""
        with self._lock:
            if not self._listening or generation != self._generation:
                return False
            if client_id not in self._clients and len(self._clients) >= self.max_entries:
                del self._clients[next(iter(self._clients))]
            self._clients[client_id] = (scopes, expires_at)
            return True

    def forget(self, payload: str) -> None:
        """A row changed (``u:<user id>``, ``s:<login id>``, ``c:<client id>``); anything
        else forgets everything."""
        kind, _, raw_id = payload.partition(":")
        try:
            key = uuid.UUID(raw_id)
        except ValueError:
            key = None
        with self._lock:
            self._generation += 1
            if key is None or kind not in (USER, LOGIN, CLIENT):
                self._clear()
            elif kind == USER:
                for session_id in self._logins_of_user.pop(key, ()):
                    self._logins.pop(session_id, None)
            elif kind == LOGIN:
                self._drop_login(key)
            else:
                self._clients.pop(key, None)

    def forget_all(self) -> None:
        with self._lock:
            self._generation += 1
            self._clear()

    def start_listening(self) -> None:
        """The listener (re)connected and listens: start from nothing."""
        with self._lock:
            self._generation += 1
            self._clear()
            self._listening = True

    def stop_listening(self) -> None:
        """The listener lost its connection (or stops): notifications may be missed, so
        nothing is read or kept until it listens again."""
        with self._lock:
            self._listening = False
            self._generation += 1
            self._clear()

    def _clear(self) -> None:
        self._logins.clear()
        self._logins_of_user.clear()
        self._clients.clear()

    def _drop_login(self, session_id: uuid.UUID) -> None:
        entry = self._logins.pop(session_id, None)
        if entry is None:
            return
        sessions = self._logins_of_user.get(entry[0])
        if sessions is not None:
            sessions.discard(session_id)
            if not sessions:
                del self._logins_of_user[entry[0]]


# Every cache of this process, for ``forget_everywhere_in_process``.
_CACHES: "weakref.WeakSet[LoginCache]" = weakref.WeakSet()


def forget_everywhere_in_process() -> None:
    """This process is committing a change to a row a login check reads: forget at once,
    rather than a moment later when the notification comes back, so that the next request
    served here after the commit sees the change (an app on another database forgets too,
    which costs it a query per login)."""
    for cache in list(_CACHES):
        cache.forget_all()
