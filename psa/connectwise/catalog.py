"""The ConnectWise entity catalog: one entry per mirrored entity, every fact about it in one place.

Each entry names a real path (spec/endpoints.tsv) and the model it returns (spec/models.tsv),
its tier, the mirror model and columns it lands in (sources are ConnectWise `fields=` paths;
PARENT is the parent id of a nested listing), its scope, its parent for nested paths, and for
notes the mirrored parents they belong to. Tests check every path and field against the spec.

Scope decisions (the reference: "only what boards need"):
- quotes, contacts, configurations, ... are never fetched;
- tickets: open ones plus those closed within the connection's retention
  (`closedFlag = False or closedDate > [now - retention]`);
- ticket assignments: schedule entries of type "S" (objectId = ticket id) not done yet;
- time entries: started within settings.SYNC_TIME_ENTRY_DAYS (older ones never show on a card).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from boards import models as mirror
from psa.catalog import CORE, NOTES, REFERENCE, Catalog, MirrorEntity, NotesParent, ScopeContext
from psa.connectwise.columns import (
    NAMED,
    SLA_DEADLINES,
    api_members_inactive,
    opportunity_closed_from_status,
    sla_deadlines,
    ticket_columns,
)
from psa.connectwise.conditions import all_of, any_of, cond
from sync.mapping.spec import PARENT, Mapping


def open_or_recently_closed(context: ScopeContext) -> str:
    cutoff = context.now - timedelta(days=context.closed_ticket_retention_days)
    return any_of(cond("closedFlag", "=", False), cond("closedDate", ">", cutoff))


# Ticket assignments: schedule entries of type "S" not done yet (also the webhook refresh's scope).
OPEN_TICKET_ASSIGNMENTS = all_of(cond("type/identifier", "=", "S"), cond("doneFlag", "=", False))


def open_ticket_assignments(context: ScopeContext) -> str:
    return OPEN_TICKET_ASSIGNMENTS


def recent_time_entries(context: ScopeContext) -> str:
    return cond("timeStart", ">", context.now - timedelta(days=context.time_entry_days))


def changed_since(conditions: str | None, when: datetime) -> str:
    # Reference: developer guide "Conditions": lastUpdated is the server's change stamp.
    return all_of(conditions, cond("lastUpdated", ">", when))


def _named(name: str, path: str, model: str, tier: str, mirror_model, columns=None, **kw) -> MirrorEntity:
    """An entry whose mapping has the entry's own name (the usual case)."""
    mapping_kw = {k: kw.pop(k) for k in ("fixed", "enrich", "derived", "extra_fields") if k in kw}
    return MirrorEntity(
        name, path, model, tier, Mapping(name, mirror_model, dict(columns or NAMED), **mapping_kw), **kw
    )


def _board_child(name: str, path: str, model: str, mirror_model, columns: dict[str, str]) -> MirrorEntity:
    return _named(
        name, path, model, REFERENCE, mirror_model, {**columns, "board_psa_id": PARENT}, parent="boards"
    )


_NOTE_COLUMNS = {
    "ticket_psa_id": PARENT,
    "text": "text",
    "created_by": "createdBy",
    "member_identifier": "member/identifier",
    "date_created": "dateCreated",
    "internal": "internalFlag",
    "detail_description": "detailDescriptionFlag",
    "internal_analysis": "internalAnalysisFlag",
    "resolution": "resolutionFlag",
}
_INACTIVE = {"name": "name", "inactive": "inactiveFlag"}


def _ticket_notes(name: str, area: str, kind: str) -> MirrorEntity:
    """The notes of the mirrored tickets of one kind: `{area}/tickets/{parentId}/notes`."""
    return _named(
        name,
        f"{area}/tickets/{{parentId}}/notes",
        "ServiceNote",
        NOTES,
        mirror.ServiceNote,
        _NOTE_COLUMNS,
        parent=f"{area}_tickets",
        notes_parent=NotesParent("boards.Ticket", {"kind": kind}),
        fixed={"ticket_kind": kind},
    )


_ENTITIES = [
    # --- core ---
    _named(
        "members",
        "system/members",
        "Member",
        CORE,
        mirror.Member,
        {
            "identifier": "identifier",
            "first_name": "firstName",
            "last_name": "lastName",
            "email": "primaryEmail",
            "title": "title",
            "inactive": "inactiveFlag",
        },
        extra_fields=("licenseClass",),
        enrich=api_members_inactive,
    ),
    _named("territories", "system/locations", "Location", CORE, mirror.Territory),
    _named(
        "companies",
        "company/companies",
        "Company",
        CORE,
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
    _named(
        "projects",
        "project/projects",
        "Project",
        CORE,
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
    _named(
        "opportunities",
        "sales/opportunities",
        "Opportunity",
        CORE,
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
        # Reference: psa-api-facts.md — closedFlag lives on the opportunity's status.
        enrich=opportunity_closed_from_status,
        derived=("closed",),
    ),
    _named(
        "service_tickets",
        "service/tickets",
        "Ticket",
        CORE,
        mirror.Ticket,
        ticket_columns(service=True),
        fixed={"kind": mirror.Ticket.Kind.SERVICE},
        enrich=sla_deadlines,
        derived=SLA_DEADLINES,
        scope=open_or_recently_closed,
    ),
    _named(
        "project_tickets",
        "project/tickets",
        "ProjectTicket",
        CORE,
        mirror.Ticket,
        ticket_columns(service=False),
        fixed={"kind": mirror.Ticket.Kind.PROJECT},
        scope=open_or_recently_closed,
    ),
    _named(
        "ticket_assignments",
        "schedule/entries",
        "ScheduleEntry",
        CORE,
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
        fixed={"source": mirror.TicketAssignment.Source.TICKET},  # part of the row's identity
        scope=open_ticket_assignments,
    ),
    # --- reference ---
    _named(
        "boards",
        "service/boards",
        "Board",
        REFERENCE,
        mirror.ServiceBoard,
        {"name": "name", "inactive": "inactiveFlag", "project_flag": "projectFlag"},
    ),
    _board_child(
        "board_statuses",
        "service/boards/{parentId}/statuses",
        "BoardStatus",
        mirror.BoardStatus,
        {
            "name": "name",
            "sort_order": "sortOrder",
            "closed_status": "closedStatus",
            "default_flag": "defaultFlag",
            "inactive": "inactive",
        },
    ),
    _board_child("board_teams", "service/boards/{parentId}/teams", "BoardTeam", mirror.Team, NAMED),
    _board_child(
        "ticket_types", "service/boards/{parentId}/types", "BoardType", mirror.TicketType, _INACTIVE
    ),
    _board_child(
        "ticket_subtypes",
        "service/boards/{parentId}/subtypes",
        "BoardSubType",
        mirror.TicketSubtype,
        _INACTIVE,
    ),
    _board_child(
        "ticket_items", "service/boards/{parentId}/items", "BoardItem", mirror.TicketItem, _INACTIVE
    ),
    _named(
        "priorities",
        "service/priorities",
        "Priority",
        REFERENCE,
        mirror.Priority,
        {"name": "name", "sort_order": "sortOrder", "color": "color"},
    ),
    _named(
        "company_statuses",
        "company/companies/statuses",
        "CompanyStatus",
        REFERENCE,
        mirror.CompanyStatus,
        _INACTIVE,
    ),
    _named("service_locations", "service/locations", "ServiceLocation", REFERENCE, mirror.Location),
    _named(
        "time_entries",
        "time/entries",
        "TimeEntry",
        REFERENCE,
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
        scope=recent_time_entries,
    ),
    _named(
        "opportunity_statuses",
        "sales/opportunities/statuses",
        "OpportunityStatus",
        REFERENCE,
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
    _named(
        "opportunity_types",
        "sales/opportunities/types",
        "OpportunityType",
        REFERENCE,
        mirror.OpportunityType,
        {"name": "description", "inactive": "inactiveFlag"},
    ),
    _named(
        "opportunity_stages",
        "sales/stages",
        "OpportunityStage",
        REFERENCE,
        mirror.OpportunityStage,
        {"name": "name", "sort_order": "sequenceNumber"},
    ),
    _named(
        "project_statuses",
        "project/statuses",
        "ProjectStatus",
        REFERENCE,
        mirror.ProjectStatus,
        {"name": "name", "closed_flag": "closedFlag", "inactive": "inactiveFlag"},
    ),
    _named("slas", "service/SLAs", "SLA", REFERENCE, mirror.SLA),
    _named(
        "sla_priorities",
        "service/SLAs/{parentId}/priorities",
        "SLAPriority",
        REFERENCE,
        mirror.SLAPriority,
        {
            "name": "priority/name",
            "sla_psa_id": PARENT,
            "priority_psa_id": "priority/id",
            "respond_hours": "respondHours",
            "plan_within_hours": "planWithin",
            "resolution_hours": "resolutionHours",
        },
        parent="slas",
    ),
    _named(
        "calendars",
        "schedule/calendars",
        "Calendar",
        REFERENCE,
        mirror.Calendar,
        {"name": "name", "holiday_list_psa_id": "holidayList/id"},
    ),
    # Holiday lists are listed only for their ids (the parents of holidays), never mirrored.
    MirrorEntity("holiday_lists", "schedule/holidayLists", "HolidayList", REFERENCE, None, mirrored=False),
    _named(
        "holidays",
        "schedule/holidayLists/{parentId}/holidays",
        "Holiday",
        REFERENCE,
        mirror.Holiday,
        {"name": "name", "holiday_list_psa_id": PARENT, "date": "date", "all_day": "allDayFlag"},
        parent="holiday_lists",
    ),
    _named("schedule_statuses", "schedule/statuses", "ScheduleStatus", REFERENCE, mirror.ScheduleStatus),
    _named(
        "schedule_types",
        "schedule/types",
        "ScheduleType",
        REFERENCE,
        mirror.ScheduleType,
        {"name": "name", "identifier": "identifier"},
    ),
    # --- notes (24 h): one request per mirrored parent ---
    _ticket_notes("service_notes", "service", mirror.Ticket.Kind.SERVICE),
    # Project ticket notes are ServiceNote records too (same model, same id space as tickets).
    _ticket_notes("project_ticket_notes", "project", mirror.Ticket.Kind.PROJECT),
    _named(
        "opportunity_notes",
        "sales/opportunities/{parentId}/notes",
        "OpportunityNote",
        NOTES,
        mirror.OpportunityNote,
        {
            "opportunity_psa_id": PARENT,
            "text": "text",
            "created_by": "enteredBy",
            "date_created": "_info/dateEntered",
        },
        parent="opportunities",
        notes_parent=NotesParent("boards.Opportunity"),
    ),
]

CATALOG = Catalog(entities={entity.name: entity for entity in _ENTITIES}, changed_since=changed_since)
