"""Write-back services: a user's edit changes the mirror at once and is pushed to the PSA later.

Each service changes the mirror and writes an OutboxEntry in ONE database transaction and
returns the entry; after the commit a `realtime` task pushes it (sync/outbox.py). Records the
PSA has not created yet (resource assignments, time entries, notes) get a placeholder mirror
row with a negative psa_id (-entry id), replaced by the PSA's record after the push.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from boards.models import (
    BoardStatus,
    Member,
    Opportunity,
    OpportunityStage,
    OpportunityStatus,
    Priority,
    ServiceNote,
    Ticket,
    TicketAssignment,
    TimeEntry,
)
from sync.models import OutboxEntry
from sync.outbox import outbox_enqueue_on_commit

Action = OutboxEntry.Action
Kind = OutboxEntry.Kind


def _name_of(model: Any, *, connection_id: int, psa_id: int) -> str:
    return (
        model.objects.filter(connection_id=connection_id, psa_id=psa_id)
        .values_list("name", flat=True)
        .first()
        or ""
    )


def _member(*, connection_id: int, member_psa_id: int) -> Member | None:
    return Member.objects.filter(connection_id=connection_id, psa_id=member_psa_id).first()


def _record(
    *, connection_id: int, action: str, kind: str, psa_id: int, payload: dict, user: Any = None
) -> OutboxEntry:
    entry = OutboxEntry.objects.create(
        connection_id=connection_id,
        action=action,
        kind=kind,
        psa_id=psa_id,
        payload=payload,
        user=user if getattr(user, "is_authenticated", False) else None,
    )
    outbox_enqueue_on_commit(entry)
    return entry


def _ticket_payload(ticket: Ticket, **values: Any) -> dict:
    return {"ticket_kind": ticket.kind, **values}


def _locked(model: Any, instance: Any) -> Any:
    """Re-read the row under a lock so two edits of one card apply in order."""
    return model.objects.select_for_update().get(pk=instance.pk)


def _status_set(
    row: Ticket | Opportunity, status_model: Any, *, status_psa_id: int, closed_field: str
) -> None:
    """Move the mirror row to the status at once; `closed` follows the status's `closed_field`
    when the mirror knows that status (an unknown one leaves `closed` as it was)."""
    status = status_model.objects.filter(connection_id=row.connection_id, psa_id=status_psa_id).first()
    row.status_psa_id = status_psa_id
    row.status_name = status.name if status else ""
    if status is not None:
        row.closed = getattr(status, closed_field)
    row.status_changed_at = timezone.now()
    row.save(update_fields=["status_psa_id", "status_name", "closed", "status_changed_at"])


# --- tickets -----------------------------------------------------------------------------------


def ticket_change_status(*, ticket: Ticket, status_psa_id: int, user: Any = None) -> OutboxEntry:
    with transaction.atomic():
        ticket = _locked(Ticket, ticket)
        _status_set(ticket, BoardStatus, status_psa_id=status_psa_id, closed_field="closed_status")
        return _record(
            connection_id=ticket.connection_id,
            action=Action.TICKET_STATUS,
            kind=Kind.TICKET,
            psa_id=ticket.psa_id,
            payload=_ticket_payload(ticket, status_id=status_psa_id),
            user=user,
        )


def ticket_change_priority(*, ticket: Ticket, priority_psa_id: int, user: Any = None) -> OutboxEntry:
    with transaction.atomic():
        ticket = _locked(Ticket, ticket)
        ticket.priority_psa_id = priority_psa_id
        ticket.priority_name = _name_of(Priority, connection_id=ticket.connection_id, psa_id=priority_psa_id)
        ticket.save(update_fields=["priority_psa_id", "priority_name"])
        return _record(
            connection_id=ticket.connection_id,
            action=Action.TICKET_PRIORITY,
            kind=Kind.TICKET,
            psa_id=ticket.psa_id,
            payload=_ticket_payload(ticket, priority_id=priority_psa_id),
            user=user,
        )


def _set_resources(ticket: Ticket, identifiers: list[str]) -> None:
    ticket.resources = ", ".join(dict.fromkeys(i for i in identifiers if i))
    ticket.save(update_fields=["resources"])


def ticket_add_resource(*, ticket: Ticket, member_psa_id: int, user: Any = None) -> OutboxEntry:
    with transaction.atomic():
        ticket = _locked(Ticket, ticket)
        member = _member(connection_id=ticket.connection_id, member_psa_id=member_psa_id)
        identifier = member.identifier if member else ""
        entry = _record(
            connection_id=ticket.connection_id,
            action=Action.TICKET_ADD_RESOURCE,
            kind=Kind.TICKET,
            psa_id=ticket.psa_id,
            payload=_ticket_payload(ticket, member_id=member_psa_id, member_identifier=identifier),
            user=user,
        )
        TicketAssignment.objects.create(
            connection_id=ticket.connection_id,
            psa_id=entry.placeholder_psa_id,
            ticket_psa_id=ticket.psa_id,
            member_psa_id=member_psa_id,
            member_identifier=identifier,
            member_name=member.full_name if member else "",
        )
        _set_resources(ticket, [*ticket.resource_identifiers, identifier])
        return entry


def ticket_remove_resource(*, ticket: Ticket, member_psa_id: int, user: Any = None) -> OutboxEntry:
    with transaction.atomic():
        ticket = _locked(Ticket, ticket)
        assignments = TicketAssignment.objects.filter(
            connection_id=ticket.connection_id, ticket_psa_id=ticket.psa_id, member_psa_id=member_psa_id
        )
        known_ids = [a.psa_id for a in assignments if a.psa_id > 0]
        member = _member(connection_id=ticket.connection_id, member_psa_id=member_psa_id)
        identifier = member.identifier if member else ""
        assignments.delete()
        _set_resources(ticket, [i for i in ticket.resource_identifiers if i.lower() != identifier.lower()])
        return _record(
            connection_id=ticket.connection_id,
            action=Action.TICKET_REMOVE_RESOURCE,
            kind=Kind.TICKET,
            psa_id=ticket.psa_id,
            payload=_ticket_payload(ticket, member_id=member_psa_id, schedule_entry_ids=known_ids),
            user=user,
        )


def time_entry_create(
    *,
    ticket: Ticket,
    member_psa_id: int,
    time_start: datetime,
    time_end: datetime,
    notes: str = "",
    status_psa_id: int | None = None,
    user: Any = None,
) -> OutboxEntry:
    """Log time on the ticket; `status_psa_id` also moves the ticket (a second outbox entry)."""
    if time_end <= time_start:
        raise ValueError("time_end must be after time_start")
    with transaction.atomic():
        member = _member(connection_id=ticket.connection_id, member_psa_id=member_psa_id)
        entry = _record(
            connection_id=ticket.connection_id,
            action=Action.TIME_ENTRY_CREATE,
            kind=Kind.TICKET,
            psa_id=ticket.psa_id,
            payload=_ticket_payload(
                ticket,
                member_id=member_psa_id,
                notes=notes,
                time_start=_iso(time_start),
                time_end=_iso(time_end),
            ),
            user=user,
        )
        TimeEntry.objects.create(
            connection_id=ticket.connection_id,
            psa_id=entry.placeholder_psa_id,
            charge_to_psa_id=ticket.psa_id,
            charge_to_type=_charge_to_type(ticket),
            member_psa_id=member_psa_id,
            member_identifier=member.identifier if member else "",
            time_start=time_start,
            time_end=time_end,
            actual_hours=round((time_end - time_start).total_seconds() / 3600, 2),
            notes=notes,
        )
        if status_psa_id is not None:
            ticket_change_status(ticket=ticket, status_psa_id=status_psa_id, user=user)
        return entry


def ticket_note_add(
    *,
    ticket: Ticket,
    text: str,
    internal: bool = False,
    member_psa_id: int | None = None,
    user: Any = None,
) -> OutboxEntry:
    """Add a note by `member_psa_id` (the PSA member it is by; None: the API account's)."""
    text = (text or "").strip()
    if not text:
        raise ValueError("a note needs some text")
    with transaction.atomic():
        member = (
            _member(connection_id=ticket.connection_id, member_psa_id=member_psa_id)
            if member_psa_id is not None
            else None
        )
        entry = _record(
            connection_id=ticket.connection_id,
            action=Action.TICKET_NOTE_ADD,
            kind=Kind.TICKET,
            psa_id=ticket.psa_id,
            payload=_ticket_payload(ticket, text=text, internal=internal, member_id=member_psa_id),
            user=user,
        )
        ServiceNote.objects.create(
            member_identifier=member.identifier if member else "",
            connection_id=ticket.connection_id,
            psa_id=entry.placeholder_psa_id,
            ticket_psa_id=ticket.psa_id,
            text=text,
            internal=internal,
            internal_analysis=internal,
            detail_description=not internal,
            date_created=timezone.now(),
            created_by=getattr(user, "get_username", lambda: "")() if user is not None else "",
        )
        return entry


# --- opportunities ------------------------------------------------------------------------------


def opportunity_change_stage(*, opportunity: Opportunity, stage_psa_id: int, user: Any = None) -> OutboxEntry:
    with transaction.atomic():
        opportunity = _locked(Opportunity, opportunity)
        opportunity.stage_psa_id = stage_psa_id
        opportunity.stage_name = _name_of(
            OpportunityStage, connection_id=opportunity.connection_id, psa_id=stage_psa_id
        )
        opportunity.save(update_fields=["stage_psa_id", "stage_name"])
        return _record(
            connection_id=opportunity.connection_id,
            action=Action.OPPORTUNITY_STAGE,
            kind=Kind.OPPORTUNITY,
            psa_id=opportunity.psa_id,
            payload={"stage_id": stage_psa_id},
            user=user,
        )


def opportunity_change_status(
    *, opportunity: Opportunity, status_psa_id: int, user: Any = None
) -> OutboxEntry:
    with transaction.atomic():
        opportunity = _locked(Opportunity, opportunity)
        _status_set(opportunity, OpportunityStatus, status_psa_id=status_psa_id, closed_field="closed_flag")
        return _record(
            connection_id=opportunity.connection_id,
            action=Action.OPPORTUNITY_STATUS,
            kind=Kind.OPPORTUNITY,
            psa_id=opportunity.psa_id,
            payload={"status_id": status_psa_id},
            user=user,
        )


def _charge_to_type(ticket: Ticket) -> str:
    # Reference: models.tsv TimeEntry.chargeToType (ServiceTicket | ProjectTicket | ChargeCode | Activity)
    return "ProjectTicket" if ticket.kind == Ticket.Kind.PROJECT else "ServiceTicket"


def _iso(value: datetime) -> str:
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
