"""Real test databases: a SQLite file and a PostgreSQL database, migrated once per run."""

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/mrm_test"


def postgres_url() -> str:
    return os.environ.get("MRM_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def postgres_required() -> bool:
    return os.environ.get("MRM_REQUIRE_POSTGRES") == "1"


def prepare_postgres_database(url: str) -> None:
    """Create the test database if needed and empty it, or skip (fail when it is required)."""
    target = make_url(url)
    admin_url = target.set(database="postgres")
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
        admin.dispose()
    except OperationalError as exc:
        message = f"PostgreSQL is not reachable at {admin_url.render_as_string()}: {exc.orig}"
        if postgres_required():
            pytest.fail(message + " (MRM_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(message)
    engine = create_engine(target)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'mrm-test.sqlite3'}"
