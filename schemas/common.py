"""Pieces every resource's schemas share: list query arguments, pages, and field helpers."""

import re
from collections.abc import Callable
from datetime import UTC
from typing import Any

import marshmallow as ma

from schemas.exports import ExportArgs
from schemas.fields import QueryFlag, Text, TrimmedString
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

# Metadata of a response field that some answers leave out; the spec lists every other field
# of a response body as required (``api/openapi.py``).
MAY_BE_ABSENT = "may_be_absent"


class AwareDateTime(ma.fields.AwareDateTime):
    """An ISO 8601 timestamp that must carry an offset; output is always UTC."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", default_timezone=None, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        moment = super()._deserialize(value, attr, data, **kwargs)
        # Stored and compared in UTC: 0001-01-01T00:00+14:00 has no UTC form (it would be
        # year 0), and converting it later, in the database layer, would be a 500.
        try:
            return moment.astimezone(UTC)
        except OverflowError as exc:
            raise ma.ValidationError("Out of range once converted to UTC.") from exc

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        # What marshmallow's "iso" format gives (``isoformat``), without its dispatch.
        return None if value is None else value.astimezone(UTC).isoformat()


class OrderedList(ma.fields.List):
    """A list dumped in the order ``sort_key`` gives its items (a response's own order, not
    the order they were loaded in). The compiled dumpers (``api.dumpers``) sort the same way."""

    def __init__(
        self, inner: ma.fields.Field, *, sort_key: Callable[[Any], Any], **kwargs: Any
    ) -> None:
        super().__init__(inner, **kwargs)
        self.sort_key = sort_key

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None:
            value = sorted(value, key=self.sort_key)
        return super()._serialize(value, attr, obj, **kwargs)


class QueryDateTime(AwareDateTime):
    """An ``AwareDateTime`` in a query string, where an unencoded ``+`` arrives as a space.

    ``?updated_since=2024-05-01T10:00:00+02:00`` typed as is reaches us as
    ``2024-05-01T10:00:00 02:00``; no ISO 8601 timestamp has a space before its offset, so it
    can only be that sign.
    """

    _PLUS_AS_SPACE = re.compile(r"^(\S+T\S+) (\d{2}(?::?\d{2})?)$")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            value = self._PLUS_AS_SPACE.sub(r"\1+\2", value.strip())
        return super()._deserialize(value, attr, data, **kwargs)


def sort_field(*keys: str, default: str) -> ma.fields.String:
    """The ``sort`` argument: one of ``keys``, prefixed with ``-`` for descending order."""
    return ma.fields.String(
        load_default=default,
        validate=ma.validate.OneOf([*keys, *(f"-{key}" for key in keys)]),
        metadata={"description": f"Sort key ({', '.join(keys)}); prefix `-` for descending."},
    )


class ListQuery(ExportArgs):
    """Arguments every list accepts; resources subclass it to add filters and a ``sort``."""

    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Page size, at most {MAX_LIMIT}."},
    )
    cursor = Text(
        validate=ma.validate.Length(max=2000),
        metadata={"description": "Opaque cursor from the previous page's `next_cursor`."},
    )
    include_total = QueryFlag(
        load_default=False, metadata={"description": "Add the number of matching records."}
    )
    updated_since = QueryDateTime(
        metadata={"description": "Only records updated at or after this instant (with offset)."}
    )


class ArchiveFilters(ma.Schema):
    """``archived`` and ``include_archived`` of lists whose archived records are hidden unless
    asked for; loaded as the one ``archived`` argument the services take (None: both)."""

    archived = QueryFlag(
        load_default=False,
        metadata={
            "description": "`true` lists only archived records (default `false`); "
            "not together with `include_archived=true` (422)."
        },
    )
    include_archived = QueryFlag(
        load_default=False,
        metadata={
            "description": "`true` lists archived and active records together; "
            "not together with `archived=true` (422)."
        },
    )

    @ma.validates_schema
    def check_archive_filters(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("archived") and data.get("include_archived"):
            raise ma.ValidationError(
                "Use either archived=true or include_archived=true.", field_name="include_archived"
            )

    @ma.post_load
    def archived_none_means_both(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        """The services read ``archived=None`` as "archived or not"."""
        if data.pop("include_archived", False):
            data["archived"] = None
        return data


def page_of(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A named page schema (``MemberPage``...) so each list has its own OpenAPI component."""
    return ma.Schema.from_dict(
        {
            "data": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "next_cursor": ma.fields.String(
                allow_none=True,
                required=True,
                metadata={
                    "description": "Pass as `cursor` to get the next page; null on the last."
                },
            ),
            "total": ma.fields.Integer(
                metadata={
                    "description": "Number of matching records; only with `include_total=true`.",
                    MAY_BE_ABSENT: True,
                }
            ),
        },
        name=name,
    )


class RestoreRequest(ma.Schema):
    """Why an archived record comes back (optional; the body itself may be left out)."""

    reason = TrimmedString(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))
