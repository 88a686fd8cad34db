"""What the partner features cost a request, measured A/B in one process.

``python -m bench.partner_overhead`` builds the app on a temporary SQLite file and sends the
same requests through Flask's test client with the rate limiter counting (in the process) and
with it turned off, alternately, several rounds: the CPU time of the request's thread for a
GET of a member and for a create, and for a create sent with an ``Idempotency-Key`` (two more
writes: the claim and the kept answer). Results go to ``bench/results/partner-overhead-*.md``.
"""

import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.run import RESULTS_DIR
from bench.servers import UNLIMITED_RATES

ROUNDS = 3
REQUESTS = 300


def _median_cpu_us(send: Callable[[], Any], times: int) -> float:
    spent = []
    for _ in range(times):
        started = time.thread_time_ns()
        response = send()
        spent.append((time.thread_time_ns() - started) / 1000)
        if response.status_code >= 300:
            raise RuntimeError(f"{response.status_code}: {response.get_data(as_text=True)}")
    return statistics.median(spent)


def main() -> int:
    os.environ.update(UNLIMITED_RATES)
    from api import create_app  # noqa: PLC0415 - after the environment is set
    from api.config import Settings  # noqa: PLC0415
    from api.extensions import db  # noqa: PLC0415
    from services.migrations import upgrade_database  # noqa: PLC0415
    from tests.factories import bearer, log_in, make_user  # noqa: PLC0415

    folder = Path(tempfile.mkdtemp(prefix="mrm-partner-"))
    settings = Settings.from_env(
        env="production",
        database_url=f"sqlite:///{folder / 'bench.sqlite3'}",
        jwt_secret_key="p" * 48,
        log_level="WARNING",
        instance_dir=folder,
    )
    app = create_app(settings)
    upgrade_database(db.state(app).engine)
    with app.app_context():
        user = make_user(db.session, role="staff")
        db.session.commit()
        email = user.email
    client = app.test_client()
    headers = bearer(log_in(client, email)["access_token"])
    numbers = itertools.count()

    def create(**extra: str) -> Any:
        body = {"name": f"Member {next(numbers)}", "category": "sme"}
        return client.post("/api/v1/members", json=body, headers={**headers, **extra})

    member_id = create().get_json()["id"]
    limiter = app.extensions["mrm-limiter"]
    cases: dict[str, tuple[bool, Callable[[], Any]]] = {
        "get member, limiter on": (
            True,
            lambda: client.get(f"/api/v1/members/{member_id}", headers=headers),
        ),
        "get member, limiter off": (
            False,
            lambda: client.get(f"/api/v1/members/{member_id}", headers=headers),
        ),
        "create, limiter on": (True, create),
        "create, limiter off": (False, create),
        "create with Idempotency-Key": (
            True,
            lambda: create(**{"Idempotency-Key": f"k{next(numbers)}"}),
        ),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, (enabled, send) in cases.items():
            limiter.enabled = enabled
            results[name].append(_median_cpu_us(send, REQUESTS))
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    lines = [
        f"# Partner features: CPU time per request ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`python -m bench.partner_overhead`, SQLite, {ROUNDS} rounds of {REQUESTS} requests, "
        f"load average {load}.",
        "",
        "| case | CPU µs (median of rounds) | rounds |",
        "| --- | ---: | --- |",
    ]
    for name, values in results.items():
        rounds = ", ".join(str(round(v)) for v in values)
        lines.append(f"| {name} | {round(statistics.median(values))} | {rounds} |")
    report = "\n".join(lines) + "\n"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS_DIR / f"partner-overhead-{stamp}.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
