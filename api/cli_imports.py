"""``mrm import RESOURCE FILE``: the import service from a terminal, with a progress bar."""

import io
import json
import sys
import uuid
from pathlib import Path
from typing import IO, Any

import click
from flask.cli import with_appcontext
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.extensions import db
from services.errors import ServiceError
from services.imports.parsing import FORMATS, FileError, media_type_of, read_file
from services.imports.records import journal_origin
from services.imports.registry import IMPORTERS, importer_for
from services.imports.report import ImportReport, report_csv
from services.imports.runner import DEFAULT_CHUNK_SIZE, MODES, ImportOptions, run_import
from services.journal import Origin, writing_as


class _Counting(io.RawIOBase):
    """A file that advances the progress bar by the bytes read from it."""

    def __init__(self, raw: IO[bytes], progress: Progress, task: Any) -> None:
        self.raw, self.progress, self.task = raw, progress, task

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        self.progress.update(self.task, advance=count or 0)
        return count or 0


def _summary(report: ImportReport, console: Console) -> None:
    table = Table(title=f"Import of {report.resource}" + (" (dry run)" if report.dry_run else ""))
    for name in ("created", "updated", "unchanged", "failed", "skipped"):
        table.add_column(name, justify="right")
    table.add_row(*(str(getattr(report, name)) for name in table_columns(table)))
    console.print(table)
    for problem in report.errors[:20]:
        console.print(f"line {problem.line} [{problem.column or '-'}]: {problem.message}")
    if len(report.errors) > 20:
        console.print(f"... {len(report.errors) - 20} more errors (see --report).")
    for problem in report.warnings[:20]:
        console.print(f"warning: line {problem.line} [{problem.column or '-'}]: {problem.message}")
    written = "written" if report.written else "nothing written"
    console.print(f"{report.processed} rows, {written}.")


def table_columns(table: Table) -> list[str]:
    return [str(column.header) for column in table.columns]


@click.command("import")
@click.argument("resource", type=click.Choice(sorted(IMPORTERS)))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--atomic/--no-atomic", default=True, show_default=True, help="All rows or none.")
@click.option("--key", default=None, help="Natural key rows are matched on.")
@click.option("--mode", type=click.Choice(MODES), default="upsert", show_default=True)
@click.option(
    "--format",
    "media_type",
    type=click.Choice(sorted(FORMATS)),
    default=None,
    help="Media type of the file (by default from its extension).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the problems to this CSV file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--chunk-size", default=DEFAULT_CHUNK_SIZE, show_default=True, hidden=True)
@with_appcontext
def import_command(
    resource: str,
    path: Path,
    dry_run: bool,
    atomic: bool,
    key: str | None,
    mode: str,
    media_type: str | None,
    report_path: Path | None,
    as_json: bool,
    chunk_size: int,
) -> None:
    """Import a file (CSV, JSON, NDJSON, .xlsx) into RESOURCE, e.g. ``mrm import members
    adherents.csv --dry-run``: the rules and report of ``POST /imports/{resource}``."""
    importer = importer_for(resource)
    media_type = media_type or media_type_of(path.name)
    if media_type is None:
        raise click.UsageError("Unknown file type: pass --format.")
    if key is not None and key not in importer.keys:
        raise click.UsageError(f"--key must be one of: {', '.join(importer.keys)}.")
    options = ImportOptions(
        key=key, mode=mode, dry_run=dry_run, atomic=atomic, chunk_size=chunk_size
    )
    console = Console(stderr=True)
    origin = journal_origin(uuid.uuid4(), Origin(source="cli"))
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with (
        path.open("rb") as raw,
        Progress(*columns, TimeRemainingColumn(), console=console, disable=as_json) as progress,
        writing_as(origin),
    ):
        task = progress.add_task(f"Importing {path.name}", total=path.stat().st_size)
        stream = io.BufferedReader(_Counting(raw, progress, task), 1024 * 1024)
        try:
            parsed = read_file(stream, media_type)
            report = run_import(db.session, importer, parsed, options)
        except (FileError, ServiceError) as exc:
            raise click.ClickException(str(exc)) from exc
    if report_path is not None:
        with report_path.open("w", encoding="utf-8", newline="") as out:
            out.writelines(report_csv(report))
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        _summary(report, Console())
    if report.failed:
        sys.exit(1)
