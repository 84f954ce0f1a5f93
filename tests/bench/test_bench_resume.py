"""Resumable full runs at `large` scale (issue 12): the core tier (what one Celery task runs)
SIGKILLed at about half of the service tickets' listing, then run again, as a redelivered task
or the next beat would. Prints `BENCH sync.resume ...`: the rerun's requests against a full
run's in the same bench run (the whole tier and the tickets alone), the ticket pages it had
left, how long the dead worker's lease held the rerun off, and the wall times. Asserts only
that the work is right: the rerun skipped the entities the killed run had finished, resumed the
tickets (requests = the pages left + the count), and the mirror equals the sandbox.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.utils import timezone

from psa.catalog import CORE
from psa.connectwise.catalog import CATALOG
from sync.models import Connection, SyncCheckpoint, SyncRun, TierLock
from tests.bench.conftest import ROOT, run_worker, worker_env
from tests.support.waiting import wait_until
from tests.sync.conftest import mirror_diff

pytestmark = pytest.mark.django_db(transaction=True)

CORE_ENTITIES = CATALOG.tier_entities(CORE)
TICKETS = "service_tickets"
PAGE = 1000


def _connection(sandbox) -> Connection:
    return Connection.objects.create(
        name="bench-resume",
        provider="connectwise",
        credentials=dict(sandbox.credentials),
        closed_ticket_retention_days=30,
    )


def _core_argv(connection: Connection) -> list[str]:
    return ["sync", "--connection", connection.name, "--tier", "core"]


def _runs_since(connection: Connection, first_id: int) -> list[SyncRun]:
    return list(SyncRun.objects.filter(connection=connection, tier="core", id__gt=first_id).order_by("id"))


def _last_id() -> int:
    last = SyncRun.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0


def _tier_run(connection: Connection) -> tuple[list[SyncRun], float]:
    before = _last_id()
    result = run_worker(*_core_argv(connection))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    runs = _runs_since(connection, before)
    assert all(run.status == "succeeded" for run in runs), [(run.entity, run.error) for run in runs]
    return runs, result.wall_s


def _kill_at_half_of_the_tickets(connection: Connection, tickets: int) -> None:
    worker = subprocess.Popen(
        [sys.executable, "manage.py", *_core_argv(connection)],
        cwd=ROOT,
        env=worker_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    running = SyncRun.objects.filter(connection=connection, entity=TICKETS, status="running")
    try:
        wait_until(lambda: running.filter(fetched__gte=tickets // 2).exists(), timeout=900, interval=0.05)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(30)


def _tickets(runs: list[SyncRun]) -> SyncRun:
    return next(run for run in runs if run.entity == TICKETS)


def test_it_resumes_a_killed_core_tier_at_large_scale(large_sandbox):
    connection = _connection(large_sandbox)
    full_runs, full_wall = _tier_run(connection)
    full_tickets = _tickets(full_runs)

    _kill_at_half_of_the_tickets(connection, full_tickets.fetched)
    killed_at = time.perf_counter()
    # What the killed run had committed by its last checkpoint (its `fetched` may count one more
    # page, upserted just before the kill and not checkpointed yet: that page is listed again).
    (listing,) = SyncCheckpoint.objects.get(connection=connection, entity=TICKETS).listings
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
    rerun, rerun_wall = _tier_run(connection)
    resumed = _tickets(rerun)

    pages_left = (full_tickets.fetched - committed) // PAGE + 1  # a short last page ends the listing
    print(
        f"\nBENCH sync.resume tier=core full_requests={sum(r.requests for r in full_runs)} "
        f"rerun_requests={sum(r.requests for r in rerun)} full_wall_s={full_wall:.1f} rerun_wall_s={rerun_wall:.1f} "
        f"rerun_entities={','.join(r.entity for r in rerun)} lease_takeover_wait_s={lease_wait:.1f}"
        f"\nBENCH sync.resume entity={TICKETS} records={full_tickets.fetched} killed_after={committed} "
        f"full_requests={full_tickets.requests} resumed_requests={resumed.requests} "
        f"pages_left={pages_left} (+1 count)"
    )
    assert [run.entity for run in rerun] == list(CORE_ENTITIES[CORE_ENTITIES.index(TICKETS) :])
    assert "resumed the listing of run" in resumed.error
    assert resumed.requests == pages_left + 1
    assert resumed.fetched == full_tickets.fetched - committed
    assert mirror_diff(large_sandbox, connection, entities=list(CORE_ENTITIES)) == []
