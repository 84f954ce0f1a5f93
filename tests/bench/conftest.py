"""Bench helpers: a large PSA sandbox in this process and sync "workers" in child processes.

The measured side (the sync) runs as `manage.py ...` child processes so its peak RSS and CPU are
its own; the sandbox serves them from this process over a real socket. Children talk to the same
PostgreSQL test database as the test (the test must use `transaction=True` so rows are committed)
and run with DEBUG off, like a production worker (DEBUG would keep every SQL query in memory).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# The worker reports its own peak RSS (VmHWM of its own memory map) when it ends. wait4's
# ru_maxrss is no good: the child is forked (vfork) from this process, which holds the sandbox,
# and Linux carries the parent's high-water mark into the child's ru_maxrss at exec (a `changes`
# worker fetching 185 records "peaked" at the sandbox's 730 MB).
_PEAK = re.compile(r"^BENCH_PEAK_RSS_KB (\d+)$\n?", re.MULTILINE)
_MEASURED = (
    "import runpy, sys\n"
    "sys.argv = ['manage.py', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_path('manage.py', run_name='__main__')\n"
    "finally:\n"
    "    peak = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]\n"
    "    print('BENCH_PEAK_RSS_KB', peak, file=sys.stderr, flush=True)\n"
)


def run_worker(*args: str, timeout: float = 1800, **env_extra: str) -> WorkerResult:
    """Run `manage.py <args>` in a worker process to completion: wall time and its own peak RSS."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args],
        cwd=ROOT,
        env=worker_env(**env_extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    wall = time.perf_counter() - started
    peak = _PEAK.search(done.stderr)
    rss_mb = int(peak.group(1)) / 1024 if peak else float("nan")
    return WorkerResult(done.returncode, wall, rss_mb, done.stdout, _PEAK.sub("", done.stderr))


def worker_json(code: str, *, timeout: float = 1800, **env: str) -> dict:
    """Run bench code in a worker process (`manage.py shell -c`); its last stdout line is JSON."""
    result = run_worker("shell", "-c", code, timeout=timeout, **env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return {
        **json.loads(result.stdout.strip().splitlines()[-1]),
        "wall_s": result.wall_s,
        "rss_mb": result.rss_mb,
    }


def sync_worker(connection: Any, tier: str) -> WorkerResult:
    """`manage.py sync` of one tier of `connection` in a worker process; it must succeed."""
    result = run_worker("sync", "--connection", connection.name, "--tier", tier)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


# --- figures and leftovers of the benches with real worker processes -------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def cpu_seconds(pids: Iterable[int]) -> float:
    """CPU time used so far by these processes and their children (process trees)."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in procs:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
    return total


def own_cpu_seconds() -> float:
    """CPU time of this process alone (the sandbox and the bench loop; not its children)."""
    import psutil

    return sum(psutil.Process().cpu_times()[:2])


def worker_quiet(worker: Any, quiet_seconds: float = 1.5, timeout: float = 120) -> None:
    """Wait until the worker has printed nothing for `quiet_seconds` (its backlog is done)."""
    deadline = time.monotonic() + timeout
    seen, quiet_since = len(worker.lines), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if len(worker.lines) != seen:
            seen, quiet_since = len(worker.lines), time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_seconds:
            return


def logs_keep(bench: str, procs: dict[str, Any]) -> None:
    """Each process's output in var/bench/<bench>/<name>.log, kept for a look after the run."""
    folder = ROOT / "var" / "bench" / bench
    folder.mkdir(parents=True, exist_ok=True)
    for name, proc in procs.items():
        (folder / f"{name}.log").write_text("\n".join(proc.lines))


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
