"""Keyset pagination over any ``Select``: stable under inserts, no OFFSET scans."""

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_
from sqlalchemy.orm import Session

from services import strict_json
from services.errors import InvalidInput

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class SortKey:
    """A non-null column clients may sort on.

    ``value_of`` reads the sort value from a loaded row (for the next cursor); ``decode`` turns
    the cursor's JSON value back into what the column compares with.
    """

    column: ColumnElement[Any]
    value_of: Callable[[Any], Any]
    decode: Callable[[Any], Any] = _identity


# Cursors are not signed, so a client can edit one: every value read back is checked to be
# what this module wrote, or the database layer would fail on it (a 500, not a 422).
_INT64 = range(-(2**63), 2**63)


def _decoder_of(python_type: type) -> Callable[[Any], Any]:
    """Accept only a value of the column's own type that the database can bind."""

    def decode(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, python_type):
            raise ValueError("cursor value of the wrong type")
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL in a cursor value")
        if isinstance(value, int) and value not in _INT64:
            raise ValueError("cursor value out of range")
        return value

    return decode


def _decode_datetime(value: Any) -> datetime:
    """An aware timestamp that has a UTC form (what ``_encode_value`` wrote)."""
    if not isinstance(value, str):
        raise TypeError("cursor timestamp is not a string")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("cursor timestamp without an offset")
    return moment.astimezone(UTC)


def attribute_key(attribute: Any) -> SortKey:
    """Sort on a mapped attribute holding a string or a number."""
    return SortKey(
        attribute,
        value_of=lambda row: getattr(row, attribute.key),
        decode=_decoder_of(attribute.type.python_type),
    )


def datetime_key(attribute: Any) -> SortKey:
    """Sort on a mapped timestamp attribute."""
    return SortKey(
        attribute, value_of=lambda row: getattr(row, attribute.key), decode=_decode_datetime
    )


@dataclass(frozen=True)
class Page:
    """One page of rows, the cursor of the next page (None on the last) and maybe the total."""

    items: Sequence[Any]
    next_cursor: str | None
    total: int | None = None


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _encode_cursor(sort: str, values: Sequence[Any]) -> str:
    raw = json.dumps({"s": sort, "v": [_encode_value(v) for v in values]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_id(value: Any, id_column: ColumnElement[Any]) -> Any:
    """The row id of a cursor: a UUID for most records, an integer for the journal's numbers."""
    if id_column.type.python_type is uuid.UUID:
        if not isinstance(value, str):
            raise TypeError("cursor id is not a string")
        return uuid.UUID(value)
    return _decoder_of(id_column.type.python_type)(value)


def _decode_cursor(
    cursor: str, sort: str, key: SortKey, id_column: ColumnElement[Any]
) -> tuple[Any, Any]:
    """The last row's sort value and id, from a cursor ``_encode_cursor`` wrote.

    The decoded JSON must have exactly that shape, ``{"s": sort, "v": [value, id]}``, read by
    the strict JSON reader (no lone surrogates, huge numbers or deep nesting).
    """
    bad = InvalidInput({"cursor": ["Not a cursor returned by this list."]}, "Invalid cursor.")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = strict_json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(payload, dict) or set(payload) != {"s", "v"}:
            raise TypeError("cursor is not an object of s and v")
        if payload["s"] != sort:
            raise InvalidInput(
                {"cursor": ["This cursor belongs to another sort order; start again."]}
            )
        if not isinstance(payload["v"], list) or len(payload["v"]) != 2:
            raise TypeError("cursor values are not a pair")
        value, last_id = payload["v"]
        return key.decode(value), _decode_id(last_id, id_column)
    except InvalidInput:
        raise
    except (ValueError, TypeError, OverflowError, binascii.Error) as exc:
        # strict_json's errors and UnicodeDecodeError are ValueErrors.
        raise bad from exc


def parse_sort(sort: str, sortable: Mapping[str, SortKey]) -> tuple[SortKey, bool]:
    """Split ``-name`` into its key and a descending flag; unknown keys are a 422 on ``sort``."""
    descending = sort.startswith("-")
    name = sort.lstrip("-+")
    if name not in sortable:
        allowed = ", ".join(sorted(sortable))
        raise InvalidInput({"sort": [f"Unknown sort key {name!r}; use one of: {allowed}."]})
    return sortable[name], descending


def keyset_page(
    session: Session,
    stmt: Select[Any],
    *,
    id_column: ColumnElement[Any],
    sortable: Mapping[str, SortKey],
    sort: str,
    cursor: str | None,
    limit: int,
    include_total: bool = False,
) -> Page:
    """Run ``stmt`` for one page ordered by ``sort`` then id.

    The cursor holds the last row's sort value and id; the next page starts strictly after that
    pair, so rows inserted meanwhile never shift or repeat a page.
    """
    key, descending = parse_sort(sort, sortable)
    limit = max(1, min(limit, MAX_LIMIT))
    total = None
    if include_total:
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    sort_pair = tuple_(key.column, id_column)
    if cursor:
        last_value, last_id = _decode_cursor(cursor, sort, key, id_column)
        after = tuple_(literal(last_value, key.column.type), literal(last_id, id_column.type))
        stmt = stmt.where(sort_pair < after if descending else sort_pair > after)
    if descending:
        stmt = stmt.order_by(key.column.desc(), id_column.desc())
    else:
        stmt = stmt.order_by(key.column.asc(), id_column.asc())
    result = session.execute(stmt.limit(limit + 1))
    # One entity (or one column): its objects; several columns (a table's): the rows. (The
    # result's keys say it for the cost of a lookup; the statement's column descriptions are
    # worked out anew for each statement, a column at a time.)
    single = len(result.keys()) == 1
    rows = list(result.scalars().unique().all() if single else result.all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = _encode_cursor(sort, [key.value_of(last), getattr(last, id_column.key)])
    return Page(items=rows, next_cursor=next_cursor, total=total)
