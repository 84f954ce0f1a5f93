"""Which cards a board shows, in which column and order, with which indicators."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import urlencode

from django.db.models import Q
from django.utils import timezone

from boards.models import (
    AutoRank,
    Board,
    BoardColumn,
    BoardStatus,
    Indicator,
    Opportunity,
    OpportunityStatus,
    Priority,
    Ticket,
)
from boards.ranking import rank_keys, rank_sort_key
from boards.services.priority_colors import priority_colours
from boards.services.sla import SLA_FIELDS, SlaState, next_deadline, sla_state
from boards.services.write_state import card_write_states, outbox_kind

TICKET_FIELDS = [
    "psa_id",
    "kind",
    "summary",
    "board_psa_id",
    "board_name",
    "project_name",
    "status_psa_id",
    "status_name",
    "closed",
    "priority_psa_id",
    "priority_name",
    "company_psa_id",
    "company_name",
    "owner_identifier",
    "resources",
    "budget_hours",
    "actual_hours",
    "customer_updated",
    "date_entered",
    "status_changed_at",
    *SLA_FIELDS,
    "writeback_error",
]
OPPORTUNITY_FIELDS = [
    "psa_id",
    "name",
    "stage_psa_id",
    "stage_name",
    "status_psa_id",
    "status_name",
    "closed",
    "priority_name",
    "company_psa_id",
    "company_name",
    "sales_rep_identifier",
    "date_entered",
    "status_changed_at",
    "expected_close_date",
    "writeback_error",
]


@dataclass(frozen=True)
class UserFilters:
    """Per-user temporary filters (query string); they never change the board for others."""

    member: str = ""
    company: int | None = None
    priority: int | None = None
    text: str = ""

    @classmethod
    def from_query(cls, query) -> UserFilters:
        return cls(
            member=_query_text(query.get("member")),
            company=int_or_none(query.get("company")),
            priority=int_or_none(query.get("priority")),
            text=_query_text(query.get("q")),
        )

    @property
    def active(self) -> bool:
        return bool(self.member or self.company or self.priority or self.text)

    def as_query(self) -> str:
        """The query string of the filters set (what a saved choice is stored and restored as)."""
        pairs = {"member": self.member, "company": self.company, "priority": self.priority, "q": self.text}
        return urlencode({k: v for k, v in pairs.items() if v})


class Card(NamedTuple):
    """One card. A tuple of plain values on purpose: the garbage collector stops tracking
    such tuples, so a 1,000-card board does not feed full collections (p95 latency)."""

    psa_id: int
    summary: str
    company: str
    priority: str
    people: tuple[str, ...]
    column_psa_id: int | None
    status_name: str
    psa_board_name: str = ""
    customer_updated: bool = False
    writeback_error: str = ""
    indicators: tuple[tuple[str, str, str], ...] = ()  # (kind, text, css class)
    # Its edits on their way to the PSA (boards/services/write_state.py): "" or
    # pending | delayed | saved, and the seconds since the edit was made or saved.
    write_kind: str = ""
    write_age: int = 0
    priority_color: str = ""  # the PSA priority's colour (validated hex) for the card's stripe
    sla: str = ""  # the PSA's SLA state in words, for the card's accessible name (shown or not)


@dataclass
class Column:
    id: int
    name: str
    psa_ids: list[int]
    cards: list[Card] = field(default_factory=list)
    cards_html: str = ""  # filled by the view layer
    card_markup: list[str] = field(default_factory=list)  # each card's markup, in order (view layer)
    wip_limit: int | None = None
    closes: bool = False  # every status of the column closes a card: a drop there asks first

    @property
    def over_limit(self) -> bool:
        return self.wip_limit is not None and len(self.cards) > self.wip_limit


def _query_text(value) -> str:
    # PostgreSQL text cannot hold NUL: a stray %00 in the URL must not become a 500.
    return (value or "").replace("\x00", "").strip()[:100]


def int_or_none(value) -> int | None:
    """An integer from a query or form value, or None for anything else."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def board_columns(board: Board) -> list[BoardColumn]:
    return list(board.columns.all())


def member_q(field_name: str, identifiers: list[str]) -> Q:
    """Cards with any of these identifiers in a comma-separated identifier list."""
    query = Q()
    for ident in identifiers:
        query |= Q(**{f"{field_name}__iregex": rf"(^|,)\s*{re.escape(ident)}\s*(,|$)"})
    return query


def _ticket_queryset(board: Board, status_ids: set[int], filters: UserFilters):
    qs = Ticket.objects.filter(
        connection_id=board.connection_id, kind=board.kind, status_psa_id__in=status_ids
    )
    if board.psa_board_ids:
        qs = qs.filter(board_psa_id__in=board.psa_board_ids)
    for field_name, values in (
        ("company_psa_id", board.company_ids),
        ("priority_psa_id", board.priority_ids),
        ("team_psa_id", board.team_ids),
        ("project_psa_id", board.project_ids),
    ):
        if values:
            qs = qs.filter(**{f"{field_name}__in": values})
    unassigned = Q(resources="")
    if board.member_identifiers:
        qs = qs.filter(
            member_q("resources", board.member_identifiers)
            | (unassigned if board.show_unassigned else Q(pk__in=[]))
        )
    elif not board.show_unassigned:
        qs = qs.exclude(unassigned)
    if filters.member:
        qs = qs.filter(member_q("resources", [filters.member]))
    if filters.priority:
        qs = qs.filter(priority_psa_id=filters.priority)
    return qs.values_list(*TICKET_FIELDS, named=True)


def _opportunity_queryset(board: Board, column_ids: set[int], filters: UserFilters):
    qs = Opportunity.objects.filter(
        connection_id=board.connection_id, **{f"{board.column_field}__in": column_ids}
    )
    if board.company_ids:
        qs = qs.filter(company_psa_id__in=board.company_ids)
    if board.member_identifiers:
        qs = qs.filter(sales_rep_identifier__in=board.member_identifiers)
    elif not board.show_unassigned:
        qs = qs.exclude(sales_rep_identifier="")
    if filters.member:
        qs = qs.filter(sales_rep_identifier__iexact=filters.member)
    return qs.values_list(*OPPORTUNITY_FIELDS, named=True)


def _apply_common_filters(qs, filters: UserFilters):
    if filters.company:
        qs = qs.filter(company_psa_id=filters.company)
    if filters.text:
        text_q = Q(company_name__icontains=filters.text)
        text_q |= (
            Q(name__icontains=filters.text) if qs.model is Opportunity else Q(summary__icontains=filters.text)
        )
        if filters.text.isdigit():
            text_q |= Q(psa_id=int(filters.text))
        ticket_id = _hash_id(filters.text)
        qs = qs.filter(Q(psa_id=ticket_id) if ticket_id is not None else text_q)
    return qs


def _hash_id(text: str) -> int | None:
    """The id in "#10011" (exactly that record), or None for any other text."""
    digits = text[1:].strip() if text.startswith("#") else ""
    return int(digits) if digits.isdigit() and len(digits) < 19 else None


def board_card_rows(*, board: Board, columns: list[BoardColumn], filters: UserFilters) -> list[tuple]:
    ids = {int(i) for col in columns for i in col.psa_ids}
    if not ids:
        return []
    if board.is_opportunity:
        qs = _opportunity_queryset(board, ids, filters)
    else:
        qs = _ticket_queryset(board, ids, filters)
    return list(_apply_common_filters(qs, filters))


def board_layout(
    *, board: Board, filters: UserFilters | None = None, now: datetime | None = None
) -> list[Column]:
    """The board's columns, each with its cards in rank (or automatic) order."""
    filters = filters or UserFilters()
    now = now or timezone.now()
    columns = board_columns(board)
    rows = board_card_rows(board=board, columns=columns, filters=filters)
    rows = _ordered(board, rows)
    by_psa_id: dict[int, Column] = {}
    layout = []
    closing = closing_status_ids(board, {int(i) for col in columns for i in col.psa_ids})
    for col in columns:
        column = Column(
            id=col.id, name=col.name, psa_ids=[int(i) for i in col.psa_ids], wip_limit=col.wip_limit
        )
        column.closes = bool(column.psa_ids) and all(i in closing for i in column.psa_ids)
        layout.append(column)
        for psa_id in column.psa_ids:
            by_psa_id.setdefault(psa_id, column)  # a status mapped twice shows in its first column
    column_field = board.column_field
    indicators = set(board.indicators or [])
    colours = {} if board.is_opportunity else priority_colours(connection_id=board.connection_id)
    writes = card_write_states(
        connection_id=board.connection_id,
        kind=outbox_kind(is_opportunity=board.is_opportunity),
        now=now,
    )
    for row in rows:
        value = getattr(row, column_field)
        column = by_psa_id.get(value)
        if column is not None:
            card = _card(board, row, value, indicators, now, colours)
            write = writes.get(row.psa_id)
            if write is not None:
                card = card._replace(write_kind=write.kind, write_age=write.age_seconds)
            column.cards.append(card)
    return layout


def closing_status_ids(board: Board, psa_ids: set[int]) -> set[int]:
    """Which of these PSA statuses close a card of this board (none for a stage-laid board)."""
    if board.column_field != "status_psa_id" or not psa_ids:
        return set()
    if board.is_opportunity:
        rows = OpportunityStatus.objects.filter(connection_id=board.connection_id, closed_flag=True)
    else:
        rows = BoardStatus.objects.filter(connection_id=board.connection_id, closed_status=True)
    return set(rows.filter(psa_id__in=psa_ids).values_list("psa_id", flat=True))


_FAR = datetime.max.replace(tzinfo=UTC)


def _ordered(board: Board, rows: list[tuple]) -> list[tuple]:
    if board.auto_rank == AutoRank.PRIORITY_AGE:
        order = dict(
            Priority.objects.filter(connection_id=board.connection_id).values_list("psa_id", "sort_order")
        )

        def by_priority(r):
            rank = order.get(getattr(r, "priority_psa_id", None))
            return (rank is None, rank or 0, r.date_entered or _FAR, r.psa_id)

        return sorted(rows, key=by_priority)
    if board.auto_rank == AutoRank.AGE:
        return sorted(rows, key=lambda r: (r.date_entered or _FAR, r.psa_id))
    if board.auto_rank == AutoRank.SLA:
        return sorted(rows, key=lambda r: ((next_deadline(r) or ("", _FAR))[1], r.psa_id))
    keys = rank_keys(
        connection_id=board.connection_id, kind=board.rank_kind, psa_ids=[r.psa_id for r in rows]
    )
    sort_key = rank_sort_key(keys)
    return sorted(rows, key=lambda r: sort_key(r.psa_id))


def _card(
    board: Board, row, column_psa_id: int, indicators: set[str], now: datetime, colours: dict[int, str]
) -> Card:
    sla = sla_state(row, now, humanize_duration)  # one reading for the indicator and the card's name
    shown = card_indicators(row, indicators, now, sla=sla)
    if board.is_opportunity:
        return Card(
            psa_id=row.psa_id,
            summary=row.name,
            company=row.company_name,
            priority=row.priority_name,
            people=(row.sales_rep_identifier,) if row.sales_rep_identifier else (),
            column_psa_id=column_psa_id,
            status_name=row.stage_name if board.column_source == "stage" else row.status_name,
            writeback_error=row.writeback_error,
            indicators=shown,
        )
    return Card(
        psa_id=row.psa_id,
        summary=row.summary,
        company=row.company_name,
        priority=row.priority_name,
        people=_ticket_people(row),
        column_psa_id=column_psa_id,
        status_name=row.status_name,
        psa_board_name=row.board_name or row.project_name,  # an Autotask task has a project, no queue
        priority_color=colours.get(row.priority_psa_id, ""),
        sla=_sla_words(sla),
        customer_updated=row.customer_updated and Indicator.CUSTOMER_UPDATED in indicators,
        writeback_error=row.writeback_error,
        indicators=shown,
    )


def _sla_words(state: SlaState | None) -> str:
    if state is None:
        return ""
    # "Respond in 3h" → "SLA Respond in 3h"; "SLA paused: waiting" and "Out of SLA" say it already.
    words = state.label if "SLA" in state.label else f"SLA {state.label}"
    return f"{words}, due soon" if state.tone == "warn" else words


def _ticket_people(row) -> tuple[str, ...]:
    """The ticket's resources, or its owner when nobody is assigned."""
    resources = tuple(r.strip() for r in row.resources.split(",") if r.strip())
    if resources:
        return resources
    return (f"owner {row.owner_identifier}",) if row.owner_identifier else ()


def card_indicators(
    row, indicators: set[str], now: datetime, *, sla: SlaState | None
) -> tuple[tuple[str, str, str], ...]:
    """The chosen indicators for a card row (ticket or opportunity; missing fields are skipped);
    `sla` is the row's `sla_state`."""
    if not indicators:
        return ()
    value = row._asdict().get
    shown = []
    if Indicator.AGE in indicators and value("date_entered"):
        shown.append(("age", f"Age {humanize_duration((now - value('date_entered')).total_seconds())}", ""))
    if Indicator.TIME_IN_STATUS in indicators and value("status_changed_at"):
        seconds = (now - value("status_changed_at")).total_seconds()
        shown.append(("time_in_status", f"In status {humanize_duration(seconds)}", ""))
    if Indicator.SLA in indicators and sla is not None:
        shown.append(("sla", sla.label, sla.tone))
    if Indicator.HOURS in indicators and (value("budget_hours") or value("actual_hours")):
        actual, budget = value("actual_hours") or 0.0, value("budget_hours")
        over = "bad" if budget and actual > budget else ""
        shown.append(("hours", f"{actual:g} / {budget:g} h" if budget else f"{actual:g} h", over))
    return tuple(shown)


def humanize_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds >= 86400:
        return f"{seconds // 86400}d"
    if seconds >= 3600:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"
