"""How the sandbox serves service and project tickets (psa.sandbox.connectwise.schema lists them first).

Tickets carry their model's whole field set (models.tsv Ticket / ProjectTicket), so conditions,
orderBy, `fields=` and PATCH take every field ConnectWise has, `parentTicketId` and
`hasChildTicket` included. References point at the collections that hold their targets; the
set-up collections (contacts, agreements, sources, phases, ...) live in schema_setup.
"""

from __future__ import annotations

from psa.sandbox.connectwise.entity import EntitySpec, whole_model

_RW = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_BOARD_SCOPED = frozenset({"status", "type", "subType", "item", "team"})
_REFERENCES: dict[str, str | None] = {
    "board": "service/boards",
    "status": "service/boards/{parentId}/statuses",
    "priority": "service/priorities",
    "company": "company/companies",
    "owner": "system/members",
    "type": "service/boards/{parentId}/types",
    "subType": "service/boards/{parentId}/subtypes",
    "item": "service/boards/{parentId}/items",
    "serviceLocation": "service/locations",
    "location": "system/locations",
    "contact": "company/contacts",
    "site": "company/companies/{parentId}/sites",
    "country": "company/countries",
    "agreement": "finance/agreements",
    "source": "service/sources",
    "workType": "time/workTypes",
    "workRole": "time/workRoles",
    "department": "system/departments",
    "opportunity": None,
    "currency": None,
    "mergedParentTicket": None,
}
_MAX_LENGTHS = {"summary": 255, "contactName": 62, "poNumber": 50, "externalXRef": 100}

# Computed by ConnectWise from the ticket's SLA (psa.sandbox.connectwise.sla): a POST ignores them, a PATCH
# is refused. ProjectTicket has none of them.
SLA_COMPUTED = frozenset(
    {
        "slaStatus",
        "isInSla",
        "dateResponded",
        "dateResplan",
        "dateResolved",
        "respondMinutes",
        "resPlanMinutes",
        "resolveMinutes",
        "respondedBy",
        "resplanBy",
        "resolvedBy",
        "respondedHours",
        "resplanHours",
        "resolutionHours",
        "minutesWaiting",
        "minutesBeforeWaiting",
        "respondedSkippedMinutes",
        "resplanSkippedMinutes",
        "escalationStartDateUTC",
        "escalationLevel",
    }
)
READ_ONLY: dict[str, frozenset[str]] = {"service/tickets": SLA_COMPUTED}

SERVICE_TICKETS = EntitySpec(
    "service/tickets",
    "Ticket",
    whole_model("Ticket"),
    writes=_RW,
    searchable=True,
    callback_type="ticket",
    references={**_REFERENCES, "team": "service/boards/{parentId}/teams", "sla": "service/SLAs"},
    board_scoped=_BOARD_SCOPED,
    required=("summary",),
    datetimes=("requiredDate", "closedDate", "estimatedStartDate"),
    max_lengths=_MAX_LENGTHS,
)
PROJECT_TICKETS = EntitySpec(
    "project/tickets",
    "ProjectTicket",
    whole_model("ProjectTicket"),
    writes=_RW,
    searchable=True,
    callback_type="ticket",
    references={**_REFERENCES, "project": "project/projects", "phase": "project/projects/{parentId}/phases"},
    board_scoped=_BOARD_SCOPED,
    required=("summary",),
    datetimes=("requiredDate", "closedDate", "estimatedStartDate", "scheduleStartDate", "scheduleEndDate"),
    max_lengths=_MAX_LENGTHS,
)
