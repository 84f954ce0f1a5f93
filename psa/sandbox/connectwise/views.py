"""Read-only listings ConnectWise computes from other records instead of storing them.

A ticket's `allNotes` (GET service/tickets/{id}/allNotes and project/tickets/{id}/allNotes,
model ServiceTicketNote) is the ticket's discussion as the PSA screen shows it: its notes
(noteType "TicketNote") and the notes of the time entries charged to it (noteType
"TimeEntryNote", with timeStart/timeEnd and the flags the entry adds its note to), oldest first.
Integrations read it for one call per ticket instead of two (pyconnectwise, connectwise-rest,
ConnectWiseManageAPI all offer it). The answer is built per request from the stored notes and
time entries, so it is never stale; Api serves conditions, fields, orderBy and paging over it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from psa.sandbox.connectwise.entity import EntitySpec, whole_model
from psa.sandbox.connectwise.refs import RefBuilder
from psa.sandbox.connectwise.rules import NOTES
from psa.sandbox.connectwise.schema import spec_for
from psa.sandbox.connectwise.store import SandboxStore

ALL_NOTES = EntitySpec(
    "service/tickets/{parentId}/allNotes",
    "ServiceTicketNote",
    whole_model("ServiceTicketNote"),
    parent="service/tickets",
    parent_field="ticket/id",
)
TIME_ENTRIES = "time/entries"
_ALL_NOTES_PATH = re.compile(
    r"^(?P<entity>service/tickets|project/tickets)/(?P<id>\d+)/allNotes$", re.IGNORECASE
)
# time entry flag → the note flag it stands for in allNotes
_TIME_FLAGS = {
    "addToDetailDescriptionFlag": "detailDescriptionFlag",
    "addToInternalAnalysisFlag": "internalAnalysisFlag",
    "addToResolutionFlag": "resolutionFlag",
}


@dataclass(frozen=True)
class ViewMatch:
    spec: EntitySpec
    ticket_entity: str  # "service/tickets" or "project/tickets": where the ticket must exist
    ticket_id: int
    template: str  # for stats, e.g. "service/tickets/{parentId}/allNotes"


def match(api_path: str) -> ViewMatch | None:
    found = _ALL_NOTES_PATH.match(api_path.strip("/"))
    if found is None:
        return None
    entity = found.group("entity").lower()
    return ViewMatch(ALL_NOTES, entity, int(found.group("id")), f"{entity}/{{parentId}}/allNotes")


def served_endpoints() -> list[tuple[str, str]]:
    return [("GET", "/service/tickets/{parentId}/allNotes"), ("GET", "/project/tickets/{parentId}/allNotes")]


def all_notes(store: SandboxStore, refs: RefBuilder, entity: str, ticket: dict) -> list[dict]:
    """The ticket's notes and time entry notes as ServiceTicketNote records, oldest first."""
    ticket_ref = _ticket_ref(refs, entity, ticket)
    notes = [_from_note(note, ticket_ref) for note in store.iter_records(NOTES, parent_id=ticket["id"])]
    notes += [_from_time_entry(entry, ticket_ref) for entry in _time_entries_of(store, ticket["id"])]
    return sorted(notes, key=lambda note: (_written_at(note), note["id"]))


def _ticket_ref(refs: RefBuilder, entity: str, ticket: dict) -> dict:
    href = refs.href(spec_for(entity), ticket)
    return {"id": ticket["id"], "summary": ticket.get("summary"), "_info": {"ticket_href": href}}


def _from_note(note: dict, ticket_ref: dict) -> dict:
    record = {
        "id": note["id"],
        "noteType": "TicketNote",
        "ticket": ticket_ref,
        "text": note.get("text", ""),
        "isMarkdownFlag": False,
        "detailDescriptionFlag": bool(note.get("detailDescriptionFlag")),
        "internalAnalysisFlag": bool(note.get("internalAnalysisFlag")),
        "resolutionFlag": bool(note.get("resolutionFlag")),
        "bundledFlag": False,
        "mergedFlag": False,
        "issueFlag": bool(note.get("issueFlag")),
        "originalAuthor": _author(note),
        "createdByParentFlag": False,
        "member": note.get("member"),
        "contact": note.get("contact"),
        "_info": note["_info"],
    }
    return {k: v for k, v in record.items() if v is not None}


def _time_entries_of(store: SandboxStore, ticket_id: int) -> Iterator[dict]:
    for entry in store.iter_records(TIME_ENTRIES):
        if (
            entry.get("chargeToId") == ticket_id
            and entry.get("chargeToType") in ("ServiceTicket", "ProjectTicket")
            and (entry.get("notes") or "").strip()
        ):
            yield entry


def _from_time_entry(entry: dict, ticket_ref: dict) -> dict:
    record = {
        "id": entry["id"],
        "noteType": "TimeEntryNote",
        "ticket": ticket_ref,
        "text": entry["notes"],
        "isMarkdownFlag": False,
        **{note_flag: bool(entry.get(flag)) for flag, note_flag in _TIME_FLAGS.items()},
        "timeStart": entry.get("timeStart"),
        "timeEnd": entry.get("timeEnd"),
        "bundledFlag": False,
        "mergedFlag": False,
        "issueFlag": False,
        "originalAuthor": _author(entry),
        "createdByParentFlag": False,
        "member": entry.get("member"),
        "_info": entry["_info"],
    }
    return {k: v for k, v in record.items() if v is not None}


def _author(record: dict) -> str | None:
    for field in ("member", "contact"):
        name = (record.get(field) or {}).get("name")
        if name:
            return name
    return record.get("createdBy") or record.get("enteredBy")


def _written_at(note: dict) -> str:
    """When the note was written: a time entry's start, else the note's entry date."""
    return note.get("timeStart") or note["_info"].get("dateEntered") or note["_info"].get("lastUpdated", "")
