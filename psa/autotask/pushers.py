"""Autotask write-back: one pusher per outbox action (sync/outbox.py owns claim, order, retry,
sweeper and revert). A pusher writes the change with Autotask's verbs, reads the record back
and stores it through `outbox_apply_record`.

Reference: api.md §4 — PATCH on the collection with the id in the body; tickets on `Tickets`,
tasks only under their project (`Projects/{projectId}/Tasks`); children under their parent
(`Tickets/{id}/Notes`, `Tickets/{id}/SecondaryResources`). Every write is made as the user's
linked resource when there is one (`ImpersonationResourceId`, api.md §2), so Autotask shows the
real author. Resources: pushers_resources.py; notes and time entries: pushers_creates.py.

A business rule Autotask refuses (500 with `errors`) raises BadRequest carrying Autotask's
message: the outbox reverts the card and shows that message on it.
"""

from __future__ import annotations

from collections.abc import Callable

from psa.autotask.client import AutotaskClient
from psa.autotask.pushers_common import card_of, linked_resource, reread
from psa.autotask.pushers_creates import push_note, push_time_entry
from psa.autotask.pushers_resources import push_add_resource, push_remove_resource
from psa.errors import BadRequest
from sync.models import OutboxEntry
from sync.outbox import outbox_apply_record

Action = OutboxEntry.Action


def _patch_ticket(client: AutotaskClient, entry: OutboxEntry, field: str, value: int) -> None:
    card = card_of(entry)
    if card.task and field != "status":
        raise BadRequest(f"an Autotask task has no ticket {field}; change it in Autotask")
    # Reference: api.md §4 PATCH Tickets / PATCH Projects/{parentId}/Tasks, {"id": N, field: value}
    client.update(card.update_path, card.psa_id, {field: value}, impersonate=linked_resource(entry))
    outbox_apply_record(entry, card.catalog_entity, reread(client, card.entity, card.psa_id))


def _patch_opportunity(client: AutotaskClient, entry: OutboxEntry, field: str, value: int) -> None:
    psa_id = int(entry.psa_id)
    # Reference: api.md §4 PATCH Opportunities, {"id": N, field: value}
    client.update("Opportunities", psa_id, {field: value}, impersonate=linked_resource(entry))
    outbox_apply_record(entry, "opportunities", reread(client, "Opportunities", psa_id))


PUSHERS: dict[str, Callable[[AutotaskClient, OutboxEntry], None]] = {
    Action.TICKET_STATUS: lambda c, e: _patch_ticket(c, e, "status", int(e.payload["status_id"])),
    Action.TICKET_PRIORITY: lambda c, e: _patch_ticket(c, e, "priority", int(e.payload["priority_id"])),
    Action.OPPORTUNITY_STAGE: lambda c, e: _patch_opportunity(c, e, "stage", int(e.payload["stage_id"])),
    Action.OPPORTUNITY_STATUS: lambda c, e: _patch_opportunity(c, e, "status", int(e.payload["status_id"])),
    Action.TICKET_ADD_RESOURCE: push_add_resource,
    Action.TICKET_REMOVE_RESOURCE: push_remove_resource,
    Action.TIME_ENTRY_CREATE: push_time_entry,
    Action.TICKET_NOTE_ADD: push_note,
}
