"""Statements an import sends once per chunk: look-ups by a list of keys and bulk inserts.

On PostgreSQL a list of keys goes as one array parameter (``= ANY(%s)``) rather than a
thousand bind parameters that the driver would rewrite on every chunk, and new rows go in one
``INSERT ... SELECT FROM unnest(<one array per column>)``, sent on the driver's cursor (the
engine's statement listeners still see it). SQLite gets the plain forms: ``IN`` and a batched
``INSERT``.
"""

import functools
import re
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, any_, bindparam, insert
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import InstrumentedAttribute, Session

from services.driver_rows import execute_on_driver


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def among(
    session: Session, column: InstrumentedAttribute[Any], values: Collection[Any]
) -> ColumnElement[bool]:
    """``column`` is one of ``values``: one array parameter on PostgreSQL."""
    if _postgresql(session):
        array = bindparam(None, list(values), type_=postgresql.ARRAY(column.type))
        return column == any_(array)
    return column.in_(list(values))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (complete: every column they need, the same keys in each) into
    ``table`` in the session's transaction; the unit of work does not see them."""
    if not rows:
        return
    if not _postgresql(session):
        session.execute(insert(table), list(rows))
        return
    columns = tuple(rows[0])
    params = {f"c{number}": [row[name] for row in rows] for number, name in enumerate(columns)}
    execute_on_driver(session.connection(), _unnest_insert(table, columns), params)


@functools.cache
def _unnest_insert(table: Table, columns: tuple[str, ...]) -> str:
    dialect = postgresql.dialect()
    arrays = []
    for number, name in enumerate(columns):
        # The column's type without its collation (``VARCHAR(200) COLLATE "C"``): an array cast.
        sql_type = _COLLATE.sub("", table.c[name].type.compile(dialect=dialect))
        arrays.append(f"%(c{number})s::{sql_type}[]")
    names = ", ".join(table.c[name].name for name in columns)
    return f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({', '.join(arrays)})"


_COLLATE = re.compile(r"\s+COLLATE\s+.*$")
