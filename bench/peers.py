"""mrm side by side with two public projects on the same stack, in one interleaved run.

The peers are a flask-smorest + flask-jwt-extended + SQLAlchemy items API (the public
repository tecladocode/rest-api-smorest-docker) and an APIFairy + marshmallow + SQLAlchemy API
(miguelgrinberg/microblog-api). Their code is never part of this repository: whoever runs the
benchmark fetches them (``git clone --bare`` is enough) and gives their paths on the command
line or in ``MRM_PEER_SMOREST`` / ``MRM_PEER_MICROBLOG``::

    python -m bench.peers --smorest ~/src/rest-api-smorest-docker \\
        --microblog ~/src/microblog-api --duration 10 --rounds 3

For each peer the script exports the checkout's ``HEAD`` (a bare git directory or a working
tree) into a temporary directory, installs its ``requirements.txt`` into its own virtualenv
(cached under ``--venv-dir``; ``psycopg2`` is swapped for ``psycopg2-binary``, the same driver
without a compiler), creates its PostgreSQL database afresh and seeds comparable data (one
user; 50 items in one store, 50 posts), and starts it under gunicorn with mrm's worker
settings (api/gunicorn_config.py: workers, gthread, threads, keep-alive). mrm and the ceiling
run on the bench database as in ``bench.run``. Then for each scenario (get one record by id,
list a page, create one record) wrk runs against every server in turn, round after round,
with a fresh token before each run. The peers are measured as they are, with two settings:
the smorest API issues integer JWT subjects that PyJWT >= 2.10 refuses, so its WSGI entry
sets ``JWT_VERIFY_SUB = False``; the microblog API runs with ``USE_CORS=no`` (no request of the
benchmark is cross-origin) and tokens valid for ten hours. The results, with the commits and
package versions of each peer, go to ``bench/results/peers-<time>.md`` and ``.json``.
"""

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import generate
from bench.loadgen import WrkResult, require_wrk, run_wrk
from bench.machine import machine_info
from bench.run import (
    CREATED_NAME_PREFIX,
    DEFAULT_DATABASE_URL,
    RESULTS_DIR,
    RunIds,
    ensure_database,
    fetch_token,
    load_bench_data,
    remove_created_members,
)
from bench.servers import Server, free_port, start_gunicorn

PEER_USER = "bench"
PEER_EMAIL = "bench@example.org"
PEER_PASSWORD = "bench-password-not-secret"
ROWS = 50
_REPORTED_PACKAGES = frozenset(
    {"flask", "flask-smorest", "apifairy", "marshmallow", "sqlalchemy", "flask-jwt-extended",
     "pyjwt", "gunicorn", "psycopg2-binary", "flask-sqlalchemy", "alchemical", "webargs"}
)  # fmt: skip
SCENARIOS = (("get", "get one record by id"), ("list", "list a page"), ("create", "create one"))

_SMOREST_SEED = f"""
from passlib.hash import pbkdf2_sha256
from app import create_app
from db import db
from models import ItemModel, StoreModel, UserModel
app = create_app()
with app.app_context():
    db.drop_all()
    db.create_all()
    store = StoreModel(name="Bench store")
    db.session.add(store)
    db.session.flush()
    for number in range({ROWS}):
        db.session.add(ItemModel(name=f"Item {{number}}", price=1.5 + number, store_id=store.id))
    db.session.add(UserModel(username={PEER_USER!r}, email={PEER_EMAIL!r},
                             password=pbkdf2_sha256.hash({PEER_PASSWORD!r})))
    db.session.commit()
    print(store.id, *[item.id for item in ItemModel.query.order_by(ItemModel.id)])
"""
_SMOREST_WSGI = """from app import create_app
app = create_app()
app.config["JWT_VERIFY_SUB"] = False  # its subjects are integers; PyJWT >= 2.10 refuses them
"""
_MICROBLOG_SEED = f"""
from api.app import create_app, db
from api.models import Post, User
app = create_app()
with app.app_context():
    db.drop_all()
    db.create_all()
    user = User(username={PEER_USER!r}, email={PEER_EMAIL!r}, password={PEER_PASSWORD!r})
    db.session.add(user)
    for number in range({ROWS}):
        db.session.add(Post(text=f"Post number {{number}} of the benchmark", author=user))
    db.session.commit()
    print(*[post.id for post in db.session.scalars(Post.select().order_by(Post.id))])
"""
_MICROBLOG_WSGI = "from api.app import create_app\napp = create_app()\n"


@dataclass
class Peer:
    """One peer: how to seed it, start it, log in and what each scenario requests."""

    name: str
    env_var: str
    title: str
    seed: str
    wsgi: str
    env: dict[str, str] = field(default_factory=dict)
    lines: dict[str, list[str]] = field(default_factory=dict)
    commit: str = ""
    versions: dict[str, str] = field(default_factory=dict)

    def token(self, base_url: str) -> str:
        if self.name == "smorest":
            body = json.dumps({"username": PEER_USER, "password": PEER_PASSWORD}).encode()
            request = urllib.request.Request(
                base_url + "/login", data=body, headers={"Content-Type": "application/json"}
            )
        else:
            basic = base64.b64encode(f"{PEER_USER}:{PEER_PASSWORD}".encode()).decode()
            request = urllib.request.Request(
                base_url + "/api/tokens", data=b"", headers={"Authorization": f"Basic {basic}"}
            )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["access_token"]

    def scenario_lines(self, seeded: list[str]) -> dict[str, list[str]]:
        if self.name == "smorest":
            store_id, *item_ids = seeded
            body = json.dumps({"name": "Bench item", "price": 9.99, "store_id": int(store_id)})
            return {
                "get": [f"/item/{item_id}" for item_id in item_ids],
                "list": ["/item"],  # all 50 items: the API has no pagination
                "create": ["/item", body],
            }
        return {
            "get": [f"/api/posts/{post_id}" for post_id in seeded],
            "list": ["/api/posts?limit=25"],  # its largest page
            "create": ["/api/posts", json.dumps({"text": "A post written by the benchmark"})],
        }


PEERS = (
    Peer(
        "smorest",
        "MRM_PEER_SMOREST",
        "smorest items API (tecladocode/rest-api-smorest-docker)",
        _SMOREST_SEED,
        _SMOREST_WSGI,
        env={"ENV_STATE": "prod", "PROD_REDIS_URL": "redis://127.0.0.1:6379/15"},
    ),
    Peer(
        "microblog",
        "MRM_PEER_MICROBLOG",
        "microblog API (miguelgrinberg/microblog-api)",
        _MICROBLOG_SEED,
        _MICROBLOG_WSGI,
        env={"ACCESS_TOKEN_MINUTES": "600", "USE_CORS": "no"},
    ),
)


def _git(source: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run git on a bare repository or a working tree."""
    bare = (source / "HEAD").is_file() and (source / "objects").is_dir()
    where = ["--git-dir", str(source)] if bare else ["-C", str(source)]
    return subprocess.run(["git", *where, *args], capture_output=True, check=True)


def export_checkout(source: Path, target: Path) -> str:
    """Extract the ``HEAD`` of ``source`` into ``target``; its commit id."""
    commit = _git(source, "rev-parse", "HEAD").stdout.decode().strip()
    archive = _git(source, "archive", "--format=tar", "HEAD").stdout
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return commit


def install(peer: Peer, checkout: Path, venv_dir: Path) -> Path:
    """A virtualenv with the peer's requirements (reused while they do not change)."""
    requirements = (checkout / "requirements.txt").read_text()
    lines = [
        "psycopg2-binary" if line.strip() == "psycopg2" else line
        for line in requirements.splitlines()
    ]
    lines += ["gunicorn", "psycopg2-binary"]
    wanted = "\n".join(lines) + "\n"
    digest = hashlib.sha256(wanted.encode()).hexdigest()[:12]
    venv = venv_dir / f"{peer.name}-{digest}"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        (venv / "requirements.txt").write_text(wanted)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(venv / "requirements.txt")],
            check=True,
        )
        (venv / ".installed").touch()
    freeze = subprocess.run(
        [str(python), "-m", "pip", "freeze"], capture_output=True, text=True, check=True
    ).stdout
    keep = _REPORTED_PACKAGES
    for line in freeze.splitlines():
        name, _, version = line.partition("==")
        if name.lower() in keep:
            peer.versions[name.lower()] = version
    return python


def _loadavg() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def fresh_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(
        target.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def _wait_answering(server: Server, timeout: float = 60.0) -> None:
    """Ready when anything answers HTTP (the peers have no health endpoint)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited; see {server.log_path}")
        try:
            urllib.request.urlopen(server.base_url + "/", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s")


def start_peer(
    peer: Peer, python: Path, checkout: Path, env: dict[str, str], port: int, log_dir: Path
) -> Server:
    """The peer under gunicorn with mrm's worker settings."""
    (checkout / "mrm_peer_wsgi.py").write_text(peer.wsgi)
    from api import gunicorn_config  # noqa: PLC0415 - reads MRM_* from the environment

    command = [
        str(python), "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
        "--workers", str(gunicorn_config.workers), "--worker-class", gunicorn_config.worker_class,
        "--threads", str(gunicorn_config.threads), "--keep-alive", str(gunicorn_config.keepalive),
        "--log-level", "warning", "mrm_peer_wsgi:app",
    ]  # fmt: skip
    log_path = log_dir / f"{peer.name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=checkout, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = Server(name=peer.name, process=process, port=port, log_path=log_path)
    _wait_answering(server)
    return server


def _peer_url(database_url: str, name: str) -> str:
    target = make_url(database_url)
    peer = target.set(drivername="postgresql+psycopg2", database=f"{target.database}_{name}")
    return peer.render_as_string(hide_password=False)


def _mrm_lines(data: Any) -> dict[str, list[str]]:
    body = {"name": CREATED_NAME_PREFIX + "__SIREN__", "category": "sme", "siren": "__SIREN__"}
    return {
        "get": [f"/api/v1/members/{member_id}" for member_id in data.member_ids],
        "list": ["/api/v1/members?limit=50"],
        "create": ["/api/v1/members", json.dumps(body, ensure_ascii=False)],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smorest", default=os.environ.get("MRM_PEER_SMOREST"))
    parser.add_argument("--microblog", default=os.environ.get("MRM_PEER_MICROBLOG"))
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--scale", type=float, default=1.0, help="mrm's data, as bench.run")
    parser.add_argument("--skip-generate", action="store_true", help="keep mrm's bench data")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (-t)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (-c)")
    parser.add_argument("--port", type=int, default=0, help="first of four ports (0: any free)")
    parser.add_argument(
        "--venv-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "mrm-peers-venvs",
        help="where the peers' virtualenvs are kept between runs",
    )
    parser.add_argument("--no-ceiling", action="store_true")
    return parser.parse_args(argv)


def _summary(results: list[WrkResult]) -> dict[str, Any]:
    return {
        "rps": [round(r.rps, 1) for r in results],
        "rps_median": round(statistics.median(r.rps for r in results), 1),
        "p50_ms_median": round(statistics.median(r.p50_ms for r in results), 2),
        "p99_ms_median": round(statistics.median(r.p99_ms for r in results), 2),
    }


def markdown(report: dict[str, Any]) -> str:
    names = report["servers"]
    lines = [
        f"# mrm and its peers, {report['timestamp']}",
        "",
        f"Command: `{report['command']}`",
        f"Load average: {report['loadavg_start']} at the start, {report['loadavg_end']} at the "
        f"end ({report['machine']['cores']} cores). gunicorn {report['settings']}; wrk "
        f"-t{report['wrk']['threads']} -c{report['wrk']['connections']} "
        f"-d{report['wrk']['duration']}s, {report['wrk']['rounds']} interleaved rounds; "
        f"PostgreSQL {report['machine']['postgresql']}.",
        "",
        "| scenario | "
        + " | ".join(f"{n} rps (p50 / p99 ms)" for n in names)
        + " | mrm / smorest | mrm / microblog |",
        "|---|" + "---|" * (len(names) + 2),
    ]
    for key, title in SCENARIOS:
        row = report["scenarios"][key]
        cells = [
            f"{row[n]['rps_median']:.0f} ({row[n]['p50_ms_median']:.1f} / "
            f"{row[n]['p99_ms_median']:.1f})"
            if n in row
            else "-"
            for n in names
        ]
        ratios = [
            f"{row['mrm']['rps_median'] / row[peer]['rps_median']:.2f}" if peer in row else "-"
            for peer in ("smorest", "microblog")
        ]
        lines.append(f"| {title} | " + " | ".join(cells + ratios) + " |")
    lines += [
        "",
        "Rows: mrm lists 50 members (with domains, parent and contact count) of its bench data; "
        "smorest lists its 50 items (no pagination); microblog lists 25 posts (its largest "
        "page). Creates: a member, an item, a post.",
        "",
        "Peers:",
    ]
    for peer in report["peers"]:
        versions = ", ".join(f"{k} {v}" for k, v in sorted(peer["versions"].items()))
        lines.append(f"- {peer['title']} at {peer['commit'][:12]}: {versions}")
    lines.append(f"- mrm: {report['machine']['packages']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - one linear procedure
    args = parse_args(argv)
    require_wrk()
    sources = {"smorest": args.smorest, "microblog": args.microblog}
    peers = [peer for peer in PEERS if sources[peer.name]]
    if not peers:
        sys.exit("give --smorest and/or --microblog (or MRM_PEER_SMOREST, MRM_PEER_MICROBLOG)")
    work_dir = Path(tempfile.mkdtemp(prefix="mrm-peers-"))
    args.venv_dir.mkdir(parents=True, exist_ok=True)
    ports = iter(range(args.port, args.port + 4)) if args.port else None

    def port() -> int:
        return next(ports) if ports else free_port()

    ensure_database(args.database_url)
    if not args.skip_generate:
        members = round(generate.MEMBERS_PER_SCALE * args.scale)
        contacts = round(generate.CONTACTS_PER_SCALE * args.scale)
        print(f"Generating mrm's data: {members} members, {contacts} contacts...")
        generate.load(args.database_url, members=members, contacts=contacts)
    remove_created_members(args.database_url)
    data, pg_version = load_bench_data(args.database_url)
    lines = {"mrm": _mrm_lines(data)}

    from api import gunicorn_config  # noqa: PLC0415

    worker_env = {
        "MRM_WORKERS": str(gunicorn_config.workers),
        "MRM_WORKER_CLASS": gunicorn_config.worker_class,
        "MRM_THREADS": str(gunicorn_config.threads),
    }
    common_env = {
        **worker_env,
        "DATABASE_URL": args.database_url,
        "JWT_SECRET_KEY": base64.b64encode(os.urandom(36)).decode(),
        "MRM_LOG_LEVEL": os.environ.get("MRM_LOG_LEVEL", "INFO"),
    }
    servers: list[Server] = []
    tokens: dict[str, Any] = {}
    try:
        for peer in peers:
            checkout = work_dir / peer.name
            peer.commit = export_checkout(Path(sources[peer.name]).expanduser(), checkout)
            print(f"{peer.name}: {peer.commit[:12]}, installing its requirements...")
            python = install(peer, checkout, args.venv_dir)
            url = _peer_url(args.database_url, peer.name)
            fresh_database(url)
            env = {
                "PATH": os.environ.get("PATH", ""),
                "HOME": os.environ.get("HOME", "/tmp"),
                "DATABASE_URL": url,
                **peer.env,
            }
            if peer.name == "smorest":
                env["PROD_DATABASE_URL"] = url
            seeded = subprocess.run(
                [str(python), "-c", peer.seed],
                cwd=checkout, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if seeded.returncode != 0:
                raise RuntimeError(f"seeding {peer.name} failed:\n{seeded.stderr[-3000:]}")
            lines[peer.name] = peer.scenario_lines(seeded.stdout.split())
            server = start_peer(peer, python, checkout, env, port(), work_dir)
            servers.append(server)
            tokens[peer.name] = peer.token
        mrm = start_gunicorn(
            "mrm", "wsgi:app", {**common_env, "MRM_ENV": "production"}, work_dir, port()
        )
        servers.insert(0, mrm)
        tokens["mrm"] = fetch_token
        if not args.no_ceiling:
            ceiling = start_gunicorn("ceiling", "bench.ceiling:app", common_env, work_dir, port())
            servers.insert(1, ceiling)
            tokens["ceiling"] = lambda _url: fetch_token(mrm.base_url)
            lines["ceiling"] = lines["mrm"]
        print("servers: " + ", ".join(f"{s.name} {s.base_url}" for s in servers))
        files: dict[tuple[str, str], Path] = {}
        for name, by_scenario in lines.items():
            for key, content in by_scenario.items():
                files[name, key] = work_dir / f"{name}-{key}.txt"
                files[name, key].write_text("\n".join(content) + "\n", encoding="utf-8")
        run_ids = RunIds()
        loadavg_start = _loadavg()

        def wrk(server: Server, key: str, duration: float) -> WrkResult:
            return run_wrk(
                server.base_url,
                mode="create" if key == "create" else "get",
                token=tokens[server.name](server.base_url),
                data_file=files[server.name, key],
                run_id=run_ids.next(),
                duration=duration,
                threads=args.threads,
                connections=args.connections,
            )

        for key, _ in SCENARIOS[:2]:  # warm-up (creates warm up in their first round)
            for server in servers:
                wrk(server, key, args.warmup)
        results: dict[str, dict[str, Any]] = {}
        failures: list[str] = []
        for key, _title in SCENARIOS:
            runs: dict[str, list[WrkResult]] = {server.name: [] for server in servers}
            for round_number in range(args.rounds):
                for server in servers:
                    result = wrk(server, key, args.duration)
                    runs[server.name].append(result)
                    print(
                        f"  {key:7} round {round_number + 1} {server.name:9} {result.rps:7.0f} rps"
                        f"  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms"
                        f"  failed {result.failed}"
                    )
                    if result.failed:
                        failures.append(f"{key} on {server.name}: {result.failed}")
            results[key] = {name: _summary(found) for name, found in runs.items()}
        report = {
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(["python -m bench.peers", *(argv or sys.argv[1:])]),
            "machine": machine_info(pg_version),
            "settings": (
                f"workers={gunicorn_config.workers} {gunicorn_config.worker_class} "
                f"threads={gunicorn_config.threads} keep-alive={gunicorn_config.keepalive}"
            ),
            "wrk": {
                "threads": args.threads,
                "connections": args.connections,
                "duration": args.duration,
                "rounds": args.rounds,
            },
            "loadavg_start": loadavg_start,
            "loadavg_end": _loadavg(),
            "servers": [server.name for server in servers],
            "scenarios": results,
            "peers": [
                {"name": p.name, "title": p.title, "commit": p.commit, "versions": p.versions}
                for p in peers
            ],
            "failures": failures,
        }
    finally:
        for server in servers:
            server.stop()
    remove_created_members(args.database_url)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"peers-{stamp}.json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    (RESULTS_DIR / f"peers-{stamp}.md").write_text(table)
    print(table)
    print(f"logs and checkouts in {work_dir}")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
