"""Write throughput of the embedded SQLite default: ``python -m bench.sqlite_writes``.

mrm is served as ``mrm start`` serves it (gunicorn, ``MRM_WORKERS`` x ``MRM_THREADS``, 4 x 2 by
default) on a new SQLite file. ``--clients`` clients, released together, each send ``--writes``
writes on their own keep-alive connection, alternating a member create and a PATCH (without
If-Match) of a member picked at random among those created so far, so that some PATCHes of one
member overlap. Reported: requests per second, latency percentiles and every answer outside 2xx
(a refused write is a lost write). Results go to ``bench/results/<timestamp>-sqlite-writes.json``
and ``.md``; the exit status is 1 when any write was refused.

Needs no PostgreSQL and no wrk: the clients are threads of this process, each waiting on its
socket most of the time.
"""

import argparse
import http.client
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.machine import machine_info
from bench.servers import Server, free_port, start_gunicorn

RESULTS_DIR = Path(__file__).resolve().parent / "results"
STAFF_EMAIL = "writer@example.org"
STAFF_PASSWORD = "bench-writer-password"  # noqa: S105 - a throwaway account on a temp database
CONNECTION_ERROR = 0  # the status recorded when no HTTP answer came back


@dataclass
class WriteLoad:
    """What the clients saw: one (status, seconds) per request, and the wall time of the run."""

    samples: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def statuses(self) -> Counter[int]:
        return Counter(status for status, _ in self.samples)

    @property
    def refused(self) -> int:
        """Answers outside 2xx, connection errors included."""
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)

    def summary(self) -> dict[str, Any]:
        latencies = sorted(seconds * 1000 for _, seconds in self.samples)
        return {
            "requests": len(self.samples),
            "seconds": round(self.seconds, 2),
            "rps": round(len(self.samples) / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p99_ms": round(_percentile(latencies, 0.99), 1) if latencies else None,
            "max_ms": round(latencies[-1], 1) if latencies else None,
            "non_2xx": self.refused,
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
        }


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def prepare_database(database_url: str, instance_dir: Path, secret: str) -> None:
    """Migrate a new database and add the staff account the clients log in with."""
    from api import create_app  # noqa: PLC0415 - the app is only needed to prepare
    from api.config import Settings  # noqa: PLC0415
    from api.extensions import db  # noqa: PLC0415
    from services.migrations import upgrade_database  # noqa: PLC0415
    from services.users import create_user  # noqa: PLC0415

    settings = Settings.from_env(
        {},
        database_url=database_url,
        jwt_secret_key=secret,
        instance_dir=instance_dir,
        log_level="WARNING",
        argon2_time_cost=1,  # the benchmark measures writes, not password hashing
        argon2_memory_kib=8192,
    )
    app = create_app(settings)
    with app.app_context():
        upgrade_database(db.engine)
        create_user(db.session, email=STAFF_EMAIL, password=STAFF_PASSWORD, role="staff")
        db.engine.dispose()


def start_server(
    database_url: str, instance_dir: Path, secret: str, log_dir: Path, port: int | None = None
) -> Server:
    """mrm under gunicorn with the settings of ``mrm start`` unless MRM_* says otherwise."""
    env = {
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": secret,
        "MRM_INSTANCE_DIR": str(instance_dir),
        "MRM_LOG_LEVEL": os.environ.get("MRM_LOG_LEVEL", "WARNING"),
    }
    return start_gunicorn("mrm-sqlite", "wsgi:app", env, log_dir, port=port)


def _request(
    connection: http.client.HTTPConnection, method: str, path: str, token: str | None, body: Any
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection.request(method, path, body=json.dumps(body), headers=headers)
    response = connection.getresponse()
    payload = response.read()
    return response.status, json.loads(payload) if payload else None


def log_in(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        status, body = _request(
            connection,
            "POST",
            "/api/v1/auth/token",
            None,
            {"email": STAFF_EMAIL, "password": STAFF_PASSWORD},
        )
    finally:
        connection.close()
    if status != 200:
        raise RuntimeError(f"login failed: {status} {body}")
    return str(body["access_token"])


def run_write_load(port: int, token: str, *, clients: int, writes: int, seed: int = 1) -> WriteLoad:
    """``clients`` threads released at once, each sending ``writes`` creates and PATCHes."""
    load = WriteLoad()
    created: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        samples: list[tuple[int, float]] = []
        barrier.wait()
        for index in range(writes):
            with lock:
                target = rng.choice(created) if created and index % 2 else None
            if target is None:
                method, path = "POST", "/api/v1/members"
                body: dict[str, Any] = {"name": f"Writer {number}-{index}", "category": "sme"}
            else:
                method, path = "PATCH", f"/api/v1/members/{target}"
                body = {"city": f"Ville {number}-{index}"}
            started = time.perf_counter()
            try:
                status, answer = _request(connection, method, path, token, body)
            except (OSError, http.client.HTTPException):
                status, answer = CONNECTION_ERROR, None
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            samples.append((status, time.perf_counter() - started))
            if status == 201:
                with lock:
                    created.append(answer["id"])
        connection.close()
        with lock:
            load.samples.extend(samples)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    load.seconds = time.perf_counter() - started
    return load


def markdown(report: dict[str, Any]) -> str:
    summary = report["summary"]
    statuses = ", ".join(f"{status}: {n}" for status, n in summary["statuses"].items())
    return "\n".join(
        [
            f"# SQLite writes, {report['started_at']}",
            "",
            f"gunicorn {report['workers']} x {report['threads']} threads, "
            f"{report['clients']} clients x {report['writes']} writes "
            "(member creates and PATCHes without If-Match).",
            "",
            "| requests | seconds | requests/s | p50 ms | p99 ms | max ms | non-2xx | statuses |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            f"| {summary['requests']} | {summary['seconds']} | {summary['rps']} "
            f"| {summary['p50_ms']} | {summary['p99_ms']} | {summary['max_ms']} "
            f"| {summary['non_2xx']} | {statuses} |",
            "",
            f"Label: {report['label'] or '-'}. Load average before: {report['loadavg']}.",
            "",
        ]
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Concurrent writes on mrm's SQLite default.")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--writes", type=int, default=40, help="writes per client")
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--label", default="", help="a note stored with the results")
    parser.add_argument("--no-save", action="store_true", help="print only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from api import gunicorn_config  # noqa: PLC0415 - reads MRM_* from the environment

    started_at = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    with tempfile.TemporaryDirectory(prefix="mrm-sqlite-writes-") as tmp:
        directory = Path(tmp)
        database_url = f"sqlite:///{directory / 'mrm.sqlite3'}"
        secret = secrets.token_urlsafe(48)
        prepare_database(database_url, directory, secret)
        server = start_server(database_url, directory, secret, directory, args.port or free_port())
        try:
            token = log_in(server.port)
            load = run_write_load(server.port, token, clients=args.clients, writes=args.writes)
        finally:
            server.stop()
        log_tail = (directory / "mrm-sqlite.log").read_text(errors="replace")[-2000:]
    report = {
        "started_at": started_at,
        "label": args.label,
        "workers": gunicorn_config.workers,
        "threads": gunicorn_config.threads,
        "clients": args.clients,
        "writes": args.writes,
        "loadavg": loadavg,
        "summary": load.summary(),
        "machine": machine_info(),
    }
    text = markdown(report)
    print(text)
    if load.refused:
        print("Server log (tail):\n" + log_tail, file=sys.stderr)
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        stem = RESULTS_DIR / f"{started_at}-sqlite-writes"
        stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
        stem.with_suffix(".md").write_text(text)
        print(f"Saved {stem}.json and .md")
    return 1 if load.refused else 0


if __name__ == "__main__":
    sys.exit(main())
