"""What the mirror holds for a connection and how its tiers last ran (command, status page)."""

from __future__ import annotations

from django.db.models import Max

from sync.mapping.catalog import MAPPINGS
from sync.models import Connection, SyncRun
from sync.tiers import TIERS, tier_entities

_BAD = [SyncRun.Status.FAILED, SyncRun.Status.REFUSED, SyncRun.Status.RUNNING]


def mirror_counts(*, connection: Connection) -> dict[str, int]:
    """Rows per mirrored entity (entities sharing a model and scope are counted once)."""
    counts, seen = {}, set()
    for entity, mapping in MAPPINGS.items():
        key = (mapping.model, tuple(sorted(mapping.scope_filter.items())))
        if key in seen:
            continue
        seen.add(key)
        counts[entity] = mapping.model.objects.filter(connection=connection, **mapping.scope_filter).count()
    return counts


def last_tier_run(*, connection: Connection, tier: str) -> dict | None:
    """The latest run of every entity of the tier, summed up; None when it never ran."""
    latest_ids = (
        SyncRun.objects.filter(connection=connection, tier=tier, entity__in=tier_entities(tier))
        .values("entity").annotate(last=Max("id")).values_list("last", flat=True)
    )
    runs = list(SyncRun.objects.filter(id__in=list(latest_ids)))
    if not runs:
        return None
    status = next((s for s in _BAD if any(run.status == s for run in runs)), SyncRun.Status.SUCCEEDED)
    return {
        "status": str(status),
        "started_at": min(run.started_at for run in runs),
        "finished_at": max((run.finished_at for run in runs if run.finished_at), default=None),
        "entities": len(runs),
        "fetched": sum(run.fetched for run in runs),
        "created": sum(run.created for run in runs),
        "updated": sum(run.updated for run in runs),
        "deleted": sum(run.deleted for run in runs),
        "skipped": sum(run.skipped for run in runs),
        "coerced": sum(run.coerced for run in runs),
        "requests": sum(run.requests for run in runs),
        "failed_entities": sorted(run.entity for run in runs if run.status != SyncRun.Status.SUCCEEDED),
    }


def sync_status(*, connection: Connection) -> dict:
    return {
        "connection": connection.name,
        "counts": mirror_counts(connection=connection),
        "last_runs": {tier: last_tier_run(connection=connection, tier=tier) for tier in TIERS},
    }
