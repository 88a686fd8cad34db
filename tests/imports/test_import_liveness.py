"""The sweep hands over an import whose worker died, never one a live worker is still running,
however long and quiet (an atomic import commits nothing, heartbeat included, until it ends)."""

import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.config import ConfigurationError, Settings
from api.extensions import db
from api.jobs import app_jobs
from models import Import, Member
from services.imports import records
from services.imports.parsing import CSV
from services.imports.records import create_import, run_stored_import, stale_imports
from services.imports.run_locks import is_being_run, running_lock
from services.imports.runner import ImportOptions
from tests.imports.files import FRENCH_HEADERS, french_rows, write_csv

ROOT = Path(__file__).resolve().parents[2]

# A worker that stops inside the import's transaction (after the first chunk's writes) and
# waits there until it is killed.
DYING_WORKER = """
import sys, time, uuid
from pathlib import Path
from api import create_app
from api.config import ConfigurationError, Settings
from api.extensions import db
from services.imports import records
from tests.conftest import make_settings

def saver(session, import_id):
    def checkpoint(report):
        print("inside", flush=True)
        time.sleep(600)
    return checkpoint

records._saver = saver
app = create_app(make_settings(sys.argv[1], Path(sys.argv[2])))
with app.app_context():
    records.run_stored_import(db.session, uuid.UUID(sys.argv[3]), chunk_size=4)
"""


@pytest.fixture
def stale_at_once(committed: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The app's sweep with a staleness threshold already past for every import."""
    monkeypatch.setattr(app_jobs(committed), "import_stale_after", timedelta(seconds=-1))
    return committed


@pytest.fixture
def writer(committed: Flask) -> Iterator[Session]:
    session = db.state(committed).session_factory()
    yield session
    session.close()


def _submit(session: Session, *, atomic: bool = True) -> uuid.UUID:
    data = write_csv(FRENCH_HEADERS, french_rows(10))
    record = create_import(
        session,
        resource="members",
        media_type=CSV,
        payload=data,
        options=ImportOptions(atomic=atomic),
    )
    return record.id


def _record(app: Flask, import_id: uuid.UUID) -> Import:
    # Read-only sessions: on SQLite they run beside the import's open write transaction.
    with db.state(app).read_session_factory() as session:
        record = session.get(Import, import_id)
        assert record is not None
        session.expunge(record)
        return record


def _members(app: Flask) -> int:
    with db.state(app).read_session_factory() as session:
        return session.scalar(select(func.count()).select_from(Member)) or 0


def _held_inside_first_chunk(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, ...]:
    """The first checkpoint (inside the import's transaction) signals ``inside`` and waits
    for ``go_on``: the import is running, with nothing committed since its claim."""
    inside, go_on = threading.Event(), threading.Event()
    real = records._saver

    def saver(session: Session, import_id: uuid.UUID):  # type: ignore[no-untyped-def]
        save = real(session, import_id)

        def checkpoint(report):  # type: ignore[no-untyped-def]
            if not inside.is_set():
                inside.set()
                assert go_on.wait(60)
            save(report)

        return checkpoint

    monkeypatch.setattr(records, "_saver", saver)
    return inside, go_on


@pytest.mark.parametrize("atomic", [True, False])
def test_a_long_quiet_import_is_left_to_its_live_worker(
    stale_at_once: Flask, writer: Session, monkeypatch: pytest.MonkeyPatch, atomic: bool
) -> None:
    app = stale_at_once
    import_id = _submit(writer, atomic=atomic)
    inside, go_on = _held_inside_first_chunk(monkeypatch)
    outcome: list[Import | None] = []

    def first_worker() -> None:
        with db.state(app).session_factory() as session:
            outcome.append(run_stored_import(session, import_id, chunk_size=4))

    thread = threading.Thread(target=first_worker)
    thread.start()
    try:
        assert inside.wait(30)
        assert _record(app, import_id).status == "running"
        # Silent for longer than the threshold, yet alive: not handed over.
        assert app_jobs(app)._sweep_imports() == 0
        with db.state(app).read_session_factory() as reader:
            assert stale_imports(reader, now_minus=timedelta(seconds=-1)) == []
            assert is_being_run(reader, import_id)
        # A second worker handed the import anyway (a queue may deliver twice) leaves it.
        with db.state(app).session_factory() as second:
            assert run_stored_import(second, import_id) is None
    finally:
        go_on.set()
        thread.join(60)
    assert outcome
    assert outcome[0] is not None
    record = _record(app, import_id)
    assert (record.status, record.attempts, record.report["created"]) == ("succeeded", 1, 10)
    assert _members(app) == 10


def test_an_import_whose_worker_was_killed_is_handed_over(
    stale_at_once: Flask, writer: Session, database_url: str, tmp_path: Path
) -> None:
    app = stale_at_once
    import_id = _submit(writer, atomic=True)
    worker = subprocess.Popen(
        [sys.executable, "-c", DYING_WORKER, database_url, str(tmp_path), str(import_id)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "inside"
        with db.state(app).read_session_factory() as reader:
            assert is_being_run(reader, import_id)
            assert stale_imports(reader, now_minus=timedelta(seconds=-1)) == []
    finally:
        worker.send_signal(signal.SIGKILL)  # no cleanup runs
        worker.wait(30)
        if worker.stdout is not None:
            worker.stdout.close()
    assert _record(app, import_id).status == "running"
    deadline = time.monotonic() + 20  # the server notices the closed connection
    with db.state(app).read_session_factory() as reader:
        while is_being_run(reader, import_id) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert app_jobs(app)._sweep_imports() == 1  # immediate mode: run again here
    record = _record(app, import_id)
    assert (record.status, record.attempts, record.report["created"]) == ("succeeded", 2, 10)
    assert _members(app) == 10


def test_only_one_holder_of_an_import_lock(session: Session) -> None:
    import_id = uuid.uuid4()
    with running_lock(session, import_id) as first:
        assert first
        with running_lock(session, import_id) as second:
            assert not second
        assert is_being_run(session, import_id)
    assert not is_being_run(session, import_id)
    with running_lock(session, import_id) as again:
        assert again


def test_the_staleness_threshold_is_configured(tmp_path: Path) -> None:
    secret = {"JWT_SECRET_KEY": "s" * 32, "MRM_INSTANCE_DIR": str(tmp_path)}
    assert Settings.from_env(secret).import_stale_seconds == 600
    configured = Settings.from_env({**secret, "MRM_IMPORT_STALE_SECONDS": "90"})
    assert configured.import_stale_seconds == 90
    with pytest.raises(ConfigurationError, match="MRM_IMPORT_STALE_SECONDS"):
        Settings.from_env({**secret, "MRM_IMPORT_STALE_SECONDS": "soon"})
