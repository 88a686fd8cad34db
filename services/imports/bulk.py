"""Statements an import sends once per chunk: look-ups by a list of keys and bulk inserts.

On PostgreSQL a list of keys goes as one array parameter (``= ANY(%s)``) rather than a
thousand bind parameters that the driver would rewrite on every chunk, and new rows are copied
(``COPY``, the driver's fastest path) into a temporary staging table, then inserted with one
``INSERT ... SELECT`` (sent on the driver's cursor; the engine's statement listeners still see
it). SQLite gets the plain forms: ``IN`` and a batched ``INSERT``.
"""

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
    connection = session.connection()
    staging = f"import_{table.name}"
    names = ", ".join(table.c[name].name for name in columns)
    # A temporary table of this connection, emptied at each commit: the rows are copied in,
    # then inserted with one statement that the table's constraints check as any other.
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} (LIKE {table.name}) ON COMMIT DELETE ROWS"
    )
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])
    sql = f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging}"
    execute_on_driver(connection, sql, {})
    connection.exec_driver_sql(f"TRUNCATE {staging}")
