"""Walking a list read two ways (ORM records and plain rows), page by page, side by side."""

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session

from services.pagination import Page, SortKey, keyset_page

PageReader = Callable[[str | None], Page]


def small_page(
    reader: Session,
    statement: Select[Any],
    cursor: str | None,
    *,
    id_column: ColumnElement[Any],
    sortable: dict[str, SortKey],
    sort: str,
) -> Page:
    """One page of two rows of ``statement`` with its total, as a list request reads it."""
    return keyset_page(
        reader,
        statement,
        id_column=id_column,
        sortable=sortable,
        sort=sort,
        cursor=cursor,
        limit=2,
        include_total=True,
    )


def side_by_side(orm: PageReader, rows: PageReader, pages: int = 4) -> Iterator[tuple[Page, Page]]:
    """The pages both readers give, each from its own cursor, until the ORM's last; their
    cursors and totals must agree."""
    cursors: list[str | None] = [None, None]
    for _ in range(pages):
        orm_page, rows_page = orm(cursors[0]), rows(cursors[1])
        assert (rows_page.next_cursor, rows_page.total) == (orm_page.next_cursor, orm_page.total)
        yield orm_page, rows_page
        if orm_page.next_cursor is None:
            return
        cursors = [orm_page.next_cursor, rows_page.next_cursor]
