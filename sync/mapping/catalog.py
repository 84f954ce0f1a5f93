"""Every ConnectWise entity → its mirror model, column by column (the ONLY place mapping lives).

Sources are ConnectWise field paths (models.tsv); PARENT is the parent id of a nested listing.
"""

from __future__ import annotations

from boards import models as mirror
from sync.mapping.sla_status import STAGE_COLUMNS, deadline_columns
from sync.mapping.spec import PARENT, Mapping


def _opportunity_closed_from_status(connection_id: int, rows: list[dict]) -> None:
    # Reference: psa-api-facts.md — closedFlag lives on sales/opportunities/statuses, not on the
    # opportunity; the reference tier mirrors the statuses.
    closed_ids = set(
        mirror.OpportunityStatus.objects.filter(connection_id=connection_id, closed_flag=True).values_list(
            "psa_id", flat=True
        )
    )
    for row in rows:
        row["closed"] = row.get("status_psa_id") in closed_ids or row.get("closed_at") is not None


def _ticket_columns(*, service: bool) -> dict[str, str]:
    columns = {
        "summary": "summary",
        "board_psa_id": "board/id",
        "board_name": "board/name",
        "status_psa_id": "status/id",
        "status_name": "status/name",
        "closed": "closedFlag",
        "closed_at": "closedDate",
        "priority_psa_id": "priority/id",
        "priority_name": "priority/name",
        "company_psa_id": "company/id",
        "company_name": "company/name",
        "contact_name": "contactName",
        "owner_psa_id": "owner/id",
        "owner_identifier": "owner/identifier",
        "owner_name": "owner/name",
        "type_psa_id": "type/id",
        "type_name": "type/name",
        "subtype_psa_id": "subType/id",
        "subtype_name": "subType/name",
        "item_psa_id": "item/id",
        "item_name": "item/name",
        "resources": "resources",
        "budget_hours": "budgetHours",
        "actual_hours": "actualHours",
        "customer_updated": "customerUpdatedFlag",
        "date_entered": "_info/dateEntered",
        "required_date": "requiredDate",
    }
    if service:  # Ticket has team and SLA; ProjectTicket has project and phase instead
        columns |= {"team_psa_id": "team/id", "team_name": "team/name", **SLA_COLUMNS}
    else:
        columns |= {
            "project_psa_id": "project/id",
            "project_name": "project/name",
            "phase_name": "phase/name",
        }
    return columns


# The PSA's own SLA state of a service ticket (ConnectWise's ProjectTicket has none of it).
SLA_COLUMNS = {
    "sla_psa_id": "sla/id",
    "sla_name": "sla/name",
    "sla_status": "slaStatus",
    "is_in_sla": "isInSla",
    "sla_started_at": "escalationStartDateUTC",
    "respond_hours": "respondedHours",
    "resplan_hours": "resplanHours",
    "resolution_hours": "resolutionHours",
    "date_responded": "dateResponded",
    "date_resplan": "dateResplan",
    "date_resolved": "dateResolved",
    "responded_by": "respondedBy",
    "resplan_by": "resplanBy",
    "resolved_by": "resolvedBy",
    "respond_minutes": "respondMinutes",
    "resplan_minutes": "resPlanMinutes",
    "resolve_minutes": "resolveMinutes",
    "minutes_waiting": "minutesWaiting",
    "minutes_before_waiting": "minutesBeforeWaiting",
}
SLA_DEADLINES = tuple(STAGE_COLUMNS.values())  # respond_by, plan_by, resolve_by


def _sla_deadlines(connection_id: int, rows: list[dict]) -> None:
    # ConnectWise has no due-date field: the current stage's deadline is stated in slaStatus
    # ("Respond by Mon 07/04 1:00 PM UTC-04"); the other stages' deadlines are unknown (None).
    for row in rows:
        row.update(deadline_columns(row.get("sla_status"), row.get("psa_updated_at")))


_NAMED = {"name": "name"}

_MAPPINGS = [
    # --- core ---
    Mapping(
        "members",
        mirror.Member,
        {
            "identifier": "identifier",
            "first_name": "firstName",
            "last_name": "lastName",
            "email": "primaryEmail",
            "title": "title",
            "inactive": "inactiveFlag",
        },
    ),
    Mapping("territories", mirror.Territory, dict(_NAMED)),
    Mapping(
        "companies",
        mirror.Company,
        {
            "name": "name",
            "identifier": "identifier",
            "inactive": "deletedFlag",
            "status_psa_id": "status/id",
            "status_name": "status/name",
            "territory_psa_id": "territory/id",
            "territory_name": "territory/name",
        },
    ),
    Mapping(
        "projects",
        mirror.Project,
        {
            "name": "name",
            "status_psa_id": "status/id",
            "status_name": "status/name",
            "closed": "closedFlag",
            "company_psa_id": "company/id",
            "company_name": "company/name",
            "manager_psa_id": "manager/id",
            "manager_identifier": "manager/identifier",
            "board_psa_id": "board/id",
            "board_name": "board/name",
            "budget_hours": "budgetHours",
            "actual_hours": "actualHours",
            "estimated_start": "estimatedStart",
            "estimated_end": "estimatedEnd",
        },
    ),
    Mapping(
        "opportunities",
        mirror.Opportunity,
        {
            "name": "name",
            "stage_psa_id": "stage/id",
            "stage_name": "stage/name",
            "status_psa_id": "status/id",
            "status_name": "status/name",
            "closed_at": "closedDate",
            "type_psa_id": "type/id",
            "type_name": "type/name",
            "company_psa_id": "company/id",
            "company_name": "company/name",
            "contact_name": "contact/name",
            "sales_rep_psa_id": "primarySalesRep/id",
            "sales_rep_identifier": "primarySalesRep/identifier",
            "sales_rep_name": "primarySalesRep/name",
            "priority_name": "priority/name",
            "probability_name": "probability/name",
            "expected_close_date": "expectedCloseDate",
            "date_entered": "_info/dateEntered",
        },
        enrich=_opportunity_closed_from_status,
    ),
    Mapping(
        "service_tickets",
        mirror.Ticket,
        _ticket_columns(service=True),
        fixed={"kind": mirror.Ticket.Kind.SERVICE},
        enrich=_sla_deadlines,
        derived=SLA_DEADLINES,
    ),
    Mapping(
        "project_tickets",
        mirror.Ticket,
        _ticket_columns(service=False),
        fixed={"kind": mirror.Ticket.Kind.PROJECT},
    ),
    Mapping(
        "ticket_assignments",
        mirror.TicketAssignment,
        {
            "ticket_psa_id": "objectId",
            "member_psa_id": "member/id",
            "member_identifier": "member/identifier",
            "member_name": "member/name",
            "status_name": "status/name",
            "done": "doneFlag",
            "date_start": "dateStart",
            "date_end": "dateEnd",
            "hours": "hours",
        },
    ),
    # --- reference ---
    Mapping(
        "boards",
        mirror.ServiceBoard,
        {"name": "name", "inactive": "inactiveFlag", "project_flag": "projectFlag"},
    ),
    Mapping(
        "board_statuses",
        mirror.BoardStatus,
        {
            "name": "name",
            "board_psa_id": PARENT,
            "sort_order": "sortOrder",
            "closed_status": "closedStatus",
            "default_flag": "defaultFlag",
            "inactive": "inactive",
        },
    ),
    Mapping("board_teams", mirror.Team, {"name": "name", "board_psa_id": PARENT}),
    Mapping(
        "ticket_types",
        mirror.TicketType,
        {"name": "name", "board_psa_id": PARENT, "inactive": "inactiveFlag"},
    ),
    Mapping(
        "ticket_subtypes",
        mirror.TicketSubtype,
        {"name": "name", "board_psa_id": PARENT, "inactive": "inactiveFlag"},
    ),
    Mapping(
        "ticket_items",
        mirror.TicketItem,
        {"name": "name", "board_psa_id": PARENT, "inactive": "inactiveFlag"},
    ),
    Mapping("priorities", mirror.Priority, {"name": "name", "sort_order": "sortOrder", "color": "color"}),
    Mapping("company_statuses", mirror.CompanyStatus, {"name": "name", "inactive": "inactiveFlag"}),
    Mapping("service_locations", mirror.Location, dict(_NAMED)),
    Mapping(
        "time_entries",
        mirror.TimeEntry,
        {
            "charge_to_psa_id": "chargeToId",
            "charge_to_type": "chargeToType",
            "member_psa_id": "member/id",
            "member_identifier": "member/identifier",
            "time_start": "timeStart",
            "time_end": "timeEnd",
            "actual_hours": "actualHours",
            "notes": "notes",
        },
    ),
    Mapping(
        "opportunity_statuses",
        mirror.OpportunityStatus,
        {
            "name": "name",
            "closed_flag": "closedFlag",
            "won_flag": "wonFlag",
            "lost_flag": "lostFlag",
            "default_flag": "defaultFlag",
            "inactive": "inactiveFlag",
        },
    ),
    Mapping("opportunity_types", mirror.OpportunityType, {"name": "description", "inactive": "inactiveFlag"}),
    Mapping("opportunity_stages", mirror.OpportunityStage, {"name": "name", "sort_order": "sequenceNumber"}),
    Mapping(
        "project_statuses",
        mirror.ProjectStatus,
        {"name": "name", "closed_flag": "closedFlag", "inactive": "inactiveFlag"},
    ),
    Mapping("slas", mirror.SLA, dict(_NAMED)),
    Mapping(
        "sla_priorities",
        mirror.SLAPriority,
        {
            "name": "priority/name",
            "sla_psa_id": PARENT,
            "priority_psa_id": "priority/id",
            "respond_hours": "respondHours",
            "plan_within_hours": "planWithin",
            "resolution_hours": "resolutionHours",
        },
    ),
    Mapping("calendars", mirror.Calendar, {"name": "name", "holiday_list_psa_id": "holidayList/id"}),
    Mapping(
        "holidays",
        mirror.Holiday,
        {"name": "name", "holiday_list_psa_id": PARENT, "date": "date", "all_day": "allDayFlag"},
    ),
    Mapping("schedule_statuses", mirror.ScheduleStatus, dict(_NAMED)),
    Mapping("schedule_types", mirror.ScheduleType, {"name": "name", "identifier": "identifier"}),
    # --- notes ---
    Mapping(
        "service_notes",
        mirror.ServiceNote,
        {
            "ticket_psa_id": PARENT,
            "text": "text",
            "created_by": "createdBy",
            "date_created": "dateCreated",
            "internal": "internalFlag",
            "detail_description": "detailDescriptionFlag",
            "internal_analysis": "internalAnalysisFlag",
            "resolution": "resolutionFlag",
        },
    ),
    Mapping(
        "opportunity_notes",
        mirror.OpportunityNote,
        {
            "opportunity_psa_id": PARENT,
            "text": "text",
            "created_by": "enteredBy",
            "date_created": "_info/dateEntered",
        },
    ),
]
# Project ticket notes are ServiceNote records too (same model, same id space as tickets).
_MAPPINGS.append(Mapping("project_ticket_notes", mirror.ServiceNote, dict(_MAPPINGS[-2].columns)))

MAPPINGS: dict[str, Mapping] = {mapping.entity: mapping for mapping in _MAPPINGS}


def mapping_get(entity: str) -> Mapping:
    try:
        return MAPPINGS[entity]
    except KeyError:
        raise ValueError(f"entity {entity!r} is not mirrored") from None
