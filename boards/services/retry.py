"""Retry: re-queue the change the PSA rejected, exactly as it was made.

The rejected entry stays as it is (failed, with the PSA's message, for the record); the same
change goes through the write-back service again, so the mirror shows it at once and a new
outbox entry carries it to the PSA. The card's error is cleared: if the PSA refuses again, the
outbox puts the new message back.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_datetime

from boards.live import mirror_changed_on_commit
from boards.models import Board, Opportunity, Ticket
from boards.services import psa_writes
from boards.services.actions import CardActionError
from boards.services.moves import board_card_get
from boards.services.write_state import card_failed_entry, outbox_kind
from sync.models import OutboxEntry

Action = OutboxEntry.Action


def card_write_retry(*, board: Board, psa_id: int, user: Any = None) -> OutboxEntry:
    card = board_card_get(board=board, psa_id=psa_id)
    failed = card_failed_entry(
        connection_id=board.connection_id,
        kind=outbox_kind(is_opportunity=board.is_opportunity),
        psa_id=card.psa_id,
    )
    if not card.writeback_error or failed is None:
        raise CardActionError("There is nothing to retry: the card's last change was not refused.")
    with transaction.atomic():
        entry = _replay(card, failed, user)
        type(card).objects.filter(pk=card.pk).update(writeback_error="")
    mirror_changed_on_commit(connection_id=board.connection_id)
    return entry


def _replay(card: Ticket | Opportunity, failed: OutboxEntry, user: Any) -> OutboxEntry:
    p = failed.payload
    if isinstance(card, Opportunity):
        if failed.action == Action.OPPORTUNITY_STAGE:
            return psa_writes.opportunity_change_stage(
                opportunity=card, stage_psa_id=p["stage_id"], user=user
            )
        return psa_writes.opportunity_change_status(opportunity=card, status_psa_id=p["status_id"], user=user)
    if failed.action == Action.TICKET_STATUS:
        return psa_writes.ticket_change_status(ticket=card, status_psa_id=p["status_id"], user=user)
    if failed.action == Action.TICKET_PRIORITY:
        return psa_writes.ticket_change_priority(ticket=card, priority_psa_id=p["priority_id"], user=user)
    if failed.action == Action.TICKET_ADD_RESOURCE:
        return psa_writes.ticket_add_resource(ticket=card, member_psa_id=p["member_id"], user=user)
    if failed.action == Action.TICKET_REMOVE_RESOURCE:
        return psa_writes.ticket_remove_resource(ticket=card, member_psa_id=p["member_id"], user=user)
    if failed.action == Action.TICKET_NOTE_ADD:
        return psa_writes.ticket_note_add(
            ticket=card,
            text=p["text"],
            internal=bool(p.get("internal")),
            member_psa_id=p.get("member_id"),  # the same author as the refused note
            user=user,
        )
    if failed.action == Action.TIME_ENTRY_CREATE:
        return psa_writes.time_entry_create(
            ticket=card,
            member_psa_id=p["member_id"],
            time_start=parse_datetime(p["time_start"]),
            time_end=parse_datetime(p["time_end"]),
            notes=p.get("notes") or "",
            user=user,
        )
    raise CardActionError("This change cannot be retried from the board; make it again.")
