"""Read-only listings ConnectWise computes from other records instead of storing them.

A ticket's `allNotes` (GET service/tickets/{id}/allNotes and project/tickets/{id}/allNotes,
model ServiceTicketNote) is the ticket's discussion as the PSA screen shows it: its notes
(noteType "TicketNote") and the notes of the time entries charged to it (noteType
"TimeEntryNote", with timeStart/timeEnd and the flags the entry adds its note to), oldest first.
Integrations read it for one call per ticket instead of two (pyconnectwise, connectwise-rest,
ConnectWiseManageAPI all offer it). A ticket's `timeentries` and `scheduleentries` (with /count)
list references to the time entries charged to it and the schedule entries on it.

Each answer is built per request from the stored records, so it is never stale; Api serves
conditions, fields, orderBy and paging over it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
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
SCHEDULE = "schedule/entries"
# time entry flag → the note flag it stands for in allNotes
_TIME_FLAGS = {
    "addToDetailDescriptionFlag": "detailDescriptionFlag",
    "addToInternalAnalysisFlag": "internalAnalysisFlag",
    "addToResolutionFlag": "resolutionFlag",
}
Builder = Callable[[SandboxStore, RefBuilder, str, dict], list[dict]]


@dataclass(frozen=True)
class View:
    name: str  # the path segment after the ticket id, as ConnectWise spells it
    spec: EntitySpec  # the model of its records (conditions, fields and orderBy read it)
    build: Builder  # (store, refs, ticket entity, ticket) → records
    counted: bool  # endpoints.tsv has its /count


@dataclass(frozen=True)
class ViewMatch:
    view: View
    ticket_entity: str  # "service/tickets" or "project/tickets": where the ticket must exist
    ticket_id: int
    count: bool  # the /count of the listing
    template: str  # for stats, e.g. "service/tickets/{parentId}/allNotes"

    @property
    def spec(self) -> EntitySpec:
        return self.view.spec


def match(api_path: str) -> ViewMatch | None:
    found = _PATH.match(api_path.strip("/"))
    if found is None:
        return None
    view = VIEWS[found.group("view").lower()]
    count = found.group("count") is not None
    if count and not view.counted:
        return None
    entity = found.group("entity").lower()
    template = f"{entity}/{{parentId}}/{view.name}" + ("/count" if count else "")
    return ViewMatch(view, entity, int(found.group("id")), count, template)


def served_endpoints() -> list[tuple[str, str]]:
    pairs = []
    for view in VIEWS.values():
        for entity in ("service/tickets", "project/tickets"):
            pairs.append(("GET", f"/{entity}/{{parentId}}/{view.name}"))
            if view.counted:
                pairs.append(("GET", f"/{entity}/{{parentId}}/{view.name}/count"))
    return pairs


def all_notes(store: SandboxStore, refs: RefBuilder, entity: str, ticket: dict) -> list[dict]:
    """The ticket's notes and time entry notes as ServiceTicketNote records, oldest first."""
    ticket_ref = _ticket_ref(refs, entity, ticket)
    notes = [_from_note(note, ticket_ref) for note in store.iter_records(NOTES, parent_id=ticket["id"])]
    notes += [_from_time_entry(entry, ticket_ref) for entry in _time_entries_of(store, ticket["id"])]
    return sorted(notes, key=lambda note: (_written_at(note), note["id"]))


def time_entries(store: SandboxStore, refs: RefBuilder, entity: str, ticket: dict) -> list[dict]:
    """References (TimeEntryReference) to the time entries charged to the ticket."""
    spec = spec_for(TIME_ENTRIES)
    return [
        {"id": e["id"], "_info": {"timeEntry_href": refs.href(spec, e)}}
        for e in _time_entries_of(store, ticket["id"], with_notes_only=False)
    ]


def schedule_entries(store: SandboxStore, refs: RefBuilder, entity: str, ticket: dict) -> list[dict]:
    """References (ScheduleEntryReference) to the ticket's schedule entries (objectId = ticket)."""
    spec = spec_for(SCHEDULE)
    entries = (e for e in store.iter_records(SCHEDULE) if e.get("objectId") == ticket["id"])
    return [
        {
            k: v
            for k, v in {
                "id": e["id"],
                "description": e.get("name"),
                "_info": {"scheduleEntry_href": refs.href(spec, e)},
            }.items()
            if v is not None
        }
        for e in entries
    ]


VIEWS = {
    view.name.lower(): view
    for view in (
        View("allNotes", ALL_NOTES, all_notes, counted=False),
        View(
            "timeentries",
            EntitySpec("service/tickets/{parentId}/timeentries", "TimeEntryReference", ("id", "_info")),
            time_entries,
            counted=True,
        ),
        View(
            "scheduleentries",
            EntitySpec(
                "service/tickets/{parentId}/scheduleentries",
                "ScheduleEntryReference",
                ("id", "description", "_info"),
            ),
            schedule_entries,
            counted=True,
        ),
    )
}
_PATH = re.compile(
    rf"^(?P<entity>service/tickets|project/tickets)/(?P<id>\d+)/(?P<view>{'|'.join(VIEWS)})(?P<count>/count)?$",
    re.IGNORECASE,
)


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


def _time_entries_of(store: SandboxStore, ticket_id: int, *, with_notes_only: bool = True) -> Iterator[dict]:
    for entry in store.iter_records(TIME_ENTRIES):
        if entry.get("chargeToId") != ticket_id or entry.get("chargeToType") not in (
            "ServiceTicket",
            "ProjectTicket",
        ):
            continue
        if not with_notes_only or (entry.get("notes") or "").strip():
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
