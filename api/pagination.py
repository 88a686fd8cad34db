"""Turn a service's list query into a keyset page: body, ``Link`` header."""

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from flask import request
from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session

from services.pagination import Page, SortKey, keyset_page

PAGING_ARGUMENTS = ("limit", "cursor", "sort", "include_total")


def page_response(page: Page) -> tuple[dict[str, Any], dict[str, str]]:
    """The ``{"data", "next_cursor"[, "total"]}`` body and a ``Link: rel="next"`` header."""
    body: dict[str, Any] = {"data": page.items, "next_cursor": page.next_cursor}
    if page.total is not None:
        body["total"] = page.total
    headers = next_link("cursor", page.next_cursor) if page.next_cursor else {}
    return body, headers


def next_link(argument: str, value: str) -> dict[str, str]:
    """A ``Link: rel="next"`` header: this request's URL with ``argument`` set to ``value``."""
    args = request.args.copy()
    args[argument] = value
    return {"Link": f'<{request.base_url}?{urlencode(list(args.items(multi=True)))}>; rel="next"'}


def paginate(
    session: Session,
    list_function: Callable[..., Select[Any]],
    query: Mapping[str, Any],
    sort_keys: Mapping[str, SortKey],
    id_column: ColumnElement[Any],
    rows_to_items: Callable[[Session, list[Any]], list[Any]] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Call ``list_function`` with the filters of ``query`` and page its result;
    ``rows_to_items`` turns the page's rows into what the response shows, when the list
    reads columns rather than records."""
    filters = {name: value for name, value in query.items() if name not in PAGING_ARGUMENTS}
    page = keyset_page(
        session,
        list_function(**filters),
        id_column=id_column,
        sortable=sort_keys,
        sort=query["sort"],
        cursor=query.get("cursor"),
        limit=query["limit"],
        include_total=query["include_total"],
    )
    if rows_to_items is not None:
        page = dataclasses.replace(page, items=rows_to_items(session, list(page.items)))
    return page_response(page)
