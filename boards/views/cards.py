"""The card dialog (htmx fragment) and its actions: notes, time, resources, priority, close."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from boards.models import Member, Priority, Ticket
from boards.services import actions
from boards.services.access import board_get_for_user
from boards.services.card_detail import card_notes_request, card_thread
from boards.services.cards import int_or_none
from boards.services.moves import board_card_get
from boards.services.psa_member import user_member_get
from boards.services.retry import card_write_retry
from boards.services.status_rules import ticket_statuses
from boards.services.write_state import card_failed_entry, outbox_kind


@login_required
def card_dialog(request: HttpRequest, board_id: int, psa_id: int) -> HttpResponse:
    board = board_get_for_user(user=request.user, board_id=board_id)
    return _render_dialog(request, board, psa_id, opening=True)


# The dialog asks for notes not mirrored yet every THREAD_POLL_MS, for up to THREAD_POLLS times.
THREAD_POLL_MS = 150
THREAD_POLLS = 200


@login_required
def card_thread_fragment(request: HttpRequest, board_id: int, psa_id: int) -> HttpResponse:
    """The dialog's description, notes and time entries (polled while the notes are on their way)."""
    board = board_get_for_user(user=request.user, board_id=board_id)
    card = board_card_get(board=board, psa_id=psa_id)
    polls = (int_or_none(request.GET.get("poll")) or 0) + 1
    context = _thread_context(board, card, polls=polls)
    context["me"] = user_member_get(user=request.user, connection_id=board.connection_id)
    return render(request, "boards/_card_thread.html", context)


def _thread_context(board, card, *, polls: int = 0) -> dict:
    thread = card_thread(connection_id=board.connection_id, card=card)
    return {
        "board": board,
        "card": card,
        "is_ticket": isinstance(card, Ticket),
        "thread": thread,
        "poll": polls if thread.fetching and polls < THREAD_POLLS else None,
        "poll_ms": THREAD_POLL_MS,
    }


def _render_dialog(
    request, board, psa_id: int, *, message: str = "", error: str = "", opening: bool = False
) -> HttpResponse:
    card = board_card_get(board=board, psa_id=psa_id)
    thread = _thread_context(board, card)  # board, card and is_ticket too
    if opening and thread["thread"].fetching:
        card_notes_request(connection_id=board.connection_id, card=card)
    members = Member.objects.filter(connection_id=board.connection_id, inactive=False)
    context = {
        **thread,
        "message": message,
        "error": error,
        "members": members,
        "me": user_member_get(user=request.user, connection_id=board.connection_id),
        "priorities": Priority.objects.filter(connection_id=board.connection_id),
        "columns": board.columns.all(),
        "closing": actions.closing_statuses(board=board, card=card),
        "failed": card_failed_entry(
            connection_id=board.connection_id,
            kind=outbox_kind(is_opportunity=board.is_opportunity),
            psa_id=card.psa_id,
        )
        if card.writeback_error
        else None,
        "statuses": ticket_statuses(connection_id=board.connection_id, ticket=card)
        if thread["is_ticket"]
        else [],
        "now": timezone.localtime().replace(second=0, microsecond=0),
    }
    return render(request, "boards/_card_dialog.html", context)


def _when(value: str | None) -> datetime | None:
    parsed = parse_datetime(value or "")
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


MAX_TIME_ENTRY_MINUTES = 24 * 60


def _do_time(board, psa_id, post, user) -> None:
    start = _when(post.get("start")) or timezone.now()
    minutes = int_or_none(post.get("minutes")) or 0
    if minutes <= 0:
        raise actions.CardActionError("Enter the minutes worked.")
    if minutes > MAX_TIME_ENTRY_MINUTES:
        raise actions.CardActionError("A time entry covers at most 24 hours.")
    try:
        end = start + timedelta(minutes=minutes)
    except OverflowError:
        raise actions.CardActionError("That start time is out of range.") from None
    actions.card_time_add(
        board=board,
        psa_id=psa_id,
        member_psa_id=int_or_none(post.get("member")),
        time_start=start,
        time_end=end,
        notes=post.get("notes", ""),
        status_psa_id=int_or_none(post.get("status")),
        user=user,
    )


def _do_note(board, psa_id, post, user) -> None:
    actions.card_note_add(
        board=board,
        psa_id=psa_id,
        text=post.get("text", ""),
        internal=bool(post.get("internal")),
        user=user,
    )


def _do_resource(board, psa_id, post, user) -> None:
    actions.card_resource_change(
        board=board,
        psa_id=psa_id,
        member_psa_id=int_or_none(post.get("member")) or 0,
        add=post.get("op") != "remove",
        user=user,
    )


def _do_priority(board, psa_id, post, user) -> None:
    actions.card_priority_change(
        board=board, psa_id=psa_id, priority_psa_id=int_or_none(post.get("priority")) or 0, user=user
    )


def _do_close(board, psa_id, post, user) -> None:
    actions.card_close(board=board, psa_id=psa_id, status_psa_id=int_or_none(post.get("status")), user=user)


def _do_retry(board, psa_id, post, user) -> None:
    card_write_retry(board=board, psa_id=psa_id, user=user)


# Each action: what it does with the POST, and what the dialog says once it is done.
ACTIONS: dict[str, tuple[Callable[..., None], str]] = {
    "note": (_do_note, "Note queued for the PSA."),
    "time": (_do_time, "Time entry queued for the PSA."),
    "resource": (_do_resource, "Resources updated."),
    "priority": (_do_priority, "Priority changed."),
    "close": (_do_close, "Card closed."),
    "retry": (_do_retry, "Sent to the PSA again."),
}


@login_required
@require_POST
def card_action(request: HttpRequest, board_id: int, psa_id: int, action: str) -> HttpResponse:
    board = board_get_for_user(user=request.user, board_id=board_id)
    if action not in ACTIONS:
        raise Http404("No such action")
    handler, done = ACTIONS[action]
    try:
        handler(board, psa_id, request.POST, request.user)
    except actions.CardActionError as exc:
        return _render_dialog(request, board, psa_id, error=str(exc))
    return _render_dialog(request, board, psa_id, message=done)
