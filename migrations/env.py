"""Alembic environment: the models' metadata, and the URL from the app's settings."""

from alembic import context
from sqlalchemy import Connection

from api.config import Settings
from api.database import build_engine
from models import Base
from services.migrations import objects_for_dialect

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=objects_for_dialect(connection.dialect.name),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = build_engine(Settings.from_env())
    with engine.connect() as fresh_connection:
        _run(fresh_connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()
