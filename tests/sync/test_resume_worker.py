"""A real Celery worker SIGKILLed in the middle of a core run: the next run resumes from the
last committed page (sync/engine/checkpoint.py) once the dead worker's lease is taken over.

The `medium` sandbox gives the service tickets several pages of 1000; slow answers keep the
listing in flight until the kill, which comes once two pages are committed (a checkpoint
condition, not a time).
"""

from __future__ import annotations

import pytest
from django.conf import settings

from psa.sandbox.connectwise.server import SandboxServer
from sync.engine.services import sync_tier
from sync.models import SyncCheckpoint, SyncRun
from tests.support.waiting import wait_until
from tests.sync.conftest import mirror_diff, sandbox_connection
from tests.sync.test_tasks_worker import _kill, _lease_expired, _start_worker, _wait_for

ENTITY = "service_tickets"


def _committed(connection) -> int:
    checkpoint = SyncCheckpoint.objects.filter(connection=connection, entity=ENTITY).first()
    return checkpoint.listings[0]["received"] if checkpoint else 0


@pytest.mark.slow
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis as the Celery broker")
@pytest.mark.django_db(transaction=True)
def test_it_resumes_a_core_run_whose_worker_was_killed(tmp_path, fast_client):
    from sync.tasks import sync_connection_tier
    from topleft.celery import app

    with SandboxServer(scale="medium", seed=5) as sandbox:
        connection = sandbox_connection(sandbox)
        sandbox.faults = "latency_ms=300"
        app.control.purge()
        log_path = tmp_path / "worker.log"
        worker = _start_worker(log_path, lock_ttl=3)
        try:
            sync_connection_tier.apply_async((connection.pk, "core", ENTITY), queue="sync")
            _wait_for(lambda: _committed(connection) >= 2000, 120, "two committed pages", log_path)
            _kill(worker)
        finally:
            _kill(worker)
        committed = _committed(connection)
        killed = SyncRun.objects.get(connection=connection, entity=ENTITY, status="running")

        sandbox.faults = None
        wait_until(lambda: _lease_expired(connection, "core"), timeout=30)
        (resumed,) = sync_tier(connection_id=connection.pk, tier="core", entity=ENTITY)
        assert resumed.status == "succeeded", resumed.error
        assert "resumed the listing of run" in resumed.error
        # Only what the killed run had not committed: the pages left (a short last one) + the count.
        assert resumed.requests == resumed.fetched // 1000 + 2
        assert SyncRun.objects.get(pk=killed.pk).status == "failed"  # abandoned
        assert mirror_diff(sandbox, connection, entities=[ENTITY]) == []
        (full,) = sync_tier(connection_id=connection.pk, tier="core", entity=ENTITY)
        assert full.fetched == committed + resumed.fetched and "resumed" not in full.error
