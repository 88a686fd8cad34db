"""Rows of a statement written as CSV or NDJSON, batch by batch, from a server-side cursor.

Rows are read as plain tuples (no ORM objects: an export of 100,000 rows must stream at tens
of thousands of rows a second), ``BATCH`` at a time, so memory stays flat whatever the count.
``excel=True`` writes what French Excel opens with accents intact: a UTF-8 BOM, ``;`` between
fields and Windows line endings.
"""

import csv
import io
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

import orjson

BATCH = 2000
CSV = "text/csv"
NDJSON = "application/x-ndjson"
FORMATS = {"csv": CSV, "ndjson": NDJSON}


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def csv_lines(
    columns: Sequence[str],
    batches: Iterable[Sequence[Sequence[Any]]],
    *,
    excel: bool = False,
    timestamps: Sequence[int] = (),
) -> Iterator[str]:
    """The header row, then one string per batch of rows.

    The csv module writes None as an empty field and other values with ``str()`` (UUIDs,
    numbers); only the ``timestamps`` columns need converting, to ISO 8601 with its ``T``.
    """
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=";" if excel else ",", lineterminator="\r\n" if excel else "\n"
    )
    if excel:
        buffer.write("\ufeff")
    writer.writerow(columns)
    for batch in batches:
        if timestamps:
            rows = [list(row) for row in batch]
            for row in rows:
                for index in timestamps:
                    row[index] = _iso(row[index])
            writer.writerows(rows)
        else:
            writer.writerows(batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError


def ndjson_lines(
    columns: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]]
) -> Iterator[bytes]:
    """One JSON object per row and line, a batch per chunk."""
    for batch in batches:
        yield b"".join(
            orjson.dumps(dict(zip(columns, row, strict=True)), default=_default) + b"\n"
            for row in batch
        )
