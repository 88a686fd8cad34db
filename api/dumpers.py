"""Response bodies dumped by a function compiled once per output schema.

``Schema.dump`` walks its fields through several layers of calls for every value: on a page of
50 members it cost more than the queries. The marshmallow schemas stay the one description of
each body (and of the spec); ``compile_dumper`` reads a schema's fields once and returns a
function that gives exactly what ``schema.dump`` gives, doing per value only what the field's
``_serialize`` would do for the common types (strings, numbers, booleans, UUIDs, lists,
nested schemas). Any other field (a custom ``_serialize``, a method field) is called as
marshmallow calls it, and a schema with ``pre_dump``/``post_dump`` hooks keeps its own
``dump``. ``tests/foundation/test_dumpers.py`` checks every output schema of the API against
marshmallow.
"""

import uuid
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow import missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import get_value

from schemas.common import OrderedList

Dump = Callable[..., Any]
# A value's serialiser: (value, attribute name, object) -> what goes in the body.
Serialize = Callable[[Any, str, Any], Any]

_fields = ma.fields


def _is(field: ma.fields.Field, base: type[ma.fields.Field]) -> bool:
    """Whether ``field`` serialises exactly as ``base`` does (no override of its own)."""
    return isinstance(field, base) and type(field)._serialize is base._serialize


def _value_serializer(field: ma.fields.Field) -> Serialize:
    """What ``field._serialize`` does, with the checks of the common types done inline."""
    generic = field._serialize
    if _is(field, _fields.String):
        return lambda v, a, o: v if type(v) is str else generic(v, a, o)
    if _is(field, _fields.Integer) and not field.as_string:
        return lambda v, a, o: v if type(v) is int else generic(v, a, o)
    if _is(field, _fields.Boolean):
        return lambda v, a, o: v if type(v) is bool else generic(v, a, o)
    if _is(field, _fields.UUID):
        return lambda v, a, o: str(v) if type(v) is uuid.UUID else generic(v, a, o)
    if _is(field, _fields.Nested) and isinstance(field.nested, type | ma.Schema):
        nested = field.schema
        one = _object_dumper(nested)
        if one is None:
            return generic
        if nested.many or field.many:
            return lambda v, a, o: None if v is None else [one(item) for item in v]
        return lambda v, a, o: None if v is None else one(v)
    if _is(field, OrderedList):
        inner = _value_serializer(field.inner)
        key = field.sort_key
        return lambda v, a, o: None if v is None else [inner(i, a, o) for i in sorted(v, key=key)]
    if _is(field, _fields.List):
        inner = _value_serializer(field.inner)
        return lambda v, a, o: None if v is None else [inner(item, a, o) for item in v]
    return generic


def _field_dumper(schema: ma.Schema, name: str, field: ma.fields.Field) -> Callable[[Any], Any]:
    """What ``field.serialize`` returns for an object (``missing`` to leave the key out)."""
    key = field.attribute or name
    plain = (
        field._CHECK_ATTRIBUTE
        and type(field).get_value is ma.fields.Field.get_value
        and type(schema).get_attribute is ma.Schema.get_attribute
        and "." not in key
    )
    if not plain:
        return lambda obj: field.serialize(name, obj, accessor=schema.get_attribute)
    serialize = _value_serializer(field)
    default = field.dump_default

    def dump_field(obj: Any) -> Any:
        # ``utils.get_value``: items of what has them (dicts), attributes of the rest; a
        # dict (rows read without the ORM, and their views) looked up directly, as it would
        # end: its item, else its attribute.
        if isinstance(obj, dict):
            value = obj[key] if key in obj else getattr(obj, key, missing)
        elif hasattr(obj, "__getitem__"):
            value = get_value(obj, key, missing)
        else:
            value = getattr(obj, key, missing)
        if value is missing:
            value = default() if callable(default) else default
            if value is missing:
                return missing
        return serialize(value, name, obj)

    return dump_field


def _object_dumper(schema: ma.Schema) -> Callable[[Any], dict[str, Any]] | None:
    """A function dumping one object as ``schema.dump`` does; None if hooks forbid it."""
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP] or schema.dict_class is not dict:
        return None
    plan = [
        (field.data_key if field.data_key is not None else name, _field_dumper(schema, name, field))
        for name, field in schema.dump_fields.items()
    ]

    def dump_one(obj: Any) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for key, dump_field in plan:
            value = dump_field(obj)
            if value is not missing:
                body[key] = value
        return body

    return dump_one


def compile_dumper(schema: ma.Schema) -> Dump:
    """A function with ``schema.dump``'s signature and result, compiled from its fields."""
    one = _object_dumper(schema)
    if one is None:
        return schema.dump

    def dump(obj: Any, *, many: bool | None = None) -> Any:
        if (schema.many if many is None else many) and obj is not None:
            return [one(item) for item in obj]
        return one(obj)

    return dump


def use_compiled_dumper(schema: ma.Schema) -> ma.Schema:
    """Make ``schema.dump`` the compiled function (the instance keeps its class, and so its
    name in the spec)."""
    schema.dump = compile_dumper(schema)  # type: ignore[method-assign]
    return schema
