"""A worker killed midway: atomic imports leave nothing, non-atomic ones whole chunks, and
running the job again finishes the import (resuming after the last committed chunk)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import Import, JournalEntry, Member
from services.imports import records
from services.imports.parsing import CSV
from services.imports.records import create_import, run_stored_import, stale_imports
from services.imports.runner import ImportOptions
from tests.imports.files import FRENCH_HEADERS, french_rows, write_csv


class WorkerKilled(BaseException):
    """Stands for the process dying: nothing after it runs, its transaction never commits."""


def _dies_at_checkpoint(monkeypatch, number: int) -> None:
    real = records._saver

    def saver(session, import_id):
        save = real(session, import_id)
        calls = iter(range(1, 1_000_000))

        def checkpoint(report):
            if next(calls) == number:
                raise WorkerKilled
            save(report)

        return checkpoint

    monkeypatch.setattr(records, "_saver", saver)


def _members(session) -> int:
    return session.scalar(select(func.count()).select_from(Member))


def _submit(session, *, atomic: bool):
    data = write_csv(FRENCH_HEADERS, french_rows(10))
    options = ImportOptions(atomic=atomic)
    return create_import(session, resource="members", media_type=CSV, payload=data, options=options)


def test_killed_non_atomic_import_keeps_whole_chunks_and_resumes(session, monkeypatch):
    record = _submit(session, atomic=False)
    _dies_at_checkpoint(monkeypatch, 2)
    with pytest.raises(WorkerKilled):
        run_stored_import(session, record.id, chunk_size=4)
    assert _members(session) == 4  # chunks 1 (rows 1-4) committed; chunk 2 died with the worker
    left = session.get(Import, record.id, populate_existing=True)
    assert left.status == "running"
    assert left.report["last_line"] == 5
    assert stale_imports(session, now_minus=timedelta(seconds=-1)) == [record.id]

    monkeypatch.undo()
    done = run_stored_import(session, record.id, chunk_size=4)
    assert done.status == "succeeded"
    assert (done.report["created"], done.report["failed"]) == (10, 0)
    assert done.attempts == 2
    assert done.payload is None
    assert _members(session) == 10
    entries = session.scalar(select(func.count()).select_from(JournalEntry))
    assert entries == 10  # one per member, none twice


def test_killed_atomic_import_leaves_nothing_and_starts_again(session, monkeypatch):
    record = _submit(session, atomic=True)
    _dies_at_checkpoint(monkeypatch, 2)
    with pytest.raises(WorkerKilled):
        run_stored_import(session, record.id, chunk_size=4)
    assert _members(session) == 0
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == 0

    monkeypatch.undo()
    done = run_stored_import(session, record.id, chunk_size=4)
    assert done.status == "succeeded"
    assert done.report["created"] == 10
    assert _members(session) == 10


def test_a_finished_import_is_not_run_again(session):
    record = _submit(session, atomic=True)
    assert run_stored_import(session, record.id) is not None
    assert run_stored_import(session, record.id) is None
    assert _members(session) == 10


def test_a_resumed_import_keeps_the_errors_of_the_chunks_before(session, monkeypatch):
    rows = french_rows(10)
    rows[1][1] = "bakery"
    data = write_csv(FRENCH_HEADERS, rows)
    record = create_import(
        session,
        resource="members",
        media_type=CSV,
        payload=data,
        options=ImportOptions(atomic=False),
    )
    _dies_at_checkpoint(monkeypatch, 2)
    with pytest.raises(WorkerKilled):
        run_stored_import(session, record.id, chunk_size=4)
    monkeypatch.undo()
    done = run_stored_import(session, record.id, chunk_size=4)
    assert (done.report["created"], done.report["failed"]) == (9, 1)
    assert [error["line"] for error in done.report["errors"]] == [3]
    assert _members(session) == 9
