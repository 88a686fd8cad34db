"""The job queue (huey): SQLite under ``instance/`` by default, Redis with ``MRM_REDIS_URL``.

Each app builds its own queue and registers its tasks on it, so nothing is configured at
import time. Jobs run with their own app context and database session; they are idempotent
(a delivery is claimed before it is sent), because a queue may hand a job over twice.
"""

import uuid
from collections.abc import Collection
from datetime import timedelta

from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab

from api.config import Settings
from api.extensions import db
from services.idempotency import purge_expired_keys
from services.imports.records import run_stored_import, stale_imports
from services.journal import Origin, writing_as
from services.webhooks import (
    WebhookSettings,
    due_deliveries,
    send_delivery,
    set_enqueuer,
)

JOBS_KEY = "mrm-jobs"


def webhook_settings(settings: Settings) -> WebhookSettings:
    return WebhookSettings(
        allow_private_targets=settings.webhooks_allow_private,
        retry_base_seconds=settings.webhook_retry_seconds,
        timeout_seconds=settings.webhook_timeout_seconds,
    )


class Jobs:
    """One app's queue and tasks."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.app = app
        self.webhooks = webhook_settings(settings)
        # A queued import not picked up for this long, or a running one silent for this long
        # whose worker's lock is gone, is handed over again (services/imports/run_locks.py).
        self.import_stale_after = timedelta(seconds=settings.import_stale_seconds)
        if settings.redis_url:
            self.huey: Huey = RedisHuey("mrm", url=settings.redis_url, utc=True)
        else:
            settings.instance_dir.mkdir(parents=True, exist_ok=True)
            self.huey = SqliteHuey(
                "mrm", filename=str(settings.instance_dir / "jobs.sqlite3"), utc=True
            )
        self.huey.immediate = settings.jobs_immediate
        self.deliver = self.huey.task(name="deliver_webhook")(self._deliver)
        self.sweep = self.huey.periodic_task(crontab(minute="*"), name="sweep_deliveries")(
            self._sweep
        )
        self.purge_keys = self.huey.periodic_task(
            crontab(minute="17"), name="purge_idempotency_keys"
        )(self._purge_keys)
        self.run_import = self.huey.task(name="run_import")(self._run_import)
        self.sweep_imports = self.huey.periodic_task(crontab(minute="*"), name="sweep_imports")(
            self._sweep_imports
        )

    def _run_import(self, import_id: str) -> None:
        """Run or resume an import; one already finished or being run is left alone."""
        with self.app.app_context(), writing_as(Origin(source="worker")):
            run_stored_import(db.session, uuid.UUID(import_id))

    def _sweep_imports(self) -> int:
        """Hand over imports a crash left queued or running (they resume; see records); an
        import a live worker is running, however long and quiet, is left to it."""
        with self.app.app_context():
            # Only reads: on SQLite a writing session would wait for the write lock that a
            # running atomic import holds until it ends.
            state = db.state(self.app)
            with (state.read_session_factory or state.session_factory)() as session:
                stale = stale_imports(session, now_minus=self.import_stale_after)
        for import_id in stale:
            self.run_import(str(import_id))
        return len(stale)

    def _deliver(self, delivery_id: str) -> None:
        """One attempt at a delivery; a failure schedules the next one."""
        with self.app.app_context(), writing_as(Origin(source="worker")):
            retry_in = send_delivery(
                db.session, delivery_id=uuid.UUID(delivery_id), settings=self.webhooks
            )
        if retry_in is not None and not self.huey.immediate:
            self.deliver.schedule((delivery_id,), delay=retry_in)

    def _sweep(self) -> int:
        """Hand over every due delivery again: new ones a crash kept from the queue, and
        retries the queue lost. Sending twice is harmless: a delivery is claimed first."""
        with self.app.app_context():
            due = due_deliveries(db.session)
        for delivery_id in due:
            self.deliver(str(delivery_id))
        return len(due)

    def _purge_keys(self) -> int:
        """Forget the kept answers of idempotency keys past their 24 hours (hourly)."""
        with self.app.app_context():
            return purge_expired_keys(db.session)

    def enqueue_deliveries(self, delivery_ids: Collection[uuid.UUID]) -> None:
        for delivery_id in delivery_ids:
            self.deliver(str(delivery_id))


def _enqueue_in_current_app(delivery_ids: Collection[uuid.UUID]) -> None:
    if has_app_context() and JOBS_KEY in current_app.extensions:
        current_app.extensions[JOBS_KEY].enqueue_deliveries(delivery_ids)


def init_jobs(app: Flask, settings: Settings) -> Jobs:
    jobs = Jobs(app, settings)
    app.extensions[JOBS_KEY] = jobs
    set_enqueuer(_enqueue_in_current_app)
    return jobs


def app_jobs(app: Flask) -> Jobs:
    return app.extensions[JOBS_KEY]
