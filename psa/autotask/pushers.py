"""Autotask write-back: one pusher per outbox action (sync/outbox.py owns claim, order, retry,
sweeper and revert). A pusher PATCHes the change, re-reads the record and stores it through
`outbox_apply_record`.

Reference: api.md §4 — PATCH with the id in the body; tickets on `Tickets`, tasks only under
their project (`Projects/{projectId}/Tasks`); the answer is `{"itemId": N}`, so the record is
read again to land in the mirror. Resources, notes and time entries are a later step (they need
role and note-type choices that boards do not make yet): those actions are refused plainly.
"""

from __future__ import annotations

from collections.abc import Callable

from boards.models import Ticket
from psa.autotask.client import AutotaskClient
from psa.errors import BadRequest, NotFound
from sync.models import OutboxEntry
from sync.outbox import outbox_apply_record

Action = OutboxEntry.Action


def _is_project(entry: OutboxEntry) -> bool:
    return entry.payload.get("ticket_kind") == "project"


def _reread(client: AutotaskClient, path: str, psa_id: int) -> dict:
    record = client.get(f"{path}/{psa_id}")
    if record is None:
        raise NotFound(f"{path} {psa_id} is gone", url=path)
    return record


def _patch_ticket(client: AutotaskClient, entry: OutboxEntry, field: str, value: int) -> None:
    psa_id = int(entry.target_psa_id)
    if not _is_project(entry):
        # Reference: endpoints.tsv PATCH /V1.0/Tickets
        client.update("Tickets", psa_id, {field: value})
        outbox_apply_record(entry, "service_tickets", _reread(client, "Tickets", psa_id))
        return
    if field != "status":
        raise BadRequest(f"an Autotask task has no ticket {field}; change it in Autotask")
    project_id = (
        Ticket.objects.filter(connection_id=entry.connection_id, psa_id=psa_id)
        .values_list("project_psa_id", flat=True)
        .first()
    )
    if not project_id:
        raise BadRequest(f"task {psa_id} has no project in the mirror: cannot address it")
    # Reference: endpoints.tsv PATCH /V1.0/Projects/{parentId}/Tasks
    client.update(f"Projects/{int(project_id)}/Tasks", psa_id, {field: value})
    outbox_apply_record(entry, "project_tickets", _reread(client, "Tasks", psa_id))


def _patch_opportunity(client: AutotaskClient, entry: OutboxEntry, field: str, value: int) -> None:
    psa_id = int(entry.target_psa_id)
    # Reference: endpoints.tsv PATCH /V1.0/Opportunities
    client.update("Opportunities", psa_id, {field: value})
    outbox_apply_record(entry, "opportunities", _reread(client, "Opportunities", psa_id))


def _not_yet(entry: OutboxEntry) -> None:
    raise BadRequest(f"{entry.get_action_display()} is not written back to Autotask yet; do it in Autotask")


PUSHERS: dict[str, Callable[[AutotaskClient, OutboxEntry], None]] = {
    Action.TICKET_STATUS: lambda c, e: _patch_ticket(c, e, "status", int(e.payload["status_id"])),
    Action.TICKET_PRIORITY: lambda c, e: _patch_ticket(c, e, "priority", int(e.payload["priority_id"])),
    Action.OPPORTUNITY_STAGE: lambda c, e: _patch_opportunity(c, e, "stage", int(e.payload["stage_id"])),
    Action.OPPORTUNITY_STATUS: lambda c, e: _patch_opportunity(c, e, "status", int(e.payload["status_id"])),
    Action.TICKET_ADD_RESOURCE: lambda c, e: _not_yet(e),
    Action.TICKET_REMOVE_RESOURCE: lambda c, e: _not_yet(e),
    Action.TIME_ENTRY_CREATE: lambda c, e: _not_yet(e),
    Action.TICKET_NOTE_ADD: lambda c, e: _not_yet(e),
}
