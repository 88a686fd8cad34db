"""Alembic environment: the models' metadata, and the URL from the app's settings."""

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.schema import SchemaItem

from api.config import Settings
from api.database import build_engine
from models import Base

config = context.config
target_metadata = Base.metadata


def _include_object(
    obj: SchemaItem, _name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    """Leave out of autogenerate the objects a model reserves to another database.

    ``Index(...).ddl_if(dialect="postgresql")`` (trigram indexes) does not exist on SQLite, so
    comparing a SQLite database with the models must not ask for it.
    """
    ddl_if = getattr(obj, "_ddl_if", None)
    if type_ == "index" and ddl_if is not None and ddl_if.dialect is not None:
        dialect = context.get_context().dialect.name
        allowed = ddl_if.dialect if isinstance(ddl_if.dialect, tuple) else (ddl_if.dialect,)
        return dialect in allowed
    return True


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
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
