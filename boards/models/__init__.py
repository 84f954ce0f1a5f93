"""Boards app models: the provider-neutral PSA mirror (plus boards and ranks, added later)."""

from boards.models.mirror_people import Company, Member, Project, Territory
from boards.models.mirror_reference import (
    SLA,
    BoardStatus,
    Calendar,
    CompanyStatus,
    Holiday,
    Location,
    OpportunityStage,
    OpportunityStatus,
    OpportunityType,
    Priority,
    ProjectStatus,
    ScheduleStatus,
    ScheduleType,
    ServiceBoard,
    SLAPriority,
    Team,
    TicketItem,
    TicketSubtype,
    TicketType,
)
from boards.models.mirror_work import (
    Opportunity,
    OpportunityNote,
    ServiceNote,
    Ticket,
    TicketAssignment,
    TimeEntry,
)

MIRROR_MODELS = [
    Ticket,
    Opportunity,
    TicketAssignment,
    TimeEntry,
    ServiceNote,
    OpportunityNote,
    Member,
    Company,
    Project,
    Territory,
    ServiceBoard,
    BoardStatus,
    Team,
    TicketType,
    TicketSubtype,
    TicketItem,
    Priority,
    CompanyStatus,
    Location,
    OpportunityStatus,
    OpportunityType,
    OpportunityStage,
    ProjectStatus,
    SLA,
    SLAPriority,
    Calendar,
    Holiday,
    ScheduleStatus,
    ScheduleType,
]

__all__ = [m.__name__ for m in MIRROR_MODELS] + ["MIRROR_MODELS"]

from boards.models.board import AutoRank, Board, BoardColumn, Indicator, Membership, RecordKind  # noqa: E402
from boards.models.ranking import CardRank  # noqa: E402

__all__ += ["AutoRank", "Board", "BoardColumn", "Indicator", "Membership", "RecordKind", "CardRank"]

from boards.models.filters import SavedFilters  # noqa: E402

__all__ += ["SavedFilters"]
