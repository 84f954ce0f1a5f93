"""Service tickets keep ConnectWise's SLA state: goals, calendar, waits, flagged notes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from psa.sandbox import business_hours as hours
from psa.sandbox.connectwise.data import Generator
from psa.sandbox.connectwise.refs import RefBuilder
from psa.sandbox.connectwise.rules import Rules
from psa.sandbox.connectwise.sla import SlaBook, parse_time
from psa.sandbox.connectwise.store import SandboxStore, record_time

TICKETS, NOTES, STATUSES = (
    "service/tickets",
    "service/tickets/{parentId}/notes",
    "service/boards/{parentId}/statuses",
)
# A fixed Wednesday: the seeded mix and the holidays around it never depend on today's date.
ANCHOR = datetime(2026, 10, 28, tzinfo=UTC)
# The Monday after it, 16:00 UTC: one working hour left on the Standard Hours calendar.
MONDAY_4PM = datetime(2026, 11, 2, 16, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> str:
        return record_time(self.now)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="module")
def seeded() -> SandboxStore:
    return _generate()


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_4PM)


@pytest.fixture
def store(clock) -> SandboxStore:
    store = _generate()
    store.clock = clock
    return store


def _generate() -> SandboxStore:
    store = SandboxStore()
    refs = RefBuilder("http://127.0.0.1:1/v2025_1/apis/3.0/")
    store.hooks = Rules(refs)
    Generator(store, refs, scale="small", seed=7, anchor=ANCHOR).generate()
    return store


def _status(store: SandboxStore, board_id: int, name: str) -> dict:
    return next(s for s in store.list(STATUSES, parent_id=board_id) if s["name"] == name)


def _new_ticket(store: SandboxStore, priority_id: int = 1) -> dict:
    board = next(b for b in store.list("service/boards") if not b.get("projectFlag"))
    company = store.list("company/companies")[0]
    return store.create(
        TICKETS,
        {
            "summary": "Printer on fire",
            "board": {"id": board["id"]},
            "company": {"id": company["id"]},
            "priority": {"id": priority_id},
        },
    )


def _move(store: SandboxStore, ticket: dict, status_name: str) -> dict:
    status = _status(store, ticket["board"]["id"], status_name)
    return store.update(TICKETS, ticket["id"], {"status": {"id": status["id"]}})


def test_it_starts_a_new_ticket_on_its_sla_with_a_deadline_in_working_hours(store):
    ticket = _new_ticket(store)
    assert ticket["sla"]["name"] == "Standard SLA"  # the default SLA
    # Priority 1 on the Standard SLA: respond 2 h, plan 4 h, resolve 12 h (service/SLAs/1/priorities).
    assert (ticket["respondedHours"], ticket["resplanHours"], ticket["resolutionHours"]) == (2.0, 4.0, 12.0)
    assert ticket["escalationStartDateUTC"] == "2026-11-02T16:00:00Z"
    # One hour on Monday (closes 17:00), the second from Tuesday 08:00.
    assert ticket["slaStatus"] == "Respond by Tue 11/03 9:00 AM UTC+00"
    assert ticket["isInSla"] is True and ticket["minutesWaiting"] == 0
    assert "dateResponded" not in ticket


def test_it_marks_the_first_response_from_a_discussion_note(store, clock):
    ticket = _new_ticket(store)
    member = store.list("system/members")[0]
    clock.advance(minutes=45)
    store.create(
        NOTES,
        {
            "ticketId": ticket["id"],
            "text": "On my way",
            "detailDescriptionFlag": True,
            "member": {"id": member["id"]},
        },
        updated_by=member["identifier"],
    )
    responded = store.get(TICKETS, ticket["id"])
    assert responded["dateResponded"] == "2026-11-02T16:45:00Z"
    assert responded["respondMinutes"] == 45 and responded["respondedBy"] == member["identifier"]
    assert responded["slaStatus"] == "Plan by Tue 11/03 11:00 AM UTC+00"
    assert responded["_info"]["lastUpdated"] == "2026-11-02T16:45:00Z"


def test_it_ignores_a_note_only_from_the_customer_contact(store, clock):
    ticket = _new_ticket(store)
    clock.advance(minutes=5)
    store.create(
        NOTES,
        {
            "ticketId": ticket["id"],
            "text": "Any news?",
            "detailDescriptionFlag": True,
            "contact": {"id": 1, "name": "Jane Doe"},
        },
    )
    assert "dateResponded" not in store.get(TICKETS, ticket["id"])


def test_it_resolves_from_a_resolution_note_meeting_every_stage(store, clock):
    ticket = _new_ticket(store)
    clock.advance(hours=17)  # Tuesday 09:00: two working hours on the clock
    store.create(NOTES, {"ticketId": ticket["id"], "text": "Replaced toner", "resolutionFlag": True})
    resolved = store.get(TICKETS, ticket["id"])
    assert resolved["slaStatus"] == "Resolved"
    assert resolved["respondMinutes"] == resolved["resPlanMinutes"] == resolved["resolveMinutes"] == 120
    assert resolved["isInSla"] is True  # responded at exactly its 2-hour goal


def test_it_pauses_the_clock_while_the_status_is_a_waiting_one(store, clock):
    ticket = _new_ticket(store, priority_id=3)  # respond 6 h
    clock.advance(minutes=30)
    waiting = _move(store, ticket, "Waiting on Client")
    assert waiting["slaStatus"] == "Waiting" and waiting["minutesBeforeWaiting"] == 30
    clock.advance(hours=18)  # Tuesday 10:30: 30 minutes Monday + 2.5 h Tuesday waited
    back = _move(store, ticket, "New")
    assert back["minutesWaiting"] == 180 and back["minutesBeforeWaiting"] == 0
    # Six working hours from Monday 16:00 plus the three waited: Tuesday 08:00 + 8 h = 16:00.
    assert back["slaStatus"] == "Respond by Tue 11/03 4:00 PM UTC+00"
    clock.advance(minutes=10)
    responded = _move(store, ticket, "In Progress")
    assert responded["respondMinutes"] == 30 + 10 and responded["respondedSkippedMinutes"] == 180


def test_it_resolves_on_a_closed_status_and_reopens_on_an_open_one(store, clock):
    ticket = _new_ticket(store)
    clock.advance(minutes=20)
    closed = _move(store, ticket, "Closed")
    assert closed["slaStatus"] == "Resolved" and closed["dateResolved"] == closed["closedDate"]
    assert closed["dateResponded"] == closed["dateResolved"] and closed["resolvedBy"] == "sandbox-api"
    clock.advance(minutes=20)
    reopened = _move(store, ticket, "In Progress")
    assert "dateResolved" not in reopened and "resolveMinutes" not in reopened
    assert (
        reopened["slaStatus"].startswith("Resolve by ")
        and reopened["dateResponded"] == closed["dateResponded"]
    )


def test_it_moves_the_deadline_when_the_priority_changes(store):
    ticket = _new_ticket(store, priority_id=1)
    changed = store.update(TICKETS, ticket["id"], {"priority": {"id": 4}})  # respond 8 h
    assert changed["respondedHours"] == 8.0
    assert changed["slaStatus"] == "Respond by Tue 11/03 3:00 PM UTC+00"


def test_it_reports_overdue_once_the_clock_passes_the_goal(store, clock):
    ticket = _new_ticket(store)
    clock.advance(days=1, hours=1)  # Tuesday 17:00: ten working hours on a 2-hour goal
    late = store.update(TICKETS, ticket["id"], {"summary": "Printer still on fire"})
    assert late["isInSla"] is False and late["slaStatus"] == "Respond by Tue 11/03 9:00 AM UTC+00"


def _deadline(text: str, near: datetime) -> datetime:
    """The deadline in `Respond by Mon 07/04 1:00 PM UTC+00`: the year whose weekday matches,
    nearest to `near` (ConnectWise's text has no year)."""
    weekday, rest = text.split(" by ", 1)[1].split(" ", 1)
    candidates = [
        datetime.strptime(f"{year} {rest.removesuffix(' UTC+00')}", "%Y %m/%d %I:%M %p").replace(tzinfo=UTC)
        for year in (near.year - 1, near.year, near.year + 1)
    ]
    matching = [c for c in candidates if c.strftime("%a") == weekday]
    return min(matching, key=lambda c: abs(c - near))


def test_it_seeds_a_realistic_mix_relative_to_the_anchor(seeded):
    open_tickets = [t for t in seeded.list(TICKETS) if not t["closedFlag"]]
    with_deadline = [t for t in open_tickets if " by " in t["slaStatus"]]
    deadlines = [_deadline(t["slaStatus"], ANCHOR) for t in with_deadline]
    over = [d for d in deadlines if d < ANCHOR]
    near = [d for d in deadlines if ANCHOR <= d <= ANCHOR + timedelta(days=1)]
    in_sla = [t for t in open_tickets if t["isInSla"]]
    assert len(in_sla) > 0.6 * len(open_tickets)
    assert 0 < len(over) < 0.35 * len(deadlines) and len(near) > 0
    assert any(t["slaStatus"] == "Waiting" for t in open_tickets)
    closed = [t for t in seeded.list(TICKETS) if t["closedFlag"]]
    assert all(t["slaStatus"] == "Resolved" and t["dateResolved"] == t["closedDate"] for t in closed)
    for ticket in seeded.list(TICKETS):
        met = [
            ticket.get(name) for name in ("dateResponded", "dateResplan", "dateResolved") if ticket.get(name)
        ]
        assert met == sorted(met) and all(when <= ticket["_info"]["lastUpdated"] for when in met), ticket[
            "id"
        ]
    assert sum(t["isInSla"] for t in closed) > 0.6 * len(closed)


def test_it_seeds_deadlines_that_follow_from_goal_waits_and_calendar(seeded):
    book = SlaBook(seeded)
    for ticket in [t for t in seeded.list(TICKETS) if " by " in t.get("slaStatus", "")][:60]:
        stage = {"Respond": "respondedHours", "Plan": "resplanHours", "Resolve": "resolutionHours"}
        goal = ticket[stage[ticket["slaStatus"].split(" ")[0]]]
        start = parse_time(ticket["escalationStartDateUTC"])
        calendar = book.calendar(ticket["sla"]["id"])
        expected = hours.add_minutes(calendar, start, round(goal * 60) + ticket["minutesWaiting"])
        assert expected is not None and _deadline(ticket["slaStatus"], expected) == expected, ticket["id"]
        assert ticket["_info"]["lastUpdated"] <= record_time(ANCHOR)


def test_it_moves_the_sla_on_from_the_notes_of_simulated_activity(store, clock):
    import threading
    from collections import Counter

    from psa.sandbox.connectwise.activity import Activity

    activity = Activity(
        store, store.hooks.refs, per_second=0, seed=3, stats=Counter(), stats_lock=threading.Lock()
    )
    for _ in range(80):
        activity.ticket_note()
    now = record_time(clock.now)
    met = Counter(
        name
        for t in store.list(TICKETS)
        for name in ("dateResponded", "dateResplan", "dateResolved")
        if t.get(name) == now
    )
    assert met["dateResponded"] > 0 and met["dateResplan"] > 0 and met["dateResolved"] > 0
