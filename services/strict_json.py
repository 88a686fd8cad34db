"""JSON as this API accepts it from clients: bodies and cursors are read by ``loads`` only.

Python's ``json`` module is lenient where a client can hurt the server or trick a rule:
duplicate keys silently keep the last one (``"role": "viewer", "role": "admin"``), ``NaN`` and
``Infinity`` are accepted though JSON has neither, an integer of more than 4,300 digits raises
a ``ValueError`` and deep nesting a ``RecursionError`` that nobody expects, and ``"\\ud800"``
loads as a lone UTF-16 surrogate that no database and no UTF-8 response can encode. Each is
refused here, once, as a ``MalformedJson`` (the text as a whole is refused) or a
``LoneSurrogate`` (one string value is, and its path names the field).
"""

import json
import re
from collections.abc import Iterator
from typing import Any

# No body has this many fields: more is an attempt to make the server collect errors.
MAX_OBJECT_MEMBERS = 1000

# A string can only hold a surrogate if the text escapes one: skip the walk otherwise.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class MalformedJson(ValueError):
    """The text is not JSON this API reads; the message says why (safe to show)."""


class LoneSurrogate(ValueError):
    """A string holds a lone UTF-16 surrogate; ``path`` is its dotted field path."""

    MESSAGE = "Must not contain a lone UTF-16 surrogate (\\ud800-\\udfff): not valid Unicode."

    def __init__(self, path: str) -> None:
        super().__init__(self.MESSAGE)
        self.path = path


def _quoted(key: str) -> str:
    """A key for a message: ASCII-escaped (it may hold a surrogate) and short."""
    text = json.dumps(key)
    return text if len(text) <= 60 else text[:57] + '..."'


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(pairs) > MAX_OBJECT_MEMBERS:
        raise MalformedJson(f"An object has more than {MAX_OBJECT_MEMBERS} members.")
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise MalformedJson(f"Duplicate key {_quoted(key)} in an object.")
            seen.add(key)
    return result


def _constant(name: str) -> Any:
    raise MalformedJson(f"{name} is not a JSON value.")


def _strings(value: Any) -> Iterator[tuple[str, str, bool]]:
    """Every string of ``value`` with its dotted path and whether it is an object key.

    Iterative, so that a document nested as deeply as the parser allows cannot exhaust the
    stack here either.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            yield path, item, False
        elif isinstance(item, dict):
            for key, child in item.items():
                yield path, key, True
                stack.append((f"{path}.{key}" if path else key, child))
        elif isinstance(item, list):
            stack.extend(
                (f"{path}.{index}" if path else str(index), child)
                for index, child in enumerate(item)
            )


def _refuse_surrogates(value: Any) -> None:
    for path, text, is_key in _strings(value):
        if _SURROGATE.search(text):
            if is_key:
                raise MalformedJson("An object key holds a lone UTF-16 surrogate.")
            raise LoneSurrogate(path)


def loads(data: bytes | str) -> Any:
    """Parse ``data`` (UTF-8 if bytes) as strict JSON; see the module docstring.

    Raises ``MalformedJson`` or ``LoneSurrogate``, nothing else.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
    except UnicodeDecodeError as exc:
        raise MalformedJson(f"Not UTF-8: {exc.reason} at byte {exc.start}.") from exc
    except json.JSONDecodeError as exc:
        raise MalformedJson(f"{exc.msg} at line {exc.lineno}, column {exc.colno}.") from exc
    except RecursionError as exc:
        raise MalformedJson("Nested too deeply.") from exc
    except MalformedJson:
        raise
    except ValueError as exc:
        # int() refuses more than sys.get_int_max_str_digits() (4,300) digits: no number this
        # API reads comes close, and shorter ones get a 422 on their field from the schema.
        raise MalformedJson("A number has too many digits.") from exc
    # Strict UTF-8 bytes cannot encode a surrogate: only an escape can produce one.
    if _SURROGATE_ESCAPE.search(text) or (isinstance(data, str) and _SURROGATE.search(text)):
        _refuse_surrogates(value)
    return value
