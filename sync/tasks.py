"""Celery tasks of the tiered sync: thin, take ids, call the engine services.

Beat fires `dispatch_tier(tier)` per tier (schedule in sync/tiers.py). The dispatcher fans out
one task per enabled connection, so one slow or broken connection never delays the
others; that task runs the tier's entities one after another under the (connection, tier)
lease, which is what keeps a tier from overlapping itself. Notes are planned by one task per
connection and fetched by chunk tasks on the `notes` queue.

At-least-once delivery (acks late): every task is idempotent — a redelivered run re-lists and
re-upserts, and a duplicate finds the lease taken and does nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import current_app, shared_task
from django.conf import settings
from django.utils import timezone

from psa.providers import catalog_for, provider_names
from sync.models import Connection, SyncRun
from sync.tiers import NOTES, TASK_TIME_LIMIT_SECONDS, tier_entities, tier_get

logger = logging.getLogger("sync.tasks")

NOTES_CHUNK = 100  # parents per notes task: ~100 requests, a couple of minutes at most


def _enabled_connection_ids() -> list[int]:
    return list(
        Connection.objects.filter(enabled=True, provider__in=provider_names())
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@shared_task(name="sync.tasks.dispatch_tier", ignore_result=True)
def dispatch_tier(tier: str) -> int:
    """Fan out one task per enabled connection; returns how many were enqueued."""
    tier_get(tier)  # an unknown tier fails here, before anything is enqueued
    connection_ids = _enabled_connection_ids()
    # One producer (one broker connection and channel) for the whole fan-out: a thousand tenants
    # are a thousand publishes on it, not a thousand connection checkouts.
    with current_app.producer_or_acquire() as producer:
        for connection_id in connection_ids:
            connection_tier_enqueue(connection_id=connection_id, tier=tier, producer=producer)
    return len(connection_ids)


def connection_tier_enqueue(*, connection_id: int, tier: str, producer: Any = None) -> None:
    """Queue one run of `tier` for a connection on the tier's queue: the notes planner, or the
    tier task with the tier's own time limits (beat dispatcher and the status page's "sync now")."""
    tier_def = tier_get(tier)
    publish: dict[str, Any] = {"producer": producer} if producer is not None else {}
    if tier == NOTES:
        plan_notes.apply_async((connection_id,), queue=tier_def.queue, **publish)
        return
    sync_connection_tier.apply_async(
        (connection_id, tier),
        queue=tier_def.queue,
        time_limit=tier_def.time_limit_seconds,
        soft_time_limit=tier_def.time_limit_seconds - 60,
        **publish,
    )


@shared_task(
    name="sync.tasks.sync_connection_tier",
    ignore_result=True,
    # fallback limits for a manual enqueue; the dispatcher passes the tier's own
    time_limit=TASK_TIME_LIMIT_SECONDS,
    soft_time_limit=TASK_TIME_LIMIT_SECONDS - 60,
)
def sync_connection_tier(connection_id: int, tier: str, entity: str | None = None) -> None:
    from sync.engine.services import sync_tier

    if not Connection.objects.filter(pk=connection_id, enabled=True).exists():
        return  # disabled or removed since it was enqueued
    runs = sync_tier(connection_id=connection_id, tier=tier, entity=entity)
    failed = [run.entity for run in runs if run.status != "succeeded"]
    if failed:
        logger.warning("%s tier for connection %s: not succeeded: %s", tier, connection_id, failed)


@shared_task(
    name="sync.tasks.plan_notes",
    ignore_result=True,
    time_limit=TASK_TIME_LIMIT_SECONDS,
    soft_time_limit=TASK_TIME_LIMIT_SECONDS - 60,
)
def plan_notes(connection_id: int, changed_only: bool | None = None) -> int:
    """Cut the parents whose notes are due into chunk tasks; returns how many were enqueued."""
    from sync.engine.notes import notes_plan
    from sync.locks import tier_lease

    enqueued = 0
    with tier_lease(connection_id=connection_id, tier=NOTES) as lease:
        if lease is None:
            return 0
        connection = Connection.objects.get(pk=connection_id)
        entities = tier_entities(NOTES, catalog_for(connection))
        plan = notes_plan(connection_id=connection_id, entities=entities, changed_only=changed_only)
        for entity, parent_ids in plan.items():
            for start in range(0, len(parent_ids), NOTES_CHUNK):
                sync_notes_chunk.apply_async(
                    (connection_id, entity, parent_ids[start : start + NOTES_CHUNK]), queue="notes"
                )
                enqueued += 1
    return enqueued


@shared_task(
    name="sync.tasks.sync_notes_chunk",
    ignore_result=True,
    time_limit=TASK_TIME_LIMIT_SECONDS,
    soft_time_limit=TASK_TIME_LIMIT_SECONDS - 60,
)
def sync_notes_chunk(connection_id: int, entity: str, parent_ids: list[int]) -> None:
    from sync.engine.notes import sync_notes_parents

    connection = Connection.objects.filter(pk=connection_id, enabled=True).first()
    if connection is None:
        return  # disabled or removed since the plan was made
    sync_notes_parents(connection=connection, entity=entity, parent_ids=[int(i) for i in parent_ids])


@shared_task(name="sync.tasks.prune_sync_runs", ignore_result=True)
def prune_sync_runs() -> int:
    """Drop SyncRun history older than settings.SYNC_RUN_RETENTION_DAYS (the changes tier alone
    writes ~6,000 rows a day per connection); returns how many were deleted."""
    cutoff = timezone.now() - timedelta(days=settings.SYNC_RUN_RETENTION_DAYS)
    deleted, _ = SyncRun.objects.filter(started_at__lt=cutoff).exclude(status=SyncRun.Status.RUNNING).delete()
    return deleted


from sync import tasks_realtime  # noqa: E402,F401  realtime tasks (webhook refresh, write-back) for the worker
