"""Load generators: wrk (closed loop, peak throughput) and a fixed-rate open-loop client.

wrk keeps every connection busy, so it finds the peak. Latency "at 80% of peak" needs requests
sent at a fixed rate whatever the server does, with each latency counted from the moment the
request was *due* (otherwise a slow response delays the next send and hides the queueing: the
"coordinated omission" wrk2 corrects). wrk2 is not packaged in Debian, so ``open_loop`` does this
in Python with asyncio over keep-alive connections.
"""

import asyncio
import json
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent / "scenario.lua"


def require_wrk() -> str:
    """The wrk executable, or exit with the command that installs it."""
    path = shutil.which("wrk")
    if path is None:
        print("wrk is not installed. Install it with:\n    apt-get install -y wrk", file=sys.stderr)
        raise SystemExit(2)
    return path


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    non2xx: int
    errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        """Responses outside 2xx plus socket errors and timeouts."""
        socket_errors = sum(v for k, v in self.errors.items() if k != "status")
        return self.non2xx + socket_errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "non2xx": self.non2xx,
            "errors": self.errors,
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
        }


def parse_wrk_output(output: str) -> WrkResult:
    """Read the JSON line printed by scenario.lua's done()."""
    for line in output.splitlines():
        if line.startswith("WRK_JSON "):
            data = json.loads(line[len("WRK_JSON ") :])
            lat = data["latency_us"]
            return WrkResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                non2xx=data["non2xx"],
                errors=data["errors"],
                p50_ms=lat["p50"] / 1000,
                p90_ms=lat["p90"] / 1000,
                p99_ms=lat["p99"] / 1000,
                max_ms=lat["max"] / 1000,
            )
    raise RuntimeError(f"wrk printed no result:\n{output}")


def run_wrk(
    base_url: str,
    *,
    mode: str,
    token: str,
    data_file: Path,
    run_id: int,
    duration: float,
    threads: int,
    connections: int,
) -> WrkResult:
    """One wrk run of ``duration`` seconds against ``base_url`` (127.0.0.1 only)."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise ValueError("load is only ever sent to 127.0.0.1")
    command = [
        require_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        base_url,
        "--",
        mode,
        token or "-",
        str(data_file),
        str(run_id),
        str(threads),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr}{result.stdout}")
    return parse_wrk_output(result.stdout)


@dataclass(frozen=True)
class OpenLoopResult:
    target_rps: float
    sent: int
    achieved_rps: float
    non2xx: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length bodies only, as both apps send) -> status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _open_loop(
    host: str,
    port: int,
    paths: list[str],
    token: str,
    rate: float,
    duration: float,
    connections: int,
) -> OpenLoopResult:
    rng = random.Random(20240501)
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await asyncio.open_connection(host, port))
    latencies: list[float] = []
    bad = 0
    errors = 0
    auth = f"Authorization: Bearer {token}\r\n" if token else ""

    async def one(path: str, due: float) -> None:
        nonlocal bad, errors
        reader, writer = await idle.get()  # waiting for a free connection counts as latency
        try:
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}"
                "Accept: application/json\r\n\r\n".encode()
            )
            status = await _read_response(reader)
            if not 200 <= status < 300:
                bad += 1
            latencies.append(time.perf_counter() - due)
            idle.put_nowait((reader, writer))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            writer.close()
            idle.put_nowait(await asyncio.open_connection(host, port))

    interval = 1.0 / rate
    start = time.perf_counter()
    tasks = []
    sent = 0
    while True:
        due = start + sent * interval  # fixed schedule: never waits for earlier responses
        if due - start >= duration:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(paths[rng.randrange(len(paths))], due)))
        sent += 1
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not idle.empty():
        _reader, writer = idle.get_nowait()
        writer.close()
    ordered = sorted(latencies)
    return OpenLoopResult(
        target_rps=rate,
        sent=sent,
        achieved_rps=len(latencies) / elapsed if elapsed else 0.0,
        non2xx=bad,
        errors=errors,
        p50_ms=_percentile(ordered, 0.50) * 1000,
        p90_ms=_percentile(ordered, 0.90) * 1000,
        p99_ms=_percentile(ordered, 0.99) * 1000,
        max_ms=(ordered[-1] if ordered else 0.0) * 1000,
    )


def open_loop(
    base_url: str,
    *,
    paths: list[str],
    token: str,
    rate: float,
    duration: float,
    connections: int = 32,
) -> OpenLoopResult:
    """GET random ``paths`` at a fixed ``rate``; latency counted from each request's due time."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise ValueError("load is only ever sent to 127.0.0.1")
    host, port = base_url.removeprefix("http://").rstrip("/").split(":")
    return asyncio.run(_open_loop(host, int(port), paths, token, rate, duration, connections))
