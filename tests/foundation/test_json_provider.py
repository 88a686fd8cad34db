"""Responses are encoded with orjson, as the same JSON text Flask's own provider writes."""

import dataclasses
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from api.json_provider import OrjsonProvider


@dataclasses.dataclass
class Point:
    x: int
    y: str


VALUES = [
    {"zeta": 1, "alpha": [1, 2.5, None, True], "mu": {"b": "é\u00e0€ 🙂", "a": "\u2028</script>"}},
    {"when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "day": date(2026, 1, 2)},
    {"id": uuid.UUID("12345678-1234-5678-1234-567812345678"), "amount": Decimal("12.30")},
    {"point": Point(1, "a"), 3: "int key"},
    {"big": 2**70, "control": "tab\tnul\u0000"},
    [],
    "text",
]


_PLAIN_APP = Flask(__name__)  # providers hold their app weakly


@pytest.fixture(scope="module")
def providers() -> tuple[OrjsonProvider, DefaultJSONProvider]:
    ours, flasks = OrjsonProvider(_PLAIN_APP), DefaultJSONProvider(_PLAIN_APP)
    for provider in (ours, flasks):
        provider.sort_keys = False
        provider.ensure_ascii = False
    return ours, flasks


@pytest.mark.parametrize("value", VALUES)
def test_same_text_as_flask(providers, value):
    ours, flasks = providers
    assert ours.response(value).get_data() == flasks.response(value).get_data()


def test_sort_keys_is_honoured(providers):
    ours, _ = providers
    ours.sort_keys = True
    try:
        assert ours.response({"b": 1, "a": 2}).get_data() == b'{"a":2,"b":1}\n'
    finally:
        ours.sort_keys = False


def test_unserialisable_values_still_raise(providers):
    ours, _ = providers
    with pytest.raises(TypeError):
        ours.response({"x": object()})


def test_the_app_uses_it(app):
    assert isinstance(app.json, OrjsonProvider)
