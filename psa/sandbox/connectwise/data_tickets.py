"""Seeded service and project tickets, their schedule entries (type S) and time entries.

About 45% of tickets are open (entered within the last 120 days); closed ones go back up to
four years. Many open tickets have one or two "S" schedule entries, and `resources` lists
their members' identifiers, as ConnectWise keeps them in step. Tickets carry their model's other
fields as a real site fills them (data_ticket_fields) and service tickets their SLA state
(data_ticket_sla).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from psa.sandbox import texts
from psa.sandbox.connectwise.data_ticket_fields import SetupRefs, common_fields, link_children, service_fields
from psa.sandbox.connectwise.data_ticket_sla import seeded_sla
from psa.sandbox.connectwise.schema_tickets import PROJECT_TICKETS, SERVICE_TICKETS
from psa.sandbox.connectwise.sla import SlaBook
from psa.sandbox.connectwise.store import record_time

if TYPE_CHECKING:
    from psa.sandbox.connectwise.data import Generator

SERVICE_FIELDS, PROJECT_FIELDS = frozenset(SERVICE_TICKETS.fields), frozenset(PROJECT_TICKETS.fields)


class _BoardRefs:
    def __init__(self, gen: Generator, board: dict) -> None:
        store, refs, board_id = gen.store, gen.refs, board["id"]

        def child(name: str, field: str) -> list[dict]:
            rows = store.list(f"service/boards/{{parentId}}/{name}", parent_id=board_id)
            return [
                refs.ref(f"service/boards/{{parentId}}/{name}", r, field)
                for r in rows
                if not r.get("inactive") and not r.get("inactiveFlag")
            ]

        statuses = store.list("service/boards/{parentId}/statuses", parent_id=board_id)
        self.board = refs.ref("service/boards", board, "board")
        self.location = board.get("location")
        self.open = [
            refs.ref("service/boards/{parentId}/statuses", s, "status")
            for s in statuses
            if not s["closedStatus"] and not s["inactive"]
        ]
        self.closed = [
            refs.ref("service/boards/{parentId}/statuses", s, "status") for s in statuses if s["closedStatus"]
        ]
        self.teams = child("teams", "team")
        self.types = child("types", "type")
        self.subtypes = child("subtypes", "subType")
        self.items = child("items", "item")


class TicketMaker:
    def __init__(self, gen: Generator, rng: random.Random) -> None:
        self.gen, self.rng = gen, rng
        store, refs = gen.store, gen.refs
        boards = store.list("service/boards")
        self.service_boards = [_BoardRefs(gen, b) for b in boards if not b.get("projectFlag")]
        self.project_boards = [
            _BoardRefs(gen, b) for b in boards if b.get("projectFlag")
        ] or self.service_boards
        self.priorities = [
            refs.ref("service/priorities", p, "priority") for p in store.list("service/priorities")
        ]
        self.slas = [refs.ref("service/SLAs", s, "sla") for s in store.list("service/SLAs")]
        self.locations = [
            refs.ref("service/locations", s, "serviceLocation") for s in store.list("service/locations")
        ]
        self.company_refs = [refs.ref("company/companies", c, "company") for c in gen.companies]
        self.owner_refs = [refs.ref("system/members", m, "owner") for m in gen.members]
        self.project_refs = [refs.ref("project/projects", p, "project") for p in gen.projects]
        self.companies = {c["id"]: c for c in gen.companies}
        self.setup = SetupRefs(store, refs)
        self.sla_book = SlaBook(store)
        types = {t["identifier"]: t for t in store.list("schedule/types")}
        self.schedule_type = refs.ref("schedule/types", types["S"], "type")
        self.schedule_status = refs.ref("schedule/statuses", store.list("schedule/statuses")[0], "status")

    def make(self, service_count: int, project_count: int) -> tuple[list[dict], list[dict]]:
        service: list[dict] = []
        project: list[dict] = []
        next_id, total = 10_001, service_count + project_count
        project_every = max(total // max(project_count, 1), 1)
        for index in range(total):
            is_project = index % project_every == project_every - 1 and len(project) < project_count
            if not is_project and len(service) >= service_count:
                is_project = True
            ticket = self._ticket(next_id, project=is_project)
            (project if is_project else service).append(ticket)
            next_id += 1 if self.rng.random() < 0.8 else self.rng.randint(2, 9)  # deleted ids leave gaps
        link_children(service, self.gen._rng("ticket-children"))
        for ticket in service:
            ticket.update(self._sla(ticket))
        return service, project

    def _sla(self, ticket: dict) -> dict:
        rng = self.gen._rng(f"sla:{ticket['id']}")
        member = str(
            (ticket.get("owner") or {}).get("identifier") or rng.choice(self.gen.members)["identifier"]
        )
        fields, resumed = seeded_sla(self.sla_book, ticket, self.gen.anchor, rng, member)
        if resumed is not None and record_time(resumed) > ticket["_info"]["lastUpdated"]:
            fields["_info"] = {**ticket["_info"], "lastUpdated": record_time(resumed)}
        return {k: v for k, v in fields.items() if v is not None}

    def _ticket(self, ticket_id: int, *, project: bool) -> dict:
        rng, anchor = self.rng, self.gen.anchor
        board = rng.choice(self.project_boards if project else self.service_boards)
        is_open = rng.random() < 0.45
        if is_open:
            entered = anchor - timedelta(minutes=rng.randint(10, 60 * 24 * 120))
            status = rng.choice(board.open)
        else:
            entered = anchor - timedelta(minutes=rng.randint(60 * 24 * 2, 60 * 24 * 365 * 4))
            status = rng.choice(board.closed)
        span = max(int((anchor - entered).total_seconds() // 60), 1)
        updated = entered + timedelta(minutes=rng.randint(0, span))
        owner = rng.choice(self.owner_refs) if rng.random() < 0.7 else None
        updated_text = record_time(updated)
        ticket = {
            "id": ticket_id,
            "summary": texts.ticket_summary(rng),
            "board": board.board,
            "status": status,
            "company": rng.choice(self.company_refs),
            "contactName": rng.choice(texts.CONTACTS),
            "type": rng.choice(board.types) if board.types and rng.random() < 0.8 else None,
            "subType": rng.choice(board.subtypes) if board.subtypes and rng.random() < 0.5 else None,
            "item": rng.choice(board.items) if board.items and rng.random() < 0.3 else None,
            "owner": owner,
            "priority": rng.choice(self.priorities),
            "requiredDate": record_time(entered + timedelta(days=rng.randint(1, 30)))
            if rng.random() < 0.3
            else None,
            "budgetHours": float(rng.choice((0, 0.5, 1, 2, 4, 8))),
            "actualHours": round(rng.random() * 6, 2) if rng.random() < 0.6 else 0.0,
            "customerUpdatedFlag": is_open and rng.random() < 0.15,
            "closedFlag": not is_open,
            "closedDate": None if is_open else updated_text,
            "closedBy": None if is_open else (owner or {}).get("identifier", "admin1"),
            "_info": {
                "lastUpdated": updated_text,
                "dateEntered": record_time(entered),
                "updatedBy": (owner or {}).get("identifier", "admin1"),
                "enteredBy": "template1",
            },
        }
        extra = self.gen._rng(f"ticket-fields:{ticket_id}")
        model = PROJECT_FIELDS if project else SERVICE_FIELDS
        company = ticket["company"]
        assert isinstance(company, dict)  # every generated ticket refers to its company
        common = common_fields(extra, ticket, self.setup, self.companies[company["id"]])
        ticket.update({k: v for k, v in common.items() if k in model})
        ticket["location"] = board.location
        if project:
            project_ref = rng.choice(self.project_refs) if self.project_refs else None
            phases = self.setup.phases((project_ref or {}).get("id"))
            ticket.update(
                project=project_ref,
                phase=extra.choice(phases)
                if phases
                else {"id": 1 + ticket_id % 7, "name": f"Phase {1 + ticket_id % 7}"},
                wbsCode=f"{1 + ticket_id % 7}.{ticket_id % 13}",
                isIssueFlag=extra.random() < 0.05,
            )
        else:
            ticket.update(
                recordType="ServiceTicket",
                serviceLocation=rng.choice(self.locations),
                team=rng.choice(board.teams) if board.teams and rng.random() < 0.75 else None,
                sla=rng.choice(self.slas),
                severity=rng.choice(("Low", "Medium", "High")),
                impact=rng.choice(("Low", "Medium", "High")),
                **service_fields(extra, self.setup),
            )
        return {k: v for k, v in ticket.items() if v is not None}

    def assignments_and_time(self, tickets: list[dict]) -> tuple[list[dict], list[dict]]:
        """Schedule entries (type S) for many open tickets, time entries for some; sets `resources`."""
        rng = self.gen._rng("assignments")
        schedule: list[dict] = []
        time_entries: list[dict] = []
        members = self.gen.members
        for ticket in tickets:
            if not ticket["closedFlag"] and rng.random() < 0.65:
                chosen = rng.sample(members, k=min(len(members), rng.choice((1, 1, 1, 2))))
                for member in chosen:
                    schedule.append(self._schedule_entry(rng, len(schedule) + 1, ticket, member))
                ticket["resources"] = ", ".join(str(m["identifier"]) for m in chosen)
            if rng.random() < 0.3:
                for _ in range(rng.randint(1, 3)):
                    time_entries.append(self._time_entry(rng, len(time_entries) + 1, ticket))
        return schedule, time_entries

    def _schedule_entry(self, rng: random.Random, entry_id: int, ticket: dict, member: dict) -> dict:
        start = self.gen.anchor + timedelta(hours=rng.randint(-72, 240))
        hours = rng.choice((0.5, 1, 2, 4))
        return {
            "id": entry_id,
            "objectId": ticket["id"],
            "name": ticket["summary"][:100],
            "member": self.gen.member_refs[member["id"]],
            "dateStart": record_time(start),
            "dateEnd": record_time(start + timedelta(hours=hours)),
            "status": self.schedule_status,
            "type": self.schedule_type,
            "doneFlag": False,
            "acknowledgedFlag": rng.random() < 0.5,
            "ownerFlag": False,
            "hours": hours,
            "_info": {**ticket["_info"], "updatedBy": member["identifier"]},
        }

    def _time_entry(self, rng: random.Random, entry_id: int, ticket: dict) -> dict:
        member = rng.choice(self.gen.members)
        base = datetime.fromisoformat(ticket["_info"]["lastUpdated"].replace("Z", "+00:00"))
        hours = rng.choice((0.25, 0.5, 1.0, 1.5, 2.0))
        start = base - timedelta(
            hours=hours, minutes=rng.randint(0, 60 * 24 * 3)
        )  # ends before the ticket's update
        ended = record_time(start + timedelta(hours=hours))
        return {
            "id": entry_id,
            "company": ticket["company"],
            "chargeToId": ticket["id"],
            "chargeToType": "ProjectTicket"
            if "project" in ticket or "wbsCode" in ticket
            else "ServiceTicket",
            "member": self.gen.member_refs[member["id"]],
            "timeStart": record_time(start),
            "timeEnd": ended,
            "actualHours": hours,
            "billableOption": rng.choice(("Billable", "DoNotBill", "NoCharge")),
            "notes": rng.choice(texts.NOTE_SNIPPETS),
            "enteredBy": member["identifier"],
            "dateEntered": ended,
            "_info": {
                "lastUpdated": ended,
                "dateEntered": ended,
                "updatedBy": member["identifier"],
            },
        }
