"""Celery tasks of the tiered sync: thin, take ids, call the engine services.

Beat fires `dispatch_tier(tier)` per tier (schedule and routing in sync/tiers.py). The dispatcher
fans out one task per enabled connection onto the tier's queue (the changes tier: the
connection's lane), leaving out connections backing off after failing runs and those whose
previous task is still waiting (sync/tasks_lanes.py). A tier task runs the tier's entities one
after another under the (connection, tier) lease, which keeps a tier from overlapping itself;
on the shared `sync` queue it also holds the (connection, queue) lease, so a connection never
occupies two slots of one queue. Notes are planned by one task per connection and fetched by a
chain of chunk tasks on the `notes` queue, one chunk of a connection at a time.

At-least-once delivery (acks late): every task is idempotent — a redelivered run re-lists and
re-upserts, and a duplicate finds the lease taken and does nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import current_app, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from psa.errors import PSAError
from psa.providers import catalog_for, provider_names
from sync.engine import clients
from sync.models import Connection, SyncRun
from sync.tasks_lanes import RunGuard, dispatch_plan, queue_for, queued_clear, run_finished, run_policy
from sync.tiers import (
    CHANGES,
    CHANGES_QUEUE,
    NOTES,
    NOTES_CHUNK_TIME_LIMIT_SECONDS,
    TASK_TIME_LIMIT_SECONDS,
    TIERS,
    tier_entities,
    tier_get,
)

logger = logging.getLogger("sync.tasks")

NOTES_CHUNK = 100  # parents per notes task: ~100 requests, a couple of minutes at most
NOTES_CHAIN_SECONDS = 2 * 3600  # a notes chain that stopped moving for this long is over
QUEUE_BUSY_RETRY_SECONDS = 30  # a full run waiting for its connection's slot of the queue asks again


def _enabled_connection_ids() -> list[int]:
    return list(
        Connection.objects.filter(enabled=True, provider__in=provider_names())
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@shared_task(name="sync.tasks.dispatch_tier", ignore_result=True, time_limit=120)
def dispatch_tier(tier: str) -> int:
    """Fan out one task per enabled connection that is due; returns how many were enqueued."""
    tier_get(tier)  # an unknown tier fails here, before anything is enqueued
    plan = dispatch_plan(tier=tier, connection_ids=_enabled_connection_ids())
    # One producer (one broker connection and channel) for the whole fan-out: a thousand tenants
    # are a thousand publishes on it, not a thousand connection checkouts.
    with current_app.producer_or_acquire() as producer:
        for connection_id, queue in plan:
            _tier_enqueue(connection_id=connection_id, tier=tier, queue=queue, producer=producer)
    return len(plan)


def connection_tier_enqueue(*, connection_id: int, tier: str, producer: Any = None) -> None:
    """Queue one run of `tier` for a connection now, on its lane (the status page's "sync now":
    an operator's request is not held back by the connection's backoff)."""
    _tier_enqueue(
        connection_id=connection_id,
        tier=tier,
        queue=queue_for(connection_id=connection_id, tier=tier),
        producer=producer,
    )


def _tier_enqueue(*, connection_id: int, tier: str, queue: str, producer: Any = None) -> None:
    """The notes planner, or the tier task with the tier's own time limits, on `queue`."""
    tier_def = tier_get(tier)
    publish: dict[str, Any] = {"producer": producer} if producer is not None else {}
    if tier == NOTES:
        plan_notes.apply_async((connection_id,), queue=queue, **publish)
        return
    sync_connection_tier.apply_async(
        (connection_id, tier),
        queue=queue,
        time_limit=tier_def.time_limit_seconds,
        soft_time_limit=tier_def.soft_time_limit_seconds,
        **publish,
    )


def _shares_its_queue(tier: str) -> bool:
    queue = tier_get(tier).queue
    return sum(1 for other in TIERS.values() if other.queue == queue) > 1


@shared_task(
    name="sync.tasks.sync_connection_tier",
    bind=True,
    ignore_result=True,
    max_retries=TASK_TIME_LIMIT_SECONDS // QUEUE_BUSY_RETRY_SECONDS + 2,
    # fallback limits for a manual enqueue; the dispatcher passes the tier's own
    time_limit=TASK_TIME_LIMIT_SECONDS,
    soft_time_limit=TASK_TIME_LIMIT_SECONDS - 60,
)
def sync_connection_tier(self: Any, connection_id: int, tier: str, entity: str | None = None) -> None:
    from sync.locks import queue_lease, tier_running

    queued_clear(connection_id=connection_id, tier=tier)
    connection = Connection.objects.filter(pk=connection_id, enabled=True).first()
    if connection is None:
        return  # disabled or removed since it was enqueued
    if not _shares_its_queue(tier):
        _tier_run(self, connection, tier, entity)
        return
    if tier_running(connection_id=connection_id, tier=tier):
        return  # a duplicate: the run it would repeat is in progress
    with queue_lease(connection_id=connection_id, queue=tier_get(tier).queue) as lease:
        if lease is None:  # the connection's other full tier holds its slot of this queue
            raise self.retry(countdown=QUEUE_BUSY_RETRY_SECONDS)
        _tier_run(self, connection, tier, entity)


def _tier_run(task: Any, connection: Connection, tier: str, entity: str | None) -> None:
    """Run the tier with its retry policy and the run guard, then record how it went (backoff,
    lane). A changes run delivered on the `changes` lane is stopped once it turns slow."""
    from sync.engine.services import sync_tier

    connection_id = connection.pk
    try:
        client = clients.client_for(connection, policy=run_policy(tier))
    except PSAError:
        client = None  # every run below records the error; the tier counts as failing
    delivery = getattr(task.request, "delivery_info", None) or {}
    guard = RunGuard(
        client,
        slow_after=settings.SYNC_CHANGES_LANE_SECONDS if tier == CHANGES else None,
        stop_when_slow=tier == CHANGES and delivery.get("routing_key") == CHANGES_QUEUE,
    )
    try:
        runs = sync_tier(
            connection_id=connection_id, tier=tier, entity=entity, client=guard if client else None
        )
    except SoftTimeLimitExceeded:
        run_finished(connection_id=connection_id, tier=tier, failed=guard.failed, slow=True)
        raise
    if not runs:
        return  # the tier was already running: nothing to learn from this task
    failed = client is None or guard.failed
    run_finished(connection_id=connection_id, tier=tier, failed=failed, slow=guard.slow)
    not_succeeded = [run.entity for run in runs if run.status != "succeeded"]
    if not_succeeded:
        logger.warning(
            "%s tier for connection %s: not succeeded: %s%s",
            tier,
            connection_id,
            not_succeeded,
            f" (stopped: {guard.stopped_for})" if guard.stopped_for else "",
        )


def _chain_key(connection_id: int) -> str:
    return f"sync:notes-chain:{connection_id}"


@shared_task(
    name="sync.tasks.plan_notes",
    ignore_result=True,
    time_limit=TASK_TIME_LIMIT_SECONDS,
    soft_time_limit=TASK_TIME_LIMIT_SECONDS - 60,
)
def plan_notes(connection_id: int, changed_only: bool | None = None) -> int:
    """Cut the parents whose notes are due into chunks and start their chain (one chunk of the
    connection on the notes queue at a time); returns how many chunks were planned."""
    from sync.engine.notes import notes_plan
    from sync.locks import tier_lease

    queued_clear(connection_id=connection_id, tier=NOTES)
    with tier_lease(connection_id=connection_id, tier=NOTES) as lease:
        if lease is None:
            return 0
        if not cache.add(_chain_key(connection_id), 1, NOTES_CHAIN_SECONDS):
            logger.info("connection %s: the previous notes chain is still running", connection_id)
            return 0
        connection = Connection.objects.get(pk=connection_id)
        entities = tier_entities(NOTES, catalog_for(connection))
        plan = notes_plan(connection_id=connection_id, entities=entities, changed_only=changed_only)
        chunks = [
            [entity, parent_ids[start : start + NOTES_CHUNK]]
            for entity, parent_ids in plan.items()
            for start in range(0, len(parent_ids), NOTES_CHUNK)
        ]
        _chain_next(connection_id, chunks)
    return len(chunks)


def _chain_next(connection_id: int, chunks: list[list[Any]]) -> None:
    """Enqueue the first of `chunks` carrying the rest, or end the connection's chain."""
    if not chunks:
        cache.delete(_chain_key(connection_id))
        return
    cache.set(_chain_key(connection_id), 1, NOTES_CHAIN_SECONDS)
    (entity, parent_ids), rest = chunks[0], chunks[1:]
    sync_notes_chunk.apply_async((connection_id, entity, parent_ids, rest), queue=tier_get(NOTES).queue)


@shared_task(
    name="sync.tasks.sync_notes_chunk",
    ignore_result=True,
    time_limit=NOTES_CHUNK_TIME_LIMIT_SECONDS,
    soft_time_limit=NOTES_CHUNK_TIME_LIMIT_SECONDS - 60,
)
def sync_notes_chunk(
    connection_id: int, entity: str, parent_ids: list[int], rest: list[list[Any]] | None = None
) -> None:
    """One chunk of a connection's notes; then the next chunk of its chain (`rest`)."""
    from sync.engine.notes import sync_notes_parents

    connection = Connection.objects.filter(pk=connection_id, enabled=True).first()
    if connection is None:
        cache.delete(_chain_key(connection_id))
        return  # disabled or removed since the plan was made
    try:
        sync_notes_parents(connection=connection, entity=entity, parent_ids=[int(i) for i in parent_ids])
    finally:  # a chunk that failed (or hit its soft time limit) still hands on to the next
        _chain_next(connection_id, list(rest or []))


@shared_task(name="sync.tasks.prune_sync_runs", ignore_result=True)
def prune_sync_runs() -> int:
    """Drop SyncRun history older than settings.SYNC_RUN_RETENTION_DAYS (the changes tier alone
    writes ~6,000 rows a day per connection); returns how many were deleted."""
    cutoff = timezone.now() - timedelta(days=settings.SYNC_RUN_RETENTION_DAYS)
    deleted, _ = SyncRun.objects.filter(started_at__lt=cutoff).exclude(status=SyncRun.Status.RUNNING).delete()
    return deleted


from sync import tasks_realtime  # noqa: E402,F401  realtime tasks (webhook refresh, write-back) for the worker
