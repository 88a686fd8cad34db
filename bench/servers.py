"""Start and stop the two servers under test: mrm and the ceiling, both under gunicorn."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The load must not run into the API's rate limits (api/rate_limits.py): the cost of counting
# is measured, refusals are not. A variable set in the environment still wins.
UNLIMITED_RATES = {
    "MRM_RATE_LIMIT_READS": "1000000000/minute",
    "MRM_RATE_LIMIT_WRITES": "1000000000/minute",
    "MRM_RATE_LIMIT_AUTH": "1000000000/minute",
}


def free_port() -> int:
    """A free loopback port: the first free one of ``MRM_BENCH_PORTS`` (``9500-9599``) when set,
    so that people sharing a machine each keep to their own range; else any the system gives."""
    span = os.environ.get("MRM_BENCH_PORTS")
    candidates = [0]
    if span:
        low, _, high = span.partition("-")
        candidates = list(range(int(low), int(high or low) + 1))
    for candidate in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError(f"no free port in MRM_BENCH_PORTS={span}")


@dataclass
class Server:
    """A gunicorn arbiter we started; ``pid`` is the arbiter, its children are the workers."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_gunicorn(
    name: str, app: str, env: dict[str, str], log_dir: Path, port: int | None = None
) -> Server:
    """``gunicorn -c python:api.gunicorn_config <app>`` on 127.0.0.1 with the given settings."""
    port = port or free_port()
    full_env = {**UNLIMITED_RATES, **os.environ, **env, "MRM_BIND": f"127.0.0.1:{port}"}
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:api.gunicorn_config", app],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(name=name, process=process, port=port, log_path=log_path)
    wait_ready(server)
    return server


def wait_ready(server: Server, path: str = "/healthz", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited; see {server.log_path}:\n"
                + server.log_path.read_text(errors="replace")[-3000:]
            )
        try:
            with urllib.request.urlopen(server.base_url + path, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{server.name} did not answer {path} within {timeout:.0f} s")
