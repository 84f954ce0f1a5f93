"""A service ticket's SLA state, kept the way ConnectWise keeps it.

The ticket's SLA (`service/SLAs`) gives respond / plan / resolve goals in hours per priority
(`service/SLAs/{id}/priorities`, else the SLA's own hours), counted in working time of the SLA's
calendar (`basedOn`: AllHours, MyCalendar = the site's first calendar, Custom = customCalendar),
all measured from the moment the clock starts (`escalationStartDateUTC`: the first working
minute at or after the ticket was entered).

What moves the state on:
- a status whose `escalationStatus` is Responded / ResolutionPlan / Resolved (a closed status
  always resolves) marks those stages met now; NoEscalation is a waiting status: the clock
  pauses until the ticket leaves it; moving back to an open status re-opens the resolve stage;
- a note flagged detailDescriptionFlag / internalAnalysisFlag / resolutionFlag (not one only
  from a contact) is the first response / the plan / the resolution (psa.sandbox.connectwise.rules).

Stored in the ticket (models.tsv Ticket field names): `dateResponded`/`respondMinutes`/
`respondedBy`, `dateResplan`/`resPlanMinutes`/`resplanBy`, `dateResolved`/`resolveMinutes`/
`resolvedBy` (minutes: working minutes on the clock, waits excluded), `minutesWaiting` (working
minutes of finished waits), `minutesBeforeWaiting` (while waiting: minutes on the clock when the
wait began), `respondedSkippedMinutes`/`resplanSkippedMinutes` (waited minutes before the
response / between response and plan), the goals `respondedHours`/`resplanHours`/
`resolutionHours`, and `slaStatus` ("Respond by Mon 07/04 1:00 PM UTC+00", "Plan by ...",
"Resolve by ...", "Waiting", "Resolved") with `isInSla` as of the ticket's last write.
ProjectTicket has none of these fields in ConnectWise's model, so project tickets carry no SLA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from psa.sandbox import business_hours as hours
from psa.sandbox.business_hours import WorkCalendar
from psa.sandbox.connectwise.refs import ref_id
from psa.sandbox.connectwise.schema_tickets import SLA_COMPUTED
from psa.sandbox.connectwise.store import record_time
from psa.timestamps import parse_psa_time

if TYPE_CHECKING:
    from psa.sandbox.connectwise.store import SandboxStore

STAGES = ("respond", "plan", "resolve")
STAGE_WORDS = {"respond": "Respond", "plan": "Plan", "resolve": "Resolve"}
# ConnectWise BoardStatus.escalationStatus → the stage a ticket moved there has met.
ESCALATION_STAGE = {"Responded": "respond", "ResolutionPlan": "plan", "Resolved": "resolve"}
WAITING_ESCALATION = "NoEscalation"
WAITING, RESOLVED = "Waiting", "Resolved"
# per stage: (date field, minutes field, member field, goal field)
STAGE_FIELDS = {
    "respond": ("dateResponded", "respondMinutes", "respondedBy", "respondedHours"),
    "plan": ("dateResplan", "resPlanMinutes", "resplanBy", "resplanHours"),
    "resolve": ("dateResolved", "resolveMinutes", "resolvedBy", "resolutionHours"),
}
COMPUTED_FIELDS = SLA_COMPUTED  # the fields a Clock renders


parse_time = parse_psa_time  # the sandbox reads its own timestamps the way clients do


def status_text(stage: str, deadline: datetime) -> str:
    """ConnectWise's form: `Respond by Mon 07/04 1:00 PM UTC+00` (site time; the sandbox is UTC)."""
    when = deadline.strftime("%a %m/%d %I:%M %p")  # the hour without its leading zero (1:00 PM):
    if when[10] == "0":
        when = when[:10] + when[11:]
    return f"{STAGE_WORDS[stage]} by {when} UTC+00"


@dataclass(frozen=True)
class Goals:
    respond: float | None
    plan: float | None
    resolve: float | None

    def minutes(self, stage: str) -> int | None:
        return self._minutes[stage]

    @cached_property
    def _minutes(self) -> dict[str, int | None]:
        """Each stage's goal in minutes, worked out once (a seeded ticket asks several times)."""
        values = {stage: getattr(self, stage) for stage in STAGES}
        return {stage: None if value is None else round(value * 60) for stage, value in values.items()}


class SlaBook:
    """SLA goals, calendars and status escalations read from the store (memoised: one book per
    write, or one for a whole generation run)."""

    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self._calendars: dict[int | None, WorkCalendar] = {}
        self._goals: dict[tuple[int | None, int | None], Goals] = {}
        self._escalations: dict[int | None, str | None] = {}

    def default_sla(self) -> dict | None:
        slas = self.store.list("service/SLAs")
        return next((s for s in slas if s.get("defaultFlag")), slas[0] if slas else None)

    def escalation(self, status_id: int | None) -> str | None:
        if status_id not in self._escalations:
            self._escalations[status_id] = self._read_escalation(status_id)
        return self._escalations[status_id]

    def _read_escalation(self, status_id: int | None) -> str | None:
        status = self.store.get("service/boards/{parentId}/statuses", status_id or 0)
        if status is None:
            return None
        return "Resolved" if status.get("closedStatus") else status.get("escalationStatus")

    def goals(self, sla_id: int | None, priority_id: int | None) -> Goals:
        key = (sla_id, priority_id)
        if key not in self._goals:
            sla = self.store.get("service/SLAs", sla_id or 0) or {}
            rows = self.store.list("service/SLAs/{parentId}/priorities", parent_id=sla_id) if sla_id else []
            row = next((r for r in rows if (r.get("priority") or {}).get("id") == priority_id), sla)
            self._goals[key] = Goals(
                _number(row.get("respondHours", sla.get("respondHours"))),
                _number(row.get("planWithin", sla.get("planWithin"))),
                _number(row.get("resolutionHours", sla.get("resolutionHours"))),
            )
        return self._goals[key]

    def calendar(self, sla_id: int | None) -> WorkCalendar:
        if sla_id not in self._calendars:
            self._calendars[sla_id] = self._read_calendar(self.store.get("service/SLAs", sla_id or 0) or {})
        return self._calendars[sla_id]

    def _read_calendar(self, sla: dict) -> WorkCalendar:
        based_on = sla.get("basedOn")
        if based_on == "AllHours":
            return hours.ALL_HOURS
        wanted = (sla.get("customCalendar") or {}).get("id") if based_on == "Custom" else None
        calendars = self.store.list("schedule/calendars")
        calendar = self.store.get("schedule/calendars", wanted) if wanted else None
        calendar = calendar or (calendars[0] if calendars else None)
        if calendar is None:
            return hours.ALL_HOURS
        list_id = (calendar.get("holidayList") or {}).get("id")
        holidays = (
            self.store.list("schedule/holidayLists/{parentId}/holidays", parent_id=list_id) if list_id else []
        )
        return hours.calendar_from_records(calendar, holidays)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class Clock:
    """One ticket's SLA clock: reads the stored fields, applies events, renders the fields."""

    def __init__(self, book: SlaBook, ticket: dict) -> None:
        self.ticket = ticket
        self.sla_id = ref_id(ticket.get("sla"))
        self.calendar = book.calendar(self.sla_id)
        self.goals = book.goals(self.sla_id, ref_id(ticket.get("priority")))
        started = parse_time(ticket.get("escalationStartDateUTC"))
        # spans and deadlines count from the clock's start
        self.origin = hours.Origin(self.calendar, started) if started else self._first_origin(ticket)
        self.start = self.origin.start
        self.restore(ticket)

    def restore(self, stored: dict) -> None:
        """Take the stage, wait and goal state stored in `stored` (the clock's start stays)."""
        self.fields = {name: stored.get(name) for name in COMPUTED_FIELDS}
        self.waited = int(stored.get("minutesWaiting") or 0)
        self.waiting = stored.get("slaStatus") == WAITING

    def _first_origin(self, ticket: dict) -> hours.Origin:
        """A clock not started yet starts at the first working minute after the ticket's entry
        (at the entry itself on a calendar without working time)."""
        entered = parse_time((ticket.get("_info") or {}).get("dateEntered")) or datetime.now(UTC)
        at_entry = hours.Origin(self.calendar, entered)
        return at_entry.started() or at_entry

    # --- reading the clock -----------------------------------------------------------------

    def done(self, stage: str) -> bool:
        return self.fields.get(STAGE_FIELDS[stage][0]) is not None

    def on_clock(self, now: datetime) -> int:
        """Working minutes the clock has run by `now` (waits excluded)."""
        if self.waiting:
            return int(self.fields.get("minutesBeforeWaiting") or 0)
        return max(self.origin.minutes_until(now) - self.waited, 0)

    def current_stage(self) -> str | None:
        return next((stage for stage in STAGES if not self.done(stage)), None)

    def deadline(self, stage: str) -> datetime | None:
        goal = self.goals.minutes(stage)
        return None if goal is None else self.origin.after(goal + self.waited)

    # --- events ----------------------------------------------------------------------------

    def meet(self, target: str, now: datetime, by: str) -> None:
        """Mark `target` and every stage before it met at `now` (those already met stay)."""
        if target == "resolve":
            self.resume(now)  # a resolved ticket waits for nothing: the wait ends with it
        for stage in STAGES[: STAGES.index(target) + 1]:
            if self.done(stage):
                continue
            date_field, minutes_field, member_field, _ = STAGE_FIELDS[stage]
            self.fields.update(
                {date_field: record_time(now), minutes_field: self.on_clock(now), member_field: by}
            )
            skipped = {"respond": "respondedSkippedMinutes", "plan": "resplanSkippedMinutes"}.get(stage)
            if skipped:
                before = int(self.fields.get("respondedSkippedMinutes") or 0) if stage == "plan" else 0
                self.fields[skipped] = self.waited - before

    def reopen(self) -> None:
        for name in STAGE_FIELDS["resolve"][:3]:
            self.fields[name] = None

    def pause(self, now: datetime) -> None:
        if not self.waiting:
            self.fields["minutesBeforeWaiting"] = self.on_clock(now)
            self.waiting = True

    def resume(self, now: datetime) -> None:
        if not self.waiting:
            return
        before = int(self.fields.get("minutesBeforeWaiting") or 0)
        began = self.origin.after(before + self.waited) or now
        self.waited += hours.paused_minutes(self.calendar, [(began, now)])
        self.waiting = False
        self.fields["minutesBeforeWaiting"] = 0

    def follow_status(self, escalation: str | None, now: datetime, by: str) -> None:
        """The ticket moved to a status with this escalationStatus."""
        if escalation == WAITING_ESCALATION and not self.done("resolve"):
            self.pause(now)
            return
        self.resume(now)
        if escalation != "Resolved" and self.done("resolve"):
            self.reopen()
        if escalation in ESCALATION_STAGE:
            self.meet(ESCALATION_STAGE[escalation], now, by)

    # --- rendering -------------------------------------------------------------------------

    def render(self, now: datetime) -> dict:
        """Every computed field (None: the field is absent)."""
        out = dict(self.fields)
        out.update(
            escalationStartDateUTC=record_time(self.start),
            escalationLevel=0,
            minutesWaiting=self.waited,
            minutesBeforeWaiting=int(self.fields.get("minutesBeforeWaiting") or 0) if self.waiting else 0,
            respondedSkippedMinutes=self.fields.get("respondedSkippedMinutes") or 0,
            resplanSkippedMinutes=self.fields.get("resplanSkippedMinutes") or 0,
        )
        for stage in STAGES:
            out[STAGE_FIELDS[stage][3]] = getattr(self.goals, stage)
        out["isInSla"] = self._in_sla(now)
        out["slaStatus"] = self._status_text()
        return out

    def _in_sla(self, now: datetime) -> bool:
        for stage in STAGES:
            goal = self.goals.minutes(stage)
            if goal is None:
                continue
            if self.done(stage):
                if int(self.fields.get(STAGE_FIELDS[stage][1]) or 0) > goal:
                    return False
            else:
                return self.on_clock(now) <= goal
        return True

    def _status_text(self) -> str | None:
        stage = self.current_stage()
        if stage is None:
            return RESOLVED
        if self.waiting:
            return WAITING
        deadline = self.deadline(stage)
        return status_text(stage, deadline) if deadline is not None else None


def has_sla(entity: str) -> bool:
    """Only service tickets carry SLA fields (ConnectWise's ProjectTicket model has none)."""
    return entity == "service/tickets"


def note_stage(note: dict) -> str | None:
    """The stage a new ticket note meets: resolution > plan (internal analysis) > response
    (discussion); a note only from the customer's contact meets none."""
    if note.get("contact") and not note.get("member"):
        return None
    for flag, stage in (
        ("resolutionFlag", "resolve"),
        ("internalAnalysisFlag", "plan"),
        ("detailDescriptionFlag", "respond"),
    ):
        if note.get(flag) is True:
            return stage
    return None


def ticket_fields(
    store: SandboxStore, ticket: dict, now_text: str, by: str, *, status_changed: bool, met: str | None = None
) -> dict:
    """The computed SLA fields of `ticket` (the record as it will be stored) after a write at
    `now_text` by `by` that changed its status or not, and/or met the stage `met`."""
    now = parse_time(now_text) or datetime.now(UTC)
    book = SlaBook(store)
    clock = Clock(book, ticket)
    if status_changed:
        clock.follow_status(book.escalation(ref_id(ticket.get("status"))), now, by)
    if met is not None:
        clock.meet(met, now, by)
    return clock.render(now)


def already_met(ticket: dict, stage: str) -> bool:
    return ticket.get(STAGE_FIELDS[stage][0]) is not None
