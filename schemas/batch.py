"""Bodies of the batch writes (``POST /members/batch``, ``POST /contacts/batch``)."""

from typing import Any

import marshmallow as ma

from schemas.fields import BoundedList, Flag
from schemas.problems import Problem

MAX_BATCH_ITEMS = 100


class ItemError:
    """An item of a batch that its schema refused: its own 422, not the whole request's."""

    def __init__(self, messages: Any) -> None:
        self.messages = messages


class IndependentItems(BoundedList):
    """A ``BoundedList`` of objects read one by one: an invalid item becomes an ``ItemError``
    in its place, so that the valid ones can still be written."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise self.make_error("invalid")
        if len(value) > self.max_items:
            raise ma.ValidationError(f"Longer than maximum length {self.max_items}.")
        items: list[Any] = []
        for item in value:
            try:
                items.append(self.inner.deserialize(item, **kwargs))
            except ma.ValidationError as error:
                items.append(ItemError(error.messages))
        return items


def batch_of(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The body of a batch of ``item_schema`` objects, as a component named ``name``."""
    fields: dict[str, Any] = {
        "items": IndependentItems(
            ma.fields.Nested(item_schema),
            min_items=1,
            max_items=MAX_BATCH_ITEMS,
            required=True,
            metadata={
                "description": f"1 to {MAX_BATCH_ITEMS} records, each upserted by its natural "
                "key: its `external_id`, else a member's `siren` or a contact's `email`; one "
                "without any is created."
            },
        ),
        "atomic": Flag(
            load_default=False,
            metadata={
                "description": "`true`: all items are written or none (the others answer 424 "
                "when one fails); `false`: each item is written on its own."
            },
        ),
    }
    schema = ma.Schema.from_dict(fields, name=name)
    schema.__doc__ = "Records to create or update in one request."
    return schema


class BatchItemResult(ma.Schema):
    """What became of one item: its status and record id, or the problem that refused it."""

    index = ma.fields.Integer(metadata={"description": "Position of the item in the request."})
    status = ma.fields.Integer(
        metadata={
            "description": "201 created, 200 updated, 4xx refused (424: not written because "
            "another item of an atomic batch failed)."
        }
    )
    id = ma.fields.UUID(allow_none=True)
    problem = ma.fields.Nested(Problem, allow_none=True)


class BatchOut(ma.Schema):
    """One result per item, in the order sent."""

    results = ma.fields.List(ma.fields.Nested(BatchItemResult))
