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
from psa.autotask.query import cond, narrowed, query_text
from psa.http import BACKGROUND
from psa.providers import catalog_for
from sync.engine.run import scope_context
from sync.engine.services import mirror_delete_record, mirror_upsert_records
from sync.models import Connection
from sync.refresh_queue import NOTES_HINT, RefreshItem, refresh_in_batches

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
    *, connection: Connection, client: AutotaskClient, child: Child, parent_ids: list[int]
) -> None:
    """Re-read one child entity of these parents in one query; drop the mirrored ones the PSA
    no longer returns for them."""
    entity = catalog_for(connection).entity(child.entity)
    mapping = entity.mapping
    # The entity's own scope (e.g. no workflow-rule notes), for these parents only.
    # Reference: api.md §3 POST {Entity}/query filtered by the parents' ids (the client splits
    # an `in` list over 500 values into several queries)
    conditions = narrowed(
        entity.conditions(scope_context(connection)), cond(child.parent_field, "in", sorted(parent_ids))
    )
    records = client.list_all(child.path, conditions=conditions, fields=mapping.api_fields)
    mirror_upsert_records(connection=connection, entity=child.entity, records=records)
    kept = [r.get("id") for r in records if isinstance(r, dict)]
    parent_column = next(c for c, source in mapping.columns.items() if source == child.parent_field)
    mapping.model._default_manager.filter(
        connection_id=connection.pk,
        psa_id__gt=0,
        **{f"{parent_column}__in": parent_ids},
        **mapping.scope_filter,
    ).exclude(psa_id__in=kept).delete()


def _wanted_children(children: tuple[Child, ...], *, hint: str, assignments: bool | None) -> list[Child]:
    return [c for c in children if (c.always and assignments is not False) or hint == NOTES_HINT]


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
            for child in _wanted_children(children, hint=hint, assignments=assignments):
                _children_refresh(connection=connection, client=client, child=child, parent_ids=[int(psa_id)])
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
    """Refresh the queued records in batches: per kind one `id in [...]` query per entity and
    one query per child entity; a record no query returns is confirmed gone by its GET."""
    if not items:
        return {"updated": 0, "deleted": 0}
    connection = Connection.objects.get(pk=connection_id)
    client = client or realtime_client(connection)
    return refresh_in_batches(
        connection_id=connection_id,
        items=items,
        started_at=started_at,
        preferred_hint=NOTES_HINT,
        batch=lambda kind, hints: _batch_fetch(connection=connection, client=client, kind=kind, hints=hints),
        single=lambda kind, psa_id, hint: record_refresh(
            connection_id=connection_id, kind=kind, psa_id=psa_id, hint=hint, client=client
        ),
    )


def _batch_fetch(
    *, connection: Connection, client: AutotaskClient, kind: str, hints: dict[int, str]
) -> set[int]:
    """Upsert what one query per entity of the kind returns for these ids (with their
    children); returns the ids found. Ids the first entity lacks are asked of the next."""
    found: set[int] = set()
    for path, entity, children in KINDS[kind]:
        wanted = sorted(set(hints) - found)
        if not wanted:
            break
        # Reference: api.md §3 POST {Entity}/query with `id in [...]`
        records = client.list_all(
            path,
            conditions=query_text(cond("id", "in", wanted)),
            fields=catalog_for(connection).mapping(entity).api_fields,
        )
        records = [r for r in records if isinstance(r, dict) and r.get("id") in hints]
        if not records:
            continue
        ids = [int(r["id"]) for r in records]
        with transaction.atomic():
            for child in children:  # children first: a ticket's resources come from them
                parents = [
                    i for i in ids if child in _wanted_children(children, hint=hints[i], assignments=None)
                ]
                if parents:
                    _children_refresh(connection=connection, client=client, child=child, parent_ids=parents)
            mirror_upsert_records(connection=connection, entity=entity, records=records)
        found.update(ids)
    if found:
        mirror_changed_on_commit(connection_id=connection.pk)
    return found
