"""In-process profile: microseconds per request for each scenario, and where the time goes.

``python -m bench.profile --scale 0.2 --iterations 500`` builds the app in this process (no
gunicorn, no network), loads data, then sends each scenario's requests through Flask's test
client and reports the median time per request, in wall time and in this process's CPU time.
Being one process with no client on the same cores, it is steadier than the load runs and suited
to comparing two commits; on a machine shared with other work the CPU time (the Python side of
a request: what mrm's code can change) stays steady when the wall time does not. The slowest
scenario is then profiled with pyinstrument; the HTML and text reports go to bench/results/.

The database is a SQLite file in a temporary folder unless ``--database-url`` names another one
(PostgreSQL: ``postgresql+psycopg://postgres@127.0.0.1:5432/mrm_bench_profile``).
"""

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from stdnum import luhn

from bench import generate
from bench.run import RESULTS_DIR, SCENARIOS, BenchData, Scenario

# Created members get SIRENs from 60000000 upwards (generated data stays below 50000000).
_CREATE_SIRENS = count(60_000_000)


@dataclass(frozen=True)
class ScenarioTiming:
    name: str
    iterations: int
    median_us: float
    mean_us: float
    p90_us: float
    cpu_median_us: float

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 1) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def _requests(
    scenario: Scenario, data: BenchData, headers: dict[str, str]
) -> Iterator[Callable[[FlaskClient], Any]]:
    """An endless supply of calls for ``scenario``, each expecting a 2xx answer."""
    lines = scenario.lines(data)
    if scenario.mode == "get":
        for index in count():
            path = lines[index % len(lines)]
            yield lambda client, path=path: client.get(path, headers=headers)
    elif scenario.mode == "create":
        path, template = lines[0], lines[1]
        while True:
            payload = f"{next(_CREATE_SIRENS):08d}"
            body = json.loads(
                template.replace("__SIREN__", payload + luhn.calc_check_digit(payload))
            )
            yield lambda client, body=body: client.post(path, json=body, headers=headers)
    else:
        credentials = {"email": lines[0], "password": lines[1]}
        while True:
            yield lambda client: client.post("/api/v1/auth/token", json=credentials)


def _check(response: Any, scenario: Scenario) -> None:
    if not 200 <= response.status_code < 300:
        raise RuntimeError(
            f"{scenario.name}: {response.status_code} {response.get_data(as_text=True)[:500]}"
        )


def time_scenario(
    client: FlaskClient,
    scenario: Scenario,
    data: BenchData,
    headers: dict[str, str],
    *,
    iterations: int,
    warmup: int = 5,
) -> ScenarioTiming:
    """Median wall time of one request of ``scenario``, over ``iterations`` requests."""
    calls = _requests(scenario, data, headers)
    for _ in range(warmup):
        _check(next(calls)(client), scenario)
    samples = []
    cpu_samples = []
    for _ in range(iterations):
        call = next(calls)
        started, cpu_started = time.perf_counter_ns(), time.thread_time_ns()
        response = call(client)
        cpu_samples.append((time.thread_time_ns() - cpu_started) / 1000)
        samples.append((time.perf_counter_ns() - started) / 1000)
        _check(response, scenario)
    ordered = sorted(samples)
    return ScenarioTiming(
        name=scenario.name,
        iterations=iterations,
        median_us=statistics.median(samples),
        mean_us=statistics.fmean(samples),
        p90_us=ordered[max(0, round(0.9 * len(ordered)) - 1)],
        cpu_median_us=statistics.median(cpu_samples),
    )


def profile_scenario(
    client: FlaskClient,
    scenario: Scenario,
    data: BenchData,
    headers: dict[str, str],
    *,
    iterations: int,
    output_stem: Path,
) -> list[Path]:
    """pyinstrument over ``iterations`` requests; writes ``<stem>.html`` and ``<stem>.txt``."""
    from pyinstrument import Profiler  # noqa: PLC0415 - optional (bench extra)

    calls = _requests(scenario, data, headers)
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(iterations):
        _check(next(calls)(client), scenario)
    profiler.stop()
    output_stem.parent.mkdir(parents=True, exist_ok=True)
    html = output_stem.with_suffix(".html")
    txt = output_stem.with_suffix(".txt")
    html.write_text(profiler.output_html())
    txt.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    return [html, txt]


def bench_data_from(session: Any) -> BenchData:
    """Member ids and contact search terms from the loaded data."""
    from sqlalchemy import func, select  # noqa: PLC0415

    from models.contacts import Contact  # noqa: PLC0415
    from models.members import Member  # noqa: PLC0415
    from models.projects import Project  # noqa: PLC0415

    ids = [
        str(member_id)
        for member_id in session.scalars(
            select(Member.id).where(Member.archived_at.is_(None)).order_by(Member.id).limit(5000)
        )
    ]
    names = list(
        session.scalars(
            select(Contact.last_name)
            .group_by(Contact.last_name)
            .order_by(func.count().desc(), Contact.last_name)
            .limit(20)
        )
    )
    sirens = list(
        session.scalars(
            select(Member.siren)
            .where(Member.siren.is_not(None), Member.archived_at.is_(None))
            .order_by(Member.id)
            .limit(3)
        )
    )
    project_ids = [str(project_id) for project_id in session.scalars(select(Project.id))]
    return BenchData(
        member_ids=ids,
        contact_terms=names or ["martin"],
        rare_member_terms=sirens,
        project_ids=project_ids,
    )


def log_in_headers(client: FlaskClient) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/token",
        json={"email": generate.BENCH_USERS["admin"], "password": generate.BENCH_PASSWORD},
    )
    _check(response, SCENARIOS[-1])
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def run_profile(
    app: Flask,
    client: FlaskClient,
    session: Any,
    *,
    iterations: int,
    scenarios: list[Scenario],
    profile_iterations: int,
    output_stem: Path | None,
) -> dict[str, Any]:
    """Time every scenario, then profile the slowest one (token issue excluded: it is argon2)."""
    data = bench_data_from(session)
    headers = log_in_headers(client)
    timings = {
        scenario.name: time_scenario(client, scenario, data, headers, iterations=iterations)
        for scenario in scenarios
    }
    result: dict[str, Any] = {"timings": {k: v.as_dict() for k, v in timings.items()}}
    candidates = [s for s in scenarios if s.mode != "token"]
    if output_stem is not None and candidates and profile_iterations > 0:
        slowest = max(candidates, key=lambda s: timings[s.name].median_us)
        files = profile_scenario(
            client, slowest, data, headers, iterations=profile_iterations, output_stem=output_stem
        )
        result["profiled"] = {"scenario": slowest.name, "files": [f.name for f in files]}
    del app
    return result


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy.orm import Session  # noqa: PLC0415

    from api import create_app  # noqa: PLC0415
    from api.config import Settings  # noqa: PLC0415
    from api.extensions import db  # noqa: PLC0415

    parser = argparse.ArgumentParser(description="In-process profile of mrm's scenarios.")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--profile-iterations", type=int, default=300)
    parser.add_argument("--scenarios", default=",".join(s.name for s in SCENARIOS))
    parser.add_argument("--skip-generate", action="store_true")
    args = parser.parse_args(argv)

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='mrm-profile-')}/bench.sqlite3"
    members = round(generate.MEMBERS_PER_SCALE * args.scale)
    contacts = round(generate.CONTACTS_PER_SCALE * args.scale)
    if not args.skip_generate:
        report = generate.load(url, members=members, contacts=contacts)
        print(
            f"Loaded {report.members} members, {report.contacts} contacts in {report.seconds:.1f} s"
        )
    settings = Settings.from_env(
        env="production", database_url=url, jwt_secret_key="p" * 48, log_level="INFO"
    )
    app = create_app(settings)
    for handler in logging.getLogger("mrm").handlers:  # format the access log, don't print it
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    wanted = [s for s in SCENARIOS if s.name in args.scenarios.split(",")]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with app.app_context(), Session(db.state(app).engine) as session:
        result = run_profile(
            app,
            app.test_client(),
            session,
            iterations=args.iterations,
            scenarios=wanted,
            profile_iterations=args.profile_iterations,
            output_stem=RESULTS_DIR / f"profile-{stamp}",
        )
    result["database"] = url.split(":")[0]
    result["scale"] = args.scale
    (RESULTS_DIR / f"profile-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'scenario':24} {'median µs':>10} {'mean µs':>10} {'p90 µs':>10} {'CPU µs':>10}")
    for name, timing in result["timings"].items():
        numbers = (timing["median_us"], timing["mean_us"], timing["p90_us"])
        numbers += (timing["cpu_median_us"],)
        print(f"{name:24} " + " ".join(f"{n:10.0f}" for n in numbers))
    if "profiled" in result:
        print(
            f"Profile of {result['profiled']['scenario']}: {', '.join(result['profiled']['files'])}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
