"""The columns of a list's CSV export, read from the output schema of its rows.

A CSV row holds what the JSON row holds, flattened so a spreadsheet can sort and filter it:
a nested object becomes one column per field, named by its path (``parent.name``); a list of
plain values is one cell, its values joined with ``,``; a list of objects (or a free-form
object) is one cell of compact JSON; null is an empty cell and booleans read ``true`` and
``false`` as in JSON. The columns are the schema's fields in declared order, so the header
row is the same whether the export has rows or not.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
import orjson
from flask.json.provider import _default

# Nested objects deeper than this are one JSON cell: a column per field stops being readable.
_MAX_DEPTH = 2
_JSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


@dataclass(frozen=True)
class Column:
    """A header and the keys leading to its value in a dumped row."""

    name: str
    path: tuple[str, ...]


def item_schema(page_schema: ma.Schema) -> ma.Schema:
    """The schema of one row of a page (its ``data`` list)."""
    data = page_schema.fields["data"]
    if not isinstance(data, ma.fields.List) or not isinstance(data.inner, ma.fields.Nested):
        raise TypeError(f"{type(page_schema).__name__}.data is not a list of objects")
    return data.inner.schema


def columns_of(schema: ma.Schema, prefix: tuple[str, ...] = ()) -> list[Column]:
    """The columns of rows dumped by ``schema``, nested objects flattened."""
    columns: list[Column] = []
    for name, field in schema.dump_fields.items():
        path = (*prefix, field.data_key or name)
        if (
            isinstance(field, ma.fields.Nested)
            and not isinstance(field, ma.fields.Pluck)
            and not field.many
            and not field.schema.many
            and len(path) < _MAX_DEPTH
        ):
            columns += columns_of(field.schema, path)
        else:
            columns.append(Column(".".join(path), path))
    return columns


def to_json(value: Any) -> bytes:
    """Compact JSON, as the API's JSON bodies write it (``api/json_provider.py``)."""
    return orjson.dumps(value, default=_default, option=_JSON_OPTIONS)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def cell(value: Any) -> str:
    """What one dumped value shows in a CSV cell."""
    if isinstance(value, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in value):
            return ",".join(_scalar(item) for item in value)
        return to_json(value).decode()
    if isinstance(value, dict):
        return to_json(value).decode()
    return _scalar(value)


def csv_row(columns: Sequence[Column], row: dict[str, Any]) -> list[str]:
    """A dumped row as the cells of ``columns`` (empty where a nested object is null)."""
    cells = []
    for column in columns:
        value: Any = row
        for key in column.path:
            value = value.get(key) if isinstance(value, dict) else None
        cells.append(cell(value))
    return cells
