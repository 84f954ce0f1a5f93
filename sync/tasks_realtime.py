"""Celery tasks on the `realtime` queue: webhook refreshes and write-back pushes. Thin: they
take ids, call a service and own the retries."""

from __future__ import annotations

import logging

from celery import shared_task

from psa.errors import RetryableError

logger = logging.getLogger("sync.tasks_realtime")

QUEUE = "realtime"
REFRESH_RETRIES = 5
PUSH_RETRIES = 3


def enqueue_refresh(*, connection_id: int, kind: str, psa_id: int, hint: str = "", countdown: float = 0,
                    burst_started: float | None = None) -> None:
    refresh_record.apply_async((connection_id, kind, psa_id, hint, burst_started), queue=QUEUE,
                               countdown=countdown or None)


def enqueue_push(entry_id: int) -> None:
    push_outbox_entry.apply_async((entry_id,), queue=QUEUE)


@shared_task(name="sync.realtime.refresh_record", bind=True, ignore_result=True,
             max_retries=REFRESH_RETRIES, time_limit=300, soft_time_limit=240)
def refresh_record(self, connection_id: int, kind: str, psa_id: int, hint: str = "",
                   burst_started: float | None = None) -> str:
    from sync.refresh import refresh_run_coalesced

    try:
        return refresh_run_coalesced(connection_id=connection_id, kind=kind, psa_id=psa_id, hint=hint,
                                     enqueue=enqueue_refresh, burst_started=burst_started)
    except RetryableError as err:
        # The client already retried with backoff; try again later rather than lose the change.
        logger.warning("refresh %s %s of connection %s failed, will retry: %s", kind, psa_id, connection_id, err)
        raise self.retry(countdown=min(60 * 2 ** self.request.retries, 600)) from err


@shared_task(name="sync.realtime.push_outbox_entry", bind=True, ignore_result=True,
             max_retries=PUSH_RETRIES, time_limit=120, soft_time_limit=90)
def push_outbox_entry(self, entry_id: int) -> str:
    from sync.outbox import outbox_push

    outcome = outbox_push(entry_id=entry_id)
    if outcome == "retry" and self.request.retries < PUSH_RETRIES:
        raise self.retry(countdown=2 * 2 ** self.request.retries)
    return outcome


@shared_task(name="sync.realtime.sweep_outbox", ignore_result=True, time_limit=120)
def sweep_outbox() -> int:
    from sync.outbox import outbox_sweep

    return outbox_sweep(enqueue=enqueue_push)
