"""Adding and removing a ticket's resources the way an Autotask dispatcher does.

Autotask has one primary resource per ticket (`assignedResourceID` + `assignedResourceRoleID`,
both or neither) and any number of secondary resources (`TicketSecondaryResources`, children of
the ticket). Adding someone to a ticket without a primary makes them the primary; otherwise they
join as a secondary. Removing the primary hands the ticket to the first secondary (Autotask
keeps no secondaries without a primary), or leaves it unassigned.

The role is the resource's default service desk role (`ResourceServiceDeskRoles.isDefault`,
else its first active one): Autotask refuses an assignment without a role it holds.

Every step looks at the ticket first, so a retry after a lost answer finds its own earlier work
instead of adding the resource twice (Autotask has no idempotency key, api.md §4).
"""

from __future__ import annotations

from boards.models import TicketAssignment
from psa.autotask.client import AutotaskClient
from psa.autotask.pushers_common import Card, card_of, linked_resource, reread
from psa.autotask.query import cond, query_text
from psa.errors import BadRequest, NotFound
from psa.providers import catalog_for
from sync.models import OutboxEntry
from sync.outbox import outbox_apply_record

NO_MATCH = "no matching records found"  # api.md §4: what a DELETE of a missing record answers


def default_role(client: AutotaskClient, resource_id: int) -> int:
    # Reference: entities.tsv ResourceServiceDeskRoles (resourceID, roleID, isDefault, isActive);
    # api.md §3 POST ResourceServiceDeskRoles/query
    roles = client.list_all(
        "ResourceServiceDeskRoles",
        conditions=query_text(cond("resourceID", "eq", int(resource_id)), cond("isActive", "eq", True)),
        fields=["roleID", "isDefault"],
    )
    if not roles:
        raise BadRequest(
            f"Autotask resource {resource_id} has no active service desk role, so it cannot be "
            "assigned to a ticket: give it a role in Autotask first"
        )
    chosen = next((r for r in roles if r.get("isDefault")), roles[0])
    return int(chosen["roleID"])


def _links(client: AutotaskClient, ticket_id: int, resource_id: int | None = None) -> list[dict]:
    """The ticket's secondary resources (only `resource_id`'s when given), oldest first."""
    # Reference: api.md §3 POST TicketSecondaryResources/query (ticketID, resourceID, roleID)
    items = [cond("ticketID", "eq", ticket_id)]
    if resource_id is not None:
        items.append(cond("resourceID", "eq", int(resource_id)))
    links = client.list_all("TicketSecondaryResources", conditions=query_text(*items))
    return sorted(links, key=lambda link: int(link["id"]))


def _unlink(client: AutotaskClient, entry: OutboxEntry, ticket_id: int, link_id: int) -> None:
    try:
        # Reference: api.md §4 DELETE Tickets/{parentId}/SecondaryResources/{id}
        client.delete(f"Tickets/{ticket_id}/SecondaryResources", link_id, impersonate=linked_resource(entry))
    except NotFound:
        pass  # already gone: the goal is reached
    except BadRequest as err:
        if NO_MATCH not in str(err.psa_message or "").lower():
            raise
    # Only the secondary-resource rows: other entities may keep assignments of their own ids.
    owned = catalog_for(entry.connection).mapping("ticket_assignments").scope_filter
    TicketAssignment.objects.filter(connection_id=entry.connection_id, psa_id=link_id, **owned).delete()


def _assign_primary(
    client: AutotaskClient, entry: OutboxEntry, card: Card, resource_id: int | None, role_id: int | None
) -> dict:
    # Reference: api.md §4 PATCH Tickets (or Projects/{id}/Tasks); rules: both fields or neither
    client.update(
        card.update_path,
        card.psa_id,
        {"assignedResourceID": resource_id, "assignedResourceRoleID": role_id},
        impersonate=linked_resource(entry),
    )
    return reread(client, card.entity, card.psa_id)


def _apply_card(entry: OutboxEntry, card: Card, record: dict) -> None:
    outbox_apply_record(entry, card.catalog_entity, record)
    entry.result_psa_id = None  # nothing was created: the ticket itself changed


def push_add_resource(client: AutotaskClient, entry: OutboxEntry) -> None:
    card = card_of(entry)
    resource_id = int(entry.payload["member_id"])
    record = reread(client, card.entity, card.psa_id)
    primary = record.get("assignedResourceID")
    if primary == resource_id:
        _apply_card(entry, card, record)  # already the primary: nothing to write
        return
    if primary is None:
        record = _assign_primary(client, entry, card, resource_id, default_role(client, resource_id))
        _apply_card(entry, card, record)
        return
    if card.task:
        raise BadRequest(
            "this task already has a primary resource; secondary resources of Autotask tasks are "
            "not shown on boards yet, so add them in Autotask"
        )
    existing = _links(client, card.psa_id, resource_id)
    if existing:
        link = existing[0]  # added before (an earlier attempt, or in Autotask): not twice
    else:
        # Reference: api.md §4 POST Tickets/{parentId}/SecondaryResources (ticketID, resourceID, roleID)
        link_id = client.create(
            f"Tickets/{card.psa_id}/SecondaryResources",
            {"ticketID": card.psa_id, "resourceID": resource_id, "roleID": default_role(client, resource_id)},
            impersonate=linked_resource(entry),
        )
        link = reread(client, "TicketSecondaryResources", link_id)
    outbox_apply_record(entry, "ticket_assignments", link)


def push_remove_resource(client: AutotaskClient, entry: OutboxEntry) -> None:
    card = card_of(entry)
    resource_id = int(entry.payload["member_id"])
    if not card.task:
        for link in _links(client, card.psa_id, resource_id):
            _unlink(client, entry, card.psa_id, int(link["id"]))
    record = reread(client, card.entity, card.psa_id)
    if record.get("assignedResourceID") == resource_id:
        successor = None if card.task else next(iter(_links(client, card.psa_id)), None)
        if successor is None:
            record = _assign_primary(client, entry, card, None, None)
        else:
            role = successor.get("roleID") or default_role(client, int(successor["resourceID"]))
            record = _assign_primary(client, entry, card, int(successor["resourceID"]), int(role))
            _unlink(client, entry, card.psa_id, int(successor["id"]))
    elif not card.task and record.get("assignedResourceID") is not None:
        # A retry after a promotion whose unlink was lost: the primary is not also a secondary.
        for link in _links(client, card.psa_id, int(record["assignedResourceID"])):
            _unlink(client, entry, card.psa_id, int(link["id"]))
    _apply_card(entry, card, record)
