"""Per-request sessions: safe requests read in autocommit on PostgreSQL and cannot write."""

import sqlite3

import pytest
from sqlalchemy import false, select, text, update

from api import create_app
from api.database import ReadOnlySessionError
from api.extensions import db
from models import User
from tests.conftest import make_settings


def _autocommit(app) -> bool:
    return db.session.connection().connection.dbapi_connection.autocommit


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_requests_read_without_a_transaction_on_postgresql(app, backend, method):
    with app.test_request_context("/", method=method):
        if backend == "postgresql":
            assert _autocommit(app) is True
        assert db.session.scalar(select(User.id).where(false())) is None


@pytest.mark.postgres_only
@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_other_requests_run_in_a_transaction(app, method):
    with app.test_request_context("/", method=method):
        assert _autocommit(app) is False


@pytest.mark.postgres_only
def test_a_safe_request_cannot_write(app):
    with app.test_request_context("/", method="GET"):
        with pytest.raises(ReadOnlySessionError):
            db.session.execute(update(User).where(false()).values(full_name="x"))
        db.session.add(User(email="x@example.org", password_hash="x", role="viewer"))
        with pytest.raises(ReadOnlySessionError):
            db.session.flush()


@pytest.mark.postgres_only
def test_a_safe_request_may_run_textual_selects(app):
    """``/readyz`` runs ``SELECT 1`` as text: only INSERT/UPDATE/DELETE and flushes are refused."""
    with app.test_request_context("/", method="GET"):
        assert db.session.execute(text("SELECT 1")).scalar() == 1
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()


def test_tests_share_their_transaction_with_safe_requests(app, session):
    """The ``session`` fixture turns the autocommit sessions off: GETs see the test's rows."""
    assert db.state(app).read_session_factory is None


def _write_lock_is_free(app) -> bool:
    """Whether another connection could take SQLite's write lock right now (without waiting)."""
    path = db.state(app).engine.url.database
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return False
    else:
        other.execute("ROLLBACK")
        return True
    finally:
        other.close()


@pytest.mark.parametrize(
    ("method", "holds_write_lock"),
    [("GET", False), ("HEAD", False), ("POST", True), ("PATCH", True), ("DELETE", True)],
)
def test_sqlite_requests_that_may_write_take_the_write_lock_first(
    app, backend, method, holds_write_lock
):
    """A deferred transaction that reads, then writes, cannot upgrade its lock after another
    writer committed: requests that may write begin IMMEDIATE; safe ones stay DEFERRED."""
    if backend != "sqlite":
        pytest.skip("SQLite's locking")
    with app.test_request_context("/", method=method):
        db.session.scalar(select(User.id).where(false()))
        assert _write_lock_is_free(app) is not holds_write_lock


def test_sqlite_waits_for_the_write_lock_as_long_as_configured(tmp_path):
    settings = make_settings(
        f"sqlite:///{tmp_path / 'busy.sqlite3'}", tmp_path, sqlite_busy_timeout_ms=1234
    )
    other = create_app(settings)
    with other.app_context():
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 1234
        db.session.close()
        db.engine.dispose()
