"""A real ``mrm worker`` on Redis delivers, survives being killed mid-way, and sends once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from api import create_app
from api.extensions import db
from models import WebhookAttempt, WebhookDelivery
from tests.conftest import TEST_SECRET, make_settings
from tests.factories import bearer, log_in, make_user
from tests.webhooks.receiver import receiver

REDIS_URL = os.environ.get("MRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
WORKER = [sys.executable, "-c", "from api.cli import main; main()", "worker"]


def _redis_or_skip() -> None:
    import redis  # noqa: PLC0415

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except redis.exceptions.ConnectionError as exc:
        message = f"Redis is not reachable at {REDIS_URL}: {exc}"
        if os.environ.get("MRM_REQUIRE_REDIS") == "1":
            pytest.fail(message + " (MRM_REQUIRE_REDIS=1)", pytrace=False)
        pytest.skip(message)


def _start_worker(database_url: str, instance: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MRM_REDIS_URL": REDIS_URL,
        "MRM_ENV": "test",
        "MRM_JOBS_IMMEDIATE": "0",
        "JWT_SECRET_KEY": TEST_SECRET,
        "MRM_INSTANCE_DIR": str(instance),
        "MRM_WEBHOOKS_ALLOW_PRIVATE": "1",
        "MRM_WEBHOOK_RETRY_SECONDS": "1",
        "MRM_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        WORKER,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(worker: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
        worker.wait(timeout=20)


def _wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.postgres_only
def test_worker_killed_mid_way_still_delivers_once(committing_app, database_url, tmp_path):
    _redis_or_skip()
    app = create_app(
        make_settings(
            database_url,
            tmp_path / "api",
            redis_url=REDIS_URL,
            jobs_immediate=False,
            webhook_retry_seconds=1.0,
        )
    )
    try:
        with app.app_context():
            admin = make_user(db.session, role="admin")
            db.session.commit()
            email = admin.email
        client = app.test_client()
        headers = bearer(log_in(client, email)["access_token"])

        def attempts() -> list[int | None]:
            with app.app_context():
                stmt = select(WebhookAttempt.status_code).order_by(WebhookAttempt.attempted_at)
                return list(db.session.scalars(stmt))

        def status() -> str | None:
            with app.app_context():
                return db.session.scalar(select(WebhookDelivery.status))

        with receiver(statuses=[500]) as target:
            subscription = client.post(
                "/api/v1/webhook-subscriptions",
                json={"url": target.url, "event_types": ["member.created"]},
                headers=headers,
            )
            assert subscription.status_code == 201
            created = client.post(
                "/api/v1/members", json={"name": "Queued", "category": "sme"}, headers=headers
            )
            assert created.status_code == 201
            assert attempts() == []  # queued in Redis, nothing ran in the request

            worker = _start_worker(database_url, tmp_path / "worker")
            try:
                _wait_for(lambda: attempts() == [500])
            finally:
                _stop(worker)  # killed with the retry still waiting in Redis
            assert status() == "pending"
            worker = _start_worker(database_url, tmp_path / "worker")
            try:
                _wait_for(lambda: status() == "succeeded")
            finally:
                _stop(worker, signal.SIGINT)
        assert attempts() == [500, 200]
        ids = [request.headers["webhook-id"] for request in target.requests]
        assert len(ids) == 2
        assert len(set(ids)) == 1
    finally:
        db.state(app).engine.dispose()
