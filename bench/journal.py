"""What the change journal and webhooks cost, on PostgreSQL.

1. "Create member" through the app (in process, Flask test client), with the journal's session
   hooks on and off, in interleaved rounds: microseconds per request and the ratio.
2. N events to a local receiver through real ``mrm worker`` processes on Redis: every one
   arrives, exactly once by ``webhook-id``, and the delivery rate with one and two workers.

    .venv/bin/python -m bench.journal --requests 300 --rounds 5 --events 1000 --save

``--events 0`` measures only the create; ``--save`` writes bench/results/journal-<time>.md.

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
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api import create_app
from api.config import Settings
from api.extensions import db
from bench.servers import UNLIMITED_RATES
from services import journal
from services.migrations import upgrade_database
from services.users import create_user

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
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
    # The benchmark measures writes, not refusals: the rate limits count but never refuse.
    return Settings.from_env(
        UNLIMITED_RATES,
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


def bench_create_member(app, requests: int, rounds: int) -> dict[str, Any]:  # noqa: ANN001
    """Interleaved rounds, hooks off and on: wall and CPU microseconds per request.

    CPU time (this process: mrm's Python, SQLAlchemy, psycopg) is steadier than wall time on a
    shared machine; the wall time adds PostgreSQL's side and the round trips.
    """
    client = app.test_client()
    headers = {"Authorization": f"Bearer {_token(client)}"}
    counter = iter(range(10**9))

    def run(on: bool) -> tuple[float, float]:
        _journal_hooks(on)
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(requests):
            body = {"name": f"Bench {next(counter)}", "category": "sme"}
            response = client.post("/api/v1/members", json=body, headers=headers)
            assert response.status_code == 201, response.get_json()
        wall = (time.perf_counter() - started) / requests * 1e6
        return wall, (time.process_time() - cpu_started) / requests * 1e6

    run(True)  # warm-up
    run(False)
    pairs: list[dict[str, float]] = []
    for number in range(rounds):
        # Alternate which goes first: on a shared machine the load drifts within a round.
        if number % 2:
            with_wall, with_cpu = run(True)
            without_wall, without_cpu = run(False)
        else:
            without_wall, without_cpu = run(False)
            with_wall, with_cpu = run(True)
        pairs.append(
            {
                "with_us": with_wall,
                "without_us": without_wall,
                "with_cpu_us": with_cpu,
                "without_cpu_us": without_cpu,
            }
        )
    _journal_hooks(True)

    def median(key: str) -> float:
        return statistics.median(pair[key] for pair in pairs)

    return {
        "rounds": pairs,
        "with_us": median("with_us"),
        "without_us": median("without_us"),
        # The median of the rounds' ratios: each round compares two runs made moments apart.
        "ratio": statistics.median(pair["with_us"] / pair["without_us"] for pair in pairs),
        "cpu_ratio": statistics.median(
            pair["with_cpu_us"] / pair["without_cpu_us"] for pair in pairs
        ),
        "round_ratios": [pair["with_us"] / pair["without_us"] for pair in pairs],
    }


def _report(args: argparse.Namespace, cost: dict[str, Any], deliveries: list[dict]) -> str:
    command = " ".join(["python -m bench.journal", *sys.argv[1:]])
    lines = [
        f"# Journal benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`",
        f"Load average before / after: {args.load_before} / {os.getloadavg()[0]:.2f}"
        f" ({os.cpu_count()} cores)",
        "",
        f"## Create member, {args.requests} requests a run, hooks off and on in each round",
        "",
        "| round | without (us) | with (us) | ratio | CPU without | CPU with | CPU ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, pair in enumerate(cost["rounds"], 1):
        lines.append(
            f"| {number} | {pair['without_us']:.0f} | {pair['with_us']:.0f} "
            f"| {pair['with_us'] / pair['without_us']:.3f} | {pair['without_cpu_us']:.0f} "
            f"| {pair['with_cpu_us']:.0f} | {pair['with_cpu_us'] / pair['without_cpu_us']:.3f} |"
        )
    lines += [
        "",
        f"Medians: {cost['with_us']:.0f} us with the journal, {cost['without_us']:.0f} us "
        f"without; median of the rounds' ratios {cost['ratio']:.3f} (CPU time "
        f"{cost['cpu_ratio']:.3f}). Odd rounds run without first, even rounds with.",
        "",
    ]
    if deliveries:
        lines += [
            "## Deliveries to a local receiver through `mrm worker` on Redis",
            "",
            "| workers | events | received | duplicates | seconds | deliveries/s |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {d['workers']} | {d['events']} | {d['received']} | {d['duplicates']} "
            f"| {d['seconds']} | {d['per_second']} |"
            for d in deliveries
        ]
    return "\n".join(lines) + "\n"


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
    parser.add_argument("--save", action="store_true", help="write bench/results/journal-*.md")
    args = parser.parse_args()
    args.load_before = f"{os.getloadavg()[0]:.2f}"

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
            f"{cost['without_us']:.0f} us without, ratio {cost['ratio']:.3f} "
            f"(rounds: {', '.join(f'{r:.3f}' for r in cost['round_ratios'])}; "
            f"CPU ratio {cost['cpu_ratio']:.3f})"
        )
        deliveries = []
        for workers in (1, 2) if args.events else ():
            result = bench_deliveries(app, args.database, args.redis, args.events, workers)
            deliveries.append(result)
            print(
                f"{result['events']} events, {workers} worker(s): {result['received']} received, "
                f"{result['duplicates']} duplicates, {result['seconds']} s, "
                f"{result['per_second']} deliveries/s"
            )
        db.state(app).engine.dispose()
    if args.save:
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"journal-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.md"
        path.write_text(_report(args, cost, deliveries))
        print(f"saved {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
