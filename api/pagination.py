"""Turn a service's list query into a keyset page: body, ``Link`` header."""

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
    headers: dict[str, str] = {}
    if page.next_cursor:
        args = request.args.copy()
        args["cursor"] = page.next_cursor
        headers["Link"] = (
            f'<{request.base_url}?{urlencode(list(args.items(multi=True)))}>; rel="next"'
        )
    return body, headers


def paginate(
    session: Session,
    list_function: Callable[..., Select[Any]],
    query: Mapping[str, Any],
    sort_keys: Mapping[str, SortKey],
    id_column: ColumnElement[Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Call ``list_function`` with the filters of ``query`` and page its result."""
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
    return page_response(page)
