"""Migration 0004 rewrites stored e-mails to the one normal form, on both databases."""

import unicodedata
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.emails import normalize_email
from services.migrations import upgrade_database
from tests import databases

NFD = unicodedata.normalize("NFD", "José@Exämple.fr")


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path: Path):
    """An empty database of its own (the session's test database is already at head)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migration.sqlite3'}"
        return
    url = make_url(databases.postgres_url()).set(database="mrm_test_migration_0004")
    rendered = url.render_as_string(hide_password=False)
    databases.prepare_postgres_database(rendered)
    yield rendered


def _insert_user(connection, email: str) -> None:
    connection.execute(
        text(
            "INSERT INTO users (id, email, password_hash, role, full_name, is_active, "
            "created_at, updated_at, version) "
            "VALUES (:id, :email, 'x', 'staff', '', TRUE, :now, :now, 1)"
        ),
        {"id": uuid.uuid4().hex, "email": email, "now": "2026-01-01 00:00:00+00:00"},
    )


def test_stored_emails_take_the_normal_form(fresh_url):
    engine = create_engine(fresh_url)
    try:
        upgrade_database(engine, "0003")
        with engine.begin() as connection:
            _insert_user(connection, NFD.lower())  # NFD, as the old rule left it
            _insert_user(connection, "ｂob@example.org")  # fullwidth, stored as typed
            _insert_user(connection, "bob@example.org")  # the same address, now a duplicate
        upgrade_database(engine)
        with engine.connect() as connection:
            emails = sorted(connection.scalars(text("SELECT email FROM users")))
    finally:
        engine.dispose()
    # the duplicate keeps its old spelling (reported) rather than breaking the unique index
    assert emails == sorted([normalize_email(NFD), "bob@example.org", "ｂob@example.org"])
