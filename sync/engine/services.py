"""The engine's public services (other helpers call these: status page, webhooks, demo)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from django.utils import timezone

from psa.errors import PSAError
from psa.providers import PSAClient, catalog_for
from sync.engine import clients
from sync.engine.checkpoint import tier_resume_plan
from sync.engine.ingest import PageIngest
from sync.engine.notes import notes_plan, sync_notes_parents
from sync.engine.run import Progress, sync_entity
from sync.locks import tier_lease
from sync.models import Connection, SyncRun
from sync.tiers import NOTES, tier_entities

logger = logging.getLogger("sync.engine")


def _entities_for(connection: Connection, tier: str, entity: str | None) -> tuple[str, ...]:
    entities = tier_entities(tier, catalog_for(connection))
    if entity is None:
        return entities
    if entity not in entities:
        raise ValueError(f"{entity!r} is not in the {tier} tier: {', '.join(entities)}")
    return (entity,)


def _close_abandoned_runs(*, connection_id: int, tier: str) -> int:
    """Runs still 'running' while we hold the tier's lease died with their worker: say so."""
    return SyncRun.objects.filter(
        connection_id=connection_id, tier=tier, status=SyncRun.Status.RUNNING
    ).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        error="abandoned: the worker stopped (killed or timed out) before the run finished",
    )


def sync_tier(
    *,
    connection_id: int,
    tier: str,
    entity: str | None = None,
    progress: Progress | None = None,
    client: PSAClient | None = None,
    changed_only: bool | None = None,
) -> list[SyncRun]:
    """Run a tier (or one entity of it) for a connection under the tier's lease.

    Returns [] without doing anything when the same tier is already running for the connection.
    """
    connection = Connection.objects.get(pk=connection_id)
    entities = _entities_for(connection, tier, entity)
    with tier_lease(connection_id=connection_id, tier=tier) as lease:
        if lease is None:
            logger.info("%s tier already running for %s: skipped", tier, connection.name)
            return []
        if tier != NOTES:  # notes chunks run outside the lease; every other run holds it
            _close_abandoned_runs(connection_id=connection_id, tier=tier)
        try:
            client = client or clients.client_for(connection)
        except PSAError:
            client = None  # every run below tries again and records the error on its SyncRun
        if tier == NOTES:
            plan = notes_plan(connection_id=connection_id, entities=entities, changed_only=changed_only)
            return [
                sync_notes_parents(
                    connection=connection,
                    entity=name,
                    parent_ids=parent_ids,
                    client=client,
                    lease=lease,
                    progress=progress,
                )
                for name, parent_ids in plan.items()
            ]
        tier_started_at, names = timezone.now(), entities
        if entity is None:  # a rerun of a tier run that died goes on where it stopped
            resumed_from, names = tier_resume_plan(connection_id=connection_id, tier=tier, entities=entities)
            tier_started_at = resumed_from or tier_started_at
        return [
            sync_entity(
                connection=connection,
                entity=name,
                tier=tier,
                client=client,
                lease=lease,
                progress=progress,
                tier_started_at=tier_started_at,
            )
            for name in names
        ]


@dataclass
class MirrorCounts:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    coerced: int = 0


def mirror_upsert_records(
    *,
    connection: Connection,
    entity: str,
    records: list[dict],
    parent_id: int | None = None,
    confirming_entry_id: int | None = None,
) -> dict:
    """Upsert full PSA records of `entity` (e.g. from a webhook refresh) through the same mapping,
    coercion and staleness rule as the tiered sync, keeping users' undelivered edits (but not
    the one of `confirming_entry_id`, whose PSA answer these records are). Returns the counts."""
    counts = MirrorCounts()
    mapping = catalog_for(connection).mapping(entity)
    PageIngest(
        run=counts, mapping=mapping, connection_id=connection.pk, confirming_entry_id=confirming_entry_id
    ).ingest(list(records), parent_id=parent_id)
    return asdict(counts)


def mirror_delete_record(*, connection: Connection, entity: str, psa_id: int) -> int:
    """Delete one mirrored record (the PSA confirmed the delete); returns rows deleted (0 or 1)."""
    mapping = catalog_for(connection).mapping(entity)
    deleted, _ = mapping.model._default_manager.filter(
        connection_id=connection.pk, psa_id=int(psa_id), **mapping.scope_filter
    ).delete()
    return deleted
