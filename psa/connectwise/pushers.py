"""ConnectWise write-back: one pusher per outbox action (the neutral claim, order, retry,
sweeper and revert live in sync/outbox.py). A pusher sends the change with the client it is
given and stores the PSA's answer through `outbox_apply_record`."""

from __future__ import annotations

from collections.abc import Callable

from psa.connectwise.client import ConnectWiseClient, replace_ops
from psa.connectwise.conditions import all_of, cond
from psa.connectwise.webhook import record_version
from psa.errors import NotFound
from psa.timestamps import parse_psa_time
from sync.echo import echo_remember
from sync.models import OutboxEntry
from sync.outbox import outbox_apply_record

Action = OutboxEntry.Action


def _is_project(entry: OutboxEntry) -> bool:
    """The card is a project ticket (the write-back service records the ticket's kind)."""
    return entry.payload.get("ticket_kind") == "project"


def _ticket_path(entry: OutboxEntry) -> str:
    # Reference: endpoints.tsv PATCH /service/tickets/{id}, PATCH /project/tickets/{id}
    return f"{'project' if _is_project(entry) else 'service'}/tickets/{int(entry.psa_id)}"


def _ticket_entity(entry: OutboxEntry) -> str:
    return "project_tickets" if _is_project(entry) else "service_tickets"


def _patch_ticket(client: ConnectWiseClient, entry: OutboxEntry, changes: dict) -> None:
    # Reference: models.tsv Ticket.skipCallback — our own change is not announced back to us.
    record = client.patch(_ticket_path(entry), replace_ops({**changes, "skipCallback": True}))
    outbox_apply_record(entry, _ticket_entity(entry), record)
    _remember_echo(entry, record)


def _patch_opportunity(client: ConnectWiseClient, entry: OutboxEntry, changes: dict) -> None:
    # Reference: endpoints.tsv PATCH /sales/opportunities/{id}
    record = client.patch(f"sales/opportunities/{int(entry.psa_id)}", replace_ops(changes))
    outbox_apply_record(entry, "opportunities", record)
    _remember_echo(entry, record)


def _remember_echo(entry: OutboxEntry, record: dict) -> None:
    echo_remember(
        connection_id=entry.connection_id,
        kind=entry.kind,
        psa_id=entry.psa_id,
        version=record_version(record),
    )


def _assignment_conditions(entry: OutboxEntry) -> str:
    return all_of(
        cond("type/identifier", "=", "S"),
        cond("objectId", "=", int(entry.psa_id)),
        cond("member/id", "=", int(entry.payload["member_id"])),
        cond("doneFlag", "=", False),
    )


def _push_add_resource(client: ConnectWiseClient, entry: OutboxEntry) -> None:
    # Look first, every time: an earlier attempt may have landed, or the member was already on
    # the ticket (assigned in the PSA since the card was drawn); adding twice would double-book.
    # Reference: endpoints.tsv GET /schedule/entries, POST /schedule/entries
    # (ScheduleEntry: objectId, member, type)
    record = _find_or_post(
        client,
        "schedule/entries",
        _assignment_conditions(entry),
        {
            "objectId": int(entry.psa_id),
            "member": {"id": int(entry.payload["member_id"])},
            "type": {"identifier": "S"},
        },
    )
    outbox_apply_record(entry, "ticket_assignments", record)


def _push_remove_resource(client: ConnectWiseClient, entry: OutboxEntry) -> None:
    ids = [int(i) for i in entry.payload.get("schedule_entry_ids") or []]
    if not ids:  # the mirror never knew the entry's id (e.g. added moments ago): ask the PSA
        ids = [
            int(r["id"])
            for r in client.list_all("schedule/entries", conditions=_assignment_conditions(entry))
        ]
    for schedule_id in ids:
        try:
            # Reference: endpoints.tsv DELETE /schedule/entries/{id}
            client.delete(f"schedule/entries/{schedule_id}")
        except NotFound:
            pass  # already gone: the goal is reached


def _push_time_entry(client: ConnectWiseClient, entry: OutboxEntry) -> None:
    p = entry.payload
    # Reference: endpoints.tsv GET /time/entries — same ticket, member and start: ours (looked
    # for only on a retry: a first attempt cannot have landed yet).
    ours = (
        all_of(
            cond("chargeToId", "=", int(entry.psa_id)),
            cond("member/id", "=", int(p["member_id"])),
            cond("timeStart", "=", parse_psa_time(p["time_start"])),
        )
        if entry.attempts > 1
        else None
    )
    # Reference: endpoints.tsv POST /time/entries (TimeEntry: chargeToId, chargeToType, member, timeStart, ...)
    record = _find_or_post(
        client,
        "time/entries",
        ours,
        {
            "chargeToId": int(entry.psa_id),
            "chargeToType": "ProjectTicket" if _is_project(entry) else "ServiceTicket",
            "member": {"id": int(p["member_id"])},
            "timeStart": p["time_start"],
            "timeEnd": p["time_end"],
            "notes": p.get("notes") or "",
        },
    )
    outbox_apply_record(entry, "time_entries", record)


def _find_or_post(client: ConnectWiseClient, path: str, conditions: str | None, body: dict) -> dict:
    """The first record at `path` matching `conditions` (an earlier attempt that landed, so
    creating again would duplicate it), else the record POSTed with `body`; conditions None
    skips the look."""
    existing = client.list_all(path, conditions=conditions) if conditions is not None else []
    return existing[0] if existing else client.post(path, body)


def _push_note(client: ConnectWiseClient, entry: OutboxEntry) -> None:
    project = _is_project(entry)
    # Reference: endpoints.tsv POST/GET /service/tickets/{parentId}/notes, /project/tickets/{parentId}/notes
    path = f"{'project' if project else 'service'}/tickets/{int(entry.psa_id)}/notes"
    text = entry.payload["text"]
    record = _find_note(client, entry, path, text) if entry.attempts > 1 else None
    if record is None:
        record = client.post(path, _note_body(entry.payload))
    outbox_apply_record(
        entry,
        "project_ticket_notes" if project else "service_notes",
        record,
        parent_id=int(entry.psa_id),
    )


def _note_body(payload: dict) -> dict:
    internal = bool(payload.get("internal"))
    # Reference: models.tsv ServiceNote (text, detailDescriptionFlag, internalAnalysisFlag, member)
    body: dict = {
        "text": payload["text"],
        "detailDescriptionFlag": not internal,
        "internalAnalysisFlag": internal,
    }
    if payload.get("member_id") is not None:
        body["member"] = {"id": int(payload["member_id"])}  # the note's author, not the API account
    return body


def _find_note(client: ConnectWiseClient, entry: OutboxEntry, path: str, text: str) -> dict | None:
    """A note with our text that no other outbox entry created: an earlier attempt of ours."""
    claimed = entry.results_of_siblings()
    for note in client.list_all(path, forward_only=False):
        if (note.get("text") or "").strip() == text.strip() and note.get("id") not in claimed:
            return note
    return None


PUSHERS: dict[str, Callable[[ConnectWiseClient, OutboxEntry], None]] = {
    Action.TICKET_STATUS: lambda c, e: _patch_ticket(c, e, {"status/id": int(e.payload["status_id"])}),
    Action.TICKET_PRIORITY: lambda c, e: _patch_ticket(c, e, {"priority/id": int(e.payload["priority_id"])}),
    Action.TICKET_ADD_RESOURCE: _push_add_resource,
    Action.TICKET_REMOVE_RESOURCE: _push_remove_resource,
    Action.OPPORTUNITY_STAGE: lambda c, e: _patch_opportunity(c, e, {"stage/id": int(e.payload["stage_id"])}),
    Action.OPPORTUNITY_STATUS: lambda c, e: _patch_opportunity(
        c, e, {"status/id": int(e.payload["status_id"])}
    ),
    Action.TIME_ENTRY_CREATE: _push_time_entry,
    Action.TICKET_NOTE_ADD: _push_note,
}
