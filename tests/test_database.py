"""Per-request sessions: safe requests read in autocommit on PostgreSQL and cannot write."""

import pytest
from sqlalchemy import false, select, text, update

from api.database import ReadOnlySessionError
from api.extensions import db
from models import User


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
