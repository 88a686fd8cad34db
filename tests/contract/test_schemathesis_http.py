"""Schemathesis over HTTP against gunicorn serving the app, with every check and every phase.

In-process fuzzing (``tests/foundation/test_fuzz.py``) cannot see what only a real server does
(gunicorn's own answers, body limits, concurrent workers), so this test starts gunicorn on a
free loopback port over a fresh SQLite database, logs in as an admin and runs
``schemathesis run`` on the served spec: examples, coverage, fuzzing and stateful phases (the
stateful one follows the spec's links from create to read operations), ``--checks all``.

Failures already understood are listed, each with its reason, in
``schemathesis-baseline.json`` (schemathesis' own baseline format; ``reason`` is ours); the run
fails on any other. A server error or a response that breaks the spec is never acceptable, so
the baseline may not list those checks. To review the baseline after a change, run the command
this test prints with ``--baseline-update``, then give every new entry a reason.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.served import free_port

ROOT = Path(__file__).resolve().parents[2]
BASELINE = Path(__file__).with_name("schemathesis-baseline.json")
NEVER_ACCEPTED = {"not_a_server_error", "response_schema_conformance"}
ADMIN_EMAIL = "admin@example.org"
ADMIN_PASSWORD = "schemathesis admin password"
BIN = Path(sys.executable).parent
# Operations that would end the login every other request uses: logging out, and changing the
# acting admin's own password (its id is in `/auth/me`, which stateful testing reads). Both are
# fuzzed in process by tests/foundation/test_fuzz.py.
EXCLUDED_OPERATIONS = ["logout", "updateUser"]


def _post_json(url: str, body: dict[str, str]) -> dict[str, str]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _wait_until_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"gunicorn did not answer {url}:\n{log.read_text()}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """gunicorn (2 workers) on a fresh SQLite database: its base URL and an admin token."""
    instance = tmp_path_factory.mktemp("served")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{instance / 'mrm.sqlite3'}",
        "MRM_INSTANCE_DIR": str(instance),
        "MRM_ENV": "development",
        "MRM_ADMIN_EMAIL": ADMIN_EMAIL,
        "MRM_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MRM_BIND": f"127.0.0.1:{port}",
        "MRM_WORKERS": "2",
        "MRM_THREADS": "2",
        "MRM_ACCESS_TOKEN_MINUTES": "60",
        "MRM_ARGON2_TIME_COST": "1",
        "MRM_ARGON2_MEMORY_KIB": "1024",
        "MRM_LOG_LEVEL": "ERROR",
        # Thousands of generated requests from one token: never refused for their number.
        "MRM_RATE_LIMIT_READS": "1000000/minute",
        "MRM_RATE_LIMIT_WRITES": "1000000/minute",
        "MRM_RATE_LIMIT_AUTH": "1000000/minute",
    }
    subprocess.run([BIN / "mrm", "bootstrap"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = instance / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [BIN / "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(f"{base}/readyz", server, log)
        tokens = _post_json(
            f"{base}/api/v1/auth/token", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        yield base, tokens["access_token"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_baseline_is_reviewed():
    entries = json.loads(BASELINE.read_text(encoding="utf-8"))["entries"]
    for entry in entries:
        assert entry.get("reason", "").strip(), f"baseline entry {entry['id']} has no reason"
        assert entry["check"] not in NEVER_ACCEPTED, entry


@pytest.mark.slow
def test_schemathesis_finds_nothing_new(served, tmp_path):
    base, token = served
    # A copy: the run must not rewrite the reviewed file.
    baseline = tmp_path / BASELINE.name
    baseline.write_bytes(BASELINE.read_bytes())
    command = [
        str(BIN / "schemathesis"),
        "run",
        f"{base}/api/v1/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        "5",
        "--seed",
        "1",
        # One worker: Hypothesis' strategy descriptions are not thread-safe.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {token}",
        "--baseline",
        str(baseline),
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
        *[option for name in EXCLUDED_OPERATIONS for option in ("--exclude-operation-id", name)],
    ]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    shown = " ".join(
        part if "Bearer" not in part else "Authorization: Bearer <token>" for part in command
    )
    assert result.returncode == 0, f"{shown}\n\n{result.stdout[-20000:]}\n{result.stderr[-5000:]}"
    # Every request was made as the admin: the token still works after the run.
    me = urllib.request.Request(
        f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(me, timeout=10) as response:
        assert response.status == 200
