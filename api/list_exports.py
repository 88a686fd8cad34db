"""Every list as a file: the view itself, called page after page, streamed as CSV or NDJSON.

``Blueprint.page_response`` wraps each list view with ``exportable``. A request with
``format=csv|ndjson`` (or an ``Accept`` header preferring ``text/csv`` or
``application/x-ndjson`` to JSON) gets every row the list's filters select, in the list's
sort: the view runs again for each page of ``EXPORT_PAGE_SIZE`` rows, following its own
cursor, so the export sees exactly what the JSON pages show the same caller (scope checks,
confidential projects, private interactions), and each page is dumped with the list's own
output schema. The first page is read before the answer starts, so a missing record or a bad
argument is still a 404 or 422; then one page is in memory at a time, and the ORM objects it
loaded are let go of (``_forget``) before the next. Exports are logged (``api/exports.py``).
"""

from collections.abc import Callable, Iterator, Sequence
from functools import wraps
from typing import Any

import marshmallow as ma
from flask import request

from api.export_columns import Column, columns_of, csv_row, item_schema, to_json
from api.exports import export_response, requested_export
from api.extensions import db
from services.exports.streaming import csv_lines
from services.pagination import MAX_LIMIT

# Rows asked of the view per call: the largest page a list serves.
EXPORT_PAGE_SIZE = MAX_LIMIT

View = Callable[..., Any]
Rows = list[dict[str, Any]]


def exportable(page_schema: ma.Schema) -> Callable[[View], View]:
    """Let the list ``view`` (whose pages ``page_schema`` dumps) answer as a file."""
    columns = columns_of(item_schema(page_schema))
    resumes_after = "next_after" in page_schema.fields  # the change feed: ``after=<seq>``

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            positional = bool(args) and isinstance(args[-1], dict)
            query = dict(args[-1]) if positional else kwargs
            export = requested_export(query)
            if positional:
                args = (*args[:-1], query)
            if export is None:
                return view(*args, **kwargs)

            def page(position: Any) -> tuple[Rows, Any]:
                """One page of rows, as JSON shows them, and where the next one starts."""
                asked = {**query, "limit": EXPORT_PAGE_SIZE}
                if "include_total" in asked:
                    asked["include_total"] = False
                if resumes_after:
                    if position is not None:
                        asked["after"] = position
                else:
                    asked["cursor"] = position
                result = view(*args[:-1], asked, **kwargs) if positional else view(*args, **asked)
                body = result[0] if isinstance(result, tuple) else result
                dumped = page_schema.dump(body)
                if resumes_after:
                    following = dumped["next_after"] if dumped["has_more"] else None
                else:
                    following = dumped["next_cursor"]
                return dumped["data"], following

            counted = [0]
            lines = _lines(export.format, export.excel, columns, _rows(page, counted))
            return export_response(export, _resource_name(), query, lines, rows=lambda: counted[0])

        return wrapper

    return decorator


def _rows(page: Callable[[Any], tuple[Rows, Any]], counted: list[int]) -> Iterator[Rows]:
    """The pages' rows, the first read at once (its errors are the request's), the next ones
    as the answer is sent; ``counted[0]`` is the number of rows so far."""
    known = set(db.session.identity_map.keys())
    rows, following = page(None)
    _forget(known)

    def pages() -> Iterator[Rows]:
        nonlocal rows, following
        while True:
            counted[0] += len(rows)
            yield rows
            if following is None:
                return
            rows, following = page(following)
            _forget(known)

    return pages()


def _forget(known: set[Any]) -> None:
    """Let go of the ORM objects a page loaded (they are dumped already), so the session's
    identity map does not grow with the export; what the request loaded before stays."""
    session = db.session
    changed = session.dirty  # none in a read, but never drop a change
    for key, instance in list(session.identity_map.items()):
        if key not in known and instance not in changed:
            session.expunge(instance)


def _lines(format: str, excel: bool, columns: Sequence[Column], pages: Iterator[Rows]) -> Any:
    if format != "csv":
        return _ndjson_lines(pages)
    rows = ([csv_row(columns, row) for row in page] for page in pages)
    return csv_lines([column.name for column in columns], rows, excel=excel)


def _ndjson_lines(pages: Iterator[Rows]) -> Iterator[bytes]:
    """One JSON object per row and line, as the JSON pages show it; a chunk per page."""
    for rows in pages:
        yield b"".join(to_json(row) + b"\n" for row in rows)


def _resource_name() -> str:
    """The list's name for the file and the log: its URL without the API prefix and ids
    (``members-timeline`` for ``/api/v1/members/<id>/timeline``)."""
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    parts = [part for part in rule.split("/") if part and not part.startswith("<")]
    if parts[:2] == ["api", "v1"]:
        parts = parts[2:]
    return "-".join(parts) or "export"
