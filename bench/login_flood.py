"""A flood of bad logins against the rest of the API: ``python -m bench.login_flood``.

Starts mrm under gunicorn on PostgreSQL (database ``mrm_bench_flood``, filled by
bench/generate.py), then for each setting of ``MRM_PASSWORD_HASH_CONCURRENCY`` in turn
(``0`` = no bound, the behaviour before the bound existed, and ``1``, the default), rounds
interleaved (A B A B):

1. measures ``GET /members/{id}`` at a fixed rate with the open-loop client (bench/loadgen.py),
   quiet;
2. measures it again while a second client sends wrong passwords for unknown e-mails at
   ``--flood-rate`` per second, each on a new connection from a rotating loopback address
   (127.0.0.2 to 127.0.0.254: the per-address lock never trips, every attempt costs a check).

Writes ``bench/results/login-flood-<timestamp>.json`` and ``.md`` and prints the table.
"""

import argparse
import asyncio
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import generate
from bench.loadgen import OpenLoopResult, open_loop
from bench.machine import machine_info
from bench.run import RESULTS_DIR, ensure_database, fetch_token, load_bench_data
from bench.servers import Server, start_gunicorn

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/mrm_bench_flood"
LOOPBACK_HOSTS = [f"127.0.0.{n}" for n in range(2, 255)]


class Flood:
    """Bad logins at a fixed rate from rotating loopback addresses, in a thread of its own."""

    def __init__(self, port: int, rate: float) -> None:
        self.port = port
        self.rate = rate
        self.statuses: Counter[int | str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> "Flood":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    async def _one(self, index: int) -> None:
        host = LOOPBACK_HOSTS[index % len(LOOPBACK_HOSTS)]
        body = json.dumps(
            {"email": f"nobody-{secrets.token_hex(6)}@example.org", "password": "wrong password"}
        ).encode()
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", self.port, local_addr=(host, 0)
            )
            writer.write(
                f"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                "Content-Type: application/json\r\nConnection: close\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            status_line = await asyncio.wait_for(reader.readline(), timeout=30)
            self.statuses[int(status_line.split()[1])] += 1
            writer.close()
        except (OSError, TimeoutError, ValueError, IndexError):
            self.statuses["error"] += 1

    async def _run(self) -> None:
        tasks = []
        start = time.perf_counter()
        sent = 0
        while not self._stop.is_set():
            delay = start + sent / self.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self._one(sent)))
            sent += 1
        await asyncio.gather(*tasks)


def _measure(
    server: Server, paths: list[str], args: argparse.Namespace, *, flood: bool
) -> dict[str, Any]:
    token = fetch_token(server.base_url)
    if not flood:
        result = open_loop(
            server.base_url, paths=paths, token=token, rate=args.rate, duration=args.duration
        )
        return {"get": result.as_dict(), "logins": {}}
    with Flood(server.port, args.flood_rate) as logins:
        time.sleep(1)  # let the flood reach its pace before measuring
        result = open_loop(
            server.base_url, paths=paths, token=token, rate=args.rate, duration=args.duration
        )
    return {"get": result.as_dict(), "logins": {str(k): v for k, v in logins.statuses.items()}}


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(run["get"][key] for run in runs), 1)


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Login flood, {report['started_at']}: GET member by id at {report['rate']} req/s "
        f"(open loop, {report['duration']} s x {report['rounds']} rounds), bad logins at "
        f"{report['flood_rate']}/s from rotating loopback addresses; "
        f"{report['workers']} workers x {report['threads']} threads, medians of the rounds.",
        "",
        "| password checks per process | flood | GET p50 ms | GET p99 ms | login answers |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for bound, phases in report["results"].items():
        label = "unbounded (before)" if bound == "0" else f"{bound} (after)"
        for phase in ("quiet", "flood"):
            runs = phases[phase]
            answers: Counter[str] = Counter()
            for run in runs:
                answers.update(run["logins"])
            shown = ", ".join(f"{n} x {status}" for status, n in sorted(answers.items())) or "-"
            lines.append(
                f"| {label} | {phase} | {_median(runs, 'p50_ms')} | {_median(runs, 'p99_ms')} "
                f"| {shown} |"
            )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=float, default=20, help="GET member requests per second")
    parser.add_argument("--flood-rate", type=float, default=4, help="bad logins per second")
    parser.add_argument("--bounds", default="0,1", help="MRM_PASSWORD_HASH_CONCURRENCY values")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--skip-generate", action="store_true")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_FLOOD_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_database(args.database_url)
    if not args.skip_generate:
        generate.load(args.database_url, members=args.members, contacts=args.members * 4)
    data, pg_version = load_bench_data(args.database_url)
    random.Random(1).shuffle(data.member_ids)
    paths = [f"/api/v1/members/{member_id}" for member_id in data.member_ids]

    from api import gunicorn_config  # noqa: PLC0415 - reads MRM_* from the environment

    base_env = {
        "DATABASE_URL": args.database_url,
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "MRM_ENV": "production",
        "MRM_LOG_LEVEL": os.environ.get("MRM_LOG_LEVEL", "WARNING"),
    }
    work_dir = Path(tempfile.mkdtemp(prefix="mrm-flood-"))
    bounds = args.bounds.split(",")
    results: dict[str, dict[str, list[dict[str, Any]]]] = {
        bound: {"quiet": [], "flood": []} for bound in bounds
    }
    started_at = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for round_number in range(args.rounds):
        for bound in bounds:
            env = {**base_env, "MRM_PASSWORD_HASH_CONCURRENCY": bound}
            server = start_gunicorn(f"mrm-bound{bound}-r{round_number}", "wsgi:app", env, work_dir)
            try:
                # warm-up: every worker imports, connects and hashes once
                _measure(server, paths, argparse.Namespace(**{**vars(args), "duration": 3}),
                         flood=False)  # fmt: skip
                for phase in ("quiet", "flood"):
                    run = _measure(server, paths, args, flood=phase == "flood")
                    results[bound][phase].append(run)
                    get = OpenLoopResult(**run["get"])
                    print(
                        f"round {round_number + 1} bound {bound} {phase}: "
                        f"p50 {get.p50_ms:.1f} ms, p99 {get.p99_ms:.1f} ms, "
                        f"logins {run['logins']}",
                        flush=True,
                    )
            finally:
                server.stop()
    report = {
        "started_at": started_at,
        "rate": args.rate,
        "flood_rate": args.flood_rate,
        "duration": args.duration,
        "rounds": args.rounds,
        "workers": gunicorn_config.workers,
        "threads": gunicorn_config.threads,
        "machine": machine_info(pg_version),
        "results": results,
    }
    table = markdown(report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = RESULTS_DIR / f"login-flood-{started_at}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
