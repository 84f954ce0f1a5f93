"""Delete mirror rows the PSA no longer returned — after a complete listing, never more than a
configurable share of a scope at once (mass-delete protection).

Every row a listing returned got `synced_at` stamped by the upsert, so "not returned by this
run" is a set difference done in SQL (`synced_at < run start` within the scope): memory stays
flat whatever the size of the scope, and rows written meanwhile by a webhook refresh or the
`changes` tier (which exist in the PSA) are never removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from sync.mapping.spec import Mapping


@dataclass
class PruneResult:
    deleted: int = 0
    refused: str = ""  # why nothing was deleted, when the protection kicked in


def _limits() -> tuple[float, int]:
    return (
        settings.SYNC_MASS_DELETE_SHARE,
        settings.SYNC_MASS_DELETE_MIN_ROWS,
    )


def mass_delete_refusal(*, to_delete: int, in_scope: int, what: str) -> str:
    """Why deleting `to_delete` of `in_scope` rows is refused ('' when it is allowed)."""
    share, min_rows = _limits()
    if in_scope and to_delete > share * in_scope and to_delete >= min_rows:
        return (
            f"refused to delete {to_delete} of {in_scope} {what} rows "
            f"(> {share:.0%} of the scope and at least {min_rows}); "
            "check the PSA answered complete listings, or delete with a lower threshold"
        )
    return ""


def prune_unseen(
    *, mapping: Mapping, connection_id: int, started_at: datetime, scope: dict[str, Any] | None = None
) -> PruneResult:
    """Delete rows of the scope not stamped by the run that started at `started_at`."""
    in_scope = mapping.model._default_manager.filter(
        connection_id=connection_id, **mapping.scope_filter, **(scope or {})
    )
    unseen = in_scope.filter(synced_at__lt=started_at)
    with transaction.atomic():
        to_delete = unseen.count()
        if not to_delete:
            return PruneResult()
        reason = mass_delete_refusal(to_delete=to_delete, in_scope=in_scope.count(), what=mapping.entity)
        if reason:
            return PruneResult(refused=reason)
        deleted, _ = unseen.delete()
    return PruneResult(deleted=deleted)
