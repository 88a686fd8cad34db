"""Imports as records: created with their file, run (or resumed) by a job or inline, swept.

An import row holds its file until it ends, so that any worker can run it. Running is
idempotent: a finished import is left alone; a non-atomic one that a killed worker left
``running`` resumes after the last chunk it committed (its report, committed with each chunk,
says where), an atomic one starts again from the top (its transaction died with the worker).

A worker holds the import's lock while it runs it (``run_locks``): a second worker handed the
same import leaves it alone, and the sweep hands over only a running import whose worker is
gone, never one that is merely quiet (an atomic import commits nothing until it ends).
"""

import dataclasses
import io
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, undefer
from sqlalchemy.orm.exc import StaleDataError

from models import Import, ImportStatus
from models.types import utcnow
from services.errors import InvalidInput, NotFound
from services.imports.parsing import FileError, read_file
from services.imports.registry import importer_for
from services.imports.report import ImportReport
from services.imports.run_locks import forget_lock_file, is_being_run, running_lock
from services.imports.runner import ImportOptions, run_import
from services.journal import Origin, current_origin, writing_as

FINISHED = (ImportStatus.SUCCEEDED.value, ImportStatus.FAILED.value)
JOURNAL_SOURCE = "import"


def journal_origin(import_id: uuid.UUID, origin: Origin) -> Origin:
    """Entries of the rows an import writes: source ``import``, request id ``import:<id>``,
    and the user who sent the file."""
    return dataclasses.replace(origin, source=JOURNAL_SOURCE, request_id=f"import:{import_id}")


def create_import(
    session: Session,
    *,
    resource: str,
    media_type: str,
    payload: bytes,
    options: ImportOptions,
) -> Import:
    """Record an import and its file, queued; the caller then runs it inline or as a job."""
    importer = importer_for(resource)
    if options.key is not None and options.key not in importer.keys:
        raise InvalidInput({"key": [f"Must be one of: {', '.join(importer.keys)}."]})
    record = Import(
        resource=resource,
        media_type=media_type,
        payload=payload,
        size_bytes=len(payload),
        options={
            "key": options.key or importer.keys[0],
            "mode": options.mode,
            "dry_run": options.dry_run,
            "atomic": options.atomic,
        },
        created_by_id=current_origin().actor_user_id,
    )
    session.add(record)
    session.commit()
    return record


def get_import(session: Session, import_id: uuid.UUID) -> Import:
    record = session.get(Import, import_id)
    if record is None:
        raise NotFound("import", import_id)
    return record


def _claim(session: Session, import_id: uuid.UUID) -> Import | None:
    """Mark the import running; None when it has finished or another worker claimed it first
    (the row's version makes the two claims exclusive)."""
    record = session.scalars(
        select(Import).where(Import.id == import_id).options(undefer(Import.payload))
    ).one_or_none()
    if record is None or record.status in FINISHED:
        session.rollback()
        return None
    record.status = ImportStatus.RUNNING.value
    record.attempts += 1
    record.started_at = record.started_at or utcnow()
    record.heartbeat_at = utcnow()
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        return None
    return record


def _saver(session: Session, import_id: uuid.UUID) -> Callable[[ImportReport], None]:
    def checkpoint(report: ImportReport) -> None:
        """Progress, in the chunk's own transaction (committed with the chunk)."""
        session.execute(
            update(Import)
            .where(Import.id == import_id)
            .values(report=report.as_dict(), heartbeat_at=utcnow(), version=Import.version + 1)
        )

    return checkpoint


def run_stored_import(
    session: Session,
    import_id: uuid.UUID,
    *,
    origin: Origin | None = None,
    chunk_size: int | None = None,
) -> Import | None:
    """Run the import (or resume it); None if it had already finished or is being run."""
    with running_lock(session, import_id) as held:
        if not held:
            session.rollback()
            return None
        done = _run_claimed(session, import_id, origin=origin, chunk_size=chunk_size)
        if done is not None:
            forget_lock_file(session, import_id)
        return done


def _run_claimed(
    session: Session, import_id: uuid.UUID, *, origin: Origin | None, chunk_size: int | None
) -> Import | None:
    record = _claim(session, import_id)
    if record is None:
        return None
    options = ImportOptions(**record.options)
    if chunk_size is not None:
        options = dataclasses.replace(options, chunk_size=chunk_size)
    # Only a non-atomic import has committed chunks to carry on from.
    report = ImportReport.from_dict(record.report) if record.report and not options.atomic else None
    payload, media_type = record.payload or b"", record.media_type
    error: str | None = None
    with writing_as(journal_origin(import_id, origin or current_origin())):
        try:
            parsed = read_file(io.BytesIO(payload), media_type)
            report = run_import(
                session,
                importer_for(record.resource),
                parsed,
                options,
                report=report,
                checkpoint=_saver(session, import_id),
            )
        except FileError as exc:
            error = str(exc) if exc.line is None else f"Line {exc.line}: {exc}"
    return _finish(session, import_id, report, error)


def _finish(
    session: Session, import_id: uuid.UUID, report: ImportReport | None, error: str | None
) -> Import:
    record = session.get(Import, import_id, populate_existing=True)
    assert record is not None
    if report is not None and error is None:
        record.report = report.as_dict()
    refused = error is not None or (
        report is not None and report.atomic and not report.dry_run and not report.written
    )
    record.status = (ImportStatus.FAILED if refused else ImportStatus.SUCCEEDED).value
    record.error = error[:500] if error else None
    record.finished_at = utcnow()
    record.payload = None  # the file is not kept once imported
    session.commit()
    return record


def stale_imports(session: Session, *, now_minus: timedelta) -> list[uuid.UUID]:
    """Imports a crash left behind: queued and never picked up for ``now_minus``, or running
    without a heartbeat for ``now_minus`` and with no live worker holding their lock (an
    atomic import's heartbeats stay uncommitted until it ends: only the lock says it lives)."""
    since = utcnow() - now_minus
    stmt = select(Import.id, Import.status).where(
        or_(
            (Import.status == ImportStatus.QUEUED.value) & (Import.created_at < since),
            (Import.status == ImportStatus.RUNNING.value) & (Import.heartbeat_at < since),
        )
    )
    candidates = session.execute(stmt).all()
    return [
        import_id
        for import_id, status in candidates
        if status == ImportStatus.QUEUED.value or not is_being_run(session, import_id)
    ]
