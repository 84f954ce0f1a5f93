"""Resumable full runs at `large` scale (issue 12): a core run of the service tickets killed with
SIGKILL at about half of its listing, then run again. Prints `BENCH sync.resume ...`: the
resumed run's requests against a full run's (same run of the bench), the pages it had left,
how long the dead worker's lease held the rerun off, and both runs' wall time. Asserts only
that the work is right: the rerun resumed (requests = the pages left + the count), and the
mirror equals the sandbox.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.utils import timezone

from sync.models import Connection, SyncCheckpoint, SyncRun, TierLock
from tests.bench.conftest import ROOT, run_worker, worker_env
from tests.support.waiting import wait_until
from tests.sync.conftest import mirror_diff

pytestmark = pytest.mark.django_db(transaction=True)

ENTITY = "service_tickets"
PAGE = 1000


def _connection(sandbox) -> Connection:
    return Connection.objects.create(
        name="bench-resume",
        provider="connectwise",
        credentials=dict(sandbox.credentials),
        closed_ticket_retention_days=30,
    )


def _sync_argv(connection: Connection) -> list[str]:
    return [
        sys.executable,
        "manage.py",
        "sync",
        "--connection",
        connection.name,
        "--tier",
        "core",
        "--entity",
        ENTITY,
    ]


def _ticket_runs(connection: Connection):
    return SyncRun.objects.filter(connection=connection, tier="core", entity=ENTITY).order_by("id")


def _full_run(connection: Connection) -> tuple[SyncRun, float]:
    result = run_worker(*_sync_argv(connection)[2:])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    run = _ticket_runs(connection).last()
    assert run.status == "succeeded", run.error
    return run, result.wall_s


def _kill_at_half(connection: Connection, records: int) -> SyncRun:
    worker = subprocess.Popen(
        _sync_argv(connection),
        cwd=ROOT,
        env=worker_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(
            lambda: _ticket_runs(connection).filter(status="running", fetched__gte=records // 2).exists(),
            timeout=600,
            interval=0.05,
        )
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(30)
    return _ticket_runs(connection).get(status="running")


def test_it_resumes_a_killed_core_run_at_large_scale(large_sandbox):
    connection = _connection(large_sandbox)
    full, full_wall = _full_run(connection)
    killed = _kill_at_half(connection, full.fetched)

    killed_at = time.perf_counter()
    # What the killed run had committed by its last checkpoint (its `fetched` may count one more
    # page, upserted just before the kill and not checkpointed yet: that page is listed again).
    (listing,) = SyncCheckpoint.objects.get(connection=connection, entity=ENTITY).listings
    committed = listing["received"]
    wait_until(
        lambda: (
            not TierLock.objects.filter(
                connection=connection, tier="core", expires_at__gte=timezone.now()
            ).exists()
        ),
        timeout=300,
        interval=0.2,
    )
    lease_wait = time.perf_counter() - killed_at
    resumed, resumed_wall = _full_run(connection)

    pages_left = (full.fetched - committed) // PAGE + 1  # a short last page ends the listing
    print(
        f"\nBENCH sync.resume entity={ENTITY} records={full.fetched} killed_after={committed} "
        f"full_requests={full.requests} resumed_requests={resumed.requests} "
        f"pages_left={pages_left} (+1 count) full_wall_s={full_wall:.1f} resumed_wall_s={resumed_wall:.1f} "
        f"lease_takeover_wait_s={lease_wait:.1f}"
    )
    assert "resumed the listing of run" in resumed.error
    assert resumed.requests == pages_left + 1
    assert resumed.fetched == full.fetched - committed
    assert SyncRun.objects.get(pk=killed.pk).status == "failed"  # abandoned
    assert mirror_diff(large_sandbox, connection, entities=[ENTITY]) == []
