"""What every Autotask pusher shares: who the edit is made as, where a ticket or task is
addressed, and reading a written record back (Autotask answers a write with its id only).

Reference: api.md §2 — `ImpersonationResourceId` on a write makes Autotask record the change as
that resource (the note's creator, the ticket's last activity by), not as the API user; api.md
§4 — writes answer `{"itemId": N}`, so the record is read again to land in the mirror.
"""

from __future__ import annotations

from dataclasses import dataclass

from boards.models import Membership, Ticket
from psa.autotask.client import AutotaskClient
from psa.errors import BadRequest, NotFound
from sync.models import OutboxEntry

NOT_LINKED = (
    "Your account is not linked to an Autotask resource on this connection, so this cannot be "
    "recorded as you. Choose your resource under “My PSA member” or ask a connection admin."
)


def is_project(entry: OutboxEntry) -> bool:
    """The card is a project task (the write-back service records the ticket's kind)."""
    return entry.payload.get("ticket_kind") == "project"


def linked_resource(entry: OutboxEntry) -> int | None:
    """The Autotask resource the user who made the edit is linked to (None: no user or no link)."""
    if entry.user_id is None:
        return None
    return (
        Membership.objects.filter(user_id=entry.user_id, connection_id=entry.connection_id)
        .values_list("member_psa_id", flat=True)
        .first()
    )


def reread(client: AutotaskClient, path: str, psa_id: int) -> dict:
    # Reference: api.md §3 "Count, get by id" — GET {Entity}/{id}
    record = client.get(f"{path}/{int(psa_id)}")
    if record is None:
        raise NotFound(f"{path} {psa_id} is gone", url=path)
    return record


@dataclass(frozen=True)
class Card:
    """Where the ticket or task of an entry lives in Autotask."""

    psa_id: int
    entity: str  # "Tickets" | "Tasks": read by GET {entity}/{id}
    update_path: str  # PATCHed here: Tickets, or Projects/{projectId}/Tasks
    catalog_entity: str  # the mirror entry its record lands in

    @property
    def task(self) -> bool:
        return self.entity == "Tasks"


def card_of(entry: OutboxEntry) -> Card:
    psa_id = int(entry.psa_id)
    if not is_project(entry):
        return Card(psa_id, "Tickets", "Tickets", "service_tickets")
    project_id = (
        Ticket.objects.filter(connection_id=entry.connection_id, psa_id=psa_id)
        .values_list("project_psa_id", flat=True)
        .first()
    )
    if not project_id:
        raise BadRequest(f"task {psa_id} has no project in the mirror: cannot address it")
    # Reference: api.md §4 — Tasks are created and updated only under /Projects/{parentId}/Tasks.
    return Card(psa_id, "Tasks", f"Projects/{int(project_id)}/Tasks", "project_tickets")
