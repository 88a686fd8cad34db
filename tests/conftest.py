"""Fixtures: the real app on a real SQLite and a real PostgreSQL, a SAVEPOINT per test.

Every test that uses ``app`` runs once per backend. Each test's writes happen inside an outer
transaction that is rolled back afterwards; the app's sessions join it with
``join_transaction_mode="create_savepoint"``, so service commits stay real but invisible.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from api.config import Settings
from api.extensions import db
from models import Base
from services.migrations import upgrade_database
from tests import databases
from tests.factories import bearer, headers_for, log_in, make_user

BACKENDS = ["sqlite", "postgresql"]
TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256"


def make_settings(database_url: str, instance_dir: Path, **overrides: object) -> Settings:
    return Settings.from_env(
        {},
        env="test",
        database_url=database_url,
        jwt_secret_key=TEST_SECRET,
        instance_dir=instance_dir,
        argon2_time_cost=1,
        argon2_memory_kib=64,
        log_level="WARNING",
        # Webhook tests send to receivers on 127.0.0.1, and retry at once.
        **{
            "webhooks_allow_private": True,
            "webhook_retry_seconds": 0.0,
            "webhook_timeout_seconds": 2.0,
            **overrides,
        },
    )


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "postgresql":
        url = databases.postgres_url()
        databases.prepare_postgres_database(url)
        return url
    return databases.sqlite_url(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app(make_settings(database_url, tmp_path_factory.mktemp("instance")))
    upgrade_database(db.state(application).engine)
    yield application
    db.state(application).engine.dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session inside the test's outer transaction; each request of the test opens another
    on the same connection, so all see one another's writes and the rollback undoes them."""
    state = db.state(app)
    connection = state.engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    original_factory, original_read_factory = state.session_factory, state.read_session_factory
    state.session_factory = factory
    state.read_session_factory = None
    test_session = factory()
    # No app context is pushed around the test: each request of the test client must push its
    # own, so that it gets a fresh ``g`` (its own Session and principal) as in production.
    try:
        yield test_session
    finally:
        test_session.close()
        state.session_factory = original_factory
        state.read_session_factory = original_read_factory
        outer.rollback()
        connection.close()


@pytest.fixture
def client(app: Flask, session: Session) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin_headers(client: FlaskClient, session: Session) -> dict[str, str]:
    return headers_for(client, session, "admin")


@pytest.fixture
def staff_headers(client: FlaskClient, session: Session) -> dict[str, str]:
    return headers_for(client, session, "staff")


@pytest.fixture
def viewer_headers(client: FlaskClient, session: Session) -> dict[str, str]:
    return headers_for(client, session, "viewer")


@contextmanager
def restored_afterwards(app: Flask) -> Iterator[None]:
    """Let a test commit for real, then put the database back as migrated.

    Every table is emptied afterwards and the rows the migrations seeded (the domain
    vocabulary...) are put back, so that later tests start from a clean database.
    """
    engine = db.state(app).engine
    with engine.connect() as connection:
        seeded = {
            table: [dict(row) for row in connection.execute(table.select()).mappings()]
            for table in Base.metadata.sorted_tables
        }
    yield
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        for table, rows in seeded.items():
            if rows:
                connection.execute(table.insert(), rows)


@pytest.fixture
def committed(app: Flask) -> Iterator[Flask]:
    """The app with real commits (no SAVEPOINT), on both backends."""
    with restored_afterwards(app):
        yield app


@pytest.fixture
def committing_app(app: Flask, backend: str) -> Iterator[Flask]:
    """The app with real commits, for tests of concurrent transactions (PostgreSQL only)."""
    if backend != "postgresql":
        pytest.skip("concurrency is enforced and tested on PostgreSQL")
    with restored_afterwards(app):
        yield app


@pytest.fixture
def real_session(committing_app: Flask) -> Iterator[Session]:
    """A session that commits for real, beside the concurrent requests of a test."""
    session = db.state(committing_app).session_factory()
    yield session
    session.close()


@pytest.fixture
def real_staff_headers(committing_app: Flask, real_session: Session) -> dict[str, str]:
    """A staff user's bearer header, committed for real so concurrent requests see the user."""
    user = make_user(real_session, role="staff")
    real_session.commit()
    return bearer(log_in(committing_app.test_client(), user.email)["access_token"])


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], AbstractContextManager[list[str]]]:
    """``with count_queries() as statements:`` records the SQL statements run inside the block."""

    @contextmanager
    def counter() -> Iterator[list[str]]:
        statements: list[str] = []

        def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            statements.append(statement)

        engine = db.state(app).engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counter


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Concurrency and pooling tests exist for PostgreSQL only: don't collect their SQLite
    variants (they would only skip)."""
    sqlite_only_skips = [
        item
        for item in items
        if (
            "committing_app" in getattr(item, "fixturenames", ())
            or item.get_closest_marker("postgres_only") is not None
        )
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("backend") == "sqlite"
    ]
    if sqlite_only_skips:
        config.hook.pytest_deselected(items=sqlite_only_skips)
        items[:] = [item for item in items if item not in sqlite_only_skips]
