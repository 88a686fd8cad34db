"""What the change journal and webhooks cost, on PostgreSQL.

1. "Create member" through the app (in process, Flask test client), with the journal's session
   hooks on and off, in interleaved rounds: microseconds per request and the ratio.
2. N events to a local receiver through real ``mrm worker`` processes on Redis: every one
   arrives, exactly once by ``webhook-id``, and the delivery rate with one and two workers.

    .venv/bin/python -m bench.journal --requests 300 --rounds 3 --events 1000

It (re)creates the database ``mrm_bench_journal`` and empties the Redis database given.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api import create_app
from api.config import Settings
from api.extensions import db
from services import journal
from services.migrations import upgrade_database
from services.users import create_user

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-that-is-long-enough-for-hs256"
PASSWORD = "a long bench password"
HOOKS = (("after_flush", journal._collect), ("before_commit", journal.write_entries))


def _fresh_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def _settings(url: str, instance: Path, redis_url: str) -> Settings:
    return Settings.from_env(
        {},
        env="production",
        database_url=url,
        jwt_secret_key=SECRET,
        instance_dir=instance,
        log_level="WARNING",
        redis_url=redis_url,
        jobs_immediate=False,
        webhooks_allow_private=True,
        argon2_time_cost=1,
        argon2_memory_kib=64,
    )


def _journal_hooks(on: bool) -> None:
    for name, hook in HOOKS:
        present = event.contains(Session, name, hook)
        if on and not present:
            event.listen(Session, name, hook)
        elif not on and present:
            event.remove(Session, name, hook)


def _token(client) -> str:  # noqa: ANN001 - Flask test client
    response = client.post(
        "/api/v1/auth/token", json={"email": "bench@example.org", "password": PASSWORD}
    )
    return response.get_json()["access_token"]


def bench_create_member(app, requests: int, rounds: int) -> dict[str, float]:  # noqa: ANN001
    client = app.test_client()
    headers = {"Authorization": f"Bearer {_token(client)}"}
    counter = iter(range(10**9))

    def run(on: bool) -> float:
        _journal_hooks(on)
        started = time.perf_counter()
        for _ in range(requests):
            body = {"name": f"Bench {next(counter)}", "category": "sme"}
            response = client.post("/api/v1/members", json=body, headers=headers)
            assert response.status_code == 201, response.get_json()
        return (time.perf_counter() - started) / requests * 1e6

    run(True)  # warm-up
    results: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(rounds):
        results["without"].append(run(False))
        results["with"].append(run(True))
    _journal_hooks(True)
    with_us = statistics.median(results["with"])
    without_us = statistics.median(results["without"])
    return {"with_us": with_us, "without_us": without_us, "ratio": with_us / without_us}


class _Receiver:
    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        lock = threading.Lock()
        ids = self.ids

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    ids[self.headers["webhook-id"]] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _workers(count: int, url: str, redis_url: str, instance: Path) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MRM_REDIS_URL": redis_url,
        "MRM_ENV": "production",
        "JWT_SECRET_KEY": SECRET,
        "MRM_INSTANCE_DIR": str(instance),
        "MRM_WEBHOOKS_ALLOW_PRIVATE": "1",
        "MRM_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-c", "from api.cli import main; main()", "worker"]
    return [
        subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True) for _ in range(count)
    ]


def bench_deliveries(app, url: str, redis_url: str, events: int, workers: int) -> dict:  # noqa: ANN001
    receiver = _Receiver()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {_token(client)}"}
    created = client.post(
        "/api/v1/webhook-subscriptions",
        json={"url": receiver.url, "event_types": ["member.created"]},
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    for number in range(events):
        body = {"name": f"Event {workers}-{number}", "category": "sme"}
        assert client.post("/api/v1/members", json=body, headers=headers).status_code == 201
    with tempfile.TemporaryDirectory() as instance:
        processes = _workers(workers, url, redis_url, Path(instance))
        started = time.perf_counter()
        deadline = started + 600
        while sum(receiver.ids.values()) < events and time.perf_counter() < deadline:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        time.sleep(2)  # anything sent twice would arrive now
        for process in processes:
            os.killpg(process.pid, signal.SIGINT)
        for process in processes:
            process.wait(timeout=30)
    receiver.server.shutdown()
    client.delete(f"/api/v1/webhook-subscriptions/{created.get_json()['id']}", headers=headers)
    return {
        "workers": workers,
        "events": events,
        "received": len(receiver.ids),
        "duplicates": sum(1 for count in receiver.ids.values() if count > 1),
        "seconds": round(elapsed, 2),
        "per_second": round(len(receiver.ids) / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/mrm_bench_journal"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()

    _fresh_database(args.database)
    redis.Redis.from_url(args.redis).flushdb()
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(_settings(args.database, Path(instance), args.redis))
        upgrade_database(db.state(app).engine)
        with app.app_context():
            create_user(db.session, email="bench@example.org", password=PASSWORD, role="admin")
        cost = bench_create_member(app, args.requests, args.rounds)
        print(
            f"create member: {cost['with_us']:.0f} us with the journal, "
            f"{cost['without_us']:.0f} us without, ratio {cost['ratio']:.3f}"
        )
        for workers in (1, 2):
            result = bench_deliveries(app, args.database, args.redis, args.events, workers)
            print(
                f"{result['events']} events, {workers} worker(s): {result['received']} received, "
                f"{result['duplicates']} duplicates, {result['seconds']} s, "
                f"{result['per_second']} deliveries/s"
            )
        db.state(app).engine.dispose()


if __name__ == "__main__":
    main()
