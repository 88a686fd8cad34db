"""A real ``mrm worker`` on Redis killed (SIGKILL) in the middle of an import."""

import signal
import time

import pytest
from sqlalchemy import func, select

from api import create_app
from api.extensions import db
from api.jobs import app_jobs
from models import Import, JournalEntry, Member
from tests.conftest import make_settings
from tests.factories import bearer, log_in, make_user
from tests.imports.files import FRENCH_HEADERS, french_rows, write_csv
from tests.webhooks.test_redis_worker import (
    REDIS_URL,
    _redis_or_skip,
    _start_worker,
    _stop,
    _wait_for,
)

# Enough rows that the import is still running when the worker is killed: member imports write
# some 10,000 rows a second, so this takes several seconds.
ROWS = 60000


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _member_entries(app) -> int:
    with app.app_context():
        stmt = select(func.count()).where(JournalEntry.resource_type == "member")
        return db.session.scalar(stmt)


def _import(app, import_id) -> Import:
    with app.app_context():
        return db.session.get(Import, import_id)


@pytest.mark.postgres_only
@pytest.mark.parametrize("atomic", [False, True])
def test_killed_worker_leaves_whole_chunks_or_nothing_and_the_import_finishes(
    committing_app, database_url, tmp_path, atomic
):
    _redis_or_skip()
    app = create_app(
        make_settings(database_url, tmp_path / "api", redis_url=REDIS_URL, jobs_immediate=False)
    )
    try:
        with app.app_context():
            staff = make_user(db.session, role="staff")
            db.session.commit()
            email = staff.email
        client = app.test_client()
        headers = {**bearer(log_in(client, email)["access_token"]), "Content-Type": "text/csv"}
        data = write_csv(FRENCH_HEADERS, french_rows(ROWS, prefix=f"K{int(atomic)}"))
        answer = client.post(
            f"/api/v1/imports/members?atomic={str(atomic).lower()}", data=data, headers=headers
        )
        assert answer.status_code == 202
        import_id = answer.json["id"]

        worker = _start_worker(database_url, tmp_path / "worker")
        try:
            if atomic:
                _wait_for(lambda: _import(app, import_id).status == "running", timeout=120)
                time.sleep(1.0)  # well inside the import: it takes several seconds
            else:
                _wait_for(
                    lambda: (_import(app, import_id).report or {}).get("last_line", 0) > 1000,
                    timeout=120,
                )
        finally:
            _stop(worker)  # SIGKILL: no cleanup runs
        record = _import(app, import_id)
        members = _count(app, Member)
        assert record.status == "running", "the import finished before the worker was killed"
        if atomic:
            assert members == 0
            assert _member_entries(app) == 0
        else:
            assert members % 1000 == 0  # whole chunks of 1,000 rows
            assert members == record.report["created"]
            assert _member_entries(app) == members

        app_jobs(app).run_import(import_id)  # as the sweep does for a silent import
        worker = _start_worker(database_url, tmp_path / "worker")
        try:
            _wait_for(lambda: _import(app, import_id).status == "succeeded", timeout=300)
        finally:
            _stop(worker, signal.SIGINT)
        record = _import(app, import_id)
        assert record.report["created"] == ROWS
        assert record.attempts == 2
        assert _count(app, Member) == ROWS
        assert _member_entries(app) == ROWS  # none twice
    finally:
        db.state(app).engine.dispose()
