"""End to end with real processes: a Celery worker on Redis (`-Q realtime`) pushing outbox
entries and running webhook refreshes against the PSA sandbox, on this test's database.

The process helpers here are also used by tests/bench/test_bench_realtime.py.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

ROOT = Path(__file__).resolve().parents[2]


class Proc:
    """A child process whose output is collected line by line (for readiness and measurements)."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.lines: list[str] = []
        self.popen = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, bufsize=1, start_new_session=True)
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


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: this test's database (test_<name>) and Redis db."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "REDIS_URL": settings.REDIS_URL, "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "topleft.test_settings", "PYTHONUNBUFFERED": "1", **extra}


def start_worker(*, queues: str = "realtime", concurrency: int = 2, loglevel: str = "INFO", **env: str) -> Proc:
    argv = [sys.executable, "-m", "celery", "-A", "topleft", "worker", "-Q", queues, "--concurrency",
            str(concurrency), "--loglevel", loglevel, "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", f"realtime-test-{os.getpid()}@%h"]
    proc = Proc(argv, child_env(**env))
    proc.wait_for(r"ready\.", timeout=90)
    return proc


def start_web(*, workers: int = 2, threads: int = 4, **env: str) -> tuple[Proc, str]:
    """gunicorn on an ephemeral port; returns the process and its base URL."""
    argv = [sys.executable, "-m", "gunicorn", "topleft.wsgi:application", "--bind", "127.0.0.1:0",
            "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
            "--log-level", "info"]
    proc = Proc(argv, child_env(**env))
    match = proc.wait_for(r"Listening at: (http://127\.0\.0\.1:\d+)", timeout=60)
    proc.wait_for(r"Booting worker", timeout=60)
    return proc, match.group(1)


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


# --- the test ---------------------------------------------------------------------------------------

pytestmark = pytest.mark.slow


@pytest.fixture
def sandbox():
    from psa.sandbox.server import SandboxServer

    server = SandboxServer(scale="small", seed=1, activity_per_second=0).start()
    yield server
    server.stop()


@pytest.fixture
def sandbox_connection(transactional_db, sandbox):
    from sync.models import Connection

    cache.clear()  # also empties this Redis db's broker queues left by earlier runs
    return Connection.objects.create(name="sandbox", **sandbox.credentials)


@pytest.fixture
def worker(sandbox_connection):
    proc = start_worker()
    yield proc
    proc.stop()


def test_it_pushes_and_refreshes_through_a_real_worker(sandbox, sandbox_connection, worker):
    from boards.models import Ticket
    from sync import refresh, writeback
    from sync.models import OutboxEntry
    from sync.tasks_realtime import enqueue_refresh

    record = next(t for t in sandbox.store.list("service/tickets") if not t.get("closedFlag"))
    refresh.record_refresh(connection_id=sandbox_connection.pk, kind="ticket", psa_id=record["id"])
    ticket = Ticket.objects.get(connection=sandbox_connection, psa_id=record["id"])
    statuses = sandbox.store.list("service/boards/{parentId}/statuses", parent_id=record["board"]["id"])
    target = next(s for s in statuses if s["id"] != record["status"]["id"] and not s.get("closedStatus"))

    # write-back: service → on_commit enqueue → worker → PSA
    entry = writeback.ticket_change_status(ticket=ticket, status_psa_id=target["id"])
    wait_until(lambda: sandbox.store.get("service/tickets", record["id"])["status"]["id"] == target["id"])
    wait_until(lambda: OutboxEntry.objects.get(pk=entry.pk).state == "done")

    # webhook refresh: a change made in the PSA reaches the mirror through the worker
    sandbox.store.update("service/tickets", record["id"], {"summary": "Changed in the PSA"}, skip_callback=True)
    refresh.refresh_request(connection_id=sandbox_connection.pk, kind="ticket", psa_id=record["id"],
                            enqueue=enqueue_refresh)
    wait_until(lambda: Ticket.objects.get(pk=ticket.pk).summary == "Changed in the PSA")
