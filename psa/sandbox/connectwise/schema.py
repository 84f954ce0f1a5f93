"""What the sandbox serves: one EntitySpec per ConnectWise collection.

The entity key IS the ConnectWise path (endpoints.tsv, without the leading slash), nested
collections keep the `{parentId}` placeholder. `fields` are the top-level fields records carry
(each one a field of `model` in models.tsv; tests check both). Records omit null fields, like
ConnectWise responses do; `fields` also decides which names conditions, orderBy and PATCH accept.
"""

from __future__ import annotations

from dataclasses import replace

from psa.sandbox.connectwise.entity import EntitySpec, whole_model
from psa.sandbox.connectwise.schema_setup import SETUP_SPECS
from psa.sandbox.connectwise.schema_tickets import PROJECT_TICKETS, SERVICE_TICKETS

_RW = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TICKET_SPECS = ("service/tickets", "project/tickets")


def _board_child(name: str, model: str, fields: tuple[str, ...], parent_field: str) -> EntitySpec:
    return EntitySpec(
        f"service/boards/{{parentId}}/{name}",
        model,
        fields,
        parent="service/boards",
        parent_field=parent_field,
    )


SPECS: tuple[EntitySpec, ...] = (
    SERVICE_TICKETS,
    PROJECT_TICKETS,
    EntitySpec(
        "sales/opportunities",
        "Opportunity",
        (
            "id",
            "name",
            "expectedCloseDate",
            "type",
            "stage",
            "status",
            "priority",
            "notes",
            "probability",
            "source",
            "rating",
            "primarySalesRep",
            "secondarySalesRep",
            "company",
            "contact",
            "closedDate",
            "closedBy",
            "_info",
        ),
        writes=_RW,
        callback_type="opportunity",
        references={
            "type": "sales/opportunities/types",
            "stage": "sales/stages",
            "status": "sales/opportunities/statuses",
            "primarySalesRep": "system/members",
            "secondarySalesRep": "system/members",
            "company": "company/companies",
            "priority": None,
            "probability": "sales/probabilities",
            "contact": "company/contacts",
            "rating": "sales/opportunities/ratings",
        },
        required=("name",),
        datetimes=("expectedCloseDate", "closedDate"),
        max_lengths={"name": 100},
    ),
    EntitySpec(
        "sales/opportunities/statuses",
        "OpportunityStatus",
        ("id", "name", "wonFlag", "lostFlag", "closedFlag", "inactiveFlag", "defaultFlag", "_info"),
    ),
    EntitySpec(
        "sales/opportunities/types", "OpportunityType", ("id", "description", "inactiveFlag", "_info")
    ),
    EntitySpec(
        "sales/stages", "OpportunityStage", ("id", "name", "probability", "color", "sequenceNumber", "_info")
    ),
    EntitySpec(
        "system/members",
        "Member",
        (
            "id",
            "identifier",
            "firstName",
            "lastName",
            "primaryEmail",
            "title",
            "inactiveFlag",
            "defaultLocation",
            "timeZone",
            "dailyCapacity",
            "_info",
        ),
    ),
    EntitySpec(
        "project/projects",
        "Project",
        (
            "id",
            "name",
            "board",
            "status",
            "closedFlag",
            "company",
            "manager",
            "budgetHours",
            "actualHours",
            "estimatedStart",
            "estimatedEnd",
            "percentComplete",
            "description",
            "_info",
        ),
        callback_type="project",
        datetimes=("estimatedStart", "estimatedEnd"),
    ),
    EntitySpec(
        "project/statuses",
        "ProjectStatus",
        ("id", "name", "defaultFlag", "inactiveFlag", "closedFlag", "_info"),
    ),
    EntitySpec("system/locations", "Location", ("id", "name", "locationFlag", "clientFlag", "_info")),
    EntitySpec("service/locations", "ServiceLocation", ("id", "name", "where", "defaultFlag", "_info")),
    EntitySpec(
        "company/companies",
        "Company",
        (
            "id",
            "identifier",
            "name",
            "status",
            "city",
            "state",
            "country",
            "phoneNumber",
            "website",
            "territory",
            "deletedFlag",
            "types",
            "_info",
        ),
        callback_type="company",
    ),
    EntitySpec(
        "company/companies/statuses", "CompanyStatus", ("id", "name", "defaultFlag", "inactiveFlag", "_info")
    ),
    EntitySpec(
        "schedule/entries",
        "ScheduleEntry",
        (
            "id",
            "objectId",
            "name",
            "member",
            "where",
            "dateStart",
            "dateEnd",
            "status",
            "type",
            "doneFlag",
            "acknowledgedFlag",
            "ownerFlag",
            "hours",
            "_info",
        ),
        writes=_RW,
        callback_type="schedule",
        references={
            "member": "system/members",
            "status": "schedule/statuses",
            "type": "schedule/types",
            "where": "service/locations",
        },
        required=("objectId", "member"),
        datetimes=("dateStart", "dateEnd"),
    ),
    EntitySpec("service/boards", "Board", ("id", "name", "location", "inactiveFlag", "projectFlag", "_info")),
    _board_child(
        "statuses",
        "BoardStatus",
        (
            "id",
            "name",
            "board",
            "sortOrder",
            "displayOnBoard",
            "inactive",
            "closedStatus",
            "defaultFlag",
            "timeEntryNotAllowed",
            "escalationStatus",
            "_info",
        ),
        "board/id",
    ),
    _board_child(
        "teams",
        "BoardTeam",
        ("id", "name", "teamLeader", "members", "defaultFlag", "boardId", "_info"),
        "boardId",
    ),
    _board_child(
        "types",
        "BoardType",
        ("id", "name", "category", "defaultFlag", "inactiveFlag", "board", "_info"),
        "board/id",
    ),
    _board_child(
        "subtypes",
        "BoardSubType",
        ("id", "name", "inactiveFlag", "typeAssociationIds", "board", "_info"),
        "board/id",
    ),
    _board_child("items", "BoardItem", ("id", "name", "inactiveFlag", "board", "_info"), "board/id"),
    EntitySpec(
        "service/priorities",
        "Priority",
        ("id", "name", "color", "sortOrder", "defaultFlag", "level", "_info"),
    ),
    EntitySpec(
        "service/SLAs",
        "SLA",
        ("id", "name", "basedOn", "defaultFlag", "respondHours", "planWithin", "resolutionHours", "_info"),
    ),
    EntitySpec(
        "service/SLAs/{parentId}/priorities",
        "SLAPriority",
        ("id", "priority", "respondHours", "planWithin", "resolutionHours", "sla", "_info"),
        parent="service/SLAs",
        parent_field="sla/id",
    ),
    EntitySpec(
        "schedule/calendars",
        "Calendar",
        (
            "id",
            "name",
            "holidayList",
            "mondayStartTime",
            "mondayEndTime",
            "fridayStartTime",
            "fridayEndTime",
            "_info",
        ),
    ),
    EntitySpec("schedule/holidayLists", "HolidayList", ("id", "name", "_info")),
    EntitySpec(
        "schedule/holidayLists/{parentId}/holidays",
        "Holiday",
        ("id", "name", "allDayFlag", "date", "holidayList", "_info"),
        parent="schedule/holidayLists",
        parent_field="holidayList/id",
    ),
    EntitySpec(
        "schedule/statuses", "ScheduleStatus", ("id", "name", "defaultFlag", "showAsTentativeFlag", "_info")
    ),
    EntitySpec(
        "schedule/types", "ScheduleType", ("id", "name", "identifier", "chargeCode", "systemFlag", "_info")
    ),
    EntitySpec(
        "time/entries",
        "TimeEntry",
        (
            "id",
            "company",
            "chargeToId",
            "chargeToType",
            "member",
            "workType",
            "timeStart",
            "timeEnd",
            "actualHours",
            "billableOption",
            "notes",
            "enteredBy",
            "dateEntered",
            "_info",
        ),
        writes=_RW,
        references={
            "member": "system/members",
            "company": "company/companies",
            "workType": "time/workTypes",
            "workRole": "time/workRoles",
        },
        required=("chargeToId", "chargeToType", "member", "timeStart"),
        datetimes=("timeStart", "timeEnd", "dateEntered"),
    ),
    EntitySpec(
        "service/tickets/{parentId}/notes",
        "ServiceNote",
        (
            "id",
            "ticketId",
            "text",
            "detailDescriptionFlag",
            "internalAnalysisFlag",
            "resolutionFlag",
            "issueFlag",
            "member",
            "customerUpdatedFlag",
            "dateCreated",
            "createdBy",
            "internalFlag",
            "externalFlag",
            "_info",
        ),
        parent="service/tickets",
        parent_field="ticketId",
        writes=_RW,
        references={"member": "system/members", "contact": "company/contacts"},
        required=("text",),
        datetimes=("dateCreated",),
    ),
    EntitySpec(
        "sales/opportunities/{parentId}/notes",
        "OpportunityNote",
        ("id", "opportunityId", "type", "text", "flagged", "enteredBy", "_info"),
        parent="sales/opportunities",
        parent_field="opportunityId",
        writes=_RW,
        references={"type": "company/noteTypes"},
        required=("text",),
    ),
    EntitySpec(
        "system/callbacks",
        "CallbackEntry",
        (
            "id",
            "description",
            "url",
            "objectId",
            "type",
            "level",
            "memberId",
            "payloadVersion",
            "inactiveFlag",
            "isSoapCallbackFlag",
            "isSelfSuppressedFlag",
            "_info",
        ),
        writes=_RW,
        required=("url", "type", "level"),
    ),
)

# Records of every collection (tickets: psa.sandbox.connectwise.schema_tickets, declared whole) may carry any field
# of their model, filled like a real site fills it; conditions, orderBy, fields and PATCH take them.
SPECS = tuple(
    spec if spec.key in _TICKET_SPECS else replace(spec, fields=whole_model(spec.model)) for spec in SPECS
)
SPECS += SETUP_SPECS

SPEC_BY_KEY: dict[str, EntitySpec] = {spec.key: spec for spec in SPECS}

# Extra paths serving an existing collection: project ticket notes share ticket notes (one
# ticket id space, one ServiceNote model); `parent` checked against project tickets.
ALIASES: dict[str, tuple[str, str]] = {
    "project/tickets/{parentId}/notes": ("service/tickets/{parentId}/notes", "project/tickets"),
}

TICKET_ENTITIES = ("service/tickets", "project/tickets")
NOTE_ENTITIES = ("service/tickets/{parentId}/notes", "sales/opportunities/{parentId}/notes")


def parent_id_of(spec: EntitySpec, record: dict) -> int | None:
    """The parent id a nested record carries (`board/id`, `ticketId`, ...); None for top level."""
    if spec.parent_field is None:
        return None
    value: object = record
    for part in spec.parent_field.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def spec_for(key: str) -> EntitySpec:
    try:
        return SPEC_BY_KEY[key]
    except KeyError:
        raise KeyError(f"the sandbox has no entity {key!r}; entities: {', '.join(SPEC_BY_KEY)}") from None
