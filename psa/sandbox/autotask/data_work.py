"""Seeded work records: ticket categories and other set-up lists, tickets (data_tickets.py),
service calls with their tickets and resources, projects with phases, tasks, task notes and
secondary resources, opportunities and time entries."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

from psa.sandbox import texts
from psa.sandbox.autotask.data import People
from psa.sandbox.autotask.data_tickets import CATEGORY_IDS, Tickets
from psa.sandbox.autotask.picklists import COMPLETE_STATUS
from psa.sandbox.autotask.store import LAZY_ID_STRIDE
from psa.sandbox.autotask.wire import parse_time, wire_time

FIRST_PROJECT_ID = 400
# Tickets and tasks are both "tasks" inside Autotask: one id sequence. Tasks take ids after the
# last ticket's (from 90,000 up at the scales where the tickets end below it); ticket and task
# notes likewise, task notes after the lazily made ticket notes' range (ticket id × stride + n).
FIRST_TASK_ID = 90_000
TASK_ID_GAP = 1_000


class Work:
    def __init__(self, people: People) -> None:
        self.people, self.store = people, people.store
        self.tickets = Tickets(people)
        self.task_ids: list[int] = []

    def generate(self) -> None:
        self._set_up_lists()
        self.tickets.generate()
        self._service_calls()
        self._projects()
        self._opportunities()
        self._time_entries()

    def _set_up_lists(self) -> None:
        names = ("Standard", "Alert", "Change")
        self.store.load(
            "TicketCategories",
            [
                {"id": i, "name": name, "isActive": True, "displayColorRGB": 1, "isGlobalDefault": i == 1}
                for i, name in zip(CATEGORY_IDS, names, strict=True)
            ],
        )
        self.store.load(
            "BillingCodes",
            [
                {
                    "id": 29682800 + n,
                    "name": name,
                    "isActive": True,
                    "billingCodeType": 0,
                    "useType": 2,
                    "unitCost": 0.0,
                    "unitPrice": 0.0,
                }
                for n, name in enumerate(("Remote", "Onsite", "Project"))
            ],
        )
        self.store.load(
            "Countries",
            [
                {"id": n + 1, "name": name, "countryCode": code, "isActive": True}
                for n, (name, code) in enumerate(
                    (("United States", "US"), ("Canada", "CA"), ("United Kingdom", "GB"), ("Brasil", "BR"))
                )
            ],
        )
        year = self.people.anchor.year
        self.store.load("HolidaySets", [{"id": 1, "holidaySetName": "Office holidays"}])
        self.store.load(
            "Holidays",
            [
                {
                    "id": n + 1,
                    "holidaySetID": 1,
                    "holidayName": name,
                    "holidayDate": f"{year}-{day}T00:00:00.000Z",
                }
                for n, (name, day) in enumerate(
                    (("New Year", "01-01"), ("Independence Day", "07-04"), ("Christmas", "12-25"))
                )
            ],
        )
        rng = self.people.rng("contracts")
        self.store.load(
            "Contracts",
            [
                {"id": n + 1, "companyID": company, "contractName": f"Managed services {n + 1}", "status": 1}
                for n, company in enumerate(
                    rng.sample(self.people.company_ids, len(self.people.company_ids) // 4)
                )
            ],
        )

    def _service_calls(self) -> None:
        rng = self.people.rng("service-calls")
        calls: list[dict] = []
        call_tickets: list[dict] = []
        call_resources: list[dict] = []
        open_ids = self.tickets.open_ids
        for n in range(max(len(self.tickets.ticket_ids) // 20, 5)):
            start = self.people.anchor + timedelta(days=rng.randint(-30, 14), hours=rng.randint(8, 16))
            created = min(start, self.people.anchor) - timedelta(days=3)
            tickets = rng.sample(open_ids, min(len(open_ids), rng.randint(1, 2)))
            ticket = self.store.get("Tickets", tickets[0]) if tickets else None
            calls.append(
                {
                    "id": n + 1,
                    "companyID": ticket["companyID"] if ticket else rng.choice(self.people.company_ids),
                    "description": texts.ticket_summary(rng),
                    "startDateTime": wire_time(start),
                    "endDateTime": wire_time(start + timedelta(hours=rng.choice((1, 2, 4)))),
                    "status": 3 if start < self.people.anchor else rng.choice((1, 2)),
                    "isComplete": int(start < self.people.anchor),
                    "createDateTime": wire_time(created),
                    "lastModifiedDateTime": wire_time(self.people.stamp(rng, created, start)),
                }
            )
            for ticket_id in tickets:
                call_tickets.append(
                    {"id": len(call_tickets) + 1, "serviceCallID": n + 1, "ticketID": ticket_id}
                )
                for resource_id in rng.sample(self.people.active_resources, rng.randint(1, 2)):
                    call_resources.append(
                        {
                            "id": len(call_resources) + 1,
                            "serviceCallTicketID": len(call_tickets),
                            "resourceID": resource_id,
                        }
                    )
        for call in calls:
            call["duration"] = service_call_duration(call)
        self.store.load("ServiceCalls", calls)
        self.store.load("ServiceCallTickets", call_tickets)
        self.store.load("ServiceCallTicketResources", call_resources)

    def _projects(self) -> None:
        rng = self.people.rng("projects")
        projects: list[dict] = []
        phases: list[dict] = []
        tasks: list[dict] = []
        notes: list[dict] = []
        secondaries: list[dict] = []
        task_id = max(FIRST_TASK_ID, self.tickets.last_generated + TASK_ID_GAP)
        for n in range(self.people.scale.projects):
            project_id = FIRST_PROJECT_ID + n
            start = self.people.days_ago(rng, 700)
            complete = rng.random() < 0.4
            lead = rng.choice(self.people.active_resources)
            projects.append(
                {
                    "id": project_id,
                    "projectName": texts.project_name(rng),
                    "projectNumber": f"P{start:%Y%m%d}.{n:04d}",
                    "companyID": rng.choice(self.people.company_ids),
                    "projectLeadResourceID": lead,
                    "status": COMPLETE_STATUS if complete else rng.choice((1, 8, 9)),
                    "projectType": 5,
                    "startDateTime": wire_time(start),
                    "endDateTime": wire_time(start + timedelta(days=rng.randint(14, 180))),
                    "createDateTime": wire_time(start),
                    "lastActivityDateTime": wire_time(start + (self.people.anchor - start) * rng.random()),
                }
            )
            notes.append(
                {
                    "id": n + 1,
                    "projectID": project_id,
                    "title": "Kick-off",
                    "description": texts.note_text(rng),
                    "noteType": 3,
                    "publish": 1,
                    "createDateTime": wire_time(start),
                    "lastActivityDate": wire_time(start),
                }
            )
            project_phases = [len(phases) + k + 1 for k in range(rng.randint(1, 3))]
            for phase_id in project_phases:
                phases.append(
                    {
                        "id": phase_id,
                        "projectID": project_id,
                        "title": f"Phase {phase_id - project_phases[0] + 1}",
                        "startDate": wire_time(start),
                        "lastActivityDateTime": wire_time(start),
                        "createDate": wire_time(start),
                    }
                )
            for _ in range(rng.randint(2, 8)):
                task_id += rng.choice((1, 1, 2))
                task = self._task(rng, task_id, project_id, rng.choice(project_phases), start, complete)
                tasks.append(task)
                self.task_ids.append(task_id)
                if rng.random() < 0.2 and "assignedResourceID" in task:
                    other = rng.choice(self.people.active_resources)
                    secondaries.append(
                        {
                            "id": len(secondaries) + 1,
                            "taskID": task_id,
                            "resourceID": other,
                            "roleID": self.people.roles_of[other][0],
                        }
                    )
        # django-autotask 1.20 keeps a project's description, completion, duration and a
        # phase's estimate in NOT NULL columns: the live service has them on every record.
        tasks_of: dict[int, list[dict]] = defaultdict(list)
        phase_hours: dict[int, float] = defaultdict(float)  # a phase's estimate: its tasks' sum
        for task in tasks:  # one pass, not one per project and phase
            tasks_of[task["projectID"]].append(task)
            phase_hours[task["phaseID"]] += task.get("estimatedHours") or 0
        for project in projects:
            project["description"] = f"{project['projectName']}: scope, plan and hand-over."
            project["completedPercentage"] = completed_percentage(project, tasks_of[project["id"]])
            project["duration"] = project_duration(project)
        for phase in phases:
            phase["estimatedHours"] = phase_hours[phase["id"]]
        self.store.load("Projects", projects)
        self.store.load("ProjectNotes", notes)
        self.store.load("Phases", phases)
        self.store.load("Tasks", tasks)
        self.store.load("TaskSecondaryResources", secondaries)
        self._task_notes(tasks)

    def _task(
        self, rng: random.Random, task_id: int, project_id: int, phase_id: int, start, complete: bool
    ) -> dict:
        begins = start + timedelta(days=rng.randint(0, 30))
        task = {
            "id": task_id,
            "projectID": project_id,
            "phaseID": phase_id,
            "title": texts.ticket_summary(rng)[:255],
            "taskNumber": f"T{task_id}",
            "status": COMPLETE_STATUS if complete or rng.random() < 0.3 else rng.choice((1, 8, 7)),
            "taskType": 1,
            "priorityLabel": rng.choice((1, 2, 3)),
            "estimatedHours": rng.choice((1.0, 2.0, 8.0)),
            "startDateTime": wire_time(begins),
            "endDateTime": wire_time(begins + timedelta(days=rng.randint(1, 10))),
            "createDateTime": wire_time(start),
            # Stamped when it was last touched (to the millisecond, as Autotask does), not at its start.
            "lastActivityDateTime": wire_time(self.people.stamp(rng, start, begins + _touch(rng))),
        }
        if rng.random() < 0.8:
            resource_id = rng.choice(self.people.active_resources)
            task["assignedResourceID"] = resource_id
            task["assignedResourceRoleID"] = self.people.roles_of[resource_id][0]
        return task

    def _task_notes(self, tasks: list[dict]) -> None:
        rng = self.people.rng("task-notes")
        notes: list[dict] = []
        first_id = (self.tickets.last_generated + 1) * LAZY_ID_STRIDE
        for task in tasks:
            for _ in range(rng.choice((0, 0, 1, 2))):
                created = parse_time(task["createDateTime"])
                written = created + timedelta(days=rng.randint(1, 20)) + _touch(rng)
                moment = wire_time(self.people.stamp(rng, created, written))
                notes.append(
                    {
                        "id": first_id + len(notes),
                        "taskID": task["id"],
                        "title": "Progress",
                        "description": texts.note_text(rng),
                        "noteType": 3,
                        "publish": 1,
                        "creatorResourceID": task.get("assignedResourceID"),
                        "createDateTime": moment,
                        "lastActivityDate": moment,
                    }
                )
        self.store.load("TaskNotes", [{k: v for k, v in note.items() if v is not None} for note in notes])

    def _opportunities(self) -> None:
        rng = self.people.rng("opportunities")
        records = []
        for n in range(self.people.scale.opportunities):
            created = self.people.days_ago(rng, 500)
            stage = rng.choice((1, 2, 3, 4, 5))
            records.append(
                {
                    "id": 2_000 + n * 2,
                    "title": texts.opportunity_name(rng),
                    "companyID": rng.choice(self.people.company_ids),
                    "ownerResourceID": rng.choice(self.people.active_resources),
                    "stage": stage,
                    "status": 3 if stage == 5 else rng.choice((1, 1, 1, 2)),
                    "probability": stage * 20,
                    "amount": float(rng.randint(1, 200) * 100),
                    "cost": 0.0,
                    "useQuoteTotals": False,
                    "createDate": wire_time(created),
                    "startDate": wire_time(created),
                    "projectedCloseDate": wire_time(created + timedelta(days=rng.randint(10, 120))),
                    "lastActivity": wire_time(created + (self.people.anchor - created) * rng.random()),
                }
            )
        self.store.load("Opportunities", records)

    def _time_entries(self) -> None:
        rng = self.people.rng("time-entries")
        entries: list[dict] = []
        for ticket_id in self.tickets.ticket_ids:
            if rng.random() < 0.4:
                entries.append(self._time_entry(rng, len(entries) + 1, "ticketID", ticket_id, 2))
        for task_id in self.task_ids:
            if rng.random() < 0.5:
                entries.append(self._time_entry(rng, len(entries) + 1, "taskID", task_id, 6))
        self.store.load("TimeEntries", entries)

    def _time_entry(
        self, rng: random.Random, entry_id: int, parent: str, parent_id: int, entry_type: int
    ) -> dict:
        resource_id = rng.choice(self.people.active_resources)
        start = self.people.days_ago(rng, 200).replace(minute=0, second=0, microsecond=0)
        hours = rng.choice((0.25, 0.5, 1.0, 1.5, 3.0))
        return {
            "id": entry_id,
            parent: parent_id,
            "resourceID": resource_id,
            "roleID": self.people.roles_of[resource_id][0],
            "dateWorked": wire_time(start.replace(hour=0)),
            "startDateTime": wire_time(start),
            "endDateTime": wire_time(start + timedelta(hours=hours)),
            "hoursWorked": hours,
            "summaryNotes": texts.note_text(rng)[:500],
            "isNonBillable": rng.random() < 0.2,
            "timeEntryType": entry_type,
            "createDateTime": wire_time(start),
            # Entered after the work, at no round time.
            "lastModifiedDateTime": wire_time(
                self.people.stamp(rng, start, start + timedelta(hours=hours) + _touch(rng))
            ),
        }


def _touch(rng: random.Random) -> timedelta:
    """When within a working day after a planned moment a record was actually written."""
    return timedelta(seconds=rng.uniform(1, 8 * 3600))


def service_call_duration(call: dict) -> float | None:
    """A service call's read-only `duration`: its length in hours, which the service keeps from
    start and end (django-autotask reads it as Decimal(str(duration)): never null live)."""
    if not (call.get("startDateTime") and call.get("endDateTime")):
        return None
    length = parse_time(call["endDateTime"]) - parse_time(call["startDateTime"])
    return round(length.total_seconds() / 3600, 2)


def completed_percentage(project: dict, own: list[dict]) -> int:
    """A project's read-only `completedPercentage`: the share of its tasks (`own`) complete."""
    if project.get("status") == COMPLETE_STATUS:
        return 100
    done = sum(1 for task in own if task.get("status") == COMPLETE_STATUS)
    return round(100 * done / len(own)) if own else 0


def project_duration(project: dict) -> int:
    """A project's read-only `duration`: the days from its start to its end."""
    if not (project.get("startDateTime") and project.get("endDateTime")):
        return 0
    return (parse_time(project["endDateTime"]) - parse_time(project["startDateTime"])).days
