"""`--activity N`: N random edits per second, as a busy service desk makes them.

Creates, updates (status, priority, summary), closes, reassigns (schedule entries of type S)
and deletes tickets; moves, creates and deletes opportunities; adds ticket notes. Every edit
goes through the store, so it bumps `_info.lastUpdated` and fires callbacks like an API write.
Failures are counted (stats["activity_errors"]) and never stop the loop.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter

from psa.sandbox import texts
from psa.sandbox.activity import RandomEdits
from psa.sandbox.connectwise.refs import RefBuilder
from psa.sandbox.connectwise.rules import board_statuses
from psa.sandbox.connectwise.store import SandboxStore

logger = logging.getLogger("psa.sandbox.connectwise.activity")
NOTE_FLAGS = ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")


class Activity(RandomEdits):
    logger = logger
    store: SandboxStore

    def __init__(
        self,
        store: SandboxStore,
        refs: RefBuilder,
        *,
        per_second: float,
        seed: int,
        stats: Counter,
        stats_lock: threading.Lock,
    ) -> None:
        super().__init__(per_second=per_second, rng=random.Random(f"{seed}:activity"), count=self._tally)
        self.store, self.refs = store, refs
        self.stats, self.stats_lock = stats, stats_lock
        self.actions = [
            (30, self.ticket_status),
            (10, self.ticket_priority),
            (8, self.ticket_close),
            (12, self.ticket_reassign),
            (10, self.ticket_create),
            (3, self.ticket_delete),
            (4, self.ticket_summary),
            (4, self.ticket_note),
            (10, self.opportunity_move),
            (5, self.opportunity_create),
            (2, self.opportunity_delete),
        ]

    def _tally(self, key: str) -> None:
        with self.stats_lock:
            self.stats[key] += 1

    # --- helpers ---------------------------------------------------------------------------

    def _member(self) -> dict:
        return self.rng.choice([m for m in self.store.list("system/members") if not m.get("inactiveFlag")])

    def _open_ticket(self) -> dict | None:
        return self._pick("service/tickets", lambda t: not t.get("closedFlag"))

    def _status(self, ticket: dict, *, closed: bool) -> dict | None:
        choices = [
            s
            for s in board_statuses(self.store, ticket["board"]["id"])
            if bool(s.get("closedStatus")) == closed and not s.get("inactive")
        ]
        return self.rng.choice(choices) if choices else None

    def _update_ticket(self, ticket: dict, changes: dict) -> None:
        self.store.update("service/tickets", ticket["id"], changes, updated_by=self._member()["identifier"])

    # --- tickets ---------------------------------------------------------------------------

    def ticket_status(self) -> None:
        ticket = self._open_ticket()
        status = ticket and self._status(ticket, closed=False)
        if ticket and status:
            self._update_ticket(
                ticket, {"status": self.refs.ref("service/boards/{parentId}/statuses", status, "status")}
            )

    def ticket_close(self) -> None:
        ticket = self._open_ticket()
        status = ticket and self._status(ticket, closed=True)
        if ticket and status:
            self._update_ticket(
                ticket, {"status": self.refs.ref("service/boards/{parentId}/statuses", status, "status")}
            )

    def ticket_priority(self) -> None:
        ticket = self._open_ticket()
        if ticket:
            priority = self.rng.choice(self.store.list("service/priorities"))
            self._update_ticket(
                ticket, {"priority": self.refs.ref("service/priorities", priority, "priority")}
            )

    def ticket_summary(self) -> None:
        ticket = self._open_ticket()
        if ticket:
            self._update_ticket(
                ticket, {"summary": texts.ticket_summary(self.rng), "customerUpdatedFlag": True}
            )

    def ticket_reassign(self) -> None:
        ticket = self._open_ticket()
        if ticket is None:
            return
        entries = [
            e for e in self.store.iter_records("schedule/entries") if e.get("objectId") == ticket["id"]
        ]
        if entries and self.rng.random() < 0.5:
            self.store.delete("schedule/entries", self.rng.choice(entries)["id"])
            return
        member = self._member()
        schedule_type = next(t for t in self.store.list("schedule/types") if t.get("identifier") == "S")
        self.store.create(
            "schedule/entries",
            {
                "objectId": ticket["id"],
                "name": ticket["summary"][:100],
                "member": self.refs.ref("system/members", member, "member"),
                "type": self.refs.ref("schedule/types", schedule_type, "type"),
                "doneFlag": False,
                "hours": 1.0,
            },
            updated_by=member["identifier"],
        )

    def ticket_create(self) -> None:
        template = self._pick("service/tickets")
        company = self._pick("company/companies")
        if template is None or company is None:
            return
        self.store.create(
            "service/tickets",
            {
                "summary": texts.ticket_summary(self.rng),
                "board": template["board"],
                "company": self.refs.ref("company/companies", company, "company"),
                "priority": template.get("priority"),
                "contactName": self.rng.choice(texts.CONTACTS),
            },
            updated_by=self._member()["identifier"],
        )

    def ticket_delete(self) -> None:
        ticket = self._pick("service/tickets")
        if ticket:
            self.store.delete("service/tickets", ticket["id"])

    def ticket_note(self) -> None:
        ticket = self._open_ticket()
        if ticket:
            member = self._member()
            # Mostly discussion; some internal analysis (the plan) or a resolution: each moves
            # the ticket's SLA on (psa.sandbox.connectwise.sla) the first time, as in ConnectWise.
            flag = self.rng.choices(NOTE_FLAGS, weights=(75, 18, 7))[0]
            self.store.create(
                "service/tickets/{parentId}/notes",
                {
                    "ticketId": ticket["id"],
                    "text": texts.note_text(self.rng),
                    flag: True,
                    "internalFlag": flag == "internalAnalysisFlag",
                    "member": self.refs.ref("system/members", member, "member"),
                },
                updated_by=member["identifier"],
            )

    # --- opportunities ---------------------------------------------------------------------

    def opportunity_move(self) -> None:
        opportunity = self._pick("sales/opportunities")
        if opportunity is None:
            return
        if self.rng.random() < 0.7:
            stage = self.rng.choice(self.store.list("sales/stages"))
            changes = {"stage": self.refs.ref("sales/stages", stage, "stage")}
        else:
            status = self.rng.choice(self.store.list("sales/opportunities/statuses"))
            changes = {"status": self.refs.ref("sales/opportunities/statuses", status, "status")}
        self.store.update(
            "sales/opportunities", opportunity["id"], changes, updated_by=self._member()["identifier"]
        )

    def opportunity_create(self) -> None:
        company = self._pick("company/companies")
        status = next(iter(self.store.list("sales/opportunities/statuses")), None)
        stage = next(iter(self.store.list("sales/stages")), None)
        if company is None or status is None or stage is None:
            return
        member = self._member()
        self.store.create(
            "sales/opportunities",
            {
                "name": texts.opportunity_name(self.rng),
                "company": self.refs.ref("company/companies", company, "company"),
                "status": self.refs.ref("sales/opportunities/statuses", status, "status"),
                "stage": self.refs.ref("sales/stages", stage, "stage"),
                "primarySalesRep": self.refs.ref("system/members", member, "primarySalesRep"),
            },
            updated_by=member["identifier"],
        )

    def opportunity_delete(self) -> None:
        opportunity = self._pick("sales/opportunities")
        if opportunity:
            self.store.delete("sales/opportunities", opportunity["id"])
