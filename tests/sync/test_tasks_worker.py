"""A real Celery worker subprocess: a tier run killed with SIGKILL never loses an update.

The worker runs against this test's PostgreSQL database (committed rows: transactional test)
and the test's Redis broker; the PSA sandbox serves from this process over a real socket.
"""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from boards.models import Opportunity, Ticket
from psa.sandbox.connectwise.server import SandboxServer
from sync.engine.services import sync_tier
from sync.engine.watermarks import watermark_get
from sync.models import SyncRun, TierLock
from tests.support.processes import ROOT, celery_worker_argv, child_env
from tests.support.waiting import wait_until
from tests.sync.conftest import mirror_diff, sandbox_connection

TICKETS = "service/tickets"


def _start_worker(log_path: Path, lock_ttl: int) -> subprocess.Popen:
    return subprocess.Popen(
        celery_worker_argv("sync,notes", "-P", "solo", "-l", "info", "-n", f"killme-{os.getpid()}"),
        cwd=ROOT,
        env=child_env(SYNC_LOCK_TTL_SECONDS=str(lock_ttl)),
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_for(predicate, timeout: float, what: str, log_path: Path) -> None:
    try:
        wait_until(predicate, timeout, interval=0.1)
    except AssertionError:
        raise AssertionError(
            f"timed out waiting for {what}; worker log:\n{log_path.read_text()[-3000:]}"
        ) from None


def _lease_expired(connection, tier: str) -> bool:
    """The dead worker's lease on `tier` can be claimed: what `lock_claim` checks, on our clock."""
    return not TierLock.objects.filter(
        connection=connection, tier=tier, expires_at__gte=timezone.now()
    ).exists()


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@pytest.mark.slow
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis as the Celery broker")
@pytest.mark.django_db(transaction=True)
def test_it_converges_after_a_worker_is_killed_mid_run(tmp_path, fast_client):
    from sync.tasks import sync_connection_tier
    from topleft.celery import app

    with SandboxServer(scale="small", seed=3) as sandbox:
        connection = sandbox_connection(sandbox)
        seeded = sync_tier(connection_id=connection.pk, tier="core")
        assert all(run.status == "succeeded" for run in seeded)
        watermark_before = watermark_get(connection_id=connection.pk, entity="service_tickets")

        # Changes the killed run must not lose: edits on tickets across the id range.
        ticket_ids = [t["id"] for t in sandbox.store.list(TICKETS) if not t.get("closedFlag")]
        edited = ticket_ids[::25]
        for ticket_id in edited:
            sandbox.store.update(TICKETS, ticket_id, {"summary": f"edited {ticket_id}"})
        # Slow answers so the kill lands in the middle of the tier.
        sandbox.faults = "latency_ms=400"

        app.control.purge()
        log_path = tmp_path / "worker.log"
        worker = _start_worker(log_path, lock_ttl=3)
        try:
            sync_connection_tier.apply_async((connection.pk, "changes"), queue="sync")
            # Kill while the ticket listing is in flight (each answer takes 400 ms).
            _wait_for(
                lambda: SyncRun.objects.filter(
                    connection=connection, tier="changes", entity="service_tickets", status="running"
                ).exists(),
                90,
                "the worker to reach the ticket listing",
                log_path,
            )
            _kill(worker)  # at once: each answer takes 400 ms, the listing is still in flight
        finally:
            _kill(worker)

        killed = SyncRun.objects.filter(connection=connection, tier="changes", status="running")
        assert list(killed.values_list("entity", flat=True)) == ["service_tickets"]  # died mid-run
        # A killed run never moves the watermark of what it was working on.
        assert watermark_get(connection_id=connection.pk, entity="service_tickets") == watermark_before
        assert Ticket.objects.filter(connection=connection, summary__startswith="edited").count() < len(
            edited
        )

        # The lease of the dead worker frees itself; the next run converges.
        sandbox.faults = None
        wait_until(lambda: _lease_expired(connection, "changes"), timeout=30)
        runs = sync_tier(connection_id=connection.pk, tier="changes")
        assert runs and all(run.status == "succeeded" for run in runs)
        killed_run = SyncRun.objects.get(
            connection=connection, tier="changes", entity="service_tickets", started_at__lt=runs[0].started_at
        )
        assert killed_run.status == "failed" and "abandoned" in killed_run.error
        assert Ticket.objects.filter(connection=connection, summary__startswith="edited").count() == len(
            edited
        )
        assert mirror_diff(sandbox, connection, entities=["service_tickets", "project_tickets"]) == []
        assert watermark_get(connection_id=connection.pk, entity="service_tickets") > watermark_before
        assert timezone.now() - watermark_get(
            connection_id=connection.pk, entity="service_tickets"
        ) < timedelta(minutes=10)


@pytest.mark.slow
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis as the Celery broker")
@pytest.mark.django_db(transaction=True)
def test_it_runs_dispatched_tiers_and_notes_chunks_on_a_real_worker(tmp_path):
    from sync.tasks import dispatch_tier
    from topleft.celery import app

    with SandboxServer(scale="small", seed=4) as sandbox:
        connection = sandbox_connection(sandbox)
        app.control.purge()
        log_path = tmp_path / "worker.log"
        worker = _start_worker(log_path, lock_ttl=60)
        try:
            dispatch_tier("core")  # the fan-out, here; the runs on the worker
            _wait_for(
                lambda: (
                    SyncRun.objects.filter(connection=connection, tier="core", status="succeeded").count()
                    == 8
                ),
                60,
                "the core tier to finish on the worker",
                log_path,
            )
            dispatch_tier("notes")
            notes = SyncRun.objects.filter(connection=connection, tier="notes")
            # 239 service tickets → 3 chunks of 100, project tickets 1, opportunities 2
            _wait_for(
                lambda: (
                    notes.count() >= 4
                    and not notes.filter(status="running").exists()
                    and not Ticket.objects.filter(
                        connection=connection, notes_synced_at__isnull=True
                    ).exists()
                    and not Opportunity.objects.filter(
                        connection=connection, notes_synced_at__isnull=True
                    ).exists()
                ),
                90,
                "the notes chunks to finish on the worker",
                log_path,
            )
        finally:
            _kill(worker)
        assert set(notes.values_list("status", flat=True)) == {"succeeded"}
        assert mirror_diff(sandbox, connection, entities=["service_notes", "opportunity_notes"]) == []
        assert mirror_diff(sandbox, connection, entities=["service_tickets", "members", "companies"]) == []
