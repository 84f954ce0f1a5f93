"""ConnectWise behaviour the sandbox reproduces on every write (API, activity or test code).

- A ticket moved to a status with `closedStatus` gets closedFlag, closedDate and closedBy;
  moved back to an open status it is reopened. A board change without a valid status lands on
  the new board's default status, and loses the old board's team, type, subtype and item.
- Ticket resources (`resources`, comma-separated member identifiers) follow the ticket's
  schedule entries of type "S" (objectId = ticket id): adding/removing one updates the ticket,
  which fires its own ticket callback, as in ConnectWise.
- A time entry charged to a ticket adds its hours to the ticket's `actualHours`.
- Deleting a ticket deletes its schedule entries.
- An opportunity whose status has closedFlag gets a closedDate.
- A ticket or ticket assignment posted with few fields gets the defaults ConnectWise fills in
  (priority, source, service location, severity, impact, the board's location and department;
  an assignment's name, status and hours).
- A service ticket keeps its SLA state (psa.sandbox.connectwise.sla): statuses and flagged notes move it on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from psa.sandbox.connectwise import sla
from psa.sandbox.connectwise.refs import RefBuilder, find_target, ref_id
from psa.sandbox.connectwise.schema import TICKET_ENTITIES, EntitySpec, parent_id_of, spec_for
from psa.sandbox.connectwise.store import Hooks

if TYPE_CHECKING:
    from psa.sandbox.connectwise.store import SandboxStore

STATUSES = "service/boards/{parentId}/statuses"
SCHEDULE = "schedule/entries"
NOTES = "service/tickets/{parentId}/notes"
# Ticket fields ConnectWise accepts on a write but never returns.
TICKET_WRITE_ONLY = (
    "initialDescription",
    "initialInternalAnalysis",
    "initialResolution",
    "contactEmailLookup",
    "processNotifications",
    "skipCallback",
)
FollowUp = Callable[[bool], None]
# ticket field → the collection whose defaultFlag record a new ticket gets when the field is absent
TICKET_DEFAULTS = {
    "priority": "service/priorities",
    "source": "service/sources",
    "serviceLocation": "service/locations",
}
PROJECT_TICKET_DEFAULTS = {"priority": "service/priorities"}


def board_statuses(store: SandboxStore, board_id: int | None) -> list[dict]:
    return store.list(STATUSES, parent_id=board_id) if board_id is not None else []


def default_status(store: SandboxStore, board_id: int | None) -> dict | None:
    statuses = [s for s in board_statuses(store, board_id) if not s.get("inactive")]
    chosen = [s for s in statuses if s.get("defaultFlag")] or [
        s for s in statuses if not s.get("closedStatus")
    ]
    return chosen[0] if chosen else None


def default_record(store: SandboxStore, collection: str) -> dict | None:
    """The active record flagged defaultFlag in a set-up collection (None if it has none)."""
    return next(
        (r for r in store.iter_records(collection) if r.get("defaultFlag") and not r.get("inactiveFlag")),
        None,
    )


def board_id_of(values: dict, existing: dict | None) -> int | None:
    """The board a write lands on: the one in `values` if given, else the existing record's."""
    return ref_id(values.get("board") if "board" in values else (existing or {}).get("board"))


class Rules(Hooks):
    def __init__(self, refs: RefBuilder) -> None:
        self.refs = refs

    # --- create ----------------------------------------------------------------------------

    def complete_references(
        self, store: SandboxStore, spec: EntitySpec, values: dict, existing: dict | None
    ) -> None:
        """`{"id": 5}` given straight to the store (tests, activity) becomes the full reference
        object an API write would store; unknown targets are left as given."""
        board_id = board_id_of(values, existing)
        for name, target in spec.references.items():
            value = values.get(name)
            if target is None or not isinstance(value, dict) or "_info" in value:
                continue
            scoped = board_id if name in spec.board_scoped else None
            found = find_target(store, target, value, board_id=scoped)
            if found is not None:
                values[name] = self.refs.ref(target, found, name)

    def on_create(self, store: SandboxStore, spec: EntitySpec, record: dict) -> dict:
        self.complete_references(store, spec, record, None)
        now = record["_info"]["lastUpdated"]
        by = record["_info"]["updatedBy"]
        if spec.key in TICKET_ENTITIES:
            self.fill_defaults(store, spec, record)
            if record.get("status") is not None:
                self._apply_status(store, record, record, now, by)
            if sla.has_sla(spec.key):
                record.update(sla.ticket_fields(store, record, now, by, status_changed=True))
        elif spec.key == SCHEDULE:
            self.fill_defaults(store, spec, record)
        elif spec.key == "time/entries":
            record.setdefault("dateEntered", now)
            record.setdefault("enteredBy", by)
            if "actualHours" not in record:
                record["actualHours"] = _hours_between(record.get("timeStart"), record.get("timeEnd"))
            elif "timeEnd" not in record:  # posted as a start and hours: ConnectWise sets the end
                record["timeEnd"] = _end_after(record.get("timeStart"), record["actualHours"])
        elif spec.key == "service/tickets/{parentId}/notes":
            record.setdefault("dateCreated", now)
            record.setdefault("createdBy", by)
            self.fill_defaults(store, spec, record)
        elif spec.key == "sales/opportunities/{parentId}/notes":
            record.setdefault("enteredBy", by)
            record.setdefault("flagged", False)
        elif spec.key == "system/callbacks":
            record.setdefault("objectId", 1)
            record.setdefault("inactiveFlag", False)
            record.setdefault("payloadVersion", "2025.1")
        elif spec.key == "sales/opportunities":
            self._opportunity_status(store, record, record, now, by)
        return record

    def fill_defaults(self, store: SandboxStore, spec: EntitySpec, values: dict) -> None:
        """What ConnectWise gives the fields a POST (or a PUT, which replaces the record) leaves
        out: tickets, ticket assignments and ticket notes; references in `values` are whole."""
        if spec.key in TICKET_ENTITIES:
            self._ticket_defaults(store, spec, values)
        elif spec.key == SCHEDULE:
            self._schedule_defaults(store, values)
        elif spec.key == NOTES:
            for flag in ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag", "internalFlag"):
                values.setdefault(flag, False)

    def _ticket_defaults(self, store: SandboxStore, spec: EntitySpec, record: dict) -> None:
        for name in TICKET_WRITE_ONLY:
            record.pop(name, None)
        if spec.key == "service/tickets":
            record.setdefault("recordType", "ServiceTicket")
            if record.get("sla") is None:
                default_sla = sla.SlaBook(store).default_sla()
                if default_sla is not None:
                    record["sla"] = self.refs.ref("service/SLAs", default_sla, "sla")
        record.setdefault("closedFlag", False)
        record.setdefault("customerUpdatedFlag", False)
        record.setdefault("actualHours", 0)
        if record.get("board") is None:
            board = next(store.iter_records("service/boards"), None)
            if board is not None:
                record["board"] = self.refs.ref("service/boards", board, "board")
        if record.get("status") is None:
            status = default_status(store, ref_id(record.get("board")))
            if status is not None:
                record["status"] = self.refs.ref(STATUSES, status, "status")
        self._defaults_like_the_ui(store, spec, record)

    def _defaults_like_the_ui(self, store: SandboxStore, spec: EntitySpec, record: dict) -> None:
        """A ticket posted with only a summary comes back filled the way ConnectWise fills it
        (developer guide "Post": "the system will attempt to default all required
        information"): the default priority (and for service tickets the default source and
        service location, Medium severity and impact) and the board's location and department.
        Typed clients rely on it: a ticket without a priority fails their models."""
        defaults = TICKET_DEFAULTS if spec.key == "service/tickets" else PROJECT_TICKET_DEFAULTS
        for field, collection in defaults.items():
            if record.get(field) is None:
                chosen = default_record(store, collection)
                if chosen is not None:
                    record[field] = self.refs.ref(collection, chosen, field)
        if spec.key == "service/tickets":
            for field in ("severity", "impact"):
                if record.get(field) is None:
                    record[field] = "Medium"
        board = store.get("service/boards", ref_id(record.get("board")) or 0) or {}
        for field in ("location", "department"):
            if record.get(field) is None and board.get(field) is not None:
                record[field] = board[field]

    def _schedule_defaults(self, store: SandboxStore, record: dict) -> None:
        """A ticket assignment posted with only objectId, member and dates is named after its
        ticket, gets the default schedule status and its hours, as ConnectWise fills them
        (typed clients require `name`)."""
        record.setdefault("doneFlag", False)
        if _is_assignment(record) and not record.get("name"):
            ticket = find_ticket(store, record.get("objectId"))[1]
            if ticket is not None:
                record["name"] = ticket.get("summary")
        if record.get("status") is None:
            status = default_record(store, "schedule/statuses")
            if status is not None:
                record["status"] = self.refs.ref("schedule/statuses", status, "status")
        if record.get("hours") is None:
            record["hours"] = _hours_between(record.get("dateStart"), record.get("dateEnd"))

    # --- update ----------------------------------------------------------------------------

    def on_update(self, store: SandboxStore, spec: EntitySpec, old: dict, changes: dict) -> dict:
        self.complete_references(store, spec, changes, old)
        now, by = store.clock(), "sandbox-api"
        if spec.key in TICKET_ENTITIES:
            if "board" in changes and "status" not in changes:
                board_id = ref_id(changes["board"])
                current = store.get(STATUSES, ref_id(old.get("status")) or 0)
                if current is None or parent_id_of(spec_for(STATUSES), current) != board_id:
                    status = default_status(store, board_id)
                    changes["status"] = self.refs.ref(STATUSES, status, "status") if status else None
            if "board" in changes:
                self._leave_old_board(store, spec, old, changes)
            if "status" in changes:
                self._apply_status(store, changes, old, now, by)
            elif changes.get("closedFlag") is True and not old.get("closedFlag"):
                changes.setdefault("closedDate", now)  # an explicit closedDate (test data) wins
                changes.setdefault("closedBy", by)
            elif changes.get("closedFlag") is False:
                changes.update(closedDate=None, closedBy=None)
            for name in TICKET_WRITE_ONLY:
                changes.pop(name, None)
            if sla.has_sla(spec.key):
                changes.update(self._sla_after_update(store, old, changes, now, by))
        elif spec.key == "sales/opportunities" and "status" in changes:
            self._opportunity_status(store, changes, old, now, by)
        return changes

    def _leave_old_board(self, store: SandboxStore, spec: EntitySpec, old: dict, changes: dict) -> None:
        """A ticket moved to another board loses the team, type, subtype and item of the old
        board that the move left as they were: they do not exist on the new board (a later
        write of the whole ticket, GET then PUT, would otherwise be refused for them)."""
        board_id = ref_id(changes["board"])
        for field in spec.board_scoped - {"status"} - changes.keys():
            target = spec.references.get(field)
            value = old.get(field)
            if target and value is not None and find_target(store, target, value, board_id=board_id) is None:
                changes[field] = None

    def _sla_after_update(self, store: SandboxStore, old: dict, changes: dict, now: str, by: str) -> dict:
        merged = {k: v for k, v in {**old, **changes}.items() if v is not None}
        status_changed = "status" in changes and ref_id(changes["status"]) != ref_id(old.get("status"))
        return sla.ticket_fields(store, merged, now, by, status_changed=status_changed)

    def _apply_status(self, store: SandboxStore, target: dict, old: dict, now: str, by: str) -> None:
        """Closed flags from the status. `target is old` on create (fill in), else the changes."""
        status = store.get(STATUSES, ref_id(target.get("status")) or 0)
        if not (status and status.get("closedStatus")):
            target.update(closedFlag=False, closedDate=None, closedBy=None)
            return
        target["closedFlag"] = True
        if target is old:
            target.setdefault("closedDate", now)
            target.setdefault("closedBy", by)
        elif not old.get("closedFlag"):
            target.update(closedDate=now, closedBy=by)

    def _opportunity_status(self, store: SandboxStore, target: dict, old: dict, now: str, by: str) -> None:
        status = store.get("sales/opportunities/statuses", ref_id(target.get("status")) or 0)
        if status is None:
            return
        # Opportunity.closedBy is a MemberReference (a ticket's is the identifier): the member who
        # closed it, here the seeded API member writes come from; omitted if no member has `by`.
        closer = find_target(store, "system/members", {"identifier": by})
        closed_by = self.refs.ref("system/members", closer, "closedBy") if closer else None
        if not status.get("closedFlag"):
            target.update(closedDate=None, closedBy=None)
        elif target is old:
            target.setdefault("closedDate", now)
            target.setdefault("closedBy", closed_by)
        elif not old.get("closedDate"):
            target.update(closedDate=now, closedBy=closed_by)

    # --- follow-ups ------------------------------------------------------------------------

    def after_write(
        self, store: SandboxStore, spec: EntitySpec, old: dict | None, new: dict | None
    ) -> list[FollowUp]:
        if spec.key == SCHEDULE:
            tickets = {r.get("objectId") for r in (old, new) if r and _is_assignment(r)}
            return [
                self._resources_follow_up(store, ticket_id)
                for ticket_id in tickets
                if isinstance(ticket_id, int)
            ]
        if spec.key in TICKET_ENTITIES and new is None and old is not None:
            return [self._cascade_schedule_delete(store, old["id"])]
        if spec.key == "time/entries" and old is None and new is not None:
            return [self._add_hours(store, new)]
        if spec.key == NOTES and old is None and new is not None and sla.note_stage(new):
            return [self._sla_note(store, new)]
        return []

    def _sla_note(self, store: SandboxStore, note: dict) -> FollowUp:
        """A note flagged as discussion / internal analysis / resolution is the ticket's first
        response / plan / resolution (if that stage is not met yet)."""

        def follow_up(skip_callback: bool) -> None:
            entity, ticket = find_ticket(store, note.get("ticketId"))
            stage = sla.note_stage(note)
            if ticket is None or stage is None or not sla.has_sla(entity) or sla.already_met(ticket, stage):
                return
            if note.get("dateCreated") == ticket["_info"].get("dateEntered"):
                return  # an initial description / analysis / resolution: part of the ticket's entry
            by = (note.get("member") or {}).get("identifier") or note.get("createdBy") or "sandbox-api"
            fields = sla.ticket_fields(store, ticket, store.clock(), by, status_changed=False, met=stage)
            store.update(entity, ticket["id"], fields, skip_callback=skip_callback, updated_by=by)

        return follow_up

    def _resources_follow_up(self, store: SandboxStore, ticket_id: int) -> FollowUp:
        def follow_up(skip_callback: bool) -> None:
            entity, ticket = find_ticket(store, ticket_id)
            if ticket is None:
                return
            identifiers = [
                (e.get("member") or {}).get("identifier")
                for e in store.iter_records(SCHEDULE)
                if e.get("objectId") == ticket_id and _is_assignment(e)
            ]
            resources = ", ".join(dict.fromkeys(i for i in identifiers if i)) or None
            if resources != ticket.get("resources"):
                store.update(entity, ticket_id, {"resources": resources}, skip_callback=skip_callback)

        return follow_up

    def _cascade_schedule_delete(self, store: SandboxStore, ticket_id: int) -> FollowUp:
        def follow_up(skip_callback: bool) -> None:
            for entry in [
                e
                for e in store.iter_records(SCHEDULE)
                if e.get("objectId") == ticket_id and _is_assignment(e)
            ]:
                store.delete(SCHEDULE, entry["id"], skip_callback=skip_callback)

        return follow_up

    def _add_hours(self, store: SandboxStore, entry: dict) -> FollowUp:
        def follow_up(skip_callback: bool) -> None:
            entity, ticket = find_ticket(store, entry.get("chargeToId"))
            hours = entry.get("actualHours")
            if ticket is None or not isinstance(hours, int | float):
                return
            total = round(float(ticket.get("actualHours") or 0) + float(hours), 2)
            store.update(entity, ticket["id"], {"actualHours": total}, skip_callback=skip_callback)

        return follow_up


def _is_assignment(entry: dict) -> bool:
    return str((entry.get("type") or {}).get("identifier", "")).upper() == "S"


def find_ticket(store: SandboxStore, ticket_id: object) -> tuple[str, dict | None]:
    """The ticket (service or project: one id space) and its entity; (service, None) if absent."""
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        return TICKET_ENTITIES[0], None
    for entity in TICKET_ENTITIES:
        ticket = store.get(entity, ticket_id)
        if ticket is not None:
            return entity, ticket
    return TICKET_ENTITIES[0], None


def _end_after(start: object, hours: object) -> str | None:
    if not isinstance(start, str) or isinstance(hours, bool) or not isinstance(hours, int | float):
        return None
    try:
        begin = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (begin + timedelta(hours=float(hours))).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hours_between(start: object, end: object) -> float | None:
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    try:
        begin = datetime.fromisoformat(start.replace("Z", "+00:00"))
        finish = datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        return None
    return round(max((finish - begin).total_seconds(), 0) / 3600, 2)
