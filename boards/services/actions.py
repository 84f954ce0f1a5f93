"""Card actions: notes, time entries, resources, priority, close — all through the outbox."""

from __future__ import annotations

from datetime import datetime

from boards.live import mirror_changed_on_commit
from boards.models import (
    Board,
    Member,
    Opportunity,
    OpportunityNote,
    OpportunityStatus,
    Priority,
    ServiceNote,
    Ticket,
)
from boards.services import psa_writes
from boards.services.moves import board_card_get
from boards.services.psa_member import NoLinkedMember, user_member_require
from boards.services.status_rules import ticket_statuses


class CardActionError(ValueError):
    """The action cannot apply to this card (shown to the user as is)."""


def _bump(board: Board) -> None:
    mirror_changed_on_commit(connection_id=board.connection_id)


def _ticket(board: Board, psa_id: int) -> Ticket:
    card = board_card_get(board=board, psa_id=psa_id)
    if not isinstance(card, Ticket):
        raise CardActionError("This action applies to tickets only.")
    return card


def card_notes(*, connection_id: int, card: Ticket | Opportunity, limit: int = 50) -> list:
    """The card's notes (a card of a board of the connection, from `board_card_get`), newest first."""
    if isinstance(card, Ticket):
        notes = ServiceNote.objects.filter(connection_id=connection_id, ticket_psa_id=card.psa_id)
    else:
        notes = OpportunityNote.objects.filter(connection_id=connection_id, opportunity_psa_id=card.psa_id)
    return list(notes.order_by("-date_created", "-psa_id")[:limit])


def _without_nul(text: str | None) -> str:
    # PostgreSQL (text and jsonb) refuses NUL; a pasted control character must not become a 500.
    return (text or "").replace("\x00", "")


def card_note_add(*, board: Board, psa_id: int, text: str, internal: bool = False, user=None):
    text = _without_nul(text).strip()
    if not text:
        raise CardActionError("A note needs some text.")
    ticket = _ticket(board, psa_id)
    author = _linked_member(board, user)
    result = psa_writes.ticket_note_add(
        ticket=ticket, text=text, internal=internal, member_psa_id=author.psa_id, user=user
    )
    _bump(board)
    return result


def _linked_member(board: Board, user) -> Member:
    """The member the user works as: work is recorded as them or not at all."""
    try:
        return user_member_require(user=user, connection_id=board.connection_id)
    except NoLinkedMember as exc:
        raise CardActionError(str(exc)) from None


def member_get(*, board: Board, member_psa_id: int) -> Member:
    member = Member.objects.filter(connection_id=board.connection_id, psa_id=member_psa_id).first()
    if member is None:
        raise CardActionError("Unknown member.")
    return member


def card_time_add(
    *,
    board: Board,
    psa_id: int,
    member_psa_id: int | None,
    time_start: datetime,
    time_end: datetime,
    notes: str = "",
    status_psa_id: int | None = None,
    user=None,
):
    """Log time as `member_psa_id`, or as the user's own member when None (the usual case)."""
    if time_end <= time_start:
        raise CardActionError("The end must come after the start.")
    ticket = _ticket(board, psa_id)
    me = _linked_member(board, user)
    if member_psa_id and member_psa_id != me.psa_id:
        member_get(board=board, member_psa_id=member_psa_id)
    member_psa_id = member_psa_id or me.psa_id
    if status_psa_id is not None:
        _status_on_ticket_board(board, ticket, status_psa_id)
    result = psa_writes.time_entry_create(
        ticket=ticket,
        member_psa_id=member_psa_id,
        time_start=time_start,
        time_end=time_end,
        notes=_without_nul(notes),
        status_psa_id=status_psa_id,
        user=user,
    )
    _bump(board)
    return result


def card_resource_change(*, board: Board, psa_id: int, member_psa_id: int, add: bool, user=None):
    ticket = _ticket(board, psa_id)
    member_get(board=board, member_psa_id=member_psa_id)
    if add:
        result = psa_writes.ticket_add_resource(ticket=ticket, member_psa_id=member_psa_id, user=user)
    else:
        result = psa_writes.ticket_remove_resource(ticket=ticket, member_psa_id=member_psa_id, user=user)
    _bump(board)
    return result


def card_priority_change(*, board: Board, psa_id: int, priority_psa_id: int, user=None):
    ticket = _ticket(board, psa_id)
    if not Priority.objects.filter(connection_id=board.connection_id, psa_id=priority_psa_id).exists():
        raise CardActionError("Unknown priority.")
    result = psa_writes.ticket_change_priority(ticket=ticket, priority_psa_id=priority_psa_id, user=user)
    _bump(board)
    return result


def closing_statuses(*, board: Board, card: Ticket | Opportunity) -> list[dict]:
    """Statuses that close this card: the closed statuses the ticket may take."""
    if isinstance(card, Ticket):
        rows = (
            ticket_statuses(connection_id=board.connection_id, ticket=card)
            .filter(closed_status=True)
            .order_by("sort_order", "name")
        )
    else:
        rows = OpportunityStatus.objects.filter(
            connection_id=board.connection_id, closed_flag=True, inactive=False
        )
    return [{"id": r.psa_id, "name": r.name} for r in rows]


def card_close(*, board: Board, psa_id: int, status_psa_id: int | None = None, user=None):
    """Close with the given closed status, or the first closed status of the card's board."""
    card = board_card_get(board=board, psa_id=psa_id)
    choices = closing_statuses(board=board, card=card)
    if not choices:
        raise CardActionError("No closed status exists for this card's board.")
    if status_psa_id is None:
        status_psa_id = choices[0]["id"]
    elif status_psa_id not in {c["id"] for c in choices}:
        raise CardActionError("That status does not close this card.")
    if isinstance(card, Ticket):
        result = psa_writes.ticket_change_status(ticket=card, status_psa_id=status_psa_id, user=user)
    else:
        result = psa_writes.opportunity_change_status(
            opportunity=card, status_psa_id=status_psa_id, user=user
        )
    _bump(board)
    return result


def _status_on_ticket_board(board: Board, ticket: Ticket, status_psa_id: int) -> None:
    if (
        not ticket_statuses(connection_id=board.connection_id, ticket=ticket)
        .filter(psa_id=status_psa_id)
        .exists()
    ):
        raise CardActionError("That status does not exist on the ticket's board.")
