"""The boards' door to the write-back outbox (sync/writeback.py).

Each call changes the mirror and queues the PSA update in one transaction; the PSA push runs
after commit, and a rejection comes back asynchronously on the card's `writeback_error`.
Imported at call time so the boards app loads even where the write-back module is absent.
"""

from __future__ import annotations

from importlib import import_module


def _writeback():
    return import_module("sync.writeback")


def ticket_change_status(*, ticket, status_psa_id: int, user=None):
    return _writeback().ticket_change_status(ticket=ticket, status_psa_id=status_psa_id, user=user)


def ticket_change_priority(*, ticket, priority_psa_id: int, user=None):
    return _writeback().ticket_change_priority(ticket=ticket, priority_psa_id=priority_psa_id, user=user)


def ticket_add_resource(*, ticket, member_psa_id: int, user=None):
    return _writeback().ticket_add_resource(ticket=ticket, member_psa_id=member_psa_id, user=user)


def ticket_remove_resource(*, ticket, member_psa_id: int, user=None):
    return _writeback().ticket_remove_resource(ticket=ticket, member_psa_id=member_psa_id, user=user)


def opportunity_change_stage(*, opportunity, stage_psa_id: int, user=None):
    return _writeback().opportunity_change_stage(
        opportunity=opportunity, stage_psa_id=stage_psa_id, user=user
    )


def opportunity_change_status(*, opportunity, status_psa_id: int, user=None):
    return _writeback().opportunity_change_status(
        opportunity=opportunity, status_psa_id=status_psa_id, user=user
    )


def time_entry_create(
    *,
    ticket,
    member_psa_id: int,
    time_start,
    time_end,
    notes: str = "",
    status_psa_id: int | None = None,
    user=None,
):
    return _writeback().time_entry_create(
        ticket=ticket,
        member_psa_id=member_psa_id,
        time_start=time_start,
        time_end=time_end,
        notes=notes,
        status_psa_id=status_psa_id,
        user=user,
    )


def ticket_note_add(
    *, ticket, text: str, internal: bool = False, member_psa_id: int | None = None, user=None
):
    return _writeback().ticket_note_add(
        ticket=ticket, text=text, internal=internal, member_psa_id=member_psa_id, user=user
    )
