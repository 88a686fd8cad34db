"""The body and URL gates as gunicorn serves them: its chunked decoding and raw ``PATH_INFO``
are what the test client only imitates.

One gunicorn process on SQLite in a temporary folder; the gates run before any view, so one
database is enough.
"""

import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET
from tests.served import free_port, wait_until_listening

LIMIT = 4096


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    folder: Path = tmp_path_factory.mktemp("served")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MRM_")},
        "DATABASE_URL": f"sqlite:///{folder / 'mrm.sqlite3'}",
        "JWT_SECRET_KEY": TEST_SECRET,
        "MRM_INSTANCE_DIR": str(folder),
        "MRM_BIND": f"127.0.0.1:{port}",
        "MRM_WORKERS": "1",
        "MRM_MAX_CONTENT_LENGTH": str(LIMIT),
        "MRM_LOG_LEVEL": "WARNING",
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run([bin_dir / "mrm", "db", "upgrade"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [bin_dir / "gunicorn", "--no-control-socket", "wsgi:app"],
        env=env,
        cwd=Path(__file__).parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_listening(server, port)
        yield "127.0.0.1", port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _request(served, method, path, body=None, chunked=False):
    connection = http.client.HTTPConnection(*served, timeout=30)
    try:
        connection.request(
            method,
            path,
            body=body,
            headers={"Content-Type": "application/json"},
            encode_chunked=chunked,
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _chunks(data: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_a_chunked_body_over_the_limit_is_413(served):
    data = json.dumps({"email": "a@example.org", "password": "x" * LIMIT}).encode()
    status, body = _request(served, "POST", "/api/v1/auth/token", _chunks(data), chunked=True)
    assert status == 413, body
    assert json.loads(body)["status"] == 413


def test_a_chunked_body_within_the_limit_is_read_whole(served):
    data = b'{"email": "nobody@example.org",' + b" " * 3000 + b'"password": "x"}'
    status, body = _request(served, "POST", "/api/v1/auth/token", _chunks(data), chunked=True)
    assert status == 401, body  # read and parsed: the account does not exist


@pytest.mark.parametrize("suffix", ["%FF", "%FE", "%ED%A0%80"])
def test_a_path_that_is_not_utf8_is_404(served, suffix):
    status, body = _request(served, "GET", f"/api/v1/members/by-external-id/crm{suffix}")
    assert status == 404, body
    assert json.loads(body)["detail"] == "No resource has this path: it is not UTF-8."
