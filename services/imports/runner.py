"""One import: rows read in chunks, each row loaded by the API's schema and checked by the
resource's rules, each chunk written with one flush (batched INSERTs and UPDATEs).

Transactions:

- ``atomic`` (the default): one transaction for the whole file. After the first refused row
  nothing more is written (the rest is only validated) and the transaction is rolled back: all
  or nothing. A worker killed midway leaves the database as it was. The change journal's
  entries are written chunk by chunk, so the journal's ordering lock is held from the first
  chunk to the commit.
- non-atomic: each chunk commits with ``checkpoint`` (the import's progress, written in the
  same transaction), so a killed worker leaves whole chunks and a resume point.
- ``dry_run``: every chunk is written inside a savepoint that is rolled back, so the database's
  own constraints are checked too, and nothing stays.

A chunk whose flush a constraint refuses (a row taken by a concurrent writer since the checks)
is replayed row by row, each in its own savepoint, to name the row.
"""

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol

import marshmallow as ma
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.imports.columns import HeaderMatch, RowReader, match_headers, row_reader
from services.imports.loading import compiled_loader
from services.imports.parsing import ParsedFile, extra_cells, not_an_object
from services.imports.report import ImportReport
from services.journal import write_entries
from services.transactions import violated_constraint

DEFAULT_CHUNK_SIZE = 1000
MODES = ("upsert", "create")


@dataclass(frozen=True)
class ImportOptions:
    """``key``: the natural key rows are matched on (the resource's first key when None);
    ``mode``: ``upsert`` updates the records found, ``create`` refuses them."""

    key: str | None = None
    mode: str = "upsert"
    dry_run: bool = False
    atomic: bool = True
    chunk_size: int = DEFAULT_CHUNK_SIZE


@dataclass
class Row:
    """A row loaded by the schema; the importer sets ``status`` or adds errors."""

    line: int
    values: dict[str, Any]
    status: str | None = None
    errors: list[tuple[str | None, str]] = field(default_factory=list)

    def fail(self, field_name: str | None, message: str) -> None:
        self.errors.append((field_name, message))


class Importer(Protocol):
    """What a resource provides to be imported."""

    resource: str
    scope: str
    keys: tuple[str, ...]
    unique: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]

    def load(self, cells: Mapping[str, Any], headers: HeaderMatch) -> dict[str, Any]:
        """The row as the API's schemas load it; raises ``ma.ValidationError``."""
        ...

    def write(self, session: Session, rows: list[Row], options: ImportOptions) -> None:
        """Apply the service rules and stage the rows' writes (no commit, no flush needed)."""
        ...


Checkpoint = Callable[[ImportReport], None]


_READERS: dict[tuple[int, tuple[tuple[str, str], ...]], tuple[ma.Schema, RowReader]] = {}


def _reader(schema: ma.Schema, headers: HeaderMatch) -> RowReader:
    """The row reader of ``schema`` for these headers, built at the file's first row."""
    key = (id(schema), tuple(headers.fields.items()))
    cached = _READERS.get(key)
    if cached is None or cached[0] is not schema:
        if len(_READERS) > 64:
            _READERS.clear()
        cached = (schema, row_reader(schema, headers.fields))
        _READERS[key] = cached
    return cached[1]


def load_with(schema: ma.Schema, cells: Mapping[str, Any], headers: HeaderMatch) -> dict[str, Any]:
    """Load the cells of ``schema``'s fields as ``schema`` (the API's body schema) loads them,
    with its compiled loader (``services.imports.loading``)."""
    return compiled_loader(schema)(_reader(schema, headers)(cells))


def _flatten(messages: Any, prefix: str | None = None) -> Iterator[tuple[str | None, str]]:
    """marshmallow's nested messages as (field, message) pairs."""
    if isinstance(messages, dict):
        for name, inner in messages.items():
            name = str(name)
            label = name if prefix is None or name == "_schema" else f"{prefix}.{name}"
            yield from _flatten(inner, None if name == "_schema" else label)
    elif isinstance(messages, list | tuple):
        for message in messages:
            yield from _flatten(message, prefix)
    else:
        yield prefix, str(messages)


def _column(headers: HeaderMatch, field_name: str | None) -> str | None:
    if field_name is None:
        return None
    root, _, rest = field_name.partition(".")
    column = headers.column_of(root)
    return f"{column}.{rest}" if rest else column


def _check_headers(
    importer: Importer, headers: HeaderMatch, options: ImportOptions, report: ImportReport
) -> None:
    for header in headers.unknown:
        report.add_warning(1, header, "Unknown column, ignored.")
    for header in headers.duplicates:
        report.add_warning(1, header, "The same field appears in another column; ignored.")
    present = set(headers.fields.values())
    for name in importer.required:
        if name not in present:
            report.add_error(1, name, "Required column missing.")
    if options.mode == "upsert" and report.key not in present:
        report.add_error(1, report.key, f"Column missing: rows are matched on {report.key}.")


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(rows, size)):
        yield chunk


class _Uniques:
    """Values of the unique fields seen so far in the file, with the line that had them."""

    def __init__(self, fields: Iterable[str]) -> None:
        self.seen: dict[str, dict[Any, int]] = {name: {} for name in fields}

    def check(self, row: Row) -> None:
        for name, seen in self.seen.items():
            value = row.values.get(name)
            if value is None or value == "":
                continue
            first = seen.get(value)
            if first is not None:
                row.fail(name, f"Duplicate: line {first} has the same {name}.")
            else:
                seen[value] = row.line


def _load_rows(
    importer: Importer,
    chunk: list[tuple[int, dict[str, Any]]],
    headers: HeaderMatch,
    options: ImportOptions,
    uniques: _Uniques,
    report: ImportReport,
) -> list[Row]:
    rows: list[Row] = []
    for line, cells in chunk:
        if not cells:
            report.skipped += 1
            report.add_warning(line, None, "Blank line, skipped.")
            continue
        if kind := not_an_object(cells):
            rows.append(Row(line, {}, errors=[(None, f"Not an object but {kind}.")]))
            continue
        row = Row(line, {})
        if extra := extra_cells(cells):
            row.fail(None, f"{len(extra)} more cell(s) than the header row has columns.")
        try:
            row.values = importer.load(cells, headers)
        except ma.ValidationError as exc:
            row.errors.extend(_flatten(exc.messages))
            # What did load still shows duplicates, so that the report names them too.
            row.values = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        if options.mode == "upsert" and not row.errors and not row.values.get(report.key):
            row.fail(report.key, f"Required to match the row ({report.key} is the key).")
        uniques.check(row)
        rows.append(row)
    return rows


def _replay_one_by_one(
    session: Session, importer: Importer, rows: list[Row], options: ImportOptions, keep: bool
) -> None:
    for row in rows:
        row.status = None
    for row in rows:
        if row.errors:
            continue
        savepoint = session.begin_nested()
        try:
            importer.write(session, [row], options)
            session.flush()
        except IntegrityError as exc:
            savepoint.rollback()
            row.fail(None, f"Refused by the database ({violated_constraint(exc) or 'constraint'}).")
            row.status = None
            continue
        if keep and not row.errors:
            savepoint.commit()
        else:
            savepoint.rollback()


def _write(
    session: Session, importer: Importer, rows: list[Row], options: ImportOptions, keep: bool
) -> None:
    """Stage and flush the chunk's valid rows in a savepoint, kept only when ``keep``."""
    valid = [row for row in rows if not row.errors]
    if not valid:
        return
    savepoint = session.begin_nested()
    try:
        importer.write(session, valid, options)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        _replay_one_by_one(session, importer, valid, options, keep)
        return
    if keep:
        savepoint.commit()
    else:
        savepoint.rollback()


def _tally(rows: list[Row], headers: HeaderMatch, report: ImportReport) -> None:
    for row in rows:
        if row.errors:
            report.failed += 1
            for field_name, message in row.errors:
                report.add_error(row.line, _column(headers, field_name), message)
        else:
            report.count(row.status or "unchanged")


def run_import(
    session: Session,
    importer: Importer,
    parsed: ParsedFile,
    options: ImportOptions,
    *,
    report: ImportReport | None = None,
    checkpoint: Checkpoint | None = None,
) -> ImportReport:
    """Import ``parsed`` into ``importer``'s resource; see the module docstring.

    ``report`` carries on an interrupted non-atomic import: rows up to its ``last_line`` were
    committed before and are skipped. ``checkpoint`` is called after each chunk, before its
    commit, so that progress and chunk commit together.
    """
    key = options.key or importer.keys[0]
    if report is None:
        report = ImportReport(
            resource=importer.resource,
            key=key,
            mode=options.mode,
            dry_run=options.dry_run,
            atomic=options.atomic,
        )
    headers = match_headers(parsed.headers, importer.aliases)
    resume_after = report.last_line
    header_problems = dataclasses.replace(report, errors=[], warnings=[])
    _check_headers(importer, headers, options, header_problems)
    header_refused = bool(header_problems.errors)
    if resume_after == 0:  # a resumed import reported them the first time
        report.errors.extend(header_problems.errors)
        report.warnings.extend(header_problems.warnings)
    uniques = _Uniques(importer.unique)
    writes = not options.dry_run
    rows = (item for item in parsed.rows if item[0] > resume_after)
    try:
        for chunk in _chunks(rows, options.chunk_size):
            loaded = _load_rows(importer, chunk, headers, options, uniques, report)
            refused = header_refused or (options.atomic and report.failed > 0)
            _write(session, importer, loaded, options, keep=writes and not refused)
            _tally(loaded, headers, report)
            report.last_line = chunk[-1][0]
            if options.atomic or not writes or header_refused:
                if writes and not refused and report.failed == 0:
                    write_entries(session)  # this chunk's journal entries, then let go of it
                session.expunge_all()
                if checkpoint:
                    checkpoint(report)
            else:
                report.written = True
                if checkpoint:
                    checkpoint(report)
                session.commit()
                session.expunge_all()
    except BaseException:
        session.rollback()
        raise
    if options.atomic and writes and report.failed == 0 and not header_refused:
        report.written = True
        if checkpoint:
            checkpoint(report)
        session.commit()
    elif options.atomic or not writes or header_refused:
        report.written = False
        session.rollback()
    return report
