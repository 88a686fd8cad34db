"""Bring a database to the latest schema with Alembic."""

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.schema import SchemaItem

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


def objects_for_dialect(
    dialect: str,
) -> Callable[[SchemaItem, str | None, str, bool, object], bool]:
    """An Alembic ``include_object`` filter leaving out what the models reserve to another database.

    ``Index(...).ddl_if(dialect="postgresql")`` (trigram indexes) does not exist on SQLite, so
    comparing a SQLite database with the models must not ask for it.
    """

    def include(
        obj: SchemaItem, _name: str | None, type_: str, _reflected: bool, _to: object
    ) -> bool:
        ddl_if = getattr(obj, "_ddl_if", None)
        if type_ == "index" and ddl_if is not None and ddl_if.dialect is not None:
            allowed = ddl_if.dialect if isinstance(ddl_if.dialect, tuple) else (ddl_if.dialect,)
            return dialect in allowed
        return True

    return include


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Apply every pending migration inside one connection."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
