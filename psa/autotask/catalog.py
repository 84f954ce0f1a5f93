"""The Autotask entity catalog: one entry per mirrored entity, every fact about it in one place.

Paths are root entities (`Tickets`: listed by `POST Tickets/query`) or picklists
(`picklist:Tickets.status`, listed from entityInformation/fields, see listing.py). Sources are
the records' camelCase field names (entities.tsv); only those are requested (IncludeFields).
Each entity with a change stamp (api.md §9) names it (`Mapping.stamp`): it fills psa_updated_at
and narrows the changes tier (`id`-ordered `gt` on that field). Entities without one (resources,
link entities, picklists) are re-read by their full tier only.

Mapping onto the provider-neutral mirror (boards/models):
  queues → ServiceBoard; the ticket status picklist → BoardStatus (one global list: no board);
  priorities, issue / sub-issue types, SLAs, project statuses, opportunity statuses and stages,
  territories → their reference models; resources → Member; companies → Company; projects →
  Project; tickets → Ticket (service); project tasks → Ticket (project); ticket secondary
  resources → TicketAssignment (source "ticket"); service calls' resources → TicketAssignment
  (source "service_call": ServiceCallTicketResources joined with ServiceCallTickets for the
  ticket and ServiceCalls for the call's start, end and completion, listing.py JOINS); ticket
  and task notes → ServiceNote; time entries → TimeEntry; the ticket's SLA due dates and "met"
  flag → the same SLA columns ConnectWise fills.
Assumptions, kept visible: tickets and tasks share Autotask's id space (both are "tasks"
inside Autotask), as do ticket and task notes; tasks use the same global status list.
TicketSecondaryResources and ServiceCallTicketResources have id sequences of their own: the
mirror tells them apart by TicketAssignment.source, part of its identity.
Service call resources have no change stamp: the core tier re-reads them whole (a call moved
shows its new times within 30 minutes; the single-record refresh re-reads secondary resources
only). Not mirrored (yet): contacts (no neutral model; boards show the ticket's contact only by
name), service calls on project tasks (ServiceCallTasks), note types.

Scope decisions (the reference: "only what boards need"):
- tickets and tasks: open ones plus those completed within the connection's retention;
- notes: every ticket and task note except workflow-rule notes (note type 13, as django-autotask);
  they ride the 5-minute changes tier by lastActivityDate, no per-ticket fan-out;
- time entries: worked within settings.SYNC_TIME_ENTRY_DAYS;
- DeletedTicketLogs: a deletion log read by the changes tier from its first run on, so a
  deleted ticket leaves the boards within minutes (sync/engine/deletion_log.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from boards import models as mirror
from psa.autotask.columns import (
    ASSIGNEE,
    COMPANY,
    NOTE_AUTHOR,
    OPPORTUNITY_STAGE,
    OPPORTUNITY_STATUS,
    PROJECT_LEAD,
    PROJECT_STATUS,
    SALES_REP,
    TASK_COLUMNS,
    TASK_DERIVED,
    TASK_REFS,
    TERRITORY,
    TICKET_COLUMNS,
    TICKET_DERIVED,
    TICKET_REFS,
    TIME_RESOURCE,
    active_flag,
    completed_status,
    name_columns,
    note_visibility,
    opportunity_closed,
    opportunity_status_flags,
    resource_flags,
    service_call_done,
    service_ticket_columns,
    status_value,
    task_columns,
    time_charge,
    with_names,
)
from psa.autotask.listing import JOINED, PICKLIST, joined_path, picklist_path
from psa.autotask.query import any_of, changed_since_on, cond, query_text
from psa.catalog import CHANGES, CORE, REFERENCE, Catalog, MirrorEntity, ScopeContext
from sync.mapping.spec import Mapping

NOTE_TYPE_WORKFLOW_RULE = 13  # api.md §5: excluded from note syncs (django-autotask does too)


def _entry(
    name: str,
    path: str,
    tier: str,
    model: Any,
    columns: dict[str, str],
    *,
    stamp: str | None = None,
    scope: Callable[[ScopeContext], str | None] | None = None,
    **mapping_kw: Any,
) -> MirrorEntity:
    psa_model = path.removeprefix(PICKLIST).removeprefix(JOINED)
    return MirrorEntity(
        name,
        path,
        psa_model,
        tier,
        Mapping(name, model, columns, stamp=stamp, **mapping_kw),
        has_last_updated=stamp is not None,
        scope=scope,
        changed_since=changed_since_on(stamp) if stamp else None,
    )


def _picklist(
    name: str,
    entity: str,
    field: str,
    tier: str,
    model: Any,
    columns: dict[str, str] | None = None,
    **kw: Any,
) -> MirrorEntity:
    """A picklist's values as reference rows (listing.py lists them as records)."""
    kw.setdefault("enrich", active_flag)
    kw.setdefault("derived", ("inactive",))
    return _entry(
        name,
        picklist_path(entity, field),
        tier,
        model,
        {"name": "name", **(columns or {})},
        extra_fields=("isActive",),
        **kw,
    )


def _no_stamp(query: str | None, when: datetime) -> str:
    raise ValueError("this Autotask entity has no change stamp: only its full tier lists it")


# --- scopes -----------------------------------------------------------------------------------


def open_or_recently_completed(completed_field: str) -> Callable[[ScopeContext], str]:
    def scope(context: ScopeContext) -> str:
        cutoff = context.now - timedelta(days=context.closed_ticket_retention_days)
        return query_text(any_of(cond("status", "noteq", 5), cond(completed_field, "gt", cutoff)))

    return scope


def recent_time_entries(context: ScopeContext) -> str:
    return query_text(cond("dateWorked", "gt", context.now - timedelta(days=context.time_entry_days)))


def notes_to_show(context: ScopeContext) -> str:
    return query_text(cond("noteType", "noteq", NOTE_TYPE_WORKFLOW_RULE))


def _notes(name: str, path: str, parent_field: str, kind: str) -> MirrorEntity:
    return _entry(
        name,
        path,
        REFERENCE,
        mirror.ServiceNote,
        {"ticket_psa_id": parent_field, "text": "description", "date_created": "createDateTime"},
        stamp="lastActivityDate",
        scope=notes_to_show,
        fixed={"ticket_kind": kind},
        extra_fields=("creatorResourceID", "publish", "title", "noteType"),
        enrich=with_names(path, NOTE_AUTHOR, then=note_visibility),
        derived=(*NOTE_AUTHOR.columns, "internal"),
    )


_ENTITIES = [
    # --- core (30 min, deletes) ---
    _entry(
        "members",
        "Resources",
        CORE,
        mirror.Member,
        {
            "identifier": "userName",
            "first_name": "firstName",
            "last_name": "lastName",
            "email": "email",
            "title": "title",
        },
        extra_fields=("isActive",),
        enrich=resource_flags,
        derived=("inactive",),
    ),
    _picklist("territories", "Companies", "territoryID", CORE, mirror.Territory),
    _entry(
        "companies",
        "Companies",
        CORE,
        mirror.Company,
        {"name": "companyName", "identifier": "companyNumber", "territory_psa_id": "territoryID"},
        stamp="lastActivityDate",
        extra_fields=("isActive",),
        enrich=with_names("Companies", TERRITORY, then=active_flag),
        derived=(*TERRITORY.columns, "inactive"),
    ),
    _entry(
        "projects",
        "Projects",
        CORE,
        mirror.Project,
        {
            "name": "projectName",
            "status_psa_id": "status",
            "company_psa_id": "companyID",
            "manager_psa_id": "projectLeadResourceID",
            "budget_hours": "estimatedTime",
            "actual_hours": "actualHours",
            "estimated_start": "startDateTime",
            "estimated_end": "endDateTime",
        },
        stamp="lastActivityDateTime",
        enrich=with_names("Projects", PROJECT_STATUS, COMPANY, PROJECT_LEAD, then=completed_status),
        derived=(*name_columns(PROJECT_STATUS, COMPANY, PROJECT_LEAD), "closed"),
    ),
    _entry(
        "opportunities",
        "Opportunities",
        CORE,
        mirror.Opportunity,
        {
            "name": "title",
            "stage_psa_id": "stage",
            "status_psa_id": "status",
            "closed_at": "closedDate",
            "company_psa_id": "companyID",
            "sales_rep_psa_id": "ownerResourceID",
            "expected_close_date": "projectedCloseDate",
            "date_entered": "createDate",
        },
        stamp="lastActivity",
        extra_fields=("lostDate",),
        enrich=with_names(
            "Opportunities",
            OPPORTUNITY_STAGE,
            OPPORTUNITY_STATUS,
            COMPANY,
            SALES_REP,
            then=opportunity_closed,
        ),
        derived=(*name_columns(OPPORTUNITY_STAGE, OPPORTUNITY_STATUS, COMPANY, SALES_REP), "closed"),
    ),
    _entry(
        "service_tickets",
        "Tickets",
        CORE,
        mirror.Ticket,
        TICKET_COLUMNS,
        stamp="lastActivityDate",
        scope=open_or_recently_completed("completedDate"),
        fixed={"kind": mirror.Ticket.Kind.SERVICE},
        # boards show the description (raw JSON) and whether the SLA is paused
        extra_fields=("ticketNumber", "description", "serviceLevelAgreementPausedNextEventHours"),
        enrich=with_names("Tickets", *TICKET_REFS, then=service_ticket_columns),
        derived=(*name_columns(*TICKET_REFS), *TICKET_DERIVED, "sla_status"),
    ),
    _entry(
        "project_tickets",
        "Tasks",
        CORE,
        mirror.Ticket,
        TASK_COLUMNS,
        stamp="lastActivityDateTime",
        scope=open_or_recently_completed("completedDateTime"),
        fixed={"kind": mirror.Ticket.Kind.PROJECT},
        extra_fields=("taskNumber", "phaseID", "description"),
        enrich=with_names("Tasks", *TASK_REFS, then=task_columns),
        derived=(*name_columns(*TASK_REFS), *TASK_DERIVED),
    ),
    _entry(
        "ticket_assignments",
        "TicketSecondaryResources",
        CORE,
        mirror.TicketAssignment,
        {"ticket_psa_id": "ticketID", "member_psa_id": "resourceID"},
        fixed={"source": mirror.TicketAssignment.Source.TICKET},
        extra_fields=("roleID",),
        enrich=with_names("TicketSecondaryResources", ASSIGNEE),
        derived=ASSIGNEE.columns,
    ),
    _entry(
        "service_call_assignments",
        joined_path("ServiceCallTicketResources"),
        CORE,
        mirror.TicketAssignment,
        {
            "ticket_psa_id": "ticketID",
            "member_psa_id": "resourceID",
            "date_start": "startDateTime",
            "date_end": "endDateTime",
        },
        fixed={"source": mirror.TicketAssignment.Source.SERVICE_CALL},
        extra_fields=("serviceCallTicketID", "serviceCallID", "isComplete"),
        enrich=with_names("ServiceCallTicketResources", ASSIGNEE, then=service_call_done),
        derived=(*ASSIGNEE.columns, "done"),
    ),
    # --- reference (4 h, deletes) ---
    _picklist("boards", "Tickets", "queueID", REFERENCE, mirror.ServiceBoard),
    _picklist(
        "board_statuses",
        "Tickets",
        "status",
        REFERENCE,
        mirror.BoardStatus,
        {"sort_order": "sortOrder", "default_flag": "isDefaultValue"},
        enrich=status_value("closed_status"),
        derived=("inactive", "closed_status"),
    ),
    _picklist("priorities", "Tickets", "priority", REFERENCE, mirror.Priority, {"sort_order": "sortOrder"}),
    _picklist("ticket_types", "Tickets", "issueType", REFERENCE, mirror.TicketType),
    _picklist("ticket_subtypes", "Tickets", "subIssueType", REFERENCE, mirror.TicketSubtype),
    _picklist("slas", "Tickets", "serviceLevelAgreementID", REFERENCE, mirror.SLA),
    _picklist(
        "project_statuses",
        "Projects",
        "status",
        REFERENCE,
        mirror.ProjectStatus,
        enrich=status_value("closed_flag"),
        derived=("inactive", "closed_flag"),
    ),
    _picklist(
        "opportunity_statuses",
        "Opportunities",
        "status",
        REFERENCE,
        mirror.OpportunityStatus,
        enrich=opportunity_status_flags,
        derived=("inactive", "won_flag", "lost_flag", "closed_flag", "default_flag"),
    ),
    _picklist(
        "opportunity_stages",
        "Opportunities",
        "stage",
        REFERENCE,
        mirror.OpportunityStage,
        {"sort_order": "sortOrder"},
    ),
    _entry(
        "time_entries",
        "TimeEntries",
        REFERENCE,
        mirror.TimeEntry,
        {
            "member_psa_id": "resourceID",
            "time_start": "startDateTime",
            "time_end": "endDateTime",
            "actual_hours": "hoursWorked",
            "notes": "summaryNotes",
        },
        stamp="lastModifiedDateTime",
        scope=recent_time_entries,
        extra_fields=("ticketID", "taskID", "dateWorked"),
        enrich=with_names("TimeEntries", TIME_RESOURCE, then=time_charge),
        derived=(*TIME_RESOURCE.columns, "charge_to_psa_id", "charge_to_type"),
    ),
    _notes("ticket_notes", "TicketNotes", "ticketID", mirror.Ticket.Kind.SERVICE),
    _notes("task_notes", "TaskNotes", "taskID", mirror.Ticket.Kind.PROJECT),
    # --- changes tier only: deletes between full runs ---
    # Reference: api.md §9 — DeletedTicketLogs (ticketID, deletedDateTime) is query-only.
    MirrorEntity(
        "deleted_tickets",
        "DeletedTicketLogs",
        "DeletedTicketLogs",
        CHANGES,
        Mapping(
            "deleted_tickets",
            mirror.Ticket,
            {},
            fixed={"kind": mirror.Ticket.Kind.SERVICE},
            stamp="deletedDateTime",
            extra_fields=("ticketID",),
        ),
        changed_since=changed_since_on("deletedDateTime"),
        removes="ticketID",
    ),
]

CATALOG = Catalog(entities={entity.name: entity for entity in _ENTITIES}, changed_since=_no_stamp)
