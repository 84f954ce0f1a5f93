"""Seeded tickets with their SLA due dates, secondary resources, lazily made notes, service
calls and the log of deleted tickets.

SLA fields: `firstResponseDueDateTime`, `resolutionPlanDueDateTime` and `resolvedDueDateTime`
count the SLA's goal hours in business hours (psa.sandbox.business_hours, 08:00-17:00 Monday
to Friday, round the clock for the 24x7 SLA) from the ticket's creation;
`serviceLevelAgreementHasBeenMet` is set once a ticket is complete (met when it was resolved
before its resolved due date).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from psa.sandbox import texts
from psa.sandbox.autotask.data import People
from psa.sandbox.autotask.picklists import COMPLETE_STATUS, SUB_ISSUE_TYPES, WAITING_STATUSES
from psa.sandbox.autotask.store import LAZY_ID_STRIDE
from psa.sandbox.autotask.wire import parse_time, wire_time
from psa.sandbox.business_hours import ALL_HOURS, WorkCalendar, add_minutes

FIRST_TICKET_ID = 7_000
OFFICE_HOURS = WorkCalendar(hours={day: (8 * 60, 17 * 60) for day in range(5)})
# SLA id → (calendar, first response, resolution plan, resolved) goal hours
SLA_GOALS = {1: (OFFICE_HOURS, 4, 8, 24), 2: (OFFICE_HOURS, 1, 4, 8), 3: (ALL_HOURS, 0.5, 2, 4)}
OPEN_STATUSES = (1, 7, 8, 9, 10, 11, 12, 13, 15, 16, 19)
OPEN_WEIGHTS = (20, 8, 25, 3, 6, 3, 4, 3, 2, 4, 2)
QUEUE_WEIGHTS = {
    5: 6,
    6: 2,
    8: 8,
    29682833: 30,
    29682969: 15,
    29683354: 5,
    29683481: 5,
    29683530: 3,
    29683611: 3,
}
CATEGORY_IDS = (1, 2, 3)


def sla_due_dates(sla_id: int, created: datetime) -> dict[str, str]:
    calendar, *goals = SLA_GOALS[sla_id]
    names = ("firstResponseDueDateTime", "resolutionPlanDueDateTime", "resolvedDueDateTime")
    due: dict[str, str] = {}
    for name, hours in zip(names, goals, strict=True):
        moment = add_minutes(calendar, created, int(hours * 60))
        if moment is not None:
            due[name] = wire_time(moment)
    return due


class Tickets:
    def __init__(self, people: People) -> None:
        self.people = people
        self.anchor = people.anchor
        self.ticket_ids: list[int] = []
        self.open_ids: list[int] = []
        self.assignee_of: dict[int, int] = {}  # ticket id → primary resource (notes' authors)
        self.last_generated = 0

    def generate(self) -> None:
        rng = self.people.rng("tickets")
        store, count = self.people.store, self.people.scale.tickets
        tickets: list[dict] = []
        secondaries: list[dict] = []
        deleted: list[dict] = []
        queues, queue_weights = list(QUEUE_WEIGHTS), list(QUEUE_WEIGHTS.values())
        ticket_id = FIRST_TICKET_ID - 1
        for n in range(count):
            if n and rng.random() < 0.02:  # an id gap: a ticket deleted since
                ticket_id += 1
                deleted.append(self._deleted_log(rng, ticket_id, len(deleted) + 1))
            ticket_id += 1
            ticket = self._ticket(rng, ticket_id, rng.choices(queues, weights=queue_weights)[0])
            tickets.append(ticket)
            self.ticket_ids.append(ticket_id)
            if ticket["status"] != COMPLETE_STATUS:
                self.open_ids.append(ticket_id)
            if "assignedResourceID" in ticket and rng.random() < 0.25:
                secondaries.extend(self._secondaries(rng, ticket, len(secondaries)))
        store.load("Tickets", tickets)
        store.load("TicketSecondaryResources", secondaries)
        store.load("DeletedTicketLogs", deleted)
        self.last_generated = ticket_id
        store.set_lazy_children("TicketNotes", "Tickets", self.notes)

    def _ticket(self, rng: random.Random, ticket_id: int, queue_id: int) -> dict:
        people = self.people
        age_days = rng.choice((2, 14, 60, 400, 1500))
        created = people.days_ago(rng, age_days)
        complete = rng.random() < (0.75 if age_days > 30 else 0.25)
        status = COMPLETE_STATUS if complete else rng.choices(OPEN_STATUSES, weights=OPEN_WEIGHTS)[0]
        touched = created + (self.anchor - created) * rng.random() * (0.3 if complete else 1)
        company_id = rng.choice(people.company_ids)
        issue = rng.choice(SUB_ISSUE_TYPES) if rng.random() < 0.7 else None
        ticket = {
            "id": ticket_id,
            "ticketNumber": f"T{created:%Y%m%d}.{ticket_id % 10000:04d}",
            "title": texts.ticket_summary(rng),
            "description": texts.note_text(rng) if rng.random() < 0.8 else None,
            "companyID": company_id,
            "contactID": rng.choice(people.contacts_of[company_id])
            if people.contacts_of[company_id]
            else None,
            "status": status,
            "priority": rng.choices((4, 1, 2, 3), weights=(5, 20, 50, 25))[0],
            "queueID": queue_id,
            "ticketType": rng.choices((1, 2, 3, 4, 5), weights=(45, 35, 5, 5, 10))[0],
            "source": rng.choice((-1, 2, 4, 6, 8)),
            "issueType": issue.parent if issue else None,
            "subIssueType": issue.value if issue else None,
            "ticketCategory": rng.choice(CATEGORY_IDS),
            "createDate": wire_time(created),
            "creatorResourceID": rng.choice(people.active_resources),
            "creatorType": 1,
            "lastActivityDate": wire_time(touched),
            "lastTrackedModificationDateTime": wire_time(touched),
            "lastActivityResourceID": rng.choice(people.active_resources),
            "lastActivityPersonType": 1,
            "dueDateTime": wire_time(created + timedelta(days=rng.randint(1, 14))),
            "estimatedHours": rng.choice((0.5, 1.0, 2.0, 4.0)),
        }
        if rng.random() < 0.85:
            resource_id = rng.choice(people.active_resources)
            ticket["assignedResourceID"] = resource_id
            ticket["assignedResourceRoleID"] = people.roles_of[resource_id][0]
            self.assignee_of[ticket_id] = resource_id
        if rng.random() < 0.15:
            ticket["_udf"] = {"Customer Reference": f"PO-{rng.randint(10000, 99999)}"}
        self._sla(rng, ticket, created, complete, touched)
        return {key: value for key, value in ticket.items() if value is not None}

    def _sla(
        self, rng: random.Random, ticket: dict, created: datetime, complete: bool, touched: datetime
    ) -> None:
        if rng.random() < 0.2:
            return  # no SLA on this ticket
        sla_id = rng.choices((1, 2, 3), weights=(70, 25, 5))[0]
        ticket["serviceLevelAgreementID"] = sla_id
        ticket.update(sla_due_dates(sla_id, created))
        responded = created + timedelta(minutes=rng.randint(5, 600))
        if responded < self.anchor and (complete or rng.random() < 0.6):
            ticket["firstResponseDateTime"] = wire_time(responded)
            ticket["firstResponseAssignedResourceID"] = ticket.get("assignedResourceID")
        if ticket["status"] in WAITING_STATUSES:
            ticket["serviceLevelAgreementPausedNextEventHours"] = round(rng.uniform(0.5, 8), 2)
        if complete:
            resolved = max(touched, min(responded, self.anchor))  # never after the anchor
            ticket["resolvedDateTime"] = ticket["completedDate"] = wire_time(resolved)
            ticket["completedByResourceID"] = ticket.get("assignedResourceID")
            due = ticket.get("resolvedDueDateTime")
            ticket["serviceLevelAgreementHasBeenMet"] = due is not None and wire_time(resolved) <= due

    def _secondaries(self, rng: random.Random, ticket: dict, first: int) -> list[dict]:
        people = self.people
        others = [r for r in rng.sample(people.active_resources, 2) if r != ticket["assignedResourceID"]]
        return [
            {"id": first + n + 1, "ticketID": ticket["id"], "resourceID": r, "roleID": people.roles_of[r][0]}
            for n, r in enumerate(others[: rng.randint(1, 2)])
        ]

    def _deleted_log(self, rng: random.Random, ticket_id: int, log_id: int) -> dict:
        return {
            "id": log_id,
            "ticketID": ticket_id,
            "ticketNumber": f"T{self.anchor:%Y%m%d}.{ticket_id % 10000:04d}",
            "ticketTitle": texts.ticket_summary(rng),
            "deletedByResourceID": rng.choice(self.people.active_resources),
            "deletedDateTime": wire_time(self.people.days_ago(rng, 90)),
        }

    def notes(self, ticket_id: int) -> list[dict]:
        """The generated notes of one ticket (ids ticket id × stride + n), made on demand."""
        if ticket_id > self.last_generated:
            return []
        ticket = self.people.store.get("Tickets", ticket_id)
        if ticket is None:
            return []
        rng = random.Random(f"{self.people.seed}:autotask:notes:{ticket_id}")
        created = ticket["createDate"]
        author = self.assignee_of.get(ticket_id) or ticket.get("creatorResourceID")
        notes = []
        for n in range(rng.choice((0, 1, 1, 2, 3, 5))):
            after = parse_time(created) + timedelta(hours=rng.uniform(0.1, 72) * (n + 1))
            moment = self.people.stamp(rng, parse_time(created), after)
            notes.append(
                {
                    "id": ticket_id * LAZY_ID_STRIDE + n,
                    "ticketID": ticket_id,
                    "title": f"Update {n + 1}",
                    "description": texts.note_text(rng),
                    "noteType": rng.choices((1, 2, 3, 13, 18), weights=(10, 10, 60, 5, 15))[0],
                    "publish": rng.choices((1, 2), weights=(70, 30))[0],
                    "creatorResourceID": author,
                    "createDateTime": wire_time(moment),
                    "lastActivityDate": wire_time(moment),
                }
            )
        return notes
