"""Lists as files: which format a request asks for, and the streamed, logged response."""

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Response, g, request, stream_with_context

from api.pagination import PAGING_ARGUMENTS
from services.exports.streaming import CSV, FORMATS, NDJSON

logger = logging.getLogger("mrm.exports")

# What list operations document for their 200 answer besides JSON.
EXPORT_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    "application/x-ndjson": {"schema": {"type": "string"}},
}


@dataclass(frozen=True)
class ExportRequest:
    format: str  # "csv" or "ndjson"
    excel: bool


def requested_export(query: dict[str, Any]) -> ExportRequest | None:
    """The export a list request asks for (``format=`` or ``Accept``), else None (a page).

    Takes ``format`` and ``excel`` out of ``query``, leaving the list's filters.
    """
    chosen = query.pop("format", None)
    excel = query.pop("excel", False)
    if chosen is None:
        best = request.accept_mimetypes.best_match(["application/json", CSV, NDJSON])
        if (
            best in (CSV, NDJSON)
            and request.accept_mimetypes[best] > request.accept_mimetypes["application/json"]
        ):
            chosen = "csv" if best == CSV else "ndjson"
    return ExportRequest(chosen, excel) if chosen else None


def _counted(lines: Iterator[Any], on_end: Callable[[int], None]) -> Iterator[Any]:
    """Pass the chunks on, counting their lines; report the count when the stream ends."""
    count = 0
    try:
        for chunk in lines:
            count += chunk.count("\n" if isinstance(chunk, str) else b"\n")
            yield chunk
    finally:
        on_end(count)


def export_response(
    export: ExportRequest,
    resource: str,
    filters: Mapping[str, Any],
    lines: Iterator[Any],
    *,
    rows: Callable[[], int] | None = None,
) -> Response:
    """Stream ``lines`` as an attachment, and log who exported what (GDPR: exports of
    personal data are traced), with the number of rows once the stream has ended.

    The rows are counted as lines (less the CSV header) unless ``rows`` says how many were
    written: a CSV cell may hold a line break.
    """
    principal = g.get("principal")
    user_id = str(principal.user_id) if principal is not None else None
    request_id = g.get("request_id")
    shown = {
        name: str(value)
        for name, value in filters.items()
        if name not in PAGING_ARGUMENTS and value is not None
    }

    def log(count: int) -> None:
        written = count - 1 if export.format == "csv" else count  # the header row
        if rows is not None:
            written = rows()
        logger.info(
            "export",
            extra={
                "fields": {
                    "resource": resource,
                    "format": export.format,
                    "filters": shown,
                    "rows": max(written, 0),
                    "user_id": user_id,
                    "request_id": request_id,
                }
            },
        )

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    extension = "csv" if export.format == "csv" else "ndjson"
    media_type = FORMATS[export.format]
    if export.format == "csv":
        media_type += "; charset=utf-8"
    return Response(
        stream_with_context(_counted(lines, log)),
        content_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{resource}-{stamp}.{extension}"',
            "Cache-Control": "no-store",
        },
    )
