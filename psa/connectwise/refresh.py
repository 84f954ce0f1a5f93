"""Webhook refresh: re-read PSA records and bring their mirror rows up to date.

Used by the coalescing queue's drain (sync/refresh_queue.py) and by write-back (to revert the
mirror after a rejection). A 404 on GET by id is the only proof of a delete: a callback saying
`Action: deleted` is never trusted on its own. Records are fetched in batches (`id in (...)`
listings, one per kind, plus the assignments of the tickets that need them); a record missing
from its listing is confirmed by GET by id (404 → removed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import transaction

from boards.live import mirror_changed_on_commit
from psa.connectwise.catalog import OPEN_TICKET_ASSIGNMENTS
from psa.connectwise.client import ConnectWiseClient
from psa.connectwise.conditions import split_in
from psa.connectwise.webhook import SCHEDULE_HINT
from psa.errors import NotFound
from psa.http import BACKGROUND
from psa.providers import catalog_for
from sync.engine.services import mirror_delete_record, mirror_upsert_records
from sync.models import Connection
from sync.refresh_queue import NOTES_HINT, RefreshItem, refresh_in_batches

logger = logging.getLogger("sync.refresh")


@dataclass(frozen=True)
class RecordKind:
    """One refreshable kind: where to GET it (first path wins) and which mirror entity it is."""

    name: str
    paths: tuple[tuple[str, str], ...]  # (path template, entity), tried in order until one answers
    rank_kind: str | None = None


# Reference: endpoints.tsv GET /service/tickets/{id}, /project/tickets/{id}, /sales/opportunities/{id},
# /project/projects/{id}, /company/companies/{id} (and the listings without /{id})
KINDS: dict[str, RecordKind] = {
    "ticket": RecordKind(
        "ticket",
        (("service/tickets/{id}", "service_tickets"), ("project/tickets/{id}", "project_tickets")),
        rank_kind="ticket",
    ),
    "opportunity": RecordKind(
        "opportunity", (("sales/opportunities/{id}", "opportunities"),), rank_kind="opportunity"
    ),
    "project": RecordKind("project", (("project/projects/{id}", "projects"),)),
    "company": RecordKind("company", (("company/companies/{id}", "companies"),)),
}


# --- the refresh itself -------------------------------------------------------------------------


def realtime_client(connection: Connection) -> ConnectWiseClient:
    """Background retry policy (nobody waits on a refresh) but the interactive rate budget, so
    a long sync never delays webhook refreshes."""
    return ConnectWiseClient.from_connection(connection, interactive=True, policy=BACKGROUND)


def _stored_tickets(connection_id: int, psa_ids: list[int]) -> dict[int, tuple[str, str]]:
    """psa_id → (kind, resources) of the mirrored tickets (those not mirrored yet are absent)."""
    return {
        psa_id: (kind, resources)
        for psa_id, kind, resources in apps.get_model("boards", "Ticket")
        .objects.filter(connection_id=connection_id, psa_id__in=psa_ids)
        .values_list("psa_id", "kind", "resources")
    }


def _ordered_paths(spec: RecordKind, *, stored: tuple[str, str] | None, hint: str) -> list[tuple[str, str]]:
    paths = list(spec.paths)
    stored_kind = stored[0] if stored else None
    if stored_kind == "project" or (stored_kind is None and hint.lower().startswith("project")):
        paths.reverse()
    return paths


def _needs_assignments(stored: tuple[str, str] | None, record: dict, assignments: bool | None) -> bool:
    # The PSA keeps the ticket's `resources` string in step with its type-S schedule entries, so
    # the assignments are re-read only when it changed, the ticket is new, or a schedule callback
    # (or a write-back revert) asked for it: one request instead of two for most callbacks.
    if assignments is not None:
        return assignments
    if stored is None:
        return True
    normalise = lambda text: ",".join(sorted(p.strip().lower() for p in (text or "").split(",") if p.strip()))  # noqa: E731
    return normalise(stored[1]) != normalise(record.get("resources"))


def record_refresh(
    *,
    connection_id: int,
    kind: str,
    psa_id: int,
    hint: str = "",
    client: ConnectWiseClient | None = None,
    assignments: bool | None = None,
) -> str:
    """GET the record and upsert it, or confirm its delete by a 404. Returns updated|deleted.

    For tickets `assignments` forces (True) or skips (False) re-reading its schedule entries;
    None decides from the ticket's resources."""
    spec = KINDS[kind]
    connection = Connection.objects.get(pk=connection_id)
    client = client or realtime_client(connection)
    stored = _stored_tickets(connection_id, [psa_id]).get(psa_id) if kind == "ticket" else None
    for template, entity in _ordered_paths(spec, stored=stored, hint=hint):
        try:
            record = client.get(
                template.format(id=int(psa_id)), fields=catalog_for(connection).mapping(entity).api_fields
            )
        except NotFound:
            continue
        with transaction.atomic():
            mirror_upsert_records(connection=connection, entity=entity, records=[record])
            if kind == "ticket" and _needs_assignments(stored, record, assignments):
                ticket_assignments_refresh(connection=connection, ticket_psa_ids=[psa_id], client=client)
        mirror_changed_on_commit(connection_id=connection_id)
        return "updated"
    record_forget(connection=connection, kind=kind, psa_id=psa_id)
    return "deleted"


def records_refresh(
    *,
    connection_id: int,
    items: list[RefreshItem],
    started_at: float,
    client: ConnectWiseClient | None = None,
) -> dict[str, int]:
    """Refresh the items in batches: one `id in (...)` listing per kind; records the listing
    does not return go through `record_refresh` (other ticket path, or a 404)."""
    if not items:
        return {"updated": 0, "deleted": 0}
    connection = Connection.objects.get(pk=connection_id)
    client = client or realtime_client(connection)

    def notes_of_found(kind: str, found: set[int]) -> None:
        wanted = {i.psa_id for i in items if i.kind == kind and NOTES_HINT in i.hints} & found
        if wanted:
            notes_refresh(connection=connection, kind=kind, psa_ids=sorted(wanted), client=client)

    # A ticket-assignment callback asks for more (the assignments too): its hint wins.
    return refresh_in_batches(
        connection_id=connection_id,
        items=items,
        started_at=started_at,
        preferred_hint=SCHEDULE_HINT,
        batch=lambda kind, hints: _batch_fetch(connection=connection, kind=kind, hints=hints, client=client),
        single=lambda kind, psa_id, hint: record_refresh(
            connection_id=connection_id,
            kind=kind,
            psa_id=psa_id,
            hint=hint,
            client=client,
            assignments=True if hint == SCHEDULE_HINT else None,
        ),
        after_kind=notes_of_found,
    )


def _batch_fetch(
    *, connection: Connection, kind: str, hints: dict[int, str], client: ConnectWiseClient
) -> set[int]:
    """Upsert what one listing per path returns for these ids (each id on the path it most
    likely lives on); returns the ids found."""
    spec = KINDS[kind]
    stored = _stored_tickets(connection.pk, list(hints)) if kind == "ticket" else {}
    found: set[int] = set()
    for template, entity in spec.paths:
        wanted = [
            i for i in hints if _ordered_paths(spec, stored=stored.get(i), hint=hints[i])[0][1] == entity
        ]
        records = []
        for conditions in split_in("id", wanted):
            # Reference: endpoints.tsv GET /service/tickets, /project/tickets, /sales/opportunities,
            # /project/projects, /company/companies (conditions id in (...))
            records += client.list_all(
                template.removesuffix("/{id}"),
                conditions=conditions,
                fields=catalog_for(connection).mapping(entity).api_fields,
            )
        records = [r for r in records if isinstance(r, dict) and r.get("id") in hints]
        if not records:
            continue
        with transaction.atomic():
            mirror_upsert_records(connection=connection, entity=entity, records=records)
            if kind == "ticket":
                needy = [
                    r["id"]
                    for r in records
                    if _needs_assignments(
                        stored.get(r["id"]), r, True if hints[r["id"]] == SCHEDULE_HINT else None
                    )
                ]
                if needy:
                    ticket_assignments_refresh(connection=connection, ticket_psa_ids=needy, client=client)
        found |= {r["id"] for r in records}
    if found:
        mirror_changed_on_commit(connection_id=connection.pk)
    return found


def ticket_assignments_refresh(
    *,
    connection: Connection,
    client: ConnectWiseClient,
    ticket_psa_ids: list[int],
) -> int:
    """Re-read the tickets' open type-S schedule entries; drop mirrored ones the PSA no longer has."""
    entity = "ticket_assignments"
    ticket_ids = [int(i) for i in ticket_psa_ids]
    records = []
    # The core tier's scope (open entries only), narrowed to these tickets.
    for conditions in split_in("objectId", ticket_ids, extra=OPEN_TICKET_ASSIGNMENTS):
        # Reference: endpoints.tsv GET /schedule/entries (ScheduleEntry)
        records += client.list_all(
            "schedule/entries",
            conditions=conditions,
            fields=catalog_for(connection).mapping(entity).api_fields,
        )
    if records:
        mirror_upsert_records(connection=connection, entity=entity, records=records)
    seen = {int(r["id"]) for r in records if isinstance(r, dict) and str(r.get("id", "")).isdigit()}
    # One DELETE for all of them (the entity has no scope filter, so this is mirror_delete_record's rows).
    apps.get_model("boards", "TicketAssignment").objects.filter(
        connection=connection, ticket_psa_id__in=ticket_ids, psa_id__gt=0
    ).exclude(psa_id__in=seen).delete()
    return len(records)


# The notes entity of each refreshable kind (ticket kinds by the mirrored ticket's kind).
_NOTES_ENTITIES = {
    "service": "service_notes",
    "project": "project_ticket_notes",
    "opportunity": "opportunity_notes",
}


def notes_refresh(*, connection: Connection, kind: str, psa_ids: list[int], client: ConnectWiseClient) -> int:
    """Re-read the notes of these tickets / opportunities (a board opened one whose notes were not
    mirrored yet) and mark them fetched. Nothing is deleted here: the notes tier prunes."""
    from django.utils import timezone

    model: Any  # the parent's mirror model: Ticket or Opportunity
    if kind == "ticket":
        model = apps.get_model("boards", "Ticket")
        parents = dict(
            model.objects.filter(connection=connection, psa_id__in=psa_ids).values_list("psa_id", "kind")
        )
    elif kind == "opportunity":
        model = apps.get_model("boards", "Opportunity")
        parents = {i: "opportunity" for i in psa_ids}
    else:
        return 0
    catalog = catalog_for(connection)
    count = 0
    for psa_id, parent_kind in parents.items():
        entity = _NOTES_ENTITIES[parent_kind]
        # Reference: endpoints.tsv GET /service/tickets/{id}/notes, /project/tickets/{id}/notes,
        # /sales/opportunities/{id}/notes
        records = client.list_all(
            catalog.entity(entity).path_for(psa_id), fields=catalog.mapping(entity).api_fields
        )
        with transaction.atomic():
            mirror_upsert_records(connection=connection, entity=entity, records=records, parent_id=psa_id)
            model.objects.filter(connection=connection, psa_id=psa_id).update(notes_synced_at=timezone.now())
        count += len(records)
    if parents:
        mirror_changed_on_commit(connection_id=connection.pk)
    return count


def record_forget(*, connection: Connection, kind: str, psa_id: int) -> None:
    """The PSA confirmed the delete (404): remove the row, its rank and (tickets) its assignments."""
    spec = KINDS[kind]
    with transaction.atomic():
        for entity in dict.fromkeys(entity for _, entity in spec.paths):  # both ticket kinds
            mirror_delete_record(connection=connection, entity=entity, psa_id=psa_id)
        if kind == "ticket":
            apps.get_model("boards", "TicketAssignment").objects.filter(
                connection=connection, ticket_psa_id=psa_id
            ).delete()
        if spec.rank_kind:
            apps.get_model("boards", "CardRank").objects.filter(
                connection=connection, kind=spec.rank_kind, psa_id=psa_id
            ).delete()
    logger.info(
        "connection %s: %s %s deleted in the PSA (404), removed from the mirror", connection.pk, kind, psa_id
    )
    mirror_changed_on_commit(connection_id=connection.pk)
