"""What the mirror holds for a connection and how its tiers last ran (command, status page)."""

from __future__ import annotations

from django.db.models import Max

from psa.providers import catalog_for
from sync.models import Connection, SyncRun
from sync.tiers import TIERS, tier_entities

# A summary takes the status of its worst run, in this order (else succeeded).
_STATUS_PRECEDENCE = [SyncRun.Status.FAILED, SyncRun.Status.REFUSED, SyncRun.Status.RUNNING]
_COUNTS = ("fetched", "created", "updated", "deleted", "skipped", "coerced", "requests")


def mirror_counts(*, connection: Connection) -> dict[str, int]:
    """Rows per mirrored entity (entities sharing a model and scope are counted once)."""
    counts, seen = {}, set()
    for entity, spec in catalog_for(connection).mirrored().items():
        mapping = spec.mapping
        key = (mapping.model, tuple(sorted(mapping.scope_filter.items())))
        if key in seen:
            continue
        seen.add(key)
        counts[entity] = mapping.model._default_manager.filter(
            connection=connection, **mapping.scope_filter
        ).count()
    return counts


def runs_summary(runs: list[SyncRun]) -> dict:
    """Several runs of one tier summed up: worst status, first start, last finish, counts."""
    status = next(
        (s for s in _STATUS_PRECEDENCE if any(run.status == s for run in runs)), SyncRun.Status.SUCCEEDED
    )
    summary = {
        "status": str(status),
        "started_at": min(run.started_at for run in runs),
        "finished_at": max((run.finished_at for run in runs if run.finished_at), default=None),
        "entities": len({run.entity for run in runs}),
    }
    for count in _COUNTS:
        summary[count] = sum(getattr(run, count) for run in runs)
    summary["failed_entities"] = sorted(
        {run.entity for run in runs if run.status != SyncRun.Status.SUCCEEDED}
    )
    return summary


def last_tier_run(*, connection: Connection, tier: str) -> dict | None:
    """The latest run of every entity of the tier, summed up; None when it never ran."""
    latest_ids = (
        SyncRun.objects.filter(
            connection=connection, tier=tier, entity__in=tier_entities(tier, catalog_for(connection))
        )
        .values("entity")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    runs = list(SyncRun.objects.filter(id__in=list(latest_ids)))
    return runs_summary(runs) if runs else None


def sync_status(*, connection: Connection) -> dict:
    return {
        "connection": connection.name,
        "counts": mirror_counts(connection=connection),
        "last_runs": {tier: last_tier_run(connection=connection, tier=tier) for tier in TIERS},
    }
