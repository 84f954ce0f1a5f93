"""Real Celery workers on Redis: a tenant whose PSA is slow (2 s per answer) or failing delays a
healthy tenant's changes run by at most one task slot, once; after that it runs on the slow lane
(the bulk pool) and the healthy tenant's changes run no longer waits for it at all.

One `changes` worker process and one bulk worker process (`sync,notes,slow`), like the Procfile
pools at concurrency 1; the lane budget is compressed to 3 s (SYNC_CHANGES_LANE_SECONDS).
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.utils import timezone

from boards.models import Ticket
from psa.sandbox.connectwise import SandboxServer
from sync.locks import tier_running
from sync.models import Connection, SyncRun
from sync.tasks_lanes import health_get
from tests.support.processes import Proc, celery_worker_argv, child_env
from tests.support.waiting import wait_until
from tests.sync.conftest import changes_watermarked, sandbox_connection

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis as the Celery broker"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
]

TICKETS = "service/tickets"
LANE_SECONDS = 3
BAD_FAULTS = {
    "slow": "latency_ms=2000",  # 21 requests: 42 s per changes run
    "failing": "500=1,latency_ms=1000",  # every request fails, each after 3 attempts (~6 s)
}


def _worker(queues: str, name: str) -> Proc:
    argv = celery_worker_argv(
        queues, "--concurrency", "1", "--loglevel", "INFO", "-n", f"{name}-{os.getpid()}@%h"
    )
    proc = Proc(argv, child_env(SYNC_CHANGES_LANE_SECONDS=str(LANE_SECONDS)))
    proc.wait_for(r"ready\.", timeout=90)
    return proc


def _edit(sandbox: SandboxServer, connection: Connection, text: str) -> int:
    ticket_id = next(t["id"] for t in sandbox.store.list(TICKETS) if not t.get("closedFlag"))
    sandbox.store.update(TICKETS, ticket_id, {"summary": text})
    return ticket_id


def _mirrored(connection: Connection, ticket_id: int, text: str) -> bool:
    return Ticket.objects.filter(connection=connection, psa_id=ticket_id, summary=text).exists()


def _changes_runs(connection: Connection):
    return SyncRun.objects.filter(connection=connection, tier="changes")


def _running(connection: Connection) -> bool:
    return tier_running(connection_id=connection.pk, tier="changes")


@pytest.mark.parametrize("kind", sorted(BAD_FAULTS))
def test_it_delays_a_healthy_tenant_by_one_slot_once_then_never(kind):
    from sync.tasks import dispatch_tier
    from topleft.celery import app

    with SandboxServer(scale="small", seed=11) as bad_psa, SandboxServer(scale="small", seed=12) as good_psa:
        bad_psa.faults = BAD_FAULTS[kind]
        bad = sandbox_connection(bad_psa, name="bad")  # first: dispatched ahead of the healthy one
        good = sandbox_connection(good_psa, name="good")
        changes_watermarked(bad, good, since=timezone.now() - timezone.timedelta(minutes=1))
        app.control.purge()
        changes_worker = _worker("changes", "changes")
        bulk_worker = _worker("sync,notes,slow", "bulk")
        try:
            # Round 1: both on the changes lane, one slot, the bad tenant first.
            first = _edit(good_psa, good, "round 1")
            assert dispatch_tier("changes") == 2
            wait_until(lambda: _mirrored(good, first, "round 1"), timeout=120, interval=0.1)
            wait_until(lambda: not _running(bad), timeout=60, interval=0.1)
            bad_runs = list(_changes_runs(bad))
            # The bad tenant gave the slot up early: most of its entities were not even asked for.
            stopped = [run for run in bad_runs if "not asked" in run.error]
            assert len(stopped) >= len(bad_runs) - 8, [run.error for run in bad_runs]
            assert max(run.finished_at for run in bad_runs) <= min(
                run.started_at for run in _changes_runs(good)
            )  # one slot: the healthy run waited for it, once
            assert health_get(connection_id=bad.pk, tier="changes").slow
            assert not health_get(connection_id=good.pk, tier="changes").slow

            # Round 2: the bad tenant on the slow lane, the healthy one never waits for it.
            second = _edit(good_psa, good, "round 2")
            started = timezone.now()
            assert dispatch_tier("changes") == 2
            wait_until(lambda: _running(bad), timeout=60, interval=0.05)
            wait_until(lambda: _mirrored(good, second, "round 2"), timeout=120, interval=0.1)
            assert _running(bad), "the healthy tenant's run waited for the bad tenant's"
            assert _changes_runs(bad).filter(started_at__gte=started).exists()
            wait_until(lambda: not _running(good), timeout=60, interval=0.1)
        finally:
            changes_worker.stop()
            bulk_worker.stop()
        good_round_2 = _changes_runs(good).filter(started_at__gte=started)
        assert set(good_round_2.values_list("status", flat=True)) == {"succeeded"}
