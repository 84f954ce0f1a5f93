"""Seeded, deterministic sandbox data: same seed + anchor → the same records.

Realistic mess on purpose: unicode (accents, emoji, RTL), quotes and backslashes in summaries,
summaries up to the 255-character limit, long note texts, null optional references, old
closed tickets (years ago) next to fresh open ones, id gaps, project tickets sharing the ticket
id space. Notes are produced lazily per ticket / opportunity (see SandboxStore).
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from psa.sandbox import texts
from psa.sandbox.connectwise.data_links import Links
from psa.sandbox.connectwise.data_profiles import Profiles
from psa.sandbox.connectwise.data_reference import complete, generate_reference
from psa.sandbox.connectwise.data_reference_fill import fill_reference, fill_work
from psa.sandbox.connectwise.data_setup import generate_setup
from psa.sandbox.connectwise.data_tickets import TicketMaker
from psa.sandbox.connectwise.refs import RefBuilder
from psa.sandbox.connectwise.store import NOTE_ID_STRIDE, SandboxStore, record_time
from psa.sandbox.connectwise.writes import API_MEMBER


@dataclass(frozen=True)
class Scale:
    tickets: int
    companies: int
    members: int
    opportunities: int
    projects: int
    boards: int

    @property
    def project_tickets(self) -> int:
        return max(self.tickets // 20, 10)


SCALES = {
    # a thousand tenants in one process (benchmarks of the fleet): a few of everything
    "tiny": Scale(tickets=30, companies=8, members=5, opportunities=8, projects=2, boards=1),
    "small": Scale(tickets=500, companies=120, members=25, opportunities=120, projects=20, boards=4),
    "medium": Scale(
        tickets=10_000, companies=1_500, members=120, opportunities=1_000, projects=300, boards=6
    ),
    "large": Scale(
        tickets=100_000, companies=10_000, members=300, opportunities=5_000, projects=2_000, boards=10
    ),
}


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Without the cyclic garbage collector: a large run makes millions of small dicts that all
    stay alive, and the collector would walk them over and over (a sixth of the run) to find no
    cycle. Reference counting still frees what is dropped; the collector resumes afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Generator:
    """Fills a store; keeps what later parts and the lazy note makers need."""

    def __init__(
        self, store: SandboxStore, refs: RefBuilder, *, scale: str, seed: int, anchor: datetime
    ) -> None:
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; choose from {', '.join(SCALES)}")
        self.store, self.refs, self.seed, self.anchor = store, refs, seed, anchor
        self.scale = SCALES[scale]
        # Filled during generate() for the generators that follow (tickets pick their contact,
        # site and phase from these): company id → contacts / sites, project id → phases.
        self.contacts_by_company: dict[int, list[dict]] = {}
        self.sites_by_company: dict[int, list[dict]] = {}
        self.phases_by_project: dict[int, list[dict]] = {}

    def generate(self) -> None:
        with _collector_paused():
            self._generate()

    def _generate(self) -> None:
        generate_setup(self.store, self.refs, seed=self.seed, anchor=self.anchor)
        generate_reference(
            self.store, self.refs, board_count=self.scale.boards, seed=self.seed, anchor=self.anchor
        )
        links, self.profiles = Links(self), Profiles(self)
        self._members()
        fill_reference(self)
        self._companies()
        links.company_children()  # sets contacts_by_company, sites_by_company
        links.company_teams()
        links.agreements()
        self._projects()
        links.project_children()  # sets phases_by_project
        self._tickets()
        fill_work(self)
        self._opportunities()
        links.activities(self.store.list("sales/opportunities"))
        links.board_associations()
        links.my_company(urlsplit(self.refs.href_base).netloc)
        # Only generated parents get generated notes; records created later start without any.
        self.last_generated = {
            key: self.store.max_id(key)
            for key in ("service/tickets", "project/tickets", "sales/opportunities")
        }
        self.store.set_lazy_children("service/tickets/{parentId}/notes", self.ticket_notes)
        self.note_type = self.refs.ref("company/noteTypes", self.store.list("company/noteTypes")[0], "type")
        self.store.set_lazy_children("sales/opportunities/{parentId}/notes", self.opportunity_notes)

    def _rng(self, part: str) -> random.Random:
        return random.Random(f"{self.seed}:{part}")

    def _info(self, entered: datetime, updated: datetime, by: str) -> dict:
        # Never after the anchor: a generated lastUpdated in the future would drag a sync
        # watermark past the real edits made later.
        entered, updated = min(entered, self.anchor), min(updated, self.anchor)
        return {
            "lastUpdated": record_time(updated),
            "dateEntered": record_time(entered),
            "updatedBy": by,
            "enteredBy": by,
        }

    def _ref(self, entity: str, record: dict | None, field: str) -> dict | None:
        return None if record is None else self.refs.ref(entity, record, field)

    # --- people and companies --------------------------------------------------------------

    def _members(self) -> None:
        rng, records = self._rng("members"), []
        seen: set = set()
        territories = self.store.list("system/locations")
        for index in range(self.scale.members):
            first, last = rng.choice(texts.FIRST_NAMES), rng.choice(texts.LAST_NAMES)
            identifier = texts.identifier_for(first, last, seen)
            entered = self.anchor - timedelta(days=rng.randint(200, 3000))
            records.append(
                {
                    "id": 100 + index,
                    "identifier": identifier,
                    "firstName": first,
                    "lastName": last,
                    "primaryEmail": f"{identifier}@example.com",
                    "title": rng.choice(texts.TITLES),
                    "inactiveFlag": rng.random() < 0.05,
                    "defaultLocation": self._ref(
                        "system/locations", rng.choice(territories), "defaultLocation"
                    ),
                    "dailyCapacity": 8.0,
                    "_info": self._info(entered, entered + timedelta(days=rng.randint(0, 150)), "admin1"),
                }
            )
        records.append(self._api_member(records[0], 100 + len(records)))
        self.member_refs = {m["id"]: self.refs.ref("system/members", m, "member") for m in records}
        profile_rng = self._rng("members:profile")
        records = [
            complete("system/members", self.profiles.member(m, i, profile_rng)) for i, m in enumerate(records)
        ]
        records[-1]["licenseClass"] = "A"
        self.store.load("system/members", records)
        people = records[:-1]  # the API member owns, schedules and bills nothing
        self.members = [m for m in people if not m["inactiveFlag"]] or people

    def _api_member(self, admin: dict, member_id: int) -> dict:
        """The API member the sandbox's keys belong to (licence class A): writes through the API
        are made by it, so a `closedBy` or `updatedBy` of `sandbox-api` names a real member."""
        return {
            **admin,
            "id": member_id,
            "identifier": API_MEMBER,
            "firstName": "Sandbox",
            "lastName": "API",
            "primaryEmail": f"{API_MEMBER}@example.com",
            "title": "Integration",
            "inactiveFlag": False,
        }

    def _companies(self) -> None:
        rng, records, profile_rng = self._rng("companies"), [], self._rng("companies:profile")
        company_types = self.store.list("company/companies/types")
        statuses = self.store.list("company/companies/statuses")
        territories = self.store.list("system/locations")
        for index in range(self.scale.companies):
            name = texts.company_name(rng, index)
            entered = self.anchor - timedelta(days=rng.randint(30, 3500))
            record = {
                "id": 250 + index * 2 + rng.randint(0, 1),
                "identifier": f"C{index:05d}",
                "name": name,
                "status": self._ref(
                    "company/companies/statuses",
                    statuses[0] if rng.random() < 0.9 else rng.choice(statuses),
                    "status",
                ),
                "city": rng.choice(texts.CITIES),
                "phoneNumber": f"555{rng.randint(1000000, 9999999)}",
                "territory": None
                if rng.random() < 0.1
                else self._ref("system/locations", rng.choice(territories), "territory"),
                "deletedFlag": rng.random() < 0.01,
                "_info": self._info(entered, entered + timedelta(days=rng.randint(0, 30)), "admin1"),
            }
            records.append(
                complete("company/companies", self.profiles.company(record, profile_rng, company_types))
            )
        self.store.load("company/companies", records)
        self.companies = records

    def _projects(self) -> None:
        rng, records, profile_rng = self._rng("projects"), [], self._rng("projects:profile")
        statuses = self.store.list("project/statuses")
        boards = [b for b in self.store.list("service/boards") if b.get("projectFlag")] or self.store.list(
            "service/boards"
        )
        for index in range(self.scale.projects):
            status = rng.choice(statuses)
            start = self.anchor - timedelta(days=rng.randint(0, 900))
            record = {
                "id": 40 + index,
                "name": texts.project_name(rng),
                "board": self._ref("service/boards", boards[0], "board"),
                "status": self._ref("project/statuses", status, "status"),
                "closedFlag": status["closedFlag"],
                "company": self._ref("company/companies", rng.choice(self.companies), "company"),
                "manager": self.member_refs[rng.choice(self.members)["id"]],
                "budgetHours": float(rng.randint(10, 400)),
                "actualHours": round(rng.random() * 300, 2),
                "estimatedStart": record_time(start),
                "estimatedEnd": record_time(start + timedelta(days=rng.randint(14, 200))),
                "percentComplete": rng.randint(0, 100),
                "description": rng.choice(texts.NOTE_SNIPPETS),
                "_info": self._info(start, start + timedelta(days=rng.randint(0, 100)), "admin1"),
            }
            records.append(complete("project/projects", self.profiles.project(record, profile_rng)))
        self.store.load("project/projects", records)
        self.projects = records

    # --- tickets ---------------------------------------------------------------------------

    def _tickets(self) -> None:
        maker = TicketMaker(self, self._rng("tickets"))
        service, project = maker.make(self.scale.tickets, self.scale.project_tickets)
        schedule, time_entries = maker.assignments_and_time(service + project)  # sets `resources`
        self.store.load("service/tickets", service)
        self.store.load("project/tickets", project)
        self.store.load("schedule/entries", schedule)
        self.store.load("time/entries", time_entries)

    def _opportunities(self) -> None:
        rng, records, profile_rng = self._rng("opportunities"), [], self._rng("opportunities:profile")
        statuses = self.store.list("sales/opportunities/statuses")
        types = self.store.list("sales/opportunities/types")
        stages = self.store.list("sales/stages")
        for index in range(self.scale.opportunities):
            status = statuses[0] if rng.random() < 0.55 else rng.choice(statuses)
            entered = self.anchor - timedelta(days=rng.randint(0, 700))
            updated = entered + timedelta(days=rng.randint(0, max((self.anchor - entered).days, 0)))
            stage = rng.choice(stages)
            record = {
                "id": 500 + index * 3 + rng.randint(0, 2),
                "name": texts.opportunity_name(rng),
                "expectedCloseDate": record_time(entered + timedelta(days=rng.randint(10, 180))),
                "type": None
                if rng.random() < 0.15
                else self._ref("sales/opportunities/types", rng.choice(types), "type"),
                "stage": self._ref("sales/stages", stage, "stage"),
                "status": self._ref("sales/opportunities/statuses", status, "status"),
                "priority": {"id": 1 + index % 3, "name": ("Low", "Medium", "High")[index % 3]},
                "probability": stage["probability"],
                "notes": rng.choice(texts.NOTE_SNIPPETS),
                "primarySalesRep": self.member_refs[rng.choice(self.members)["id"]],
                "company": self._ref("company/companies", rng.choice(self.companies), "company"),
                "contact": None
                if rng.random() < 0.2
                else {"id": 9000 + index, "name": rng.choice(texts.CONTACTS)},
                "closedDate": record_time(updated) if status["closedFlag"] else None,
                "_info": self._info(entered, updated, str(rng.choice(self.members)["identifier"])),
            }
            record = self.profiles.opportunity(record, stage, profile_rng)
            records.append(complete("sales/opportunities", record))
        self.store.load("sales/opportunities", records)

    # --- lazy notes ------------------------------------------------------------------------

    def ticket_notes(self, ticket_id: int) -> list[dict]:
        if ticket_id > max(self.last_generated["service/tickets"], self.last_generated["project/tickets"]):
            return []
        ticket = self.store.get("service/tickets", ticket_id) or self.store.get("project/tickets", ticket_id)
        if ticket is None:
            return []
        rng = self._rng(f"notes:{ticket_id}")
        entered = datetime.fromisoformat(ticket["_info"]["dateEntered"].replace("Z", "+00:00"))
        notes = []
        for n in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
            author = rng.choice(self.members)
            created = min(entered + timedelta(minutes=rng.randint(1, 60 * 24 * 5) * (n + 1)), self.anchor)
            internal = n > 0 and rng.random() < 0.3
            notes.append(
                {
                    "id": ticket_id * NOTE_ID_STRIDE + n,
                    "ticketId": ticket_id,
                    "text": texts.note_text(rng),
                    "detailDescriptionFlag": n == 0 or not internal,
                    "internalAnalysisFlag": internal,
                    "resolutionFlag": bool(ticket.get("closedFlag")) and n > 0 and rng.random() < 0.2,
                    "internalFlag": internal,
                    "externalFlag": not internal,
                    "customerUpdatedFlag": False,
                    "member": self.member_refs[author["id"]],
                    # the description of two tickets in five came from their contact (portal, email);
                    # chosen by id, not by rng, so the notes' other values keep theirs for a seed
                    "contact": ticket.get("contact") if n == 0 and ticket_id % 5 < 2 else None,
                    "dateCreated": record_time(created),
                    "createdBy": author["identifier"],
                    "_info": self._info(created, created, str(author["identifier"])),
                }
            )
        return [complete("service/tickets/{parentId}/notes", note) for note in notes]

    def opportunity_notes(self, opportunity_id: int) -> list[dict]:
        opportunity = self.store.get("sales/opportunities", opportunity_id)
        if opportunity is None or opportunity_id > self.last_generated["sales/opportunities"]:
            return []
        rng = self._rng(f"opportunity-notes:{opportunity_id}")
        entered = datetime.fromisoformat(opportunity["_info"]["dateEntered"].replace("Z", "+00:00"))
        notes = []
        for n in range(rng.choice((0, 1, 2, 3))):
            author = rng.choice(self.members)["identifier"]
            created = min(entered + timedelta(hours=rng.randint(1, 400) * (n + 1)), self.anchor)
            notes.append(
                {
                    "id": opportunity_id * NOTE_ID_STRIDE + n,
                    "opportunityId": opportunity_id,
                    "text": texts.note_text(rng),
                    "type": self.note_type,
                    "flagged": rng.random() < 0.1,
                    "enteredBy": author,
                    "_info": self._info(created, created, str(author)),
                }
            )
        return [complete("sales/opportunities/{parentId}/notes", note) for note in notes]
