"""How Autotask records land in the mirror: the enrichments the catalog (catalog.py) shares.

Autotask records carry ids only (`status: 1`, `queueID: 29683378`, `assignedResourceID: ...`),
while the mirror keeps a name beside each reference (boards show names without joins). Names
are looked up in the mirror's own reference rows (statuses, queues, priorities, members, ...)
page by page. A value the mirror does not know (a picklist value added since the last reference
run, or never mirrored) keeps an empty name, stays in the raw JSON and is counted
(psa.metrics.UNMAPPED_VALUES); so are user-defined fields, which live only in the raw JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps

from psa import metrics
from psa.autotask.credentials import credentials_of

logger = logging.getLogger("psa.autotask")

# Reference: api.md §5 — ticket, task and project status 5 is the system "Complete" value.
COMPLETE = 5
Enricher = Callable[[int, list[dict]], None]


@dataclass(frozen=True)
class NameRef:
    """Fill `targets` (row column → field(s) of `model`) from the mirror row `id_column` refers to."""

    id_column: str
    model: str  # e.g. "boards.BoardStatus"
    targets: dict[str, tuple[str, ...]]
    counted_as: str = ""  # picklist or reference name counted when the value is unknown
    filter: dict = field(default_factory=dict)
    from_raw: bool = False  # id_column names a field of the raw record, not a mapped column

    def id_of(self, row: dict) -> object:
        return raw_value(row, self.id_column) if self.from_raw else row.get(self.id_column)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.targets)


def member_ref(
    id_column: str, targets: dict[str, tuple[str, ...]], counted_as: str, *, from_raw: bool = False
) -> NameRef:
    return NameRef(id_column, "boards.Member", targets, counted_as, from_raw=from_raw)


IDENTIFIER, FULL_NAME = ("identifier",), ("first_name", "last_name")


def _fill(connection_id: int, rows: list[dict], ref: NameRef) -> int:
    """Fill one reference's columns on a page; how many rows referred to an unknown value."""
    ids = {ref.id_of(row) for row in rows if ref.id_of(row) is not None}
    wanted = sorted({name for names in ref.targets.values() for name in names})
    found: dict[int, dict] = {}
    if ids:
        model = apps.get_model(ref.model)
        for values in model.objects.filter(connection_id=connection_id, psa_id__in=ids, **ref.filter).values(
            "psa_id", *wanted
        ):
            found[values["psa_id"]] = values
    unknown = 0
    for row in rows:
        value_id = ref.id_of(row)
        values = found.get(value_id) if isinstance(value_id, int) else None
        unknown += int(values is None and value_id is not None)
        for column, names in ref.targets.items():
            row[column] = " ".join(str(values[n]) for n in names if values[n]).strip() if values else ""
    return unknown


def udf_values(rows: list[dict]) -> int:
    """User-defined field values on a page (kept only in the raw JSON)."""
    return sum(
        1
        for row in rows
        for udf in (row.get("raw") or {}).get("userDefinedFields") or []
        if isinstance(udf, dict) and udf.get("value") not in (None, "")
    )


def with_names(entity: str, *refs: NameRef, then: Enricher | None = None) -> Enricher:
    """An enricher filling every reference's names, counting unknown values and UDFs."""

    def enrich(connection_id: int, rows: list[dict]) -> None:
        for ref in refs:
            unknown = _fill(connection_id, rows, ref)
            if unknown and ref.counted_as:
                metrics.psa_unmapped_values(connection_id, ref.counted_as, unknown)
                logger.info(
                    "connection %s: %d %s rows refer to an unknown %s",
                    connection_id,
                    unknown,
                    entity,
                    ref.counted_as,
                )
        metrics.psa_unmapped_values(connection_id, f"{entity}.userDefinedFields", udf_values(rows))
        if then:
            then(connection_id, rows)

    return enrich


def name_columns(*refs: NameRef) -> tuple[str, ...]:
    return tuple(column for ref in refs for column in ref.columns)


def raw_value(row: dict, name: str) -> object:
    return (row.get("raw") or {}).get(name)


def active_flag(connection_id: int, rows: list[dict]) -> None:
    """`inactive` from Autotask's `isActive` (a missing flag means active)."""
    for row in rows:
        row["inactive"] = raw_value(row, "isActive") is False


def resource_flags(connection_id: int, rows: list[dict]) -> None:
    """`inactive` from isActive, and for the integration's own API user (matched by user name or
    e-mail, as the webhook registrar finds it): nobody assigns it work, and a person linked to it
    would write without an author, so pickers must not offer it."""
    active_flag(connection_id, rows)
    username = _api_username(connection_id)
    for row in rows:
        if username and username in {str(row.get(c) or "").lower() for c in ("identifier", "email")}:
            row["inactive"] = True


def _api_username(connection_id: int) -> str:
    connection = apps.get_model("sync", "Connection").objects.filter(pk=connection_id).first()
    return credentials_of(connection).username.strip().lower() if connection else ""


def completed_status(connection_id: int, rows: list[dict]) -> None:
    """Tickets, tasks and projects are closed in status Complete."""
    for row in rows:
        row["closed"] = row.get("status_psa_id") == COMPLETE


def status_value(closed_column: str) -> Enricher:
    """A status picklist value: inactive from isActive, `closed_column` when it is Complete."""

    def enrich(connection_id: int, rows: list[dict]) -> None:
        active_flag(connection_id, rows)
        for row in rows:
            row[closed_column] = row["psa_id"] == COMPLETE

    return enrich


def ticket_resources(connection_id: int, rows: list[dict]) -> None:
    """Ticket.resources (the identifiers a card shows): the primary resource, then the secondary
    resources, then the resources of the ticket's service calls not complete yet, as the mirror
    holds them (ticket_assignments and service_call_assignments, synced after the tickets in
    the core tier; secondary resources are re-read before the ticket by the single-record
    refresh)."""
    completed_status(connection_id, rows)
    secondary: dict[int, list[str]] = {}
    assignments = apps.get_model("boards", "TicketAssignment").objects.filter(
        connection_id=connection_id, ticket_psa_id__in=[row["psa_id"] for row in rows], done=False
    )
    # The ticket's own resources ("ticket") before its service calls' ("service_call").
    for ticket_id, identifier in assignments.order_by("-source", "psa_id").values_list(
        "ticket_psa_id", "member_identifier"
    ):
        if identifier:
            secondary.setdefault(ticket_id, []).append(identifier)
    for row in rows:
        people = [row.get("owner_identifier") or "", *secondary.get(row["psa_id"], [])]
        row["resources"] = ", ".join(dict.fromkeys(p for p in people if p))


def ticket_sla_paused(connection_id: int, rows: list[dict]) -> None:
    """Ticket.sla_status "Waiting" while Autotask has the ticket's SLA paused (its status is one
    that pauses the SLA: serviceLevelAgreementPausedNextEventHours is set only then), as
    ConnectWise says "Waiting": the card shows the clock paused, not a due date passing."""
    for row in rows:
        paused = raw_value(row, "serviceLevelAgreementPausedNextEventHours") is not None
        row["sla_status"] = "Waiting" if paused else ""


def service_ticket_columns(connection_id: int, rows: list[dict]) -> None:
    """A ticket's derived columns: its resources and closed flag, and its SLA's pause."""
    ticket_resources(connection_id, rows)
    ticket_sla_paused(connection_id, rows)


def task_columns(connection_id: int, rows: list[dict]) -> None:
    """A task's derived columns: its resources and closed flag, and its project's company (an
    Autotask task has no company of its own; its card and the company filter use the project's,
    read from the mirror, where projects are synced before tasks in the same tier)."""
    ticket_resources(connection_id, rows)
    projects = {row["project_psa_id"] for row in rows if isinstance(row.get("project_psa_id"), int)}
    companies: dict[object, tuple[int | None, str]] = {
        psa_id: (company_id, name)
        for psa_id, company_id, name in apps.get_model("boards", "Project")
        .objects.filter(connection_id=connection_id, psa_id__in=projects)
        .values_list("psa_id", "company_psa_id", "company_name")
    }
    for row in rows:
        row["company_psa_id"], row["company_name"] = companies.get(row.get("project_psa_id"), (None, ""))


# Opportunity status values of a stock Autotask database (system values: 0 Inactive, 1 Active,
# 2 Lost, 3 Closed, 4 Implemented; the sandbox follows the same list). Assumption kept visible:
# api.md lists the picklist without its values.
OPPORTUNITY_LOST, OPPORTUNITY_WON = frozenset({2}), frozenset({3, 4})


def opportunity_closed(connection_id: int, rows: list[dict]) -> None:
    """An opportunity is closed in a lost or won status, or once it has a closed or lost date."""
    for row in rows:
        ended = row.get("status_psa_id") in OPPORTUNITY_LOST | OPPORTUNITY_WON
        row["closed"] = ended or row.get("closed_at") is not None or bool(raw_value(row, "lostDate"))


def opportunity_status_flags(connection_id: int, rows: list[dict]) -> None:
    """OpportunityStatus won / lost / closed flags from the stock values above."""
    active_flag(connection_id, rows)
    for row in rows:
        row["won_flag"] = row["psa_id"] in OPPORTUNITY_WON
        row["lost_flag"] = row["psa_id"] in OPPORTUNITY_LOST
        row["closed_flag"] = row["won_flag"] or row["lost_flag"]
        row["default_flag"] = bool(raw_value(row, "isDefaultValue"))


def service_call_done(connection_id: int, rows: list[dict]) -> None:
    """TicketAssignment.done for a service call's resource: the call is complete (isComplete,
    an integer flag on ServiceCalls)."""
    for row in rows:
        row["done"] = bool(raw_value(row, "isComplete"))


def time_charge(connection_id: int, rows: list[dict]) -> None:
    """TimeEntry.charge_to_*: the ticket or the task the time was worked on (boards look for
    ServiceTicket / ProjectTicket charges, as ConnectWise names them)."""
    for row in rows:
        ticket, task = raw_value(row, "ticketID"), raw_value(row, "taskID")
        row["charge_to_psa_id"] = ticket or task
        row["charge_to_type"] = "ServiceTicket" if ticket else ("ProjectTicket" if task else "")


def note_visibility(connection_id: int, rows: list[dict]) -> None:
    """ServiceNote.internal from `publish`. Assumption (api.md lists `publish` as a picklist
    without its values): 1 = "All Autotask Users" is the only value a customer may see; any
    other value (internal only, internal & co-managed) is internal. The raw JSON keeps it."""
    for row in rows:
        row["internal"] = raw_value(row, "publish") not in (1, None)


# --- names looked up in the mirror -----------------------------------------------------------

STATUS = NameRef("status_psa_id", "boards.BoardStatus", {"status_name": ("name",)}, "status")
QUEUE = NameRef("board_psa_id", "boards.ServiceBoard", {"board_name": ("name",)}, "queueID")
PRIORITY = NameRef("priority_psa_id", "boards.Priority", {"priority_name": ("name",)}, "priority")
COMPANY = NameRef("company_psa_id", "boards.Company", {"company_name": ("name",)}, "companyID")
PROJECT = NameRef("project_psa_id", "boards.Project", {"project_name": ("name",)}, "projectID")
ISSUE_TYPE = NameRef("type_psa_id", "boards.TicketType", {"type_name": ("name",)}, "issueType")
SUB_ISSUE_TYPE = NameRef(
    "subtype_psa_id", "boards.TicketSubtype", {"subtype_name": ("name",)}, "subIssueType"
)
SLA = NameRef("sla_psa_id", "boards.SLA", {"sla_name": ("name",)}, "serviceLevelAgreementID")
OWNER = member_ref(
    "owner_psa_id", {"owner_identifier": IDENTIFIER, "owner_name": FULL_NAME}, "assignedResourceID"
)
ASSIGNEE = member_ref(
    "member_psa_id", {"member_identifier": IDENTIFIER, "member_name": FULL_NAME}, "resourceID"
)
TIME_RESOURCE = member_ref("member_psa_id", {"member_identifier": IDENTIFIER}, "resourceID")
NOTE_AUTHOR = member_ref(
    "creatorResourceID",
    {"member_identifier": IDENTIFIER, "created_by": IDENTIFIER},
    "creatorResourceID",
    from_raw=True,
)
PROJECT_LEAD = member_ref("manager_psa_id", {"manager_identifier": IDENTIFIER}, "projectLeadResourceID")
PROJECT_STATUS = NameRef(
    "status_psa_id", "boards.ProjectStatus", {"status_name": ("name",)}, "Projects.status"
)
OPPORTUNITY_STAGE = NameRef(
    "stage_psa_id", "boards.OpportunityStage", {"stage_name": ("name",)}, "Opportunities.stage"
)
OPPORTUNITY_STATUS = NameRef(
    "status_psa_id", "boards.OpportunityStatus", {"status_name": ("name",)}, "Opportunities.status"
)
SALES_REP = member_ref(
    "sales_rep_psa_id", {"sales_rep_identifier": IDENTIFIER, "sales_rep_name": FULL_NAME}, "ownerResourceID"
)
TERRITORY = NameRef("territory_psa_id", "boards.Territory", {"territory_name": ("name",)}, "territoryID")

TICKET_REFS = (QUEUE, STATUS, PRIORITY, COMPANY, PROJECT, ISSUE_TYPE, SUB_ISSUE_TYPE, SLA, OWNER)
TASK_REFS = (STATUS, PROJECT, OWNER)
TICKET_DERIVED = ("closed", "resources")
TASK_DERIVED = (*TICKET_DERIVED, "company_psa_id", "company_name")

TICKET_COLUMNS = {
    "summary": "title",
    "board_psa_id": "queueID",
    "status_psa_id": "status",
    "closed_at": "completedDate",
    "priority_psa_id": "priority",
    "company_psa_id": "companyID",
    "owner_psa_id": "assignedResourceID",
    "project_psa_id": "projectID",
    "type_psa_id": "issueType",
    "subtype_psa_id": "subIssueType",
    "budget_hours": "estimatedHours",
    "date_entered": "createDate",
    "required_date": "dueDateTime",
    # The SLA: Autotask states every stage's due date, and when each stage was met.
    "sla_psa_id": "serviceLevelAgreementID",
    "is_in_sla": "serviceLevelAgreementHasBeenMet",
    "respond_by": "firstResponseDueDateTime",
    "plan_by": "resolutionPlanDueDateTime",
    "resolve_by": "resolvedDueDateTime",
    "date_responded": "firstResponseDateTime",
    "date_resplan": "resolutionPlanDateTime",
    "date_resolved": "resolvedDateTime",
}
TASK_COLUMNS = {
    "summary": "title",
    "status_psa_id": "status",
    "closed_at": "completedDateTime",
    "project_psa_id": "projectID",
    "owner_psa_id": "assignedResourceID",
    "budget_hours": "estimatedHours",
    "date_entered": "createDateTime",
    "required_date": "endDateTime",
}
