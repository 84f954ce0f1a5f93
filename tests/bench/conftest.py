"""Bench helpers: a large PSA sandbox in this process and sync "workers" in child processes.

The measured side (the sync) runs as `manage.py ...` child processes so its peak RSS and CPU are
its own; the sandbox serves them from this process over a real socket. Children talk to the same
PostgreSQL test database as the test (the test must use `transaction=True` so rows are committed)
and run with DEBUG off, like a production worker (DEBUG would keep every SQL query in memory).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class WorkerResult:
    returncode: int
    wall_s: float
    rss_mb: float
    stdout: str
    stderr: str


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a production-like worker on the test database."""
    from django.conf import settings

    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_SETTINGS_MODULE="topleft.settings",
        DEBUG="0",
        DATABASE_URL=_database_url(),
        SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEY=settings.FIELD_ENCRYPTION_KEY,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_worker(*args: str, timeout: float = 1800, **env_extra: str) -> WorkerResult:
    """Run `manage.py <args>` to completion; wall time and that child's own peak RSS (wait4)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=worker_env(**env_extra),
            stdout=out,
            stderr=err,
        )
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return WorkerResult(process.returncode, wall, usage.ru_maxrss / 1024, out.read(), err.read())


@pytest.fixture(scope="module")
def large_sandbox():
    """ConnectWise sandbox at `large` scale with its real 1000 requests/minute limit."""
    from psa.sandbox.connectwise import SandboxServer

    started = time.perf_counter()
    sandbox = SandboxServer(scale="large", seed=1).start()
    print(
        f"\nBENCH sandbox.large generated_s={time.perf_counter() - started:.1f} "
        f"records={sandbox.record_counts()} cpus={os.cpu_count()} "
        f"loadavg_1m={os.getloadavg()[0]:.2f} (other work on the machine skews every figure)"
    )
    yield sandbox
    sandbox.stop()
