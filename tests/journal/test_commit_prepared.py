"""The statement sent with the COMMIT is prepared once per server session, and prepared again
whenever psycopg has made the server forget it (``services.commit_statements``).

These run on a bare psycopg connection, as the pool hands it to SQLAlchemy.
"""

import enum
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import errors
from psycopg.pq import TransactionStatus
from sqlalchemy.engine import make_url

from services import commit_statements
from services.commit_statements import CommitStatement, commit_pipelined

pytestmark = pytest.mark.postgres_only

INSERT = "INSERT INTO written (n, label) VALUES (%(n)s::int, %(label)s::text) RETURNING n, label"


@pytest.fixture
def connection(database_url: str) -> Iterator[psycopg.Connection]:
    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        conn.execute("CREATE TEMP TABLE written (n int NOT NULL, label text)")
        conn.commit()
        yield conn


def _ours_on_server(conn: psycopg.Connection) -> list[str]:
    names = conn.execute(
        "SELECT name FROM pg_prepared_statements WHERE name LIKE 'mrm_commit_%' ORDER BY name"
    ).fetchall()
    return [name for (name,) in names]


def _write(conn: psycopg.Connection, n: int | None, label: str = "x") -> list[list[tuple]]:
    returned: list[list[tuple]] = []
    conn.execute("SELECT 1")  # the transaction the statement commits with
    commit_pipelined(conn, [CommitStatement(INSERT, {"n": n, "label": label}, returned.append)])
    return returned


def _written(conn: psycopg.Connection) -> list[tuple]:
    rows = conn.execute("SELECT n, label FROM written ORDER BY n").fetchall()
    conn.rollback()
    return rows


def test_the_statement_commits_returns_its_rows_and_is_prepared_once(connection):
    assert _write(connection, 1, "first") == [[(1, "first")]]
    assert connection.info.transaction_status == TransactionStatus.IDLE, "committed"
    assert _write(connection, 2, "second") == [[(2, "second")]]
    assert len(_ours_on_server(connection)) == 1
    connection.rollback()
    assert _written(connection) == [(1, "first"), (2, "second")]


def test_a_rollback_makes_psycopg_forget_it_and_the_next_commit_prepares_it_again(connection):
    _write(connection, 1)
    connection.execute("SELECT 1")
    connection.rollback()  # psycopg answers with DEALLOCATE ALL before its next statement
    assert _ours_on_server(connection) == []
    connection.rollback()
    assert _write(connection, 2) == [[(2, "x")]]
    assert _written(connection) == [(1, "x"), (2, "x")]


def test_psycopg_evicting_it_from_its_cache_deallocates_it_and_it_comes_back(connection):
    _write(connection, 1)
    connection.prepared_max = 1
    connection.prepare_threshold = 0  # every query prepared at once, evicting the oldest
    connection.execute("SELECT 10")
    connection.execute("SELECT 11")
    assert _ours_on_server(connection) == []
    connection.rollback()
    assert _write(connection, 2) == [[(2, "x")]]
    assert _written(connection) == [(1, "x"), (2, "x")]


def test_a_failing_statement_aborts_the_transaction_and_raises(connection):
    connection.execute("INSERT INTO written (n) VALUES (0)")
    with pytest.raises(errors.NotNullViolation):
        _write(connection, None)
    assert connection.info.transaction_status == TransactionStatus.INERROR
    connection.rollback()
    assert _written(connection) == [], "the earlier insert of the transaction is undone too"
    assert _write(connection, 3) == [[(3, "x")]]


def test_parameters_are_numbered_once_each_and_percent_signs_kept(connection):
    returned: list[list[tuple]] = []
    statement = CommitStatement(
        "SELECT %(a)s::int + %(a)s::int, %(b)s::text || '%%'", {"a": 4, "b": "50"}, returned.append
    )
    connection.execute("SELECT 1")
    commit_pipelined(connection, [statement])
    assert returned == [[(8, "50%")]]


def test_a_value_it_cannot_send_is_refused_before_anything_is_sent(connection):
    connection.execute("SELECT 1")
    statement = CommitStatement(INSERT, {"n": 1, "label": datetime(2026, 1, 1)})
    with pytest.raises(TypeError, match="aware"):
        commit_pipelined(connection, [statement])
    assert connection.info.transaction_status == TransactionStatus.INTRANS, "still open"
    connection.rollback()
    assert _write(connection, 1) == [[(1, "x")]]


def test_without_psycopg_s_record_it_commits_through_psycopg_s_pipeline(connection, monkeypatch):
    monkeypatch.setattr(commit_statements, "prepared_names", lambda _connection: None)
    assert _write(connection, 5) == [[(5, "x")]]
    assert _ours_on_server(connection) == []
    connection.rollback()
    assert _written(connection) == [(5, "x")]


def test_parameters_of_every_kind_it_sends_arrive_as_they_were(connection):
    class Kind(enum.StrEnum):
        MEMBER = "member"

    record_id = uuid.uuid4()
    moment = datetime(2026, 12, 5, 22, 50, 1, 123456, tzinfo=UTC)
    returned: list[list[tuple]] = []
    statement = CommitStatement(
        "SELECT %(text)s::text, %(kind)s::text, %(id)s::uuid, %(n)s::int, %(flag)s::boolean, "
        "%(at)s::timestamptz, %(none)s::text",
        {"text": "é'\\", "kind": Kind.MEMBER, "id": record_id, "n": -7, "flag": True,
         "at": moment, "none": None},
        returned.append,
    )  # fmt: skip
    connection.execute("SELECT 1")
    commit_pipelined(connection, [statement])
    assert returned == [[("é'\\", "member", record_id, -7, True, moment, None)]]
