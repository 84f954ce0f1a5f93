"""Child processes of a test: a Celery worker or gunicorn on this test run's own PostgreSQL test
database and Redis db, so they see the rows the (transactional) test committed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database Django uses now (in a test: test_<name>)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: this test's database and Redis db, test settings."""
    from django.conf import settings

    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "topleft.test_settings",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def celery_worker_argv(queues: str, *options: str) -> list[str]:
    """`celery worker` on `queues`, without the cluster chatter (gossip, mingle, heartbeat) a
    single test worker has no use for."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "topleft",
        "worker",
        "-Q",
        queues,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        *options,
    ]


class Proc:
    """A child process whose output is collected line by line (for readiness and measurements)."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.lines: list[str] = []
        self.popen = subprocess.Popen(
            argv,
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for line in self.lines[seen:]:
                if match := regex.search(line):
                    return match
            seen = len(self.lines)
            if self.popen.poll() is not None and seen == len(self.lines):
                break
            time.sleep(0.05)
        tail = "\n".join(self.lines[-40:])
        raise AssertionError(f"{pattern!r} not seen within {timeout}s (exit {self.popen.poll()}):\n{tail}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)


def start_worker(
    *, queues: str = "realtime", concurrency: int = 2, loglevel: str = "INFO", **env: str
) -> Proc:
    """A Celery worker (prefork) with collected output, once it says it is ready."""
    argv = celery_worker_argv(
        queues,
        "--concurrency",
        str(concurrency),
        "--loglevel",
        loglevel,
        "-n",
        f"realtime-test-{os.getpid()}@%h",
    )
    proc = Proc(argv, child_env(**env))
    proc.wait_for(r"ready\.", timeout=90)
    return proc


def start_web(*, workers: int = 2, threads: int = 4, **env: str) -> tuple[Proc, str]:
    """gunicorn on an ephemeral port; returns the process and its base URL."""
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "topleft.wsgi:application",
        "--bind",
        "127.0.0.1:0",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--log-level",
        "info",
    ]
    proc = Proc(argv, child_env(**env))
    match = proc.wait_for(r"Listening at: (http://127\.0\.0\.1:\d+)", timeout=60)
    proc.wait_for(r"Booting worker", timeout=60)
    return proc, match.group(1)
