"""gunicorn's own limits let through every request the spec allows.

Over its limits gunicorn answers 414/431/400 itself, in HTML: the app never sees the request.
"""

import gc
import json
from pathlib import Path
from urllib.parse import quote

import pytest

from api import gunicorn_config

SPEC = json.loads((Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text())
WIDEST_CHARACTER = "\U0001f600"  # 4 bytes in UTF-8, 12 once percent-encoded
WIDEST_ASCII_CHARACTER = "*"  # 3 bytes once percent-encoded (%2A)
LONGEST_FORMATTED = {
    "date-time": "2026-11-29T16:45:00.123456+05:30",
    "date": "2026-11-29",
    "uuid": "0" * 36,
}


def _resolved(schema: dict) -> dict:
    """The schema a ``$ref`` (a named enumeration) points to, merged with its siblings."""
    if "$ref" not in schema:
        return schema
    name = schema["$ref"].rsplit("/", 1)[-1]
    siblings = {key: value for key, value in schema.items() if key != "$ref"}
    return {**_resolved(SPEC["components"]["schemas"][name]), **siblings}


def _longest_value(schema: dict) -> str:
    """The longest value of a query parameter that the spec allows, as a client would send."""
    schema = _resolved(schema)
    if "anyOf" in schema:
        return max((_longest_value(option) for option in schema["anyOf"]), key=len)
    if schema.get("type") == "null":
        return ""
    if schema.get("type") == "array":  # one comma-separated value
        return ",".join([_longest_value(schema["items"])] * schema["maxItems"])
    if "enum" in schema:
        return max((str(value) for value in schema["enum"]), key=len)
    if schema.get("type") == "boolean":
        return "false"
    if schema.get("type") == "integer":
        return str(schema.get("maximum", 10**12))
    if schema.get("format") in LONGEST_FORMATTED:
        return LONGEST_FORMATTED[schema["format"]]
    if "maxLength" not in schema:
        pytest.fail(f"a string query parameter without maxLength: {schema}")
    pattern = schema.get("pattern", "")
    if (
        pattern
        and pattern.isascii()
        and "[^" not in pattern
        and "." not in pattern.replace("\\.", "")
    ):
        # Only ASCII characters match: each takes at most 3 bytes once percent-encoded.
        return WIDEST_ASCII_CHARACTER * schema["maxLength"]
    return WIDEST_CHARACTER * schema["maxLength"]


def _longest_request_lines() -> dict[str, int]:
    lengths = {}
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            query = []
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":  # $ref parameters are headers
                    continue
                value = (
                    "A" * parameter["schema"]["maxLength"]  # base64url: never percent-encoded
                    if parameter["name"] == "cursor"
                    else _longest_value(parameter["schema"])
                )
                query.append(f"{parameter['name']}={quote(value, safe='')}")
            target = path.replace("{", "").replace("}", "") + "x" * 36
            if query:
                target += "?" + "&".join(query)
            lengths[f"{method.upper()} {path}"] = len(f"{method.upper()} {target} HTTP/1.1")
    return lengths


def test_every_request_line_the_spec_allows_fits():
    lengths = _longest_request_lines()
    longest = max(lengths, key=lengths.get)
    assert lengths[longest] > 2000  # the computation does cover the cursors
    assert lengths[longest] <= gunicorn_config.limit_request_line, longest


def test_limits_are_within_what_gunicorn_accepts():
    # gunicorn silently lowers a larger request-line limit to 8190
    assert gunicorn_config.limit_request_line <= 8190
    assert gunicorn_config.limit_request_field_size >= 8190


def test_no_shared_control_socket_by_default():
    assert gunicorn_config.control_socket_disable is True


def test_a_worker_freezes_what_the_app_holds_once_loaded():
    gc.unfreeze()
    try:
        gunicorn_config.post_worker_init(None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
