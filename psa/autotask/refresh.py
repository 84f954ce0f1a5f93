"""Single-record refresh: re-read a record a callback (or a rejected write-back) named.

Reference: api.md §3 "Count, get by id" — `GET {Entity}/{id}`; a 404 or `{"item": null}` is the
proof of a delete (a callback's own "deleted" is never trusted). A ticket's children that boards
show are re-read with it: its secondary resources (always: no field on the ticket says they
changed) and its notes when the callback was about a note (`NOTES_HINT`). Children the PSA no
longer returns for that ticket are removed from the mirror.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from boards.live import mirror_changed_on_commit
from boards.models import Ticket
from psa.autotask.client import AutotaskClient
from psa.autotask.query import cond, narrowed
from psa.http import BACKGROUND
from psa.providers import catalog_for
from sync.engine.run import scope_context
from sync.engine.services import mirror_delete_record, mirror_upsert_records
from sync.models import Connection
from sync.refresh_queue import NOTES_HINT, RefreshItem

logger = logging.getLogger("sync.refresh")


@dataclass(frozen=True)
class Child:
    entity: str  # catalog entry
    path: str  # Autotask entity queried by its parent field
    parent_field: str
    always: bool  # re-read on every refresh of the parent, or only for a NOTES_HINT


_TICKET_CHILDREN = (
    Child("ticket_assignments", "TicketSecondaryResources", "ticketID", always=True),
    Child("ticket_notes", "TicketNotes", "ticketID", always=False),
)
_TASK_CHILDREN = (Child("task_notes", "TaskNotes", "taskID", always=False),)

# kind → (Autotask entity, catalog entry, children) tried in order until one answers.
KINDS: dict[str, tuple[tuple[str, str, tuple[Child, ...]], ...]] = {
    "ticket": (
        ("Tickets", "service_tickets", _TICKET_CHILDREN),
        ("Tasks", "project_tickets", _TASK_CHILDREN),
    ),
    "company": (("Companies", "companies", ()),),
    "opportunity": (("Opportunities", "opportunities", ()),),
    "project": (("Projects", "projects", ()),),
    "ticket_note": (("TicketNotes", "ticket_notes", ()),),
    "task_note": (("TaskNotes", "task_notes", ()),),
}


def realtime_client(connection: Connection) -> AutotaskClient:
    """Background retries (nobody waits on a refresh) without the background reserve."""
    return AutotaskClient.from_connection(connection, interactive=True, policy=BACKGROUND)


def _ordered(kind: str, connection_id: int, psa_id: int) -> list[tuple[str, str, tuple[Child, ...]]]:
    order = list(KINDS[kind])
    if kind == "ticket":
        stored = (
            Ticket.objects.filter(connection_id=connection_id, psa_id=psa_id)
            .values_list("kind", flat=True)
            .first()
        )
        if stored == Ticket.Kind.PROJECT:
            order.reverse()
    return order


def _children_refresh(
    *, connection: Connection, client: AutotaskClient, child: Child, parent_id: int
) -> None:
    entity = catalog_for(connection).entity(child.entity)
    mapping = entity.mapping
    # The entity's own scope (e.g. no workflow-rule notes), for this parent only.
    # Reference: api.md §3 POST {Entity}/query filtered by the parent's id
    conditions = narrowed(
        entity.conditions(scope_context(connection)), cond(child.parent_field, "eq", parent_id)
    )
    records = client.list_all(child.path, conditions=conditions, fields=mapping.api_fields)
    mirror_upsert_records(connection=connection, entity=child.entity, records=records)
    kept = [r.get("id") for r in records if isinstance(r, dict)]
    parent_column = next(c for c, source in mapping.columns.items() if source == child.parent_field)
    mapping.model._default_manager.filter(
        connection_id=connection.pk, psa_id__gt=0, **{parent_column: parent_id}, **mapping.scope_filter
    ).exclude(psa_id__in=kept).delete()


def record_refresh(
    *,
    connection_id: int,
    kind: str,
    psa_id: int,
    hint: str = "",
    client: AutotaskClient | None = None,
    assignments: bool | None = None,
) -> str:
    """GET the record and upsert it (with the children boards show), or confirm its delete.
    Returns updated|deleted. `assignments=False` skips re-reading a ticket's secondary resources."""
    connection = Connection.objects.get(pk=connection_id)
    client = client or realtime_client(connection)
    for path, entity, children in _ordered(kind, connection_id, int(psa_id)):
        # Reference: api.md §3 GET {Entity}/{id}
        record = client.get(f"{path}/{int(psa_id)}")
        if record is None:
            continue
        with transaction.atomic():
            # Children first: the ticket's resources are read from its mirrored assignments.
            for child in children:
                wanted = (child.always and assignments is not False) or hint == NOTES_HINT
                if wanted:
                    _children_refresh(
                        connection=connection, client=client, child=child, parent_id=int(psa_id)
                    )
            mirror_upsert_records(connection=connection, entity=entity, records=[record])
        mirror_changed_on_commit(connection_id=connection_id)
        return "updated"
    for _, entity, _ in KINDS[kind]:
        mirror_delete_record(connection=connection, entity=entity, psa_id=int(psa_id))
    mirror_changed_on_commit(connection_id=connection_id)
    return "deleted"


def records_refresh(
    *, connection_id: int, items: list[RefreshItem], started_at: float, client: AutotaskClient | None = None
) -> dict[str, int]:
    """Refresh each queued record (one GET each, plus its children)."""
    counts = {"updated": 0, "deleted": 0}
    if not items:
        return counts
    client = client or realtime_client(Connection.objects.get(pk=connection_id))
    for item in items:
        hint = NOTES_HINT if NOTES_HINT in item.hints else next(iter(item.hints), "")
        outcome = record_refresh(
            connection_id=connection_id, kind=item.kind, psa_id=item.psa_id, hint=hint, client=client
        )
        counts[outcome] += 1
        logger.info(
            "refreshed connection=%s kind=%s id=%s outcome=%s", connection_id, item.kind, item.psa_id, outcome
        )
    return counts
