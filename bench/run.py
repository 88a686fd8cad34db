"""The benchmark: ``python -m bench.run --scale 1 --duration 10 --rounds 3``.

1. Creates the PostgreSQL database ``mrm_bench`` if needed and fills it (bench/generate.py).
2. Starts mrm (``gunicorn wsgi:app``) and the ceiling (``gunicorn bench.ceiling:app``) with the
   same gunicorn settings (api/gunicorn_config.py, MRM_WORKERS / MRM_WORKER_CLASS / MRM_THREADS),
   each on a free port of 127.0.0.1.
3. Warms both up, then for every scenario runs wrk against mrm and the ceiling in turn
   (A B A B ...) for ``--rounds`` rounds, with a fresh token before each run. Any response outside
   2xx, or any socket error, fails the run.
4. Measures latency at 80% of mrm's peak with a fixed-rate open-loop client (bench/loadgen.py),
   samples the workers' resident memory, and with ``--soak N`` keeps mrm busy for N seconds to
   see whether memory grows.
5. Writes ``bench/results/<timestamp>.json`` and ``.md`` and prints the Markdown table.
"""

import argparse
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench import generate
from bench.events import OPEN_EVENT_EXTERNAL_ID, REGISTERED_NAME_PREFIX
from bench.loadgen import WrkResult, open_loop, require_wrk, run_wrk
from bench.machine import machine_info, workers_rss_kib
from bench.servers import Server, start_gunicorn

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/mrm_bench"

# Search terms as users type them: some with accents, some without, some partial.
MEMBER_TERMS = ("sante", "Santé", "cardio", "biotech", "imagerie", "genom", "hôpital", "neuro",
                "institut", "onco", "pharma", "vaccins", "creteil", "orsay")  # fmt: skip
CONTACT_TERMS_EXTRA = ("helene", "Hélène", "françois", "martin", "dupont", "lefebvre")


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    mode: str  # "get", "create" or "token" (see scenario.lua)
    lines: Callable[["BenchData"], list[str]]
    on_ceiling: bool = True
    connections: int | None = None  # None: --connections


# Scenarios whose ceiling answer is compared with mrm's before measuring.
PARITY_CHECKED = frozenset(
    {
        "get_member",
        "list_members_filter",
        "list_members_q",
        "list_contacts_q",
        "list_event_registrations",
        "list_projects_filter",
        "get_project",
    }
)


@dataclass
class BenchData:
    member_ids: list[str]
    contact_terms: list[str]
    # Rare terms (a SIREN matches one member): without an index that fits the search, finding
    # them scans the whole table, so they show whether search latency grows with the data.
    rare_member_terms: list[str] = field(default_factory=list)
    # Generated events with registrations, and the open event guests register for.
    event_ids: list[str] = field(default_factory=list)
    open_event_id: str = ""
    membership_ids: list[str] = field(default_factory=list)
    project_ids: list[str] = field(default_factory=list)


def _member_paths(data: BenchData) -> list[str]:
    return [f"/api/v1/members/{member_id}" for member_id in data.member_ids]


def _list_filter_paths(_data: BenchData) -> list[str]:
    paths = [f"/api/v1/members?limit=50&departement={d}" for d in ("75", "92", "91", "94")]
    paths += [f"/api/v1/members?limit=50&category={c}" for c in ("sme", "startup")]
    return paths


def _list_q_paths(data: BenchData) -> list[str]:
    terms = [*MEMBER_TERMS, *data.rare_member_terms]
    return [f"/api/v1/members?limit=50&q={quote(term)}" for term in terms]


def _contacts_q_paths(data: BenchData) -> list[str]:
    return [f"/api/v1/contacts?limit=50&q={quote(term)}" for term in data.contact_terms]


INTERACTION_TERMS = ("reunion", "marquage ce", "bpifrance", "relance adhesion", "cardio")


def _member_timeline_paths(data: BenchData) -> list[str]:
    return [f"/api/v1/members/{member_id}/timeline" for member_id in data.member_ids]


def _interactions_q_paths(_data: BenchData) -> list[str]:
    return [f"/api/v1/interactions?limit=50&q={quote(term)}" for term in INTERACTION_TERMS]


# Mid-years and year ends of the generated years (2024-2026): who was a member on that day.
AS_OF_DAYS = ("2024-06-30", "2024-12-31", "2025-06-30", "2025-12-31", "2026-06-30")


def _members_active_paths(_data: BenchData) -> list[str]:
    return [f"/api/v1/members?limit=50&membership_status=active&as_of={day}" for day in AS_OF_DAYS]


def _membership_paths(data: BenchData) -> list[str]:
    return [f"/api/v1/memberships/{membership_id}" for membership_id in data.membership_ids]


def _project_list_paths(_data: BenchData) -> list[str]:
    paths = [f"/api/v1/projects?limit=50&state={state}" for state in ("running", "closed")]
    paths += [f"/api/v1/projects?limit=50&programme={p}" for p in ("pspc_regions", "anr")]
    paths += [f"/api/v1/projects?limit=50&domain={d}" for d in ("imaging", "digital_health")]
    return paths


def _project_paths(data: BenchData) -> list[str]:
    return [f"/api/v1/projects/{project_id}" for project_id in data.project_ids]


def _create_lines(_data: BenchData) -> list[str]:
    body = {
        "name": CREATED_NAME_PREFIX + "__SIREN__",
        "category": "sme",
        "siren": "__SIREN__",
        "postal_code": "75011",
        "city": "Paris",
    }
    return ["/api/v1/members", json.dumps(body, ensure_ascii=False)]


def _event_registrations_paths(data: BenchData) -> list[str]:
    return [f"/api/v1/events/{event_id}/registrations?limit=50" for event_id in data.event_ids]


def _register_lines(data: BenchData) -> list[str]:
    """A guest attendee of the open event; each request a new one (the unique SIREN of the
    create mode makes the name and e-mail unique)."""
    body = {
        "guest_name": REGISTERED_NAME_PREFIX + "__SIREN__",
        "guest_email": "bench-reg-__SIREN__@example.org",
        "guest_organisation": "Bench Biotech",
    }
    return [f"/api/v1/events/{data.open_event_id}/registrations", json.dumps(body)]


def _token_lines(_data: BenchData) -> list[str]:
    return [generate.BENCH_USERS["admin"], generate.BENCH_PASSWORD]


SCENARIOS = (
    Scenario("get_member", "get member by id", "get", _member_paths),
    Scenario("list_members_filter", "list 50 members, filter", "get", _list_filter_paths),
    Scenario("list_members_q", "list 50 members, q search", "get", _list_q_paths),
    Scenario("list_contacts_q", "list 50 contacts, q search", "get", _contacts_q_paths),
    Scenario("member_timeline", "member timeline, first page", "get", _member_timeline_paths),
    Scenario("list_interactions_q", "list interactions with q", "get", _interactions_q_paths),
    Scenario(
        "members_active_as_of", "list members active as of a date", "get", _members_active_paths
    ),
    Scenario("get_membership", "get a membership", "get", _membership_paths),
    Scenario("list_projects_filter", "list 50 projects, filter", "get", _project_list_paths),
    Scenario("get_project", "get project with its partners", "get", _project_paths),
    Scenario("create_member", "create member", "create", _create_lines),
    Scenario(
        "list_event_registrations",
        "list 50 registrations of an event",
        "get",
        _event_registrations_paths,
    ),
    Scenario("register", "register a guest for an event", "create", _register_lines),
    # argon2 at 64 MiB per login: few connections, or the box swaps rather than measures.
    Scenario(
        "token", "token issue (login)", "token", _token_lines, on_ceiling=False, connections=4
    ),
)


def ensure_database(url: str) -> None:
    """Create the benchmark database when it does not exist (PostgreSQL only)."""
    from sqlalchemy import create_engine, text  # noqa: PLC0415
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


CREATED_NAME_PREFIX = "Bench Créa "


def remove_created_members(url: str) -> int:
    """Delete the members the create scenario added, so every run starts from the same data."""
    from sqlalchemy import create_engine, text  # noqa: PLC0415

    engine = create_engine(url)
    with engine.begin() as connection:
        removed = connection.execute(
            text("DELETE FROM members WHERE external_id IS NULL AND name LIKE :prefix"),
            {"prefix": CREATED_NAME_PREFIX + "%"},
        ).rowcount
    if removed:  # dead rows would slow the index scans of the next run
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE members"))
    engine.dispose()
    return removed


def remove_created_registrations(url: str) -> int:
    """Delete the registrations the register scenario added, so every run starts the same."""
    from sqlalchemy import create_engine, text  # noqa: PLC0415

    engine = create_engine(url)
    with engine.begin() as connection:
        removed = connection.execute(
            text("DELETE FROM registrations WHERE contact_id IS NULL AND guest_name LIKE :prefix"),
            {"prefix": REGISTERED_NAME_PREFIX + "%"},
        ).rowcount
    if removed:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE registrations"))
    engine.dispose()
    return removed


def load_bench_data(url: str) -> tuple[BenchData, str]:
    """Member ids and contact search terms from the database, and the server's version."""
    from sqlalchemy import create_engine, text  # noqa: PLC0415

    engine = create_engine(url)
    with engine.connect() as connection:
        ids = [
            str(row[0])
            for row in connection.execute(
                text("SELECT id FROM members WHERE archived_at IS NULL ORDER BY id LIMIT 20000")
            )
        ]
        names = [
            row[0]
            for row in connection.execute(
                text(
                    "SELECT last_name FROM contacts GROUP BY last_name ORDER BY count(*) DESC "
                    "LIMIT 20"
                )
            )
        ]
        sirens = [
            row[0]
            for row in connection.execute(
                text("SELECT siren FROM members WHERE siren IS NOT NULL AND archived_at IS NULL "
                     "ORDER BY id LIMIT 3")
            )
        ]  # fmt: skip
        event_ids = [
            str(row[0])
            for row in connection.execute(
                text("SELECT event_id FROM registrations GROUP BY event_id ORDER BY event_id")
            )
        ]
        open_event = connection.scalar(
            text("SELECT id FROM events WHERE external_id = :external_id"),
            {"external_id": OPEN_EVENT_EXTERNAL_ID},
        )
        membership_ids = [
            str(row[0])
            for row in connection.execute(
                text("SELECT id FROM memberships ORDER BY id LIMIT 20000")
            )
        ]
        project_ids = [
            str(row[0]) for row in connection.execute(text("SELECT id FROM projects ORDER BY id"))
        ]
        version = connection.scalar(text("SHOW server_version"))
    engine.dispose()
    data = BenchData(
        member_ids=ids,
        contact_terms=names + list(CONTACT_TERMS_EXTRA),
        rare_member_terms=sirens,
        event_ids=event_ids,
        open_event_id=str(open_event or ""),
        membership_ids=membership_ids,
        project_ids=project_ids,
    )
    return data, version


def fetch_token(base_url: str) -> str:
    """A fresh access token for the bench admin (one login)."""
    body = json.dumps(
        {"email": generate.BENCH_USERS["admin"], "password": generate.BENCH_PASSWORD}
    ).encode()
    request = urllib.request.Request(
        base_url + "/api/v1/auth/token",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    # A worker checks one password at a time and answers 503 with Retry-After to the others
    # (the "token" scenario may just have left every worker busy): wait as it says.
    for _ in range(30):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())["access_token"]
        except urllib.error.HTTPError as error:
            if error.code != 503:
                raise
            time.sleep(float(error.headers.get("Retry-After") or 1))
    raise RuntimeError("no token: the server stayed busy for 30 attempts")


def _get_json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def check_parity(mrm: Server, ceiling: Server, data: BenchData, token: str) -> list[str]:
    """The ceiling must answer what mrm answers: same JSON for the same GETs."""
    paths = [_member_paths(data)[0], *_list_filter_paths(data)[:2], *_list_q_paths(data)[:2]]
    if "list_contacts_q" in PARITY_CHECKED:
        paths += _contacts_q_paths(data)[:2]
    if "list_event_registrations" in PARITY_CHECKED and data.event_ids:
        paths += _event_registrations_paths(data)[:2]
    paths += [*_member_timeline_paths(data)[:2], *_interactions_q_paths(data)[:2]]
    paths += [*_members_active_paths(data)[:2], *_membership_paths(data)[:2]]
    if data.project_ids:
        paths += [*_project_list_paths(data), *_project_paths(data)[:3]]
    differences = []
    for path in paths:
        ours, bare = (
            _get_json(mrm.base_url + path, token),
            _get_json(ceiling.base_url + path, token),
        )
        if ours != bare:
            differences.append(path)
    return differences


def _summary(results: list[WrkResult]) -> dict[str, Any]:
    rps = [r.rps for r in results]
    return {
        "rps_median": round(statistics.median(rps), 1),
        "rps_min": round(min(rps), 1),
        "rps_max": round(max(rps), 1),
        "p50_ms": round(statistics.median(r.p50_ms for r in results), 2),
        "p90_ms": round(statistics.median(r.p90_ms for r in results), 2),
        "p99_ms": round(statistics.median(r.p99_ms for r in results), 2),
        "failed": sum(r.failed for r in results),
        "rounds": [r.as_dict() for r in results],
    }


def markdown_table(report: dict[str, Any]) -> str:
    lines = [
        "| scenario | mrm rps (median, range) | mrm p50 / p90 / p99 ms"
        " | ceiling rps (median, range) | ceiling p50 / p90 / p99 ms | mrm / ceiling |",
        "|---|---|---|---|---|---|",
    ]
    for name, entry in report["scenarios"].items():
        mrm = entry["mrm"]
        row = [
            entry["title"],
            f"{mrm['rps_median']:.0f} ({mrm['rps_min']:.0f}–{mrm['rps_max']:.0f})",
            f"{mrm['p50_ms']:.1f} / {mrm['p90_ms']:.1f} / {mrm['p99_ms']:.1f}",
        ]
        ceiling = entry.get("ceiling")
        if ceiling:
            row += [
                f"{ceiling['rps_median']:.0f} ({ceiling['rps_min']:.0f}–{ceiling['rps_max']:.0f})",
                f"{ceiling['p50_ms']:.1f} / {ceiling['p90_ms']:.1f} / {ceiling['p99_ms']:.1f}",
                f"{entry['ratio']:.2f}",
            ]
        else:
            row += ["n/a (no equivalent)", "n/a", "n/a"]
        lines.append("| " + " | ".join(row) + " |")
        del name
    text = "\n".join(lines)
    if report.get("latency_at_80pct"):
        text += "\n\nLatency at 80% of mrm's peak (open loop, fixed rate):\n\n"
        text += (
            "| scenario | server | target rps | achieved rps | p50 ms | p90 ms | p99 ms "
            "| p99 / p50 |\n|---|---|---|---|---|---|---|---|\n"
        )
        for name, entry in report["latency_at_80pct"].items():
            servers = [("mrm", entry)]
            if entry.get("ceiling"):
                servers.append(("ceiling, same rate", entry["ceiling"]))
            for server, measured in servers:
                text += (
                    f"| {name} | {server} | {measured['target_rps']:.0f} | "
                    f"{measured['achieved_rps']:.0f} | {measured['p50_ms']:.1f} | "
                    f"{measured['p90_ms']:.1f} | {measured['p99_ms']:.1f} | "
                    f"{measured['p99_over_p50']:.2f} |\n"
                )
    if report.get("memory"):
        memory = report["memory"]
        text += (
            f"\nmrm workers' RSS: {memory['start_kib_total'] / 1024:.1f} MiB at start, "
            f"{memory['end_kib_total'] / 1024:.1f} MiB at end "
            f"({memory['growth_kib_total'] / 1024:+.1f} MiB"
            + (f" over a {memory['soak_seconds']} s soak" if memory.get("soak_seconds") else "")
            + ")\n"
        )
    machine = report["machine"]
    settings = report["settings"]
    text += (
        f"\n{machine['cores']} cores ({machine['cpu_model']}), Python {machine['python']}, "
        f"PostgreSQL {machine['postgresql']}, gunicorn {machine['packages']['gunicorn']}; "
        f"workers={settings['workers']} worker_class={settings['worker_class']} "
        f"threads={settings['threads']}; wrk -t{settings['wrk_threads']} "
        f"-c{settings['connections']} -d{settings['duration']}s x {settings['rounds']} rounds "
        f"(client and servers share the cores); scale {settings['scale']} "
        f"({settings['members']} members). Load average {report['loadavg']['start']} at start, "
        f"{report['loadavg']['end']} at end (other processes on the machine skew the numbers).\n"
    )
    return text


def _measure(
    server: Server, scenario: Scenario, data_file: Path, run_id: int, args: argparse.Namespace
) -> WrkResult:
    for each in (server, *args.servers):
        if each.process.poll() is not None:
            raise RuntimeError(
                f"{each.name} exited with {each.process.returncode} (killed from outside?); "
                f"see {each.log_path}"
            )
    token = fetch_token(args.mrm_url_for_tokens)
    return run_wrk(
        server.base_url,
        mode=scenario.mode,
        token=token,
        data_file=data_file,
        run_id=run_id,
        duration=args.duration,
        threads=args.threads,
        connections=scenario.connections or args.connections,
    )


def _loadavg() -> str:
    """Other work on the machine skews the numbers; the report says how busy it was."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _memory(server: Server) -> dict[str, int]:
    sizes = workers_rss_kib(server.pid)
    return {str(pid): size for pid, size in sizes.items()}


def soak(server: Server, data_files: dict[str, Path], seconds: int, args: argparse.Namespace,
         run_ids: "RunIds") -> list[dict[str, Any]]:  # fmt: skip
    """Keep mrm busy for ``seconds`` with the read scenarios in turn; sample RSS between runs."""
    samples = [{"t": 0.0, "rss_kib": _memory(server)}]
    started = time.monotonic()
    names = ["get_member", "list_members_filter", "list_members_q", "list_contacts_q",
             "create_member"]  # fmt: skip
    index = 0
    while time.monotonic() - started < seconds:
        scenario = next(s for s in SCENARIOS if s.name == names[index % len(names)])
        index += 1
        chunk = min(30.0, seconds - (time.monotonic() - started))
        if chunk < 1:
            break
        result = run_wrk(
            server.base_url, mode=scenario.mode, token=fetch_token(server.base_url),
            data_file=data_files[scenario.name], run_id=run_ids.next(), duration=chunk,
            threads=args.threads, connections=args.connections,
        )  # fmt: skip
        if result.failed:
            raise RuntimeError(f"soak: {result.failed} failed requests in {scenario.name}")
        samples.append({"t": round(time.monotonic() - started, 1), "rss_kib": _memory(server)})
    return samples


class RunIds:
    """Distinct run ids for wrk so that every created member has its own SIREN (see the Lua)."""

    def __init__(self) -> None:
        self.value = -1

    def next(self) -> int:
        self.value += 1
        if self.value > 399:
            raise RuntimeError("too many create runs for the SIREN space; regenerate the data")
        return self.value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark mrm against the bare stack.")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per app and scenario")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (-t)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (-c)")
    parser.add_argument("--scenarios", default=",".join(s.name for s in SCENARIOS))
    parser.add_argument("--latency-duration", type=float, default=15.0,
                        help="seconds of open-loop load at 80%% of peak (0 to skip)")  # fmt: skip
    parser.add_argument("--soak", type=int, default=0, help="seconds of extra load on mrm")
    parser.add_argument("--skip-generate", action="store_true", help="reuse the loaded data")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--label", default="", help="a note stored with the results")
    parser.add_argument(
        "--ports", default="", help="mrm,ceiling ports to listen on (default: any free ones)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - one linear procedure
    args = parse_args(argv)
    require_wrk()
    wanted = [s for s in SCENARIOS if s.name in args.scenarios.split(",")]
    members = round(generate.MEMBERS_PER_SCALE * args.scale)
    contacts = round(generate.CONTACTS_PER_SCALE * args.scale)

    ensure_database(args.database_url)
    generation = None
    if not args.skip_generate:
        print(f"Generating scale {args.scale}: {members} members, {contacts} contacts...")
        loaded = generate.load(args.database_url, members=members, contacts=contacts)
        generation = {
            "members": loaded.members, "contacts": loaded.contacts,
            "affiliations": loaded.affiliations, "member_domains": loaded.member_domains,
            "seconds": round(loaded.seconds, 2), "rows_per_second": round(loaded.rows_per_second),
        }  # fmt: skip
        print(f"  loaded in {loaded.seconds:.1f} s ({loaded.rows_per_second:,.0f} rows/s)")
    remove_created_members(args.database_url)
    remove_created_registrations(args.database_url)
    data, pg_version = load_bench_data(args.database_url)
    random.Random(1).shuffle(data.member_ids)

    secret = secrets.token_urlsafe(48)
    # Both servers read the same api/gunicorn_config.py; its defaults apply unless overridden.
    from api import gunicorn_config  # noqa: PLC0415 - reads MRM_* from the environment

    worker_env = {
        "MRM_WORKERS": str(gunicorn_config.workers),
        "MRM_WORKER_CLASS": gunicorn_config.worker_class,
        "MRM_THREADS": str(gunicorn_config.threads),
    }
    common_env = {
        **worker_env,
        "DATABASE_URL": args.database_url,
        "JWT_SECRET_KEY": secret,
        "MRM_LOG_LEVEL": os.environ.get("MRM_LOG_LEVEL", "INFO"),
    }
    mrm_env = {**common_env, "MRM_ENV": "production"}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="mrm-bench-"))
    data_files: dict[str, Path] = {}
    for scenario in SCENARIOS:
        path = work_dir / f"{scenario.name}.txt"
        path.write_text("\n".join(scenario.lines(data)) + "\n", encoding="utf-8")
        data_files[scenario.name] = path

    ports = [int(port) for port in args.ports.split(",")] if args.ports else [None, None]
    mrm = start_gunicorn("mrm", "wsgi:app", mrm_env, work_dir, port=ports[0])
    ceiling = None
    try:
        ceiling = start_gunicorn(
            "ceiling", "bench.ceiling:app", common_env, work_dir, port=ports[1]
        )
        args.mrm_url_for_tokens = mrm.base_url
        args.servers = (mrm, ceiling)
        run_ids = RunIds()
        differences = check_parity(mrm, ceiling, data, fetch_token(mrm.base_url))
        if differences:
            raise RuntimeError(f"the ceiling answers differently from mrm on {differences}")
        print(f"mrm on {mrm.base_url}, ceiling on {ceiling.base_url}; logs in {work_dir}")
        # Logins allocate argon2's 64 MiB per hash: they run last, after the memory samples,
        # so that the allocator's high-water mark does not hide (or fake) a leak.
        regular = [s for s in wanted if s.mode != "token"]
        logins = [s for s in wanted if s.mode == "token"]
        for scenario in regular:  # warm-up: imports, pools, caches, PostgreSQL buffers
            for server in (mrm, ceiling) if scenario.on_ceiling else (mrm,):
                run_wrk(server.base_url, mode=scenario.mode, token=fetch_token(mrm.base_url),
                        data_file=data_files[scenario.name], run_id=run_ids.next(),
                        duration=args.warmup, threads=args.threads,
                        connections=scenario.connections or args.connections)  # fmt: skip
        memory_start = _memory(mrm)
        loadavg_start = _loadavg()

        scenarios: dict[str, Any] = {}
        failures: list[str] = []

        def measure(scenario: Scenario) -> None:
            runs: dict[str, list[WrkResult]] = {"mrm": [], "ceiling": []}
            for round_number in range(args.rounds):
                for server in (mrm, ceiling) if scenario.on_ceiling else (mrm,):
                    result = _measure(
                        server, scenario, data_files[scenario.name], run_ids.next(), args
                    )
                    runs[server.name].append(result)
                    print(
                        f"  {scenario.name:22} round {round_number + 1} {server.name:7} "
                        f"{result.rps:8.0f} rps  p50 {result.p50_ms:6.1f} ms  "
                        f"p99 {result.p99_ms:6.1f} ms  failed {result.failed}"
                    )
                    if result.failed:
                        failures.append(f"{scenario.name} on {server.name}: {result.failed}")
            entry: dict[str, Any] = {"title": scenario.title, "mrm": _summary(runs["mrm"])}
            if runs["ceiling"]:
                entry["ceiling"] = _summary(runs["ceiling"])
                entry["ratio"] = round(
                    entry["mrm"]["rps_median"] / entry["ceiling"]["rps_median"], 3
                )
            scenarios[scenario.name] = entry

        for scenario in regular:
            measure(scenario)

        latency: dict[str, Any] = {}
        if args.latency_duration > 0:
            for name in ("get_member", "list_members_filter"):
                if name not in scenarios:
                    continue
                peak = scenarios[name]["mrm"]["rps_median"]
                paths = next(s for s in SCENARIOS if s.name == name).lines(data)
                # The ceiling at the same rate: what this machine's tail is with the least
                # Python there can be (the load generator shares its two cores).
                for server in (mrm, ceiling):
                    result = open_loop(
                        server.base_url, paths=paths, token=fetch_token(mrm.base_url),
                        rate=0.8 * peak, duration=args.latency_duration,
                        connections=args.connections * 2,
                    )  # fmt: skip
                    entry = result.as_dict()
                    entry["p99_over_p50"] = round(result.p99_ms / result.p50_ms, 2)
                    if server is mrm:
                        latency[name] = entry
                    else:
                        latency[name]["ceiling"] = entry
                    print(f"  80% of mrm's peak {name}, {server.name}: {entry}")
                    if result.non2xx or result.errors:
                        failures.append(
                            f"open loop {name} on {server.name}: {result.non2xx + result.errors}"
                        )

        soak_samples = soak(mrm, data_files, args.soak, args, run_ids) if args.soak else []
        memory_end = _memory(mrm)
        loadavg_end = _loadavg()
        for scenario in logins:
            measure(scenario)
        start_total, end_total = sum(memory_start.values()), sum(memory_end.values())
        report = {
            "timestamp": stamp,
            "label": args.label,
            "machine": machine_info(pg_version),
            "settings": {
                "workers": int(worker_env["MRM_WORKERS"]),
                "worker_class": worker_env["MRM_WORKER_CLASS"],
                "threads": int(worker_env["MRM_THREADS"]),
                "log_level": common_env["MRM_LOG_LEVEL"],
                "wrk_threads": args.threads,
                "connections": args.connections,
                "duration": args.duration,
                "rounds": args.rounds,
                "scale": args.scale,
                "members": members,
                "contacts": contacts,
            },
            "generation": generation,
            "scenarios": scenarios,
            "latency_at_80pct": latency,
            "memory": {
                "start_kib": memory_start,
                "end_kib": memory_end,
                "start_kib_total": start_total,
                "end_kib_total": end_total,
                "growth_kib_total": end_total - start_total,
                "soak_seconds": args.soak,
                "soak_samples": soak_samples,
            },
            "failures": failures,
            "loadavg": {"start": loadavg_start, "end": loadavg_end},
        }
    finally:
        mrm.stop()
        if ceiling is not None:
            ceiling.stop()
        remove_created_members(args.database_url)
        remove_created_registrations(args.database_url)

    table = markdown_table(report)
    (RESULTS_DIR / f"{stamp}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS_DIR / f"{stamp}.md").write_text(
        f"# mrm benchmark {stamp}{' — ' + args.label if args.label else ''}\n\n{table}"
    )
    print()
    print(table)
    print(f"Results: {RESULTS_DIR / stamp}.json / .md")
    if failures:
        print("FAILED: responses outside 2xx or socket errors: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
