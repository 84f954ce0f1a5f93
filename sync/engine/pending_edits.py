"""A user's edit waiting for delivery is not undone by a sync.

A write-back service (sync/writeback.py) changes the mirror at once and leaves an OutboxEntry
for the PSA. Until that entry is confirmed or rejected, the PSA still holds the old value, so
every listing, page and webhook refresh in between would move the card back (a card jumping to
its old column until the sweeper delivered the move). While an entry is pending or sending:

- the mirror columns its action changed keep the user's value on that one row (the rest of the
  row still updates): `held_columns` tells the upsert which columns of which rows to keep;
- an assignment the user removed is not re-inserted: `without_pending_removals`;
- placeholder rows of records the PSA has not created yet (negative psa_id) are never pruned
  (prune.py only deletes PSA ids, which are positive).

The entry's own delivery writes the PSA's answer through the same upsert, with itself
excepted (`confirming_entry_id`); a rejection marks the entry failed first, then re-reads the
record, so the PSA's value comes back.

Known gap: an edit committed between `held_columns`' query and the upsert statement (a few
milliseconds) is not held by that page; the next page, refresh or run of the tier does not
undo it again, and the delivery writes it to the PSA regardless.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from boards.models import Opportunity, Ticket, TicketAssignment
from sync.mapping.spec import Mapping
from sync.models import OutboxEntry

Action = OutboxEntry.Action
WAITING = (OutboxEntry.State.PENDING, OutboxEntry.State.SENDING)

# The mirror columns each write-back action sets at once (keep in step with sync/writeback.py).
# Actions that only create records (time entries, notes, a new assignment) change no column of
# an existing row: their placeholder rows are protected from pruning instead.
COLUMNS_BY_ACTION: dict[str, tuple[str, ...]] = {
    Action.TICKET_STATUS: ("status_psa_id", "status_name", "closed"),
    Action.TICKET_PRIORITY: ("priority_psa_id", "priority_name"),
    Action.TICKET_ADD_RESOURCE: ("resources",),
    Action.TICKET_REMOVE_RESOURCE: ("resources",),
    Action.OPPORTUNITY_STAGE: ("stage_psa_id", "stage_name"),
    Action.OPPORTUNITY_STATUS: ("status_psa_id", "status_name", "closed"),
}
KIND_OF_MODEL: dict[type, str] = {
    Ticket: OutboxEntry.Kind.TICKET,
    Opportunity: OutboxEntry.Kind.OPPORTUNITY,
}


def _waiting(*, connection_id: int, confirming_entry_id: int | None):
    entries = OutboxEntry.objects.filter(connection_id=connection_id, state__in=WAITING)
    return entries.exclude(pk=confirming_entry_id) if confirming_entry_id else entries


def held_columns(
    *, mapping: Mapping, connection_id: int, psa_ids: list[int], confirming_entry_id: int | None = None
) -> dict[str, list[int]]:
    """Column → psa ids of the page whose stored value that column keeps (edits not delivered)."""
    kind = KIND_OF_MODEL.get(mapping.model)
    if kind is None or not psa_ids:
        return {}
    updatable = set(mapping.update_columns)
    pending = _waiting(connection_id=connection_id, confirming_entry_id=confirming_entry_id).filter(
        kind=kind, psa_id__in=psa_ids, action__in=list(COLUMNS_BY_ACTION)
    )
    held: dict[str, set[int]] = defaultdict(set)
    for psa_id, action in pending.values_list("psa_id", "action"):
        for column in COLUMNS_BY_ACTION[action]:
            if column in updatable:
                held[column].add(psa_id)
    return {column: sorted(ids) for column, ids in held.items()}


def without_pending_removals(
    *,
    mapping: Mapping,
    connection_id: int,
    rows: list[dict[str, Any]],
    confirming_entry_id: int | None = None,
) -> list[dict[str, Any]]:
    """The page's assignment rows minus those a pending removal took off the card."""
    if mapping.model is not TicketAssignment or not rows:
        return rows
    removals = _waiting(connection_id=connection_id, confirming_entry_id=confirming_entry_id).filter(
        action=Action.TICKET_REMOVE_RESOURCE,
        psa_id__in={row.get("ticket_psa_id") for row in rows},
    )
    removed = {
        (ticket, payload.get("member_id")) for ticket, payload in removals.values_list("psa_id", "payload")
    }
    if not removed:
        return rows
    return [row for row in rows if (row.get("ticket_psa_id"), row.get("member_psa_id")) not in removed]
