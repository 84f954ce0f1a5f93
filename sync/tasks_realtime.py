"""Celery tasks on the `realtime` queue: webhook refreshes and write-back pushes. Thin: they
take ids, call a service and own the retries."""

from __future__ import annotations

import random

from celery import shared_task

from sync.tiers import REALTIME  # routing: sync/tiers.py

PUSH_RETRIES = 3
BUSY_RETRIES = 60  # then the outbox sweeper (every minute) sends it
BUSY_COUNTDOWN = 0.5


def enqueue_refresh(*, connection_id: int, countdown: float = 0) -> None:
    refresh_connection.apply_async((connection_id,), queue=REALTIME, countdown=countdown)


def enqueue_push(entry_id: int) -> None:
    push_outbox_entry.apply_async((entry_id,), queue=REALTIME)


@shared_task(
    name="sync.tasks_realtime.refresh_connection", ignore_result=True, time_limit=300, soft_time_limit=240
)
def refresh_connection(connection_id: int) -> dict:
    """Drain the connection's coalesced refresh queue (retries are handled by the drain)."""
    from sync.refresh_queue import refresh_drain

    return refresh_drain(connection_id=connection_id, enqueue=enqueue_refresh)


@shared_task(
    name="sync.tasks_realtime.push_outbox_entry",
    bind=True,
    ignore_result=True,
    max_retries=PUSH_RETRIES,
    time_limit=120,
    soft_time_limit=90,
)
def push_outbox_entry(self, entry_id: int) -> str:
    from sync.outbox import outbox_push

    outcome = outbox_push(entry_id=entry_id)
    if outcome == "retry" and self.request.retries < PUSH_RETRIES:
        raise self.retry(countdown=2 * 2**self.request.retries)
    if outcome == "busy" and self.request.retries < BUSY_RETRIES:
        # Its connection's other pushes are in flight: ask again soon, without holding a slot.
        raise self.retry(countdown=BUSY_COUNTDOWN + random.random(), max_retries=BUSY_RETRIES)
    return outcome


@shared_task(name="sync.tasks_realtime.sweep_outbox", ignore_result=True, time_limit=120)
def sweep_outbox() -> int:
    """Re-send stuck write-backs, and hand webhook refreshes stored while Redis was down back to
    the coalescing queue (both are "realtime work that missed the broker")."""
    from sync.outbox import outbox_sweep
    from sync.refresh_fallback import pending_refresh_replay

    pending_refresh_replay(enqueue=enqueue_refresh)
    return outbox_sweep(enqueue=enqueue_push)
