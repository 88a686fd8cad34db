"""What the benchmark ran on, and how much memory the server processes hold."""

import os
import platform
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _command_version(*command: str) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "missing"
    return (
        (result.stdout or result.stderr).strip().splitlines()[0] if result.returncode == 0 else "?"
    )


def machine_info(postgres_version: str | None = None) -> dict[str, Any]:
    """Cores, CPU model, memory and the versions that shape the numbers."""
    memory_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    except OSError:
        pass
    packages = {}
    for name in ("flask", "flask-smorest", "marshmallow", "sqlalchemy", "psycopg", "gunicorn"):
        try:
            packages[name] = version(name)
        except Exception:  # noqa: BLE001 - a missing package is reported, not fatal
            packages[name] = "missing"
    return {
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_mib": memory_kib // 1024,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "postgresql": postgres_version,
        "wrk": _command_version("wrk", "--version"),
        "packages": packages,
    }


def rss_kib(pid: int) -> int | None:
    """Resident memory of one process (VmRSS in /proc), or None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (gunicorn's workers under its arbiter)."""
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        children: list[int] = []
        for task in tasks:
            text = (task / "children").read_text().split()
            children.extend(int(child) for child in text)
        return sorted(children)
    except OSError:
        return []


def workers_rss_kib(arbiter_pid: int) -> dict[int, int]:
    """RSS of each gunicorn worker of an arbiter."""
    sizes = {}
    for pid in child_pids(arbiter_pid):
        size = rss_kib(pid)
        if size is not None:
            sizes[pid] = size
    return sizes
