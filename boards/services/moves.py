"""Moving a card: to another column (a status/stage change through the write-back outbox)
and/or to another rank (local only)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import Http404

from boards.live import mirror_changed_on_commit
from boards.models import (
    AutoRank,
    Board,
    BoardColumn,
    Opportunity,
    Ticket,
)
from boards.ranking import card_rank_place
from boards.services import psa_writes
from boards.services.config import opportunity_column_model
from boards.services.status_rules import ticket_statuses


@dataclass
class MoveOutcome:
    ok: bool
    message: str = ""
    # Several statuses of the target column fit the card's PSA board: the user picks one.
    choices: list[dict] = field(default_factory=list)
    status_psa_id: int | None = None
    rank_key: str | None = None


def board_card_get(*, board: Board, psa_id: int) -> Ticket | Opportunity:
    """A card of the board's connection and kind, or 404 (another tenant's card included)."""
    if board.is_opportunity:
        card = Opportunity.objects.filter(connection_id=board.connection_id, psa_id=psa_id).first()
    else:
        card = Ticket.objects.filter(
            connection_id=board.connection_id, psa_id=psa_id, kind=board.kind
        ).first()
    if card is None:
        raise Http404("No such card")
    return card


def board_column_get(*, board: Board, column_id: int) -> BoardColumn:
    column = board.columns.filter(pk=column_id).first()
    if column is None:
        raise Http404("No such column")
    return column


def column_statuses_for_card(*, board: Board, column: BoardColumn, card) -> list[dict]:
    """The statuses (or stages) of `column` the card may take, as [{id, name}].

    Only the column's statuses the PSA lets this ticket take are candidates (ConnectWise: those
    of the ticket's own service board; the provider's board rule says).
    """
    ids = [int(i) for i in column.psa_ids]
    if not board.is_opportunity:
        rows = ticket_statuses(connection_id=board.connection_id, ticket=card).filter(psa_id__in=ids)
    else:
        rows = opportunity_column_model(board.column_source).objects.filter(
            connection_id=board.connection_id, psa_id__in=ids, inactive=False
        )
    return [{"id": r.psa_id, "name": r.name} for r in rows]


def card_move(
    *,
    board: Board,
    user,
    psa_id: int,
    column_id: int | None = None,
    above_psa_id: int | None = None,
    below_psa_id: int | None = None,
    status_psa_id: int | None = None,
) -> MoveOutcome:
    """Apply a drop: change the status when the column changed, then place the card's rank."""
    card = board_card_get(board=board, psa_id=psa_id)
    outcome = MoveOutcome(ok=True)
    if column_id is not None:
        column = board_column_get(board=board, column_id=column_id)
        if getattr(card, board.column_field) not in [int(i) for i in column.psa_ids]:
            outcome = _change_column(
                board=board, user=user, card=card, column=column, status_psa_id=status_psa_id
            )
            if not outcome.ok:
                return outcome
    if board.auto_rank == AutoRank.MANUAL and (above_psa_id is not None or below_psa_id is not None):
        outcome.rank_key = card_rank_place(
            connection_id=board.connection_id,
            kind=board.rank_kind,
            psa_id=psa_id,
            above_psa_id=above_psa_id,
            below_psa_id=below_psa_id,
        )
    mirror_changed_on_commit(connection_id=board.connection_id)
    return outcome


def card_send_to(*, board: Board, user, psa_id: int, where: str, column_cards: list[int]) -> MoveOutcome:
    """'Send to top' / 'send to bottom' of the card's column (`column_cards` in board order)."""
    others = [p for p in column_cards if p != psa_id]
    if not others:
        return MoveOutcome(ok=True)
    if where == "top":
        return card_move(board=board, user=user, psa_id=psa_id, below_psa_id=others[0])
    return card_move(board=board, user=user, psa_id=psa_id, above_psa_id=others[-1])


def _change_column(
    *, board: Board, user, card, column: BoardColumn, status_psa_id: int | None
) -> MoveOutcome:
    candidates = column_statuses_for_card(board=board, column=column, card=card)
    if not candidates:
        where = f"board “{card.board_name}”" if not board.is_opportunity else "this connection"
        return MoveOutcome(ok=False, message=f"No status of column “{column.name}” exists on {where}.")
    if status_psa_id is None:
        if len(candidates) > 1:
            return MoveOutcome(
                ok=False, message=f"Choose the status for “{column.name}”.", choices=candidates
            )
        status_psa_id = candidates[0]["id"]
    elif status_psa_id not in {c["id"] for c in candidates}:
        return MoveOutcome(
            ok=False, message="That status is not available for this card.", choices=candidates
        )
    _write_column_value(board=board, user=user, card=card, value=status_psa_id)
    return MoveOutcome(ok=True, status_psa_id=status_psa_id)


def _write_column_value(*, board: Board, user, card, value: int) -> None:
    if not board.is_opportunity:
        psa_writes.ticket_change_status(ticket=card, status_psa_id=value, user=user)
    elif board.column_source == Board.ColumnSource.STAGE:
        psa_writes.opportunity_change_stage(opportunity=card, stage_psa_id=value, user=user)
    else:
        psa_writes.opportunity_change_status(opportunity=card, status_psa_id=value, user=user)
