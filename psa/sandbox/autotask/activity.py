"""`--activity N`: N random edits per second by the desk's resources, as on the ConnectWise
side (the thread and the weighted pick are psa.sandbox.activity's).

Edits go through the same writer as API calls (so stamps, rules and webhooks apply), acting as
a random active resource: ticket status, priority, queue and primary resource changes, new
tickets and notes, secondary resources, deleted tickets (logged in DeletedTicketLogs, as the
UI does: the API cannot delete tickets), company edits and task status moves. Failures are
counted (stats["activity_errors"]) and never stop the loop.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING

from psa.sandbox import texts
from psa.sandbox.activity import RandomEdits
from psa.sandbox.autotask import picklists
from psa.sandbox.autotask.schema import spec_of
from psa.sandbox.autotask.store import AutotaskStore

if TYPE_CHECKING:
    from psa.sandbox.autotask.sandbox import AutotaskSandbox

logger = logging.getLogger("psa.sandbox.autotask.activity")


class Activity(RandomEdits):
    thread_name = "autotask-activity"
    logger = logger
    store: AutotaskStore

    def __init__(self, sandbox: AutotaskSandbox, *, per_second: float, seed: int) -> None:
        rng = random.Random(f"{seed}:autotask:activity")
        super().__init__(per_second=per_second, rng=rng, count=sandbox._count)
        self.sandbox, self.store, self.writer = sandbox, sandbox.store, sandbox.writer
        self.actions = [
            (30, self.ticket_status),
            (10, self.ticket_priority),
            (6, self.ticket_queue),
            (10, self.ticket_reassign),
            (8, self.ticket_create),
            (12, self.ticket_note),
            (5, self.ticket_secondary),
            (2, self.ticket_delete),
            (5, self.company_edit),
            (6, self.task_status),
        ]

    # --- helpers -----------------------------------------------------------------------------

    def _resource(self) -> int:
        return self.rng.choice(self.sandbox.people.active_resources)

    def _open_ticket(self) -> dict | None:
        return self._pick("Tickets", lambda t: t.get("status") != picklists.COMPLETE_STATUS)

    def _patch(self, entity: str, record: dict, changes: dict) -> None:
        self.writer.update(
            spec_of(entity), {"id": record["id"], **changes}, None, self._resource(), full=False
        )

    # --- edits -------------------------------------------------------------------------------

    def ticket_status(self) -> None:
        ticket = self._open_ticket()
        if ticket:
            choices = [s for s in picklists.active_values("Tickets", "status") if s != ticket["status"]]
            self._patch("Tickets", ticket, {"status": self.rng.choice(choices)})

    def ticket_priority(self) -> None:
        ticket = self._open_ticket()
        if ticket:
            self._patch(
                "Tickets",
                ticket,
                {"priority": self.rng.choice(picklists.active_values("Tickets", "priority"))},
            )

    def ticket_queue(self) -> None:
        ticket = self._open_ticket()
        if ticket:
            self._patch(
                "Tickets", ticket, {"queueID": self.rng.choice(picklists.active_values("Tickets", "queueID"))}
            )

    def ticket_reassign(self) -> None:
        ticket = self._open_ticket()
        if ticket:
            resource = self._resource()
            role = self.sandbox.people.roles_of[resource][0]
            self._patch("Tickets", ticket, {"assignedResourceID": resource, "assignedResourceRoleID": role})

    def ticket_create(self) -> None:
        company = self.rng.choice(self.sandbox.people.company_ids)
        body = {
            "title": texts.ticket_summary(self.rng),
            "companyID": company,
            "status": 1,
            "priority": self.rng.choice((1, 2, 3)),
            "queueID": self.rng.choice(picklists.active_values("Tickets", "queueID")),
            "serviceLevelAgreementID": self.rng.choice((1, 2, 3)),
        }
        self.writer.create(spec_of("Tickets"), body, None, self._resource())

    def ticket_note(self) -> None:
        ticket = self._open_ticket()
        if ticket:
            body = {"title": "Update", "description": texts.note_text(self.rng), "noteType": 3, "publish": 1}
            self.writer.create(spec_of("TicketNotes"), body, ticket["id"], self._resource())

    def ticket_secondary(self) -> None:
        ticket = self._pick(
            "Tickets", lambda t: "assignedResourceID" in t and t.get("status") != picklists.COMPLETE_STATUS
        )
        if ticket is None:
            return
        existing = self.store.child_ids("TicketSecondaryResources", ticket["id"])
        spec = spec_of("TicketSecondaryResources")
        if existing and self.rng.random() < 0.4:
            self.writer.delete(spec, self.rng.choice(existing), ticket["id"], self._resource())
            return
        resource = self._resource()
        taken = {ticket["assignedResourceID"]} | {
            (self.store.get(spec.name, i) or {}).get("resourceID") for i in existing
        }
        if resource not in taken:
            body = {"resourceID": resource, "roleID": self.sandbox.people.roles_of[resource][0]}
            self.writer.create(spec, body, ticket["id"], self._resource())

    def ticket_delete(self) -> None:
        ticket = self._pick("Tickets")
        if ticket is None:
            return
        resource = self._resource()
        # The ticket's own children go with it, as in the UI (they are not kept orphaned).
        for child in ("TicketNotes", "TicketSecondaryResources"):
            for child_id in list(self.store.child_ids(child, ticket["id"])):
                self.store.delete(child, child_id, actor=resource)
        for link in [r for r in self.store.list("ServiceCallTickets") if r["ticketID"] == ticket["id"]]:
            for child_id in list(self.store.child_ids("ServiceCallTicketResources", link["id"])):
                self.store.delete("ServiceCallTicketResources", child_id, actor=resource)
            self.store.delete("ServiceCallTickets", link["id"], actor=resource)
        self.store.delete("Tickets", ticket["id"], actor=resource)
        self.store.create(
            "DeletedTicketLogs",
            {
                "ticketID": ticket["id"],
                "ticketNumber": ticket.get("ticketNumber"),
                "ticketTitle": ticket.get("title"),
                "deletedByResourceID": resource,
                "deletedDateTime": self.sandbox.writer.rules.clock(),
            },
            actor=resource,
        )

    def company_edit(self) -> None:
        company = self._pick("Companies")
        if company:
            phone = f"+1 555 {self.rng.randint(100, 999)} {self.rng.randint(1000, 9999)}"
            self._patch("Companies", company, {"phone": phone})

    def task_status(self) -> None:
        task = self._pick("Tasks", lambda t: t.get("status") != picklists.COMPLETE_STATUS)
        if task:
            self._patch("Tasks", task, {"status": self.rng.choice((1, 5, 7, 8))})
