"""The ConnectWise entity catalog: what the mirror fetches, from where, in which scope.

Each entry names a real path (endpoints.tsv) and the ConnectWise model it returns
(models.tsv), whether it can be filtered on `lastUpdated`, the parent collection for nested
paths (`{parentId}`) and the scope conditions. Which fields are requested and how they land in
the mirror lives in sync/mapping/ (one place); tests check both against the reference files.

Scope decisions (the reference: "only what boards need"):
- quotes, contacts, configurations, ... are never fetched;
- tickets: open ones plus those closed within the connection's retention
  (`closedFlag = False or closedDate > [now - retention]`);
- ticket assignments: schedule entries of type "S" (objectId = ticket id) not done yet;
- time entries: started within settings.SYNC_TIME_ENTRY_DAYS (older ones never show on a card).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from psa.connectwise.conditions import all_of, any_of, cond


@dataclass(frozen=True)
class ScopeContext:
    now: datetime
    closed_ticket_retention_days: int
    time_entry_days: int


@dataclass(frozen=True)
class Entity:
    name: str
    path: str  # relative to the API base; "{parentId}" for nested collections
    model: str  # the ConnectWise model (models.tsv) the path returns
    parent: str | None = None  # catalog entry whose ids fill {parentId}
    has_last_updated: bool = True
    scope: Callable[[ScopeContext], str | None] | None = None

    def path_for(self, parent_id: int | None = None) -> str:
        if self.parent is None:
            return self.path
        if parent_id is None:
            raise ValueError(f"{self.name} is nested under {self.parent}: a parent id is required")
        return self.path.replace("{parentId}", str(int(parent_id)))

    def conditions(self, context: ScopeContext) -> str | None:
        return self.scope(context) if self.scope else None


def open_or_recently_closed(context: ScopeContext) -> str:
    cutoff = context.now - timedelta(days=context.closed_ticket_retention_days)
    return any_of(cond("closedFlag", "=", False), cond("closedDate", ">", cutoff))


def open_ticket_assignments(context: ScopeContext) -> str:
    return all_of(cond("type/identifier", "=", "S"), cond("doneFlag", "=", False))


def recent_time_entries(context: ScopeContext) -> str:
    return cond("timeStart", ">", context.now - timedelta(days=context.time_entry_days))


_CATALOG = [
    # core
    Entity("members", "system/members", "Member"),
    Entity("territories", "system/locations", "Location"),
    Entity("companies", "company/companies", "Company"),
    Entity("projects", "project/projects", "Project"),
    Entity("opportunities", "sales/opportunities", "Opportunity"),
    Entity("service_tickets", "service/tickets", "Ticket", scope=open_or_recently_closed),
    Entity("project_tickets", "project/tickets", "ProjectTicket", scope=open_or_recently_closed),
    Entity("ticket_assignments", "schedule/entries", "ScheduleEntry", scope=open_ticket_assignments),
    # reference
    Entity("boards", "service/boards", "Board"),
    Entity("board_statuses", "service/boards/{parentId}/statuses", "BoardStatus", parent="boards"),
    Entity("board_teams", "service/boards/{parentId}/teams", "BoardTeam", parent="boards"),
    Entity("ticket_types", "service/boards/{parentId}/types", "BoardType", parent="boards"),
    Entity("ticket_subtypes", "service/boards/{parentId}/subtypes", "BoardSubType", parent="boards"),
    Entity("ticket_items", "service/boards/{parentId}/items", "BoardItem", parent="boards"),
    Entity("priorities", "service/priorities", "Priority"),
    Entity("company_statuses", "company/companies/statuses", "CompanyStatus"),
    Entity("service_locations", "service/locations", "ServiceLocation"),
    Entity("time_entries", "time/entries", "TimeEntry", scope=recent_time_entries),
    Entity("opportunity_statuses", "sales/opportunities/statuses", "OpportunityStatus"),
    Entity("opportunity_types", "sales/opportunities/types", "OpportunityType"),
    Entity("opportunity_stages", "sales/stages", "OpportunityStage"),
    Entity("project_statuses", "project/statuses", "ProjectStatus"),
    Entity("slas", "service/SLAs", "SLA"),
    Entity("sla_priorities", "service/SLAs/{parentId}/priorities", "SLAPriority", parent="slas"),
    Entity("calendars", "schedule/calendars", "Calendar"),
    Entity("holiday_lists", "schedule/holidayLists", "HolidayList"),  # parents only, not mirrored
    Entity("holidays", "schedule/holidayLists/{parentId}/holidays", "Holiday", parent="holiday_lists"),
    Entity("schedule_statuses", "schedule/statuses", "ScheduleStatus"),
    Entity("schedule_types", "schedule/types", "ScheduleType"),
    # notes (24 h, ConnectWise only): one request per mirrored parent
    Entity("service_notes", "service/tickets/{parentId}/notes", "ServiceNote", parent="service_tickets"),
    Entity(
        "project_ticket_notes", "project/tickets/{parentId}/notes", "ServiceNote", parent="project_tickets"
    ),
    Entity(
        "opportunity_notes", "sales/opportunities/{parentId}/notes", "OpportunityNote", parent="opportunities"
    ),
]

ENTITIES: dict[str, Entity] = {entity.name: entity for entity in _CATALOG}


def entity_get(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        raise ValueError(f"unknown entity {name!r}; choose from {', '.join(ENTITIES)}") from None
