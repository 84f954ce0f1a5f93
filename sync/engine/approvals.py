"""One-shot operator approvals of a mass delete (admin actions, `manage.py sync
--allow-mass-delete`). The engine refuses to delete more than SYNC_MASS_DELETE_SHARE of a scope
(prune.py); when the PSA really lost that much, an operator approves it once per connection +
entity and the next full run of that entity that reaches its delete step uses the approval up.
An approval never overrides an incomplete listing (verify.py): it allows deleting what a
complete, counted listing no longer returned, nothing else.
"""

from __future__ import annotations

from django.db.models import Max, QuerySet
from django.utils import timezone

from psa.providers import catalog_for
from sync.engine.prune import OVER_THE_LIMIT
from sync.models import Connection, MassDeleteApproval, SyncRun
from sync.tiers import CORE, REFERENCE, tier_entities


def approvable_entities(*, connection_id: int) -> frozenset[str]:
    """Entities whose full runs prune (the notes tier prunes per parent and never asks)."""
    catalog = catalog_for(Connection.objects.get(pk=connection_id))
    return frozenset(tier_entities(CORE, catalog) + tier_entities(REFERENCE, catalog))


def _pending(*, connection_id: int, entity: str) -> QuerySet[MassDeleteApproval]:
    return MassDeleteApproval.objects.filter(connection_id=connection_id, entity=entity, used_at__isnull=True)


def mass_delete_approve(*, connection_id: int, entity: str, approved_by: str) -> MassDeleteApproval:
    """Approve one mass delete of `entity` for the connection (an existing pending one is kept)."""
    approvable = approvable_entities(connection_id=connection_id)
    if entity not in approvable:
        raise ValueError(
            f"{entity!r} is not pruned by a full tier; choose from {', '.join(sorted(approvable))}"
        )
    pending = _pending(connection_id=connection_id, entity=entity).first()
    if pending is not None:
        return pending
    return MassDeleteApproval.objects.create(
        connection_id=connection_id, entity=entity, approved_by=approved_by
    )


def mass_delete_approval_pending(*, connection_id: int, entity: str) -> MassDeleteApproval | None:
    return _pending(connection_id=connection_id, entity=entity).order_by("created_at", "id").first()


def mass_delete_approval_use(*, approval: MassDeleteApproval, run: SyncRun) -> bool:
    """Mark the approval used by `run`; False when another run used it first."""
    used = MassDeleteApproval.objects.filter(pk=approval.pk, used_at__isnull=True).update(
        used_at=timezone.now(), used_by_run=run
    )
    return bool(used)


def refused_entities(*, connection_id: int) -> list[str]:
    """Entities whose latest full run the mass-delete guard refused (what an approval lifts)."""
    full_runs = SyncRun.objects.filter(
        connection_id=connection_id,
        entity__in=approvable_entities(connection_id=connection_id),
        tier__in=[CORE, REFERENCE],
    )
    latest = full_runs.values("entity").annotate(last=Max("id")).values_list("last", flat=True)
    refused = SyncRun.objects.filter(
        id__in=list(latest), status=SyncRun.Status.REFUSED, error__contains=OVER_THE_LIMIT
    )
    return sorted(refused.values_list("entity", flat=True))
