"""The promise across processes: a logout or a deactivation is refused by every worker within a
second, although each worker answers known logins from its own memory.

gunicorn serves the app on PostgreSQL with three worker processes. Its access log names the
worker (pid) of each request, so the test knows when every worker has served the token since
its listener started, and that every worker refused it after the change.
"""

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from services.login_listener import APPLICATION_NAME
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, make_user
from tests.login_cache.helpers import WITHIN_SECONDS
from tests.served import free_port, wait_until_listening

pytestmark = pytest.mark.postgres_only

WORKERS = 3
ME_URL = "/api/v1/auth/me"


class Server:
    """A gunicorn serving the test database, and what its access log says."""

    def __init__(self, port: int, access_log: Path, database_url: str) -> None:
        self.port = port
        self.access_log = access_log
        self.database_url = database_url
        self._sequence = 0
        self._lock = threading.Lock()

    def request(
        self, method: str, path: str, *, tag: str, token: str | None = None, body: Any = None
    ) -> tuple[str, int, bytes]:
        """One request on a connection of its own (so that any worker may take it)."""
        with self._lock:
            self._sequence += 1
            request_id = f"{tag}-{self._sequence}"
        headers = {"X-Request-ID": request_id, "Connection": "close"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return request_id, response.status, response.read()
        finally:
            connection.close()

    def log_in(self, email: str) -> str:
        body = f'{{"email": "{email}", "password": "{PASSWORD}"}}'
        _id, status, answer = self.request("POST", "/api/v1/auth/token", tag="login", body=body)
        assert status == 200, answer
        return json.loads(answer)["access_token"]

    def workers_of(self, *request_ids: str) -> dict[str, str]:
        """request id -> pid of the worker that answered it, once ``request_ids`` are logged
        (a worker writes its access log line just after sending the response)."""
        deadline = time.monotonic() + 10
        while True:
            answered: dict[str, str] = {}
            for line in self.access_log.read_text().splitlines():
                pid, request_id, _status = line.split()
                answered[request_id] = pid
            if all(rid in answered for rid in request_ids) or time.monotonic() > deadline:
                return answered
            time.sleep(0.05)

    def listeners(self) -> int:
        """How many processes listen for login notifications on the test database."""
        url = make_url(self.database_url)
        with psycopg.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
        ) as connection:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = %s AND datname = current_database()",
                (APPLICATION_NAME,),
            ).fetchone()
        return int(row[0]) if row else 0


@pytest.fixture
def server(committing_app, database_url: str, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    access_log = tmp_path / "access.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MRM_")},
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": TEST_SECRET,
        "MRM_ENV": "test",
        "MRM_INSTANCE_DIR": str(tmp_path),
        "MRM_BIND": f"127.0.0.1:{port}",
        "MRM_WORKERS": str(WORKERS),
        "MRM_THREADS": "2",
        "MRM_LOG_LEVEL": "WARNING",
        "MRM_LOGIN_CACHE": "1",
    }
    bin_dir = Path(sys.executable).parent
    process = subprocess.Popen(
        [
            bin_dir / "gunicorn",
            "--no-control-socket",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(p)s %({x-request-id}i)s %(s)s",
            "wsgi:app",
        ],
        env=env,
        cwd=Path(__file__).parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_listening(process, port)
        yield Server(port, access_log, database_url)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _in_parallel(send: Any, threads: int = 4) -> None:
    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def _send_five(server: Server, token: str, tag: str, statuses: list[int]) -> None:
    for _ in range(5):
        statuses.append(server.request("GET", ME_URL, tag=tag, token=token)[1])


def warm_every_worker(server: Server, token: str, tag: str) -> None:
    """Send the token until every worker listens and has answered it three times since."""
    deadline = time.monotonic() + 60
    while server.listeners() < WORKERS:
        assert time.monotonic() < deadline, "not every worker started its listener"
        _in_parallel(lambda: server.request("GET", ME_URL, tag="start", token=token))
    served: dict[str, int] = defaultdict(int)
    while len(served) < WORKERS or min(served.values()) < 3:
        assert time.monotonic() < deadline, f"not every worker served the token: {served}"
        statuses: list[int] = []
        _in_parallel(partial(_send_five, server, token, tag, statuses))
        assert set(statuses) == {200}, statuses
        workers = server.workers_of()
        served = defaultdict(int)
        for request_id, pid in workers.items():
            if request_id.startswith(f"{tag}-"):
                served[pid] += 1


def refused_everywhere_within_a_second(server: Server, token: str, changed_at: float) -> None:
    """Every request sent a second or more after the change is a 401, in every worker."""
    answers: list[tuple[float, str, int]] = []

    def send() -> None:
        while time.monotonic() < changed_at + WITHIN_SECONDS + 0.5:
            started = time.monotonic() - changed_at
            request_id, status, _body = server.request("GET", ME_URL, tag="after", token=token)
            answers.append((started, request_id, status))

    _in_parallel(send)
    late = [(started, rid, status) for started, rid, status in answers if started >= 1.0]
    assert late, "no request was sent after the first second"
    assert all(status == 401 for _s, _rid, status in late), late
    workers = server.workers_of(*(rid for _s, rid, _status in late))
    refusing = {workers[rid] for _s, rid, _status in late}
    every = {pid for rid, pid in workers.items() if rid.startswith("warm")}
    assert refusing >= every, f"workers {every - refusing} answered nothing after a second"
    let_in = [started for started, _rid, status in answers if status == 200]
    assert not let_in or max(let_in) < WITHIN_SECONDS, let_in


def test_a_logout_is_refused_by_every_worker_within_a_second(server, real_session):
    user = make_user(real_session, role="staff")
    real_session.commit()
    token = server.log_in(user.email)
    warm_every_worker(server, token, "warm")
    _id, status, body = server.request("POST", "/api/v1/auth/logout", tag="logout", token=token)
    assert status == 204, body
    refused_everywhere_within_a_second(server, token, time.monotonic())


def test_a_deactivation_is_refused_by_every_worker_within_a_second(server, real_session):
    user = make_user(real_session, role="staff")
    admin = make_user(real_session, role="admin")
    real_session.commit()
    token, admin_token = server.log_in(user.email), server.log_in(admin.email)
    warm_every_worker(server, token, "warm")
    _id, status, body = server.request(
        "POST", f"/api/v1/users/{user.id}/deactivate", tag="deactivate", token=admin_token
    )
    assert status == 200, body
    refused_everywhere_within_a_second(server, token, time.monotonic())
