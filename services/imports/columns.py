"""Header names to fields, and spreadsheet cells to what the API's schemas load.

Headers are matched on their folded form (accents, case, spaces and punctuation ignored),
against the field name and each alias a resource documents (``Raison sociale``, ``SIRET``,
``Code postal``, ``Courriel``...). A cell is converted according to the schema field that will
load it, so that the schema stays the one judge of validity: ``"12,50"`` becomes ``"12.50"``
for a number, ``31/01/2025`` becomes ``2025-01-31`` for a date, ``"a, b"`` a list for a list,
an integral float from a workbook a plain integer or digit string.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import marshmallow as ma

from services.text import fold

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_FRENCH_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_LIST_SEPARATORS = re.compile(r"[,;|]")
_YES = frozenset({"1", "true", "yes", "y", "oui", "o", "vrai", "x"})
_NO = frozenset({"0", "false", "no", "n", "non", "faux"})


def header_key(name: str) -> str:
    """``" Raison sociale "`` -> ``"raison_sociale"``; ``"E-mail"`` -> ``"e_mail"``."""
    return _NOT_WORD.sub("_", fold(name)).strip("_")


@dataclass(frozen=True)
class HeaderMatch:
    """Which header of the file feeds which field; the headers nothing matched."""

    fields: dict[str, str]  # header as spelt in the file -> field
    unknown: list[str]
    duplicates: list[str]

    def column_of(self, field: str) -> str:
        """The file's header for ``field`` (reports name columns as the user wrote them)."""
        for header, name in self.fields.items():
            if name == field:
                return header
        return field


def match_headers(headers: Iterable[str], aliases: Mapping[str, Iterable[str]]) -> HeaderMatch:
    """Match each header to the field whose name or alias it folds to."""
    lookup: dict[str, str] = {}
    for field, names in aliases.items():
        for name in (field, *names):
            lookup[header_key(name)] = field
    fields: dict[str, str] = {}
    unknown: list[str] = []
    duplicates: list[str] = []
    for header in headers:
        field = lookup.get(header_key(header))
        if field is None:
            if header.strip():
                unknown.append(header)
        elif field in fields.values():
            duplicates.append(header)
        else:
            fields[header] = field
    return HeaderMatch(fields, unknown, duplicates)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _integral(value: Any) -> Any:
    """A workbook gives 75001 and 123456789 as floats: their digits, without ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _to_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and (match := _FRENCH_DATE.match(value)):
        day, month, year = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return value.strip() if isinstance(value, str) else value


def _to_number(value: Any) -> Any:
    """``"1 234,50"`` (French) and ``"1,234.50"`` (English) -> ``"1234.50"``."""
    if not isinstance(value, str):
        return _integral(value)
    text = value.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    text = text.removesuffix("€").strip()
    if "," in text and "." in text:
        # Whichever comes last separates the decimals; the other groups thousands.
        thousands = "." if text.rfind(",") > text.rfind(".") else ","
        text = text.replace(thousands, "")
    return text.replace(",", ".")


def _to_integer(value: Any) -> Any:
    number = _to_number(value)
    if isinstance(number, str) and re.fullmatch(r"[+-]?\d+", number):
        return int(number)
    if isinstance(number, str) and re.fullmatch(r"[+-]?\d+\.0*", number):
        return int(number.split(".")[0])
    return number


def _to_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = str(_integral(value)).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    return value


def _to_list(value: Any) -> Any:
    if isinstance(value, list):
        return value
    return [part.strip() for part in _LIST_SEPARATORS.split(str(value)) if part.strip()]


def _to_string(value: Any) -> Any:
    if type(value) is str:  # what a CSV cell always is
        return value
    value = _integral(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _converter(field: ma.fields.Field) -> Callable[[Any], Any]:
    """How a cell is converted for ``field`` (the first class test that holds)."""
    if isinstance(field, ma.fields.Date):
        return _to_date
    if isinstance(field, ma.fields.Integer):
        return _to_integer
    if isinstance(field, ma.fields.Number):
        return _to_number
    if isinstance(field, ma.fields.Boolean):
        return _to_boolean
    if isinstance(field, ma.fields.List):
        return _to_list
    if isinstance(field, ma.fields.String):
        return _to_string
    return _as_is


def _as_is(value: Any) -> Any:
    return value


def convert_cell(field: ma.fields.Field, value: Any) -> Any:
    """The cell as ``field`` loads it; a value the conversion cannot read is passed on as is,
    so that the schema's own message says what is wrong with it."""
    return _converter(field)(value)


_CLEARED = object()  # a blank cell leaves the field out


def _blank_value(field: ma.fields.Field) -> Any:
    if isinstance(field, ma.fields.List):
        return []
    if field.allow_none and not field.required:
        return None
    return _CLEARED


RowReader = Callable[[Mapping[str, Any]], dict[str, Any]]


def row_reader(schema: ma.Schema, headers: Mapping[str, str]) -> RowReader:
    """``row_input`` for one file's headers, its per-column decisions taken once."""
    plan = [
        (header, field_name, _converter(field), _blank_value(field))
        for header, field_name in headers.items()
        if (field := schema.fields.get(field_name)) is not None
    ]

    def read(cells: Mapping[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for header, field_name, convert, blank in plan:
            if header not in cells:
                continue
            value = cells[header]
            if value is None or (isinstance(value, str) and not value.strip()):  # ``_blank``
                if blank is not _CLEARED:
                    body[field_name] = [] if type(blank) is list else blank
                continue
            body[field_name] = convert(value)
        return body

    return read


def row_input(
    schema: ma.Schema, cells: Mapping[str, Any], headers: Mapping[str, str]
) -> dict[str, Any]:
    """The body ``schema`` loads for one row: cells converted, blank cells cleared.

    A blank cell clears an optional field (``null``), as an empty spreadsheet cell means "no
    value"; for a field that cannot be null it is left out, so that a required one is reported
    missing and an optional one keeps its default. Columns of another part of the row (the
    contact's affiliation) are left to that part's schema.
    """
    return row_reader(schema, headers)(cells)
