"""Files to rows: CSV (any encoding French Excel writes, ``;`` or ``,``), JSON, NDJSON, xlsx.

Every reader is a generator of ``(line, cells)``: ``line`` is where the row is in the file
(the physical line of a CSV or NDJSON record, the sheet row of an xlsx, the item number of a
JSON array), ``cells`` maps the file's own header names to raw values. A blank line is
yielded with empty cells, so that the report can say it was skipped. Nothing reads the whole
file at once except a JSON array, whose size the request body limit bounds.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

CSV = "text/csv"
JSON = "application/json"
NDJSON = "application/x-ndjson"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {CSV: "csv", JSON: "json", NDJSON: "ndjson", XLSX: "xlsx"}
# What a file name's extension says (the CLI and uploads without a media type).
EXTENSIONS = {".csv": CSV, ".txt": CSV, ".json": JSON, ".ndjson": NDJSON, ".jsonl": NDJSON}
EXTENSIONS[".xlsx"] = XLSX

_SAMPLE = 64 * 1024
_DELIMITERS = (";", ",", "\t")
# Field sizes of a well-formed row stay far below this; a runaway quote would not.
csv.field_size_limit(1_000_000)


class FileError(ValueError):
    """The file cannot be read at all (not the format announced, broken encoding...)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class ParsedFile:
    """The header names as the file spells them, and the rows, not yet read."""

    headers: list[str]
    rows: Iterator[tuple[int, dict[str, Any]]]
    encoding: str | None = None
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)


def media_type_of(name: str) -> str | None:
    """The media type a file name's extension stands for, or None."""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return EXTENSIONS.get(suffix)


def _encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) when the sample decodes as such, else Windows-1252.

    French Excel saves "CSV (séparateur : point-virgule)" in Windows-1252; a byte sequence
    that is valid UTF-8 by accident in such a file is vanishingly rare in real names.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _delimiter(header_line: str) -> str:
    """The separator the header row uses most: ``;`` (French Excel), ``,`` or tab."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in _DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def read_csv(stream: IO[bytes]) -> ParsedFile:
    """Stream a CSV file of any of the encodings and separators French spreadsheets use."""
    buffered = io.BufferedReader(stream, _SAMPLE) if not hasattr(stream, "peek") else stream
    encoding = _encoding(buffered.peek(_SAMPLE)[:_SAMPLE])  # type: ignore[attr-defined]
    text = io.TextIOWrapper(buffered, encoding=encoding, newline="")
    try:
        first = text.readline()
    except UnicodeDecodeError as exc:
        raise FileError(f"The file is not valid {encoding} text.", line=1) from exc
    if not first.strip():
        raise FileError("The file is empty or its first line (the header row) is blank.", 1)
    delimiter = _delimiter(first)
    headers = next(csv.reader([first], delimiter=delimiter))

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            for cells in reader:
                line = reader.line_num + 1  # the header line was read apart
                if not any(cell.strip() for cell in cells):
                    yield line, {}
                    continue
                yield line, dict(zip(headers, cells, strict=False)) | _extra(headers, cells)
        except UnicodeDecodeError as exc:
            raise FileError(
                f"The file is not valid {encoding} text.", line=reader.line_num + 2
            ) from exc
        except csv.Error as exc:
            raise FileError(f"Malformed CSV: {exc}.", line=reader.line_num + 1) from exc

    return ParsedFile(headers, rows(), encoding=encoding.removesuffix("-sig"), delimiter=delimiter)


_EXTRA = "\x00extra"


def _extra(headers: list[str], cells: list[str]) -> dict[str, Any]:
    """Cells beyond the header row's columns, kept apart so that the report can name them."""
    extra = [cell for cell in cells[len(headers) :] if cell.strip()]
    return {_EXTRA: extra} if extra else {}


def extra_cells(cells: dict[str, Any]) -> list[str]:
    return cells.get(_EXTRA, [])


def _object_rows(items: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, item in items:
        if not isinstance(item, dict):
            yield line, {_NOT_AN_OBJECT: type(item).__name__}
        else:
            yield line, item


_NOT_AN_OBJECT = "\x00not-an-object"


def not_an_object(cells: dict[str, Any]) -> str | None:
    return cells.get(_NOT_AN_OBJECT)


def _headers_of(first: dict[str, Any] | None) -> list[str]:
    return [key for key in (first or {}) if not key.startswith("\x00")]


def read_json(stream: IO[bytes]) -> ParsedFile:
    """A JSON array of objects; its first object's keys stand for the header row."""
    try:
        data = orjson.loads(stream.read())
    except orjson.JSONDecodeError as exc:
        raise FileError(f"Malformed JSON: {exc}.") from exc
    if not isinstance(data, list):
        raise FileError("A JSON import is an array of objects.")
    first = next((item for item in data if isinstance(item, dict)), None)
    return ParsedFile(_headers_of(first), _object_rows(enumerate(data, start=1)))


def read_ndjson(stream: IO[bytes]) -> ParsedFile:
    """One JSON object per line, streamed."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline=None)

    def items() -> Iterator[tuple[int, Any]]:
        for line, raw in enumerate(text, start=1):
            if not raw.strip():
                yield line, {}
                continue
            try:
                yield line, orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise FileError(f"Malformed JSON on line {line}: {exc}.", line=line) from exc

    rows = _object_rows(items())
    first = next(rows, None)
    if first is None:
        return ParsedFile([], iter(()))

    def chained() -> Iterator[tuple[int, dict[str, Any]]]:
        yield first
        yield from rows

    return ParsedFile(_headers_of(first[1]), chained())


def read_xlsx(stream: IO[bytes]) -> ParsedFile:
    """The first sheet of a workbook, its first non-empty row being the header row."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(stream)
        sheet = workbook.get_sheet_by_index(0)
        iterator = iter(sheet.iter_rows())
    except Exception as exc:  # calamine raises its own error types for unreadable files
        raise FileError(f"Not a readable .xlsx workbook: {exc}.") from exc
    line = 0
    headers: list[str] = []
    for cells in iterator:
        line += 1
        if any(cell not in ("", None) for cell in cells):
            headers = [str(cell).strip() for cell in cells]
            break
    if not headers:
        raise FileError("The workbook's first sheet is empty.")

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        number = line
        for cells in iterator:
            number += 1
            if all(cell in ("", None) for cell in cells):
                yield number, {}
                continue
            yield number, dict(zip(headers, cells, strict=False))

    return ParsedFile(headers, rows())


READERS = {CSV: read_csv, JSON: read_json, NDJSON: read_ndjson, XLSX: read_xlsx}


def read_file(stream: IO[bytes], media_type: str) -> ParsedFile:
    """Open ``stream`` as ``media_type`` (one of ``FORMATS``)."""
    return READERS[media_type](stream)
