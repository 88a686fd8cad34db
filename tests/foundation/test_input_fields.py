"""Every field a client writes follows the shared rules, so a new resource cannot forget one.

- text is ``Text`` (NUL refused on both databases), unless a ``OneOf`` or ``Regexp`` already
  limits it, or it is a password (hashed, never stored as text);
- a boolean is ``Flag`` in a body and ``QueryFlag`` in a query string (no ``"yes"`` or ``0``);
- a list is a ``BoundedList`` (counted before its items are read; ``maxItems`` in the spec).
"""

from collections.abc import Iterator
from typing import Any

import marshmallow as ma
import pytest

from api import create_app
from schemas.fields import BoundedList, Flag, QueryFlag
from tests.conftest import make_settings

_LIMITED = (ma.validate.OneOf, ma.validate.Regexp)


def _arguments(app: Any) -> Iterator[tuple[str, str, ma.Schema]]:
    for endpoint, view in app.view_functions.items():
        view_class = getattr(view, "view_class", None)
        for method in getattr(view_class, "methods", None) or ():
            handler = getattr(view_class, method.lower())
            for parameter in (
                getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", [])
            ):
                schema = parameter["schema"]
                schema = schema() if isinstance(schema, type) else schema
                yield f"{method} {endpoint}", parameter["in"], schema


def _fields(schema: ma.Schema, prefix: str = "") -> Iterator[tuple[str, ma.fields.Field]]:
    for name, field in schema.load_fields.items():
        yield from _field_and_children(f"{prefix}{name}", field)


def _field_and_children(name: str, field: ma.fields.Field) -> Iterator[tuple[str, Any]]:
    yield name, field
    if isinstance(field, ma.fields.List):
        yield from _field_and_children(f"{name}.items", field.inner)
    if isinstance(field, ma.fields.Nested):
        yield from _fields(field.schema, f"{name}.")


def _problems(app: Any) -> Iterator[str]:
    for operation, location, schema in _arguments(app):
        for name, field in _fields(schema):
            where = f"{operation} {location} {name}"
            limited = any(isinstance(v, _LIMITED) for v in field.validators)
            if type(field) is ma.fields.String and not limited and "password" not in name:
                yield f"{where}: plain String (use Text or a subclass)"
            if isinstance(field, ma.fields.Boolean):
                expected = QueryFlag if location == "query" else Flag
                if not isinstance(field, expected):
                    yield f"{where}: {type(field).__name__} (use {expected.__name__})"
            if isinstance(field, ma.fields.List) and not isinstance(field, BoundedList):
                yield f"{where}: unbounded List (use BoundedList)"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("fields")
    return create_app(make_settings(f"sqlite:///{folder / 'unused.sqlite3'}", folder))


def test_every_input_field_follows_the_shared_rules(app):
    assert list(_arguments(app))
    assert list(_problems(app)) == []
