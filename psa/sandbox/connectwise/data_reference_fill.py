"""The rest of the reference records' fields, filled once members and set-up tables exist:
boards (department, work role/type, managers, email connector settings), territories, board
statuses/teams/types, company, opportunity and project statuses, schedule and time entries.

Each pass rebuilds its records from the stored ones (records are replaced, never mutated) and
loads them back before tickets refer to them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from psa.sandbox.connectwise.data_links import first, ref
from psa.sandbox.connectwise.data_reference import complete

if TYPE_CHECKING:
    from psa.sandbox.connectwise.data import Generator

# CompanyStatus name → (notifyFlag, disallowSavingFlag, notificationMessage)
COMPANY_STATUS_RULES = {
    "Credit Hold": (
        True,
        False,
        "This company is on credit hold: check with Accounting before any billable work.",
    ),
    "Not-Approved": (True, True, "This company is not approved yet; it cannot be saved on new records."),
}
CLOSED_TIME_STATUSES = ("Billed", "ReadyToBill", "ApprovedByTierTwo")


def _reload(gen: Generator, entity: str, fill: Callable[[dict], dict], parent: str | None = None) -> None:
    if parent is None:
        records = gen.store.list(entity)
    else:
        records = [r for p in gen.store.ids(parent) for r in gen.store.list(entity, parent_id=p)]
    gen.store.load(entity, [complete(entity, fill(record)) for record in records])  # fill copies


def fill_reference(gen: Generator) -> None:
    """After members: every reference collection carries its model's fields as a real site fills them."""
    store, members = gen.store, gen.members
    department = ref(gen, "system/departments", first(gen, "system/departments"), "department")
    work_role = ref(gen, "time/workRoles", store.list("time/workRoles")[1], "workRole")
    work_type = ref(gen, "time/workTypes", first(gen, "time/workTypes"), "workType")
    manager = gen.member_refs[members[0]["id"]]

    def board(record: dict) -> dict:
        statuses = store.list("service/boards/{parentId}/statuses", parent_id=record["id"])
        closed = next(s for s in statuses if s["closedStatus"] and not s["inactive"])
        return {
            **record,
            "department": department,
            "workRole": work_role,
            "workType": work_type,
            "billTime": "Billable",
            "billExpense": "Billable",
            "billProduct": "Billable",
            "dispatchMember": manager,
            "serviceManagerMember": manager,
            "dutyManagerMember": gen.member_refs[members[record["id"] % len(members)]["id"]],
            "autoCloseStatus": ref(gen, "service/boards/{parentId}/statuses", closed, "autoCloseStatus"),
            "emailConnectorReopenStatus": ref(
                gen, "service/boards/{parentId}/statuses", statuses[0], "status"
            ),
            "emailConnectorAllowReopenClosedFlag": True,
            "emailConnectorReopenDaysLimit": 30,
            "notifyEmailFrom": "help@sandbox.example.com",
            "notifyEmailFromName": record["name"],
            "problemSort": "Ascending",
            "resolutionSort": "Ascending",
            "internalAnalysisSort": "Ascending",
            "allSort": "Ascending",
            "sendToContactFlag": True,
            "sendToResourceFlag": True,
            "closedLoopDiscussionsFlag": True,
            "timeEntryDiscussionFlag": True,
            "markFirstNoteIssueFlag": True,
        }

    def team(record: dict) -> dict:
        board_record = store.get("service/boards", record["boardId"]) or {}
        crew = members[record["id"] % len(members) :][:3] or members[:3]
        return {
            **record,
            "teamLeader": gen.member_refs[crew[0]["id"]],
            "members": [m["id"] for m in crew],
            "locationId": board_record.get("location", {}).get("id"),
            "businessUnitId": department["id"],
            "roundRobinFlag": False,
        }

    def territory(record: dict) -> dict:
        return {
            **record,
            "ownerLevelId": 1,
            "manager": manager,
            "timeZoneSetup": ref(
                gen, "system/timeZoneSetups", first(gen, "system/timeZoneSetups"), "timeZoneSetup"
            ),
            "calendar": ref(gen, "schedule/calendars", first(gen, "schedule/calendars"), "calendar"),
            "departmentIds": store.ids("system/departments"),
            "workRoleIds": store.ids("time/workRoles"),
        }

    _reload(gen, "service/boards", board)
    _reload(gen, "service/boards/{parentId}/teams", team, parent="service/boards")
    _reload(gen, "system/locations", territory)
    _reload(
        gen, "service/boards/{parentId}/types", lambda r: {**r, "department": department}, "service/boards"
    )
    _reload(gen, "service/boards/{parentId}/statuses", _board_status, parent="service/boards")
    _reload(gen, "company/companies/statuses", _company_status)
    _reload(gen, "project/statuses", lambda r: {**r, "noTimeFlag": r["closedFlag"]})
    _reload(gen, "sales/opportunities/statuses", lambda r: {**r, **_entered(r)})


def _board_status(record: dict) -> dict:
    return {
        **record,
        "customerPortalFlag": record["displayOnBoard"],
        "customerPortalDescription": record["name"] if record["displayOnBoard"] else None,
    }


def _company_status(record: dict) -> dict:
    notify, disallow, message = COMPANY_STATUS_RULES.get(record["name"], (False, False, None))
    return {**record, "notifyFlag": notify, "disallowSavingFlag": disallow, "notificationMessage": message}


def _entered(record: dict) -> dict:
    return {"enteredBy": record["_info"]["enteredBy"], "dateEntered": record["_info"]["dateEntered"]}


def fill_work(gen: Generator) -> None:
    """After tickets: schedule and time entries carry where/work type/role/ticket/phase and the
    rest of their models' fields (ConnectWise fills them from the ticket and the member)."""
    store = gen.store
    members = {m["id"]: m for m in store.list("system/members")}
    types = store.list("time/workTypes")
    work_type = {"Billable": types[0], "DoNotBill": types[-1], "NoCharge": types[3]}
    remote = ref(gen, "service/locations", store.list("service/locations")[1], "where")

    def ticket_of(entry_id: int) -> dict | None:
        return store.get("service/tickets", entry_id) or store.get("project/tickets", entry_id)

    def time_entry(record: dict) -> dict:
        ticket, member = ticket_of(record["chargeToId"]), members[record["member"]["id"]]
        billable = record["billableOption"] == "Billable"
        hours = record["actualHours"]
        out = {
            **record,
            "workType": ref(gen, "time/workTypes", work_type[record["billableOption"]], "workType"),
            "workRole": member.get("workRole"),
            "locationId": member["defaultLocation"]["id"],
            "businessUnitId": member["defaultDepartment"]["id"],
            "hoursDeduct": 0.0,
            "hoursBilled": hours if billable else 0.0,
            "invoiceHours": hours if billable else 0.0,
            "hourlyRate": member.get("hourlyRate", 0.0) if billable else 0.0,
            "addToDetailDescriptionFlag": True,
        }
        if ticket is not None:
            out.update(_from_ticket(gen, ticket))
        return out

    def schedule_entry(record: dict) -> dict:
        return {**record, "where": remote, "startTimeSet": True, "endTimeSet": True}

    _reload(gen, "time/entries", time_entry)
    _reload(gen, "schedule/entries", schedule_entry)


def _from_ticket(gen: Generator, ticket: dict) -> dict:
    project_ticket = "project" in ticket
    fields = {
        "ticket": ref(gen, "project/tickets" if project_ticket else "service/tickets", ticket, "ticket"),
        "ticketBoard": ticket["board"].get("name"),
        "ticketStatus": ticket["status"].get("name"),
        "ticketType": (ticket.get("type") or {}).get("name"),
        "ticketSubType": (ticket.get("subType") or {}).get("name"),
        "agreement": ticket.get("agreement"),
        "status": CLOSED_TIME_STATUSES[ticket["id"] % 3] if ticket.get("closedFlag") else "Open",
    }
    if project_ticket:
        fields.update(project=ticket["project"], phase=ticket.get("phase"))
    return fields
