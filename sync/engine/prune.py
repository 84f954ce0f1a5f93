"""Delete mirror rows the PSA no longer returned — after a complete listing (verify.py), never
more than a configurable share of a scope at once (mass-delete protection).

Every row a listing returned got `synced_at` stamped by the upsert, so "not returned by this
run" is a set difference done in SQL (`synced_at < run start` within the scope): memory stays
flat whatever the size of the scope, and rows written meanwhile by a webhook refresh or the
`changes` tier (which exist in the PSA) are never removed.

The guard holds for every scope, whatever its size: deleting more than SYNC_MASS_DELETE_SHARE
of a scope is refused unless an operator approved it (approvals.py); a single row is never a
mass delete (the only holiday list removed). Small scopes are not exempt: 6 boards and their
48 statuses once went exactly that way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from sync.mapping.spec import Mapping

# Deleting one row is never a "mass" delete, even when it is the whole scope.
SINGLE_ROW = 1
# In the error text of a run the guard refused: what an operator's approval can lift (approvals.py
# looks for it; an incomplete listing or unidentified records are refused for other reasons).
OVER_THE_LIMIT = "over the mass-delete limit"


@dataclass
class PruneResult:
    deleted: int = 0
    refused: str = ""  # why nothing was deleted, when the protection kicked in
    approval_used: bool = False  # the delete went through only because an operator approved it


def mass_delete_refusal(*, to_delete: int, in_scope: int, what: str) -> str:
    """Why deleting `to_delete` of `in_scope` rows is refused ('' when it is allowed)."""
    share = settings.SYNC_MASS_DELETE_SHARE
    if in_scope and to_delete > share * in_scope and to_delete > SINGLE_ROW:
        return (
            f"refused to delete {to_delete} of {in_scope} {what} rows (> {share:.0%} of the scope: "
            f"{OVER_THE_LIMIT}); "
            "if the PSA really lost them, approve the delete once (admin: 'Approve the refused mass "
            "deletes', or manage.py sync --allow-mass-delete) and the next full run deletes them"
        )
    return ""


def _unseen(*, mapping: Mapping, connection_id: int, started_at: datetime, scope: dict[str, Any] | None):
    # psa_id > 0: a negative id is the placeholder of a user's record the PSA has not created
    # yet (sync/writeback.py); no listing can return it, and the outbox replaces or drops it.
    in_scope = mapping.model._default_manager.filter(
        connection_id=connection_id, psa_id__gt=0, **mapping.scope_filter, **(scope or {})
    )
    return in_scope, in_scope.filter(synced_at__lt=started_at)


def unseen_count(
    *, mapping: Mapping, connection_id: int, started_at: datetime, scope: dict[str, Any] | None = None
) -> int:
    """How many rows of the scope the run that started at `started_at` did not see."""
    return _unseen(mapping=mapping, connection_id=connection_id, started_at=started_at, scope=scope)[
        1
    ].count()


def prune_unseen(
    *,
    mapping: Mapping,
    connection_id: int,
    started_at: datetime,
    scope: dict[str, Any] | None = None,
    approved: bool = False,
    unidentified: int = 0,
) -> PruneResult:
    """Delete rows of the scope not stamped by the run that started at `started_at`.

    `approved`: an operator allowed one mass delete. `unidentified`: records the listing
    returned without a usable id; any unseen row may be one of them, so nothing is deleted."""
    in_scope, unseen = _unseen(
        mapping=mapping, connection_id=connection_id, started_at=started_at, scope=scope
    )
    with transaction.atomic():
        to_delete = unseen.count()
        if not to_delete:
            return PruneResult()
        if unidentified:
            return PruneResult(
                refused=f"refused to delete {to_delete} {mapping.entity} rows: the listing returned "
                f"{unidentified} record(s) without a usable id, and any of those rows may be one of them"
            )
        reason = mass_delete_refusal(to_delete=to_delete, in_scope=in_scope.count(), what=mapping.entity)
        if reason and not approved:
            return PruneResult(refused=reason)
        deleted, _ = unseen.delete()
    return PruneResult(deleted=deleted, approval_used=bool(reason))
