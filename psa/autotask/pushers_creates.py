"""Ticket notes and time entries: records created in Autotask as the user's linked resource.

Autotask has no idempotency key (api.md §4): a create whose answer was lost (timeout, reset,
5xx after sending) may have landed. The client never repeats a POST by itself; the outbox
retries the entry (or the user's Retry queues the same change again as a new entry), so such a
push first looks for the record an earlier attempt may have made — a note by the same resource
on the same ticket with the same title and text, created since shortly before that attempt and
not claimed by another outbox entry; a time entry of the same resource on the same ticket or
task starting at the same instant — and stores that one instead of creating a second.

A note or time entry is work recorded as someone: with no linked resource it is refused before
anything is written (the boards refuse it already; this guards every other way in).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from psa.autotask.client import AutotaskClient
from psa.autotask.pushers_common import NOT_LINKED, is_project, linked_resource, reread
from psa.autotask.pushers_resources import default_role
from psa.autotask.query import cond, query_text, wire_value
from psa.errors import BadRequest
from psa.timestamps import parse_psa_time
from sync.models import OutboxEntry
from sync.outbox import outbox_apply_record

Action = OutboxEntry.Action

# Reference: api.md §5 — TicketNotes/TaskNotes `publish` picklist: 1 "All Autotask Users";
# 2 "Internal Only" (the sandbox calls it "Internal Project Team"). Boards read 1 as public.
PUBLISH_ALL_USERS = 1
PUBLISH_INTERNAL = 2
NOTE_TYPE_WORKFLOW_RULE = 13  # never ours to write (api.md §5)
TITLE_LENGTH = 250  # entities.tsv TicketNotes.title len=250
# How long before the edit a note found on a retry may have been created (clock skew between
# us and Autotask); a note older than that cannot be the one this entry sent.
LOOKBACK = timedelta(minutes=15)
RETRY_LOOKBACK = timedelta(days=1)  # a refused create retried by the user within a day


# --- notes ----------------------------------------------------------------------------------------


def note_title(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "Note")
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1] + "…"


def note_type(client: AutotaskClient, entity: str) -> int:
    """The note type Autotask offers by default (an active value, never the workflow-rule one)."""
    # Reference: api.md §5 GET {Entity}/entityInformation/fields — noteType picklistValues
    field = client.entity_field(entity, "noteType") or {}
    values = [
        v
        for v in field.get("picklistValues") or []
        if v.get("isActive", True) and int(v["value"]) != NOTE_TYPE_WORKFLOW_RULE
    ]
    if not values:
        raise BadRequest(f"Autotask offers no active note type for {entity}")
    chosen = next((v for v in values if v.get("isDefaultValue")), values[0])
    return int(chosen["value"])


def push_note(client: AutotaskClient, entry: OutboxEntry) -> None:
    p = entry.payload
    if p.get("member_id") is None:
        raise BadRequest(NOT_LINKED)
    author = int(p["member_id"])
    project = is_project(entry)
    parent_id = int(entry.psa_id)
    # Reference: api.md §4 POST Tickets/{parentId}/Notes, POST Tasks/{parentId}/Notes
    entity, parent, parent_field = (
        ("TaskNotes", "Tasks", "taskID") if project else ("TicketNotes", "Tickets", "ticketID")
    )
    text = p["text"]
    title = note_title(text)
    since = _landed_since(entry)
    record = _find_note(client, entry, since, entity, parent_field, author, title, text) if since else None
    if record is None:
        body = {
            parent_field: parent_id,
            "title": title,
            "description": text,
            "noteType": note_type(client, entity),
            "publish": PUBLISH_INTERNAL if p.get("internal") else PUBLISH_ALL_USERS,
        }
        note_id = client.create(f"{parent}/{parent_id}/Notes", body, impersonate=author)
        record = reread(client, entity, note_id)
    outbox_apply_record(entry, "task_notes" if project else "ticket_notes", record)


def _landed_since(entry: OutboxEntry) -> datetime | None:
    """Since when an earlier push of this change may have created the record (None: none can
    have): this entry's own earlier attempt, or a refused entry of the same card whose create
    may have landed before it failed (the user's Retry sends the change again as a new entry)."""
    refused = (
        OutboxEntry.objects.filter(
            connection_id=entry.connection_id,
            action=entry.action,
            psa_id=entry.psa_id,
            state=OutboxEntry.State.FAILED,
            result_psa_id__isnull=True,
            created_at__gte=entry.created_at - RETRY_LOOKBACK,
        )
        .exclude(pk=entry.pk)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if refused is not None:
        return refused
    return entry.created_at if entry.attempts > 1 else None


def _find_note(
    client: AutotaskClient,
    entry: OutboxEntry,
    since: datetime,
    entity: str,
    parent_field: str,
    author: int,
    title: str,
    text: str,
) -> dict | None:
    # Reference: api.md §3 POST {TicketNotes|TaskNotes}/query — the text is compared here, not
    # in the filter (long descriptions are not a filter Autotask is known to match exactly).
    notes = client.list_all(
        entity,
        conditions=query_text(
            cond(parent_field, "eq", int(entry.psa_id)),
            cond("creatorResourceID", "eq", author),
            cond("createDateTime", "gte", since - LOOKBACK),
        ),
    )
    claimed = entry.results_of_siblings()
    for note in sorted(notes, key=lambda n: int(n["id"])):
        same = (note.get("description") or "").strip() == text.strip() and (note.get("title") or "") == title
        if same and int(note["id"]) not in claimed:
            return note
    return None


# --- time entries ---------------------------------------------------------------------------------


def _worked_by(entry: OutboxEntry) -> tuple[int, int]:
    """(the resource the time is for, the resource the entry is written as)."""
    resource = int(entry.payload["member_id"])
    if entry.user_id is None:
        return resource, resource  # made by the system for that resource
    acting = linked_resource(entry)
    if acting is None:
        raise BadRequest(NOT_LINKED)
    return resource, int(acting)


def push_time_entry(client: AutotaskClient, entry: OutboxEntry) -> None:
    p = entry.payload
    resource, acting = _worked_by(entry)
    start, end = _utc(p["time_start"]), _utc(p["time_end"])
    charge_field = "taskID" if is_project(entry) else "ticketID"
    charge_id = int(entry.psa_id)
    record = None
    if _landed_since(entry) is not None:
        # Reference: api.md §3 POST TimeEntries/query — same resource, ticket/task and start: ours.
        found = client.list_all(
            "TimeEntries",
            conditions=query_text(
                cond("resourceID", "eq", resource),
                cond(charge_field, "eq", charge_id),
                cond("startDateTime", "eq", start),
            ),
        )
        claimed = entry.results_of_siblings()
        record = next(
            (r for r in sorted(found, key=lambda r: int(r["id"])) if int(r["id"]) not in claimed), None
        )
    if record is None:
        # Reference: api.md §4 POST TimeEntries; entities.tsv TimeEntries (resourceID, roleID,
        # ticketID|taskID, dateWorked, startDateTime, endDateTime, hoursWorked, summaryNotes,
        # isNonBillable); api.md §8 — dates worked are midnight, no time-zone conversion.
        body = {
            "resourceID": resource,
            "roleID": default_role(client, resource),
            charge_field: charge_id,
            "dateWorked": wire_value(start.date()),
            "startDateTime": wire_value(start),
            "endDateTime": wire_value(end),
            "hoursWorked": round((end - start).total_seconds() / 3600, 2),
            "summaryNotes": p.get("notes") or "",
            "isNonBillable": not p.get("billable", True),
        }
        record = reread(client, "TimeEntries", client.create("TimeEntries", body, impersonate=acting))
    outbox_apply_record(entry, "time_entries", record)


def _utc(value: str) -> datetime:
    parsed = parse_psa_time(value)
    if parsed is None:
        raise BadRequest(f"unreadable time {value!r} in the time entry")
    return parsed.astimezone(UTC)
