"""How ConnectWise records land in the mirror: the column groups and enrichments the catalog
(psa/connectwise/catalog.py) shares between entities."""

from __future__ import annotations

from django.apps import apps

from psa.connectwise.sla_status import STAGE_COLUMNS, deadline_columns

NAMED = {"name": "name"}


# Member.licenseClass of an API member (the keys an integration uses): it logs no work and no
# person should be linked to it, so pickers (active members only) must not offer it.
API_LICENSE_CLASS = "A"


def api_members_inactive(connection_id: int, rows: list[dict]) -> None:
    for row in rows:
        if (row.get("raw") or {}).get("licenseClass") == API_LICENSE_CLASS:
            row["inactive"] = True


def opportunity_closed_from_status(connection_id: int, rows: list[dict]) -> None:
    # Reference: psa-api-facts.md — closedFlag lives on sales/opportunities/statuses, not on the
    # opportunity; the reference tier mirrors the statuses.
    closed_ids = set(
        apps.get_model("boards", "OpportunityStatus")
        .objects.filter(connection_id=connection_id, closed_flag=True)
        .values_list("psa_id", flat=True)
    )
    for row in rows:
        row["closed"] = row.get("status_psa_id") in closed_ids or row.get("closed_at") is not None


def ticket_columns(*, service: bool) -> dict[str, str]:
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


def sla_deadlines(connection_id: int, rows: list[dict]) -> None:
    # ConnectWise has no due-date field: the current stage's deadline is stated in slaStatus
    # ("Respond by Mon 07/04 1:00 PM UTC-04"); the other stages' deadlines are unknown (None).
    for row in rows:
        row.update(deadline_columns(row.get("sla_status"), row.get("psa_updated_at")))
