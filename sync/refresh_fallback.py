"""Durable hand-off of webhook refreshes when Redis is down.

The coalescing queue (sync/refresh_queue.py) lives in Redis. A signed callback that arrives while Redis
is unreachable must not be lost, and must not be answered with a 500 either: the receiver stores
the request in PostgreSQL (PendingRefresh) and answers 2xx; only when PostgreSQL fails as well does
it answer a retryable 503, which the PSA retries. The realtime sweeper replays stored rows into the
queue once Redis answers again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

from sync import refresh_queue
from sync.models import PendingRefresh

logger = logging.getLogger("sync.refresh")

QUEUED = "queued"  # in the Redis coalescing queue
STORED = "stored"  # in PostgreSQL, replayed by the sweeper
REPLAY_BATCH = 1000


def refresh_request_durably(
    *, connection_id: int, kind: str, psa_id: int, hint: str, enqueue: Callable[..., None]
) -> str:
    """Queue the refresh in Redis, or store it in PostgreSQL when Redis fails. Returns QUEUED or
    STORED; a database error (PostgreSQL down too) propagates, so the caller can answer 503."""
    try:
        refresh_queue.refresh_request(
            connection_id=connection_id, kind=kind, psa_id=psa_id, hint=hint, enqueue=enqueue
        )
        return QUEUED
    except Exception as exc:  # redis-py, kombu and the cache backend raise several types
        logger.warning(
            "connection=%s refresh of %s %s kept in PostgreSQL: the queue is unreachable (%s)",
            connection_id,
            kind,
            psa_id,
            exc.__class__.__name__,
        )
    PendingRefresh.objects.create(connection_id=connection_id, kind=kind, psa_id=psa_id, hint=hint)
    return STORED


def pending_refresh_replay(*, enqueue: Callable[..., None], batch: int = REPLAY_BATCH) -> int:
    """Hand stored refreshes to the coalescing queue, oldest first; stops at the first failure
    (Redis still down) and leaves the rest for the next sweep. Returns how many were handed over."""
    handed: list[int] = []
    with transaction.atomic():
        # skip_locked: two sweepers never hand over the same rows (a duplicate would be harmless,
        # the queue coalesces, but it would cost a PSA request).
        rows = list(PendingRefresh.objects.select_for_update(skip_locked=True).order_by("id")[:batch])
        for row in rows:
            try:
                refresh_queue.refresh_request(
                    connection_id=row.connection_id,
                    kind=row.kind,
                    psa_id=row.psa_id,
                    hint=row.hint,
                    enqueue=enqueue,
                )
            except Exception as exc:
                logger.warning(
                    "stored refreshes wait: the queue is still unreachable (%s)", exc.__class__.__name__
                )
                break
            handed.append(row.pk)
        PendingRefresh.objects.filter(pk__in=handed).delete()
    return len(handed)
