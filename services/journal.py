"""The change journal: every write of a journaled record appends one entry, in its transaction.

One mechanism for every write path: session hooks, not calls sprinkled through the services.
After each flush, the attribute history of the journaled records that were inserted, updated or
deleted is folded into the transaction's pending changes (one per record, however many flushes
touched it); just before the commit the entries are added and flushed with everything else.
A rollback throws the pending changes away with the transaction, so an entry never exists
without its change, and a write that changed nothing (a no-op PATCH) records nothing.

On PostgreSQL the transaction takes an exclusive advisory lock just before it inserts its
entries and keeps it until it commits: entries are numbered in commit order, so a reader of
the feed that has seen number N can never later find a smaller number appear (see README).
The lock, the entries and the outbox rows (webhook deliveries) go in one statement, which
travels with the COMMIT in the same round trip (``services.commit_statements``; under a
SAVEPOINT it runs at once), so the journal costs a write no round trip. SQLite serialises
writers anyway; there the entries are ORM rows and the outbox writes its rows from them.
"""

import functools
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, event, func, or_, select
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import InstanceState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.sql.visitors import replacement_traverse

from models import Affiliation, Contact, Domain, JournalEntry, Member, User
from models.types import utcnow
from services.commit_statements import CommitStatement, send_with_commit, waits_for_commit
from services.driver_rows import execute_on_driver
from services.errors import NotFound
from services.pagination import Page, attribute_key, keyset_page
from services.principals import Actor

# Columns every record has that say nothing a reader of the history needs.
BOOKKEEPING_FIELDS = frozenset({"id", "created_at", "updated_at", "version"})
REDACTED = "[redacted]"
# pg_advisory_xact_lock key of journal writers ("mrmj").
JOURNAL_LOCK_KEY = 0x6D726D6A

_PENDING = "mrm.journal.pending"
_VERBS = "mrm.journal.verbs"


@dataclass(frozen=True)
class JournalSpec:
    """How one model is journaled.

    ``exclude``: columns never recorded (derived copies, bookkeeping). ``secret``: columns
    recorded as changed under a public name, never with their values. ``collections``:
    relationships recorded as the sorted list of their items' names. ``owner``: the resource
    type and foreign key of a record deleted with its owner, whose own deletion is implied by
    the owner's entry. ``read_scope``: who may see the record's entries in the feed;
    ``visible``: which of them each reader may see, when that depends on the record.
    """

    resource_type: str
    read_scope: str
    exclude: frozenset[str] = frozenset()
    secret: Mapping[str, str] = field(default_factory=dict)
    collections: Mapping[str, Callable[[Any], str]] = field(default_factory=dict)
    owner: tuple[str, str] | None = None
    archivable: bool = False
    # Which of the type's entries a reader may see, for records some readers must not know of
    # (confidential interactions): a condition on ``JournalEntry`` for that reader.
    visible: Callable[[Actor], ColumnElement[bool]] | None = None


_SPECS: dict[type, JournalSpec] = {}


# Resource types some readers may not see every record of (confidential ones).
_GUARDED: set[str] = set()


def register(model: type, spec: JournalSpec) -> None:
    """Journal every write of ``model`` from now on (each new resource registers here)."""
    _SPECS[model] = spec
    if spec.visible is not None:
        _GUARDED.add(spec.resource_type)


@dataclass(frozen=True)
class Origin:
    """Who or what is writing: copied onto every entry of the transaction."""

    source: str = "system"
    actor_user_id: uuid.UUID | None = None
    api_client_id: uuid.UUID | None = None
    request_id: str | None = None


_origin: ContextVar[Origin | None] = ContextVar("mrm_journal_origin", default=None)
_origin_provider: list[Callable[[], Origin | None]] = []


def set_origin_provider(provider: Callable[[], Origin | None]) -> None:
    """Let the HTTP layer say who is writing (the services know nothing of requests)."""
    _origin_provider[:] = [provider]


@contextmanager
def writing_as(origin: Origin) -> Iterator[None]:
    """Attribute the writes of the block to ``origin`` (commands, jobs)."""
    token = _origin.set(origin)
    try:
        yield
    finally:
        _origin.reset(token)


def current_origin() -> Origin:
    origin = _origin.get()
    if origin is None and _origin_provider:
        origin = _origin_provider[0]()
    return origin or Origin()


def record_action(
    session: Session, record: Any, verb: str, changes: Mapping[str, list[Any]] | None = None
) -> None:
    """Name the entry of ``record`` in this transaction after a domain action ("renewed");
    ``changes`` adds what the action changed that the record's own columns do not show."""
    spec = _SPECS[type(record)]
    actions = session.info.setdefault(_VERBS, {})
    actions[(spec.resource_type, record.id)] = (verb, _json_value(dict(changes or {})))


@dataclass
class _Pending:
    verb: str
    changes: dict[str, list[Any]] | None


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    return value


def _changes(state: InstanceState[Any], spec: JournalSpec) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` of the columns and collections this flush changes."""
    changes: dict[str, list[Any]] = {}
    for attribute in state.mapper.column_attrs:
        name = attribute.key
        if name in BOOKKEEPING_FIELDS or name in spec.exclude:
            continue
        history = state.attrs[name].history
        if not history.added and not history.deleted:
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        if name in spec.secret:
            changes[spec.secret[name]] = [REDACTED, REDACTED]
        else:
            changes[name] = [_json_value(old), _json_value(new)]
    for name, label in spec.collections.items():
        history = state.attrs[name].history
        if not history.added and not history.deleted:
            continue
        kept = list(history.unchanged)
        old_names = sorted(label(item) for item in [*kept, *history.deleted])
        new_names = sorted(label(item) for item in [*kept, *history.added])
        if old_names != new_names:
            changes[name] = [old_names, new_names]
    return changes


def _verb(changes: Mapping[str, list[Any]], spec: JournalSpec) -> str:
    if spec.archivable and "archived_at" in changes:
        return "restored" if changes["archived_at"][1] is None else "archived"
    return "updated"


def _merge(pending: dict[tuple[str, uuid.UUID], _Pending], key: Any, entry: _Pending) -> None:
    """Fold a later flush's change of a record into what the transaction already holds."""
    earlier = pending.get(key)
    if earlier is None:
        pending[key] = entry
        return
    if earlier.verb == "created":
        if entry.verb == "deleted":
            del pending[key]  # created and deleted in one transaction: nothing happened
        return
    if entry.verb == "deleted":
        pending[key] = entry
        return
    merged = dict(earlier.changes or {})
    for name, (old, new) in (entry.changes or {}).items():
        merged[name] = [merged[name][0], new] if name in merged else [old, new]
    merged = {name: pair for name, pair in merged.items() if pair[0] != pair[1]}
    verb = entry.verb if entry.verb != "updated" else earlier.verb
    if merged:
        pending[key] = _Pending(verb, merged)
    else:
        del pending[key]


def _collect(session: Session, flush_context: UOWTransaction, _: object = None) -> None:
    """After each flush (history still intact): note what changed in journaled records."""
    if not _SPECS:
        return
    new = session.new
    found: list[tuple[JournalSpec, InstanceState[Any], bool]] = []
    deleted: set[tuple[str, Any]] = set()
    for state, (is_delete, list_only) in flush_context.states.items():
        spec = _SPECS.get(state.class_)
        if spec is None or list_only:
            continue
        found.append((spec, state, is_delete))
        if is_delete:
            deleted.add((spec.resource_type, state.obj().id))
    if not found:
        return
    pending = session.info.setdefault(_PENDING, {})
    for spec, state, is_delete in found:
        record = state.obj()
        key = (spec.resource_type, record.id)
        if is_delete:
            if spec.owner and (spec.owner[0], getattr(record, spec.owner[1])) in deleted:
                continue  # deleted with its owner, whose entry says so
            _merge(pending, key, _Pending("deleted", None))
        elif record in new:
            _merge(pending, key, _Pending("created", None))
        else:
            changes = _changes(state, spec)
            if changes:
                _merge(pending, key, _Pending(_verb(changes, spec), changes))


def write_entries(session: Session) -> None:
    """Before the commit: add the transaction's entries, numbered in commit order."""
    session.flush()  # the last changes reach ``_collect`` first
    pending: dict[tuple[str, uuid.UUID], _Pending] = session.info.pop(_PENDING, {})
    verbs: dict[tuple[str, uuid.UUID], tuple[str, dict[str, Any]]] = session.info.pop(_VERBS, {})
    for key, (verb, extra) in verbs.items():
        entry = pending.get(key)
        changes = {**((entry.changes or {}) if entry else {}), **extra}
        pending[key] = _Pending(verb, changes or None)
    if not pending:
        return
    origin = current_origin()
    occurred_at = utcnow()
    if session.get_bind().dialect.name == "postgresql" and not _entries_listeners:
        _insert_in_one_statement(session, pending, origin, occurred_at)
        return
    if session.get_bind().dialect.name == "postgresql":
        # Held until the commit: the next writer numbers its entries after ours are visible.
        session.execute(select(func.pg_advisory_xact_lock(JOURNAL_LOCK_KEY)))
    entries = [
        JournalEntry(
            occurred_at=occurred_at,
            event_type=f"{resource_type}.{entry.verb}",
            resource_type=resource_type,
            resource_id=resource_id,
            actor_user_id=origin.actor_user_id,
            api_client_id=origin.api_client_id,
            request_id=origin.request_id,
            source=origin.source,
            changes=entry.changes,
        )
        for (resource_type, resource_id), entry in pending.items()
    ]
    session.add_all(entries)
    if _entries_listeners or _outbox:
        session.flush()  # numbers the entries
        for listener in _entries_listeners:
            listener(session, entries)
        if _outbox:
            _outbox[0].add(session, entries)


# PostgreSQL: the lock, the entries and the outbox rows in one statement, sent with the COMMIT.
# The lock is a materialised CTE that the insert reads, so it is held before the first
# number is drawn; ``entries`` holds the inserted rows for the outbox's insert to read.
_PG_INSERT = f"""
WITH journal_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock({JOURNAL_LOCK_KEY})),
entries AS (
    INSERT INTO journal_entries (occurred_at, event_type, resource_type, resource_id,
        actor_user_id, api_client_id, request_id, source, changes)
    SELECT %(occurred_at)s::timestamptz, r.event_type, r.resource_type, r.resource_id,
        %(actor_user_id)s::uuid, %(api_client_id)s::uuid, %(request_id)s::text,
        %(source)s::text, coalesce(r.changes, 'null'::json)
    FROM journal_lock, json_to_recordset(%(entries)s::json)
        AS r(event_type text, resource_type text, resource_id uuid, changes json)
    RETURNING *
)
"""
_PG_WITHOUT_OUTBOX = _PG_INSERT + "SELECT NULL FROM entries WHERE false"


def postgresql_write(
    resource_types: Collection[str], occurred_at: datetime
) -> tuple[str, dict[str, Any]]:
    """The one statement a transaction's entries of ``resource_types`` are written with on
    PostgreSQL, and the outbox's parameters for their time (the entries' own parameters are
    the caller's). The bench's ceiling sends the same statement for its writes."""
    if not _outbox:
        return _PG_WITHOUT_OUTBOX, {}
    outbox = _outbox[0]
    guarded = not _GUARDED.isdisjoint(resource_types)
    return outbox.postgresql_statement(guarded), dict(outbox.params(occurred_at))


def entries_json(entries: Iterable[tuple[str, str, uuid.UUID, Any]]) -> str:
    """The ``entries`` parameter of the PostgreSQL statement: (event type, resource type,
    record id, changes) as one JSON text, which the driver passes as it is (arrays, one per
    column, cost more to adapt than the rest of the journal's work)."""
    rows = [
        {"event_type": event, "resource_type": kind, "resource_id": record_id, "changes": changes}
        for event, kind, record_id, changes in entries
    ]
    return orjson.dumps(rows).decode()


def _insert_in_one_statement(
    session: Session,
    pending: Mapping[tuple[str, uuid.UUID], _Pending],
    origin: Origin,
    occurred_at: datetime,
) -> None:
    resource_types = [kind for kind, _ in pending]
    sql, outbox_params = postgresql_write(resource_types, occurred_at)
    params: dict[str, Any] = {
        "occurred_at": occurred_at,
        "actor_user_id": origin.actor_user_id,
        "api_client_id": origin.api_client_id,
        "request_id": origin.request_id,
        "source": origin.source,
        "entries": entries_json(
            (f"{kind}.{entry.verb}", kind, record_id, entry.changes)
            for (kind, record_id), entry in pending.items()
        ),
        **outbox_params,
    }
    connection = session.connection()
    if waits_for_commit(connection):
        on_rows = functools.partial(_note_returned, session)
        send_with_commit(connection, CommitStatement(sql, params, on_rows))
        return
    _note_returned(session, execute_on_driver(connection, sql, params))


def _note_returned(session: Session, returned: list[Any]) -> None:
    if returned and _outbox:
        _outbox[0].returned(session, [row[0] for row in returned])


@dataclass(frozen=True)
class Outbox:
    """Rows written with each transaction's entries, in its transaction (the webhook deliveries).

    ``add`` writes them from the numbered entries (SQLite). On PostgreSQL they go in the
    entries' own statement, with no round trip of their own: ``postgresql_sql()`` is an
    ``INSERT ... SELECT ... FROM entries ... RETURNING <one column>`` reading the CTE
    ``entries`` (the inserted ``journal_entries`` rows), with the parameters that ``params``
    gives for the entries' time; ``returned`` gets the returned column's values.
    ``postgresql_sql(guarded)`` says whether the entries include types whose records some
    readers may not see (``guarded_types``): only then does the statement need the visibility
    condition, whose planning costs more than the rest of the write. Each text is asked for
    once, at the first write (when every journaled type has registered).
    """

    add: Callable[[Session, list[JournalEntry]], None]
    postgresql_sql: Callable[[bool], str]
    params: Callable[[datetime], Mapping[str, Any]]
    returned: Callable[[Session, list[Any]], None]
    _statements: dict[bool, str] = field(default_factory=dict, init=False, repr=False)

    def postgresql_statement(self, guarded: bool) -> str:
        statement = self._statements.get(guarded)
        if statement is None:
            outbox = self.postgresql_sql(guarded)
            statement = f"{_PG_INSERT}, outbox AS ({outbox})\nSELECT * FROM outbox"
            self._statements[guarded] = statement
        return statement


_outbox: list[Outbox] = []


def record_created(session: Session, model: type, record_ids: Iterable[uuid.UUID]) -> None:
    """Journal records inserted without the unit of work (bulk imports) as created."""
    spec = _SPECS[model]
    pending = session.info.setdefault(_PENDING, {})
    for record_id in record_ids:
        _merge(pending, (spec.resource_type, record_id), _Pending("created", None))


_entries_listeners: list[Callable[[Session, list[JournalEntry]], None]] = []


def set_outbox(outbox: Outbox) -> None:
    """Write ``outbox``'s rows with every transaction's entries (one outbox per process)."""
    _outbox[:] = [outbox]


def add_entries_listener(listener: Callable[[Session, list[JournalEntry]], None]) -> None:
    """Call ``listener`` with each transaction's entries, numbered, before it commits.

    On PostgreSQL this costs an extra round trip per write; an outbox is cheaper.
    """
    if listener not in _entries_listeners:
        _entries_listeners.append(listener)


def _discard(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ends (committed or rolled back) leaves nothing pending."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_VERBS, None)


event.listen(Session, "after_flush", _collect)
event.listen(Session, "before_commit", write_entries)
event.listen(Session, "after_transaction_end", _discard)


_HISTORY_SORT_KEYS = {"seq": attribute_key(JournalEntry.seq)}


def record_history(
    session: Session, *, model: type, record_id: uuid.UUID, limit: int, cursor: str | None = None
) -> Page:
    """One page of an existing record's entries, newest first."""
    spec = _SPECS[model]
    if session.get(model, record_id) is None:
        raise NotFound(spec.resource_type, record_id)
    stmt = select(JournalEntry).where(
        JournalEntry.resource_type == spec.resource_type, JournalEntry.resource_id == record_id
    )
    return keyset_page(
        session,
        stmt,
        id_column=JournalEntry.seq,
        sortable=_HISTORY_SORT_KEYS,
        sort="-seq",
        cursor=cursor,
        limit=limit,
    )


# An outside system (an API client, a webhook receiver): no user, so no confidential record.
OUTSIDER = Actor(id=None, role="api-client")


def _shown(specs: Iterable[JournalSpec], reader: Actor | None) -> ColumnElement[bool]:
    """The entries of ``specs``' types that ``reader`` may see: every one of a type whose
    visibility does not depend on the record, else those its ``visible`` lets through (none
    without a reader). Types not in ``specs`` are left out."""
    specs = list(specs)
    readable = sorted({spec.resource_type for spec in specs if spec.visible is None})
    shown: list[ColumnElement[bool]] = [JournalEntry.resource_type.in_(readable)]
    if reader is not None:
        shown += [
            and_(JournalEntry.resource_type == spec.resource_type, spec.visible(reader))
            for spec in specs
            if spec.visible is not None
        ]
    return or_(*shown)


def guarded_types() -> frozenset[str]:
    """Resource types some readers may not see every record of (confidential ones)."""
    return frozenset(_GUARDED)


def shown_to_outsiders() -> ColumnElement[bool]:
    """The entries an outside system may see whatever its scopes: those of every record but
    the ones the API hides from readers outside their team (confidential projects and
    interactions), as ``/changes`` shows them to an API client."""
    return _shown(_SPECS.values(), OUTSIDER)


def shown_to_outsiders_sql(entries: str) -> str:
    """``shown_to_outsiders`` as PostgreSQL text, for a statement that reads the journal rows
    it inserts from the CTE named ``entries`` (rows a statement inserts are visible to it only
    through its CTE): ``seq IN (<this>)`` keeps the shown ones."""
    table = JournalEntry.__table__
    cte = sa_table(entries, *(sa_column(column.key) for column in table.c))
    columns = {column: cte.c[column.key] for column in table.c}
    condition = replacement_traverse(shown_to_outsiders(), {}, lambda element: columns.get(element))
    statement = select(cte.c.seq).where(condition)
    compiled = statement.compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


def list_changes(
    session: Session,
    *,
    after: int,
    scopes: Collection[str],
    types: Collection[str] = (),
    limit: int,
    reader: Actor | None = None,
) -> tuple[list[JournalEntry], bool]:
    """Entries numbered after ``after``, in order, and whether more follow; only those of
    resources that ``scopes`` may read (users' changes are for user admins), and of those
    whose visibility depends on the record, only what ``reader`` may see (none without one).

    ``types`` keeps only those event types; ``member.*`` stands for every event of members.
    Entries are numbered in commit order (see the module docstring), so reading from the last
    number seen never skips an entry that commits later.
    """
    specs = [spec for spec in _SPECS.values() if spec.read_scope in scopes]
    stmt = select(JournalEntry).where(JournalEntry.seq > after, _shown(specs, reader))
    if types:
        exact = [name for name in types if not name.endswith(".*")]
        resources = [name.removesuffix(".*") for name in types if name.endswith(".*")]
        stmt = stmt.where(
            or_(JournalEntry.event_type.in_(exact), JournalEntry.resource_type.in_(resources))
        )
    rows = list(session.scalars(stmt.order_by(JournalEntry.seq).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


register(
    Member,
    JournalSpec(
        "member",
        "members:read",
        exclude=frozenset({"search_text", "sort_name", "departement"}),
        collections={"domains": lambda domain: domain.code},
        archivable=True,
    ),
)
register(
    Contact,
    JournalSpec(
        "contact",
        "contacts:read",
        exclude=frozenset({"search_text", "sort_name"}),
        archivable=True,
    ),
)
register(Affiliation, JournalSpec("affiliation", "contacts:read", owner=("contact", "contact_id")))
register(Domain, JournalSpec("domain", "members:read"))
register(User, JournalSpec("user", "users:admin", secret={"password_hash": "password"}))
