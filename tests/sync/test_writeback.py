"""Every write-back path against the PSA sandbox (real HTTP), pushed in-process after commit."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from boards.models import Member, Opportunity, ServiceNote, Ticket, TicketAssignment, TimeEntry
from psa.connectwise import refresh
from sync import outbox, writeback
from sync.engine.services import sync_tier
from sync.models import Connection, OutboxEntry

pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def psa_connection(db, sandbox):
    return Connection.objects.create(name="sandbox", credentials=dict(sandbox.credentials))


class InlinePushes(list):
    """`with pushes:` runs the block's on_commit callbacks at its end; each enqueued push runs
    right away in this process (the broker) and its outcome is appended here."""

    def __init__(self, capture):
        super().__init__()
        self.capture = capture

    def __enter__(self):
        self._cm = self.capture(execute=True)
        self._cm.__enter__()
        return self

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


@pytest.fixture
def push_inline(monkeypatch, django_capture_on_commit_callbacks):
    pushed = InlinePushes(django_capture_on_commit_callbacks)
    monkeypatch.setattr(
        "sync.tasks_realtime.enqueue_push",
        lambda entry_id: pushed.append((entry_id, outbox.outbox_push(entry_id=entry_id))),
    )
    return pushed


def mirrored(kind, psa_id, connection):
    refresh.record_refresh(connection_id=connection.pk, kind=kind, psa_id=psa_id)
    model = Ticket if kind == "ticket" else Opportunity
    return model.objects.get(connection=connection, psa_id=psa_id)


@pytest.fixture
def open_ticket(sandbox, psa_connection):
    record = next(t for t in sandbox.store.list("service/tickets") if not t.get("closedFlag"))
    return mirrored("ticket", record["id"], psa_connection)


def psa_ticket(sandbox, ticket):
    return sandbox.store.get("service/tickets", ticket.psa_id)


def other_status(sandbox, ticket):
    record = psa_ticket(sandbox, ticket)
    statuses = sandbox.store.list("service/boards/{parentId}/statuses", parent_id=record["board"]["id"])
    return next(
        s
        for s in statuses
        if s["id"] != record["status"]["id"] and not s.get("closedStatus") and not s.get("inactive")
    )


def hours_ago(hours: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours)


def log_time(ticket, member, start: datetime, *, minutes: int, notes: str, **options) -> OutboxEntry:
    """Queue a time entry of `minutes` from `start` by `member` on `ticket`."""
    return writeback.time_entry_create(
        ticket=ticket,
        member_psa_id=member["id"],
        time_start=start,
        time_end=start + timedelta(minutes=minutes),
        notes=notes,
        **options,
    )


def time_entries(sandbox, notes: str) -> list[dict]:
    """The sandbox's time entries with these notes."""
    return [t for t in sandbox.store.list("time/entries") if t.get("notes") == notes]


def schedule_entries(sandbox, ticket, member) -> list[dict]:
    """The sandbox's schedule entries of `member` on `ticket`."""
    return [
        e
        for e in sandbox.store.list("schedule/entries")
        if e["objectId"] == ticket.psa_id and e["member"]["id"] == member["id"]
    ]


def test_it_changes_a_ticket_status_without_echo(sandbox, open_ticket, push_inline):
    target = other_status(sandbox, open_ticket)
    before = sandbox.stats["callbacks_skipped"]
    with push_inline:
        entry = writeback.ticket_change_status(ticket=open_ticket, status_psa_id=target["id"])
    assert push_inline == [(entry.pk, "done")]
    assert psa_ticket(sandbox, open_ticket)["status"]["id"] == target["id"]
    open_ticket.refresh_from_db()
    assert (open_ticket.status_psa_id, open_ticket.status_name) == (target["id"], target["name"])
    assert sandbox.stats["callbacks_skipped"] == before + 1  # PATCH carried skipCallback


def test_it_changes_a_ticket_priority(sandbox, open_ticket, push_inline):
    priority = next(
        p
        for p in sandbox.store.list("service/priorities")
        if p["id"] != psa_ticket(sandbox, open_ticket)["priority"]["id"]
    )
    with push_inline:
        writeback.ticket_change_priority(ticket=open_ticket, priority_psa_id=priority["id"])
    assert psa_ticket(sandbox, open_ticket)["priority"]["id"] == priority["id"]
    assert Ticket.objects.get(pk=open_ticket.pk).priority_name == priority["name"]


def test_it_adds_and_removes_a_resource(sandbox, open_ticket, push_inline):
    assigned = {
        e["member"]["id"]
        for e in sandbox.store.list("schedule/entries")
        if e["objectId"] == open_ticket.psa_id
    }
    member = next(
        m
        for m in sandbox.store.list("system/members")
        if m["id"] not in assigned and not m.get("inactiveFlag")
    )
    with push_inline:
        writeback.ticket_add_resource(ticket=open_ticket, member_psa_id=member["id"])
    entries = schedule_entries(sandbox, open_ticket, member)
    assert len(entries) == 1 and entries[0]["type"]["identifier"] == "S"
    row = TicketAssignment.objects.get(ticket_psa_id=open_ticket.psa_id, member_psa_id=member["id"])
    assert row.psa_id == entries[0]["id"]  # the placeholder became the PSA's record
    assert member["identifier"] in psa_ticket(sandbox, open_ticket).get("resources", "")

    with push_inline:
        writeback.ticket_remove_resource(ticket=open_ticket, member_psa_id=member["id"])
    assert not schedule_entries(sandbox, open_ticket, member)
    assert not TicketAssignment.objects.filter(
        ticket_psa_id=open_ticket.psa_id, member_psa_id=member["id"]
    ).exists()
    assert member["identifier"] not in Ticket.objects.get(pk=open_ticket.pk).resources


def test_it_logs_time_and_moves_the_ticket(sandbox, open_ticket, push_inline):
    member = sandbox.store.list("system/members")[0]
    target = other_status(sandbox, open_ticket)
    with push_inline:
        entry = log_time(
            open_ticket,
            member,
            hours_ago(2),
            minutes=45,
            notes="Fixed the printer",
            status_psa_id=target["id"],
        )
    created = [
        t for t in time_entries(sandbox, "Fixed the printer") if t.get("chargeToId") == open_ticket.psa_id
    ]
    assert len(created) == 1 and created[0]["member"]["id"] == member["id"]
    assert psa_ticket(sandbox, open_ticket)["status"]["id"] == target["id"]
    assert OutboxEntry.objects.get(pk=entry.pk).result_psa_id == created[0]["id"]
    assert (
        TimeEntry.objects.get(
            connection=open_ticket.connection, charge_to_psa_id=open_ticket.psa_id, notes="Fixed the printer"
        ).psa_id
        == created[0]["id"]
    )


def test_it_adds_internal_and_external_notes(sandbox, open_ticket, push_inline):
    with push_inline:
        writeback.ticket_note_add(ticket=open_ticket, text="Customer called back")
        writeback.ticket_note_add(ticket=open_ticket, text="Root cause: toner", internal=True)
    notes = {
        n["text"]: n
        for n in sandbox.store.list("service/tickets/{parentId}/notes", parent_id=open_ticket.psa_id)
    }
    assert notes["Customer called back"].get("detailDescriptionFlag") is True
    assert notes["Root cause: toner"].get("internalAnalysisFlag") is True
    mirrored_ids = set(
        ServiceNote.objects.filter(ticket_psa_id=open_ticket.psa_id).values_list("psa_id", flat=True)
    )
    assert {notes["Customer called back"]["id"], notes["Root cause: toner"]["id"]} <= mirrored_ids
    assert all(i > 0 for i in mirrored_ids)


def test_it_adds_a_note_as_its_author_who_stays_its_author_after_a_notes_sync(
    sandbox, open_ticket, push_inline
):
    author = next(m for m in sandbox.store.list("system/members") if m["identifier"] != "sandbox-api")
    mirror_member(open_ticket.connection, author)
    with push_inline:
        entry = writeback.ticket_note_add(
            ticket=open_ticket, text="Swapped the drum", member_psa_id=author["id"]
        )
    assert entry.payload["member_id"] == author["id"]
    [note] = [
        n
        for n in sandbox.store.list("service/tickets/{parentId}/notes", parent_id=open_ticket.psa_id)
        if n["text"] == "Swapped the drum"
    ]
    assert note["member"]["id"] == author["id"]
    ServiceNote.objects.filter(psa_id=note["id"]).update(member_identifier="", created_by="")
    runs = sync_tier(connection_id=open_ticket.connection_id, tier="notes", entity="service_notes")
    assert [r.status for r in runs] == ["succeeded"]
    mirrored_note = ServiceNote.objects.get(connection=open_ticket.connection, psa_id=note["id"])
    assert mirrored_note.author == author["identifier"]
    assert mirrored_note.created_by == note["createdBy"] != author["identifier"]  # posted by the API account


def mirror_member(connection, record) -> Member:
    return Member.objects.create(
        connection=connection,
        psa_id=record["id"],
        identifier=record["identifier"],
        email=record.get("primaryEmail", ""),
    )


def test_it_moves_an_opportunity_stage_and_status(sandbox, psa_connection, push_inline):
    record = sandbox.store.list("sales/opportunities")[0]
    opportunity = mirrored("opportunity", record["id"], psa_connection)
    stage = next(s for s in sandbox.store.list("sales/stages") if s["id"] != record["stage"]["id"])
    status = next(
        s for s in sandbox.store.list("sales/opportunities/statuses") if s["id"] != record["status"]["id"]
    )
    with push_inline:
        writeback.opportunity_change_stage(opportunity=opportunity, stage_psa_id=stage["id"])
        writeback.opportunity_change_status(opportunity=opportunity, status_psa_id=status["id"])
    now = sandbox.store.get("sales/opportunities", record["id"])
    assert (now["stage"]["id"], now["status"]["id"]) == (stage["id"], status["id"])
    opportunity.refresh_from_db()
    assert (opportunity.stage_psa_id, opportunity.status_psa_id) == (stage["id"], status["id"])
    assert [e.state for e in OutboxEntry.objects.filter(psa_id=record["id"])] == ["done", "done"]


def test_it_reverts_and_shows_the_error_on_a_psa_400_then_a_success_clears_it(
    sandbox, open_ticket, push_inline
):
    original = psa_ticket(sandbox, open_ticket)["status"]
    target = other_status(sandbox, open_ticket)
    sandbox.force_error("PATCH", r"service/tickets/\d+", 400, "Status is locked by a workflow rule", times=1)
    with push_inline:
        entry = writeback.ticket_change_status(ticket=open_ticket, status_psa_id=target["id"])
    assert push_inline == [(entry.pk, "failed")]
    open_ticket.refresh_from_db()
    assert open_ticket.status_psa_id == original["id"]  # back to what the PSA holds
    assert "Status is locked by a workflow rule" in open_ticket.writeback_error
    entry.refresh_from_db()
    assert entry.state == "failed" and "Status is locked by a workflow rule" in entry.error

    with push_inline:
        writeback.ticket_change_status(ticket=open_ticket, status_psa_id=target["id"])
    open_ticket.refresh_from_db()
    assert (open_ticket.status_psa_id, open_ticket.writeback_error) == (target["id"], "")


def test_it_drops_the_placeholder_of_a_rejected_note(sandbox, open_ticket, push_inline):
    sandbox.force_error("POST", r"service/tickets/\d+/notes", 400, "Note text is too long", times=1)
    with push_inline:
        entry = writeback.ticket_note_add(ticket=open_ticket, text="x")
    assert push_inline == [(entry.pk, "failed")]
    assert not ServiceNote.objects.filter(psa_id=-entry.pk).exists()
    assert "Note text is too long" in Ticket.objects.get(pk=open_ticket.pk).writeback_error


def test_it_delivers_after_a_broker_outage_exactly_once(
    sandbox, open_ticket, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(entry_id):
        raise OSError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    member = sandbox.store.list("system/members")[0]
    monkeypatch.setattr("sync.tasks_realtime.enqueue_push", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        entry = log_time(open_ticket, member, hours_ago(1), minutes=30, notes="During the outage")
    assert OutboxEntry.objects.get(pk=entry.pk).state == "pending"
    assert time_entries(sandbox, "During the outage") == []
    OutboxEntry.objects.filter(pk=entry.pk).update(updated_at=timezone.now() - timedelta(minutes=2))
    assert outbox.outbox_sweep() == 1
    for _ in range(3):  # later sweeps find nothing left to send
        OutboxEntry.objects.filter(pk=entry.pk).update(updated_at=timezone.now() - timedelta(minutes=2))
        assert outbox.outbox_sweep() == 0
    assert len(time_entries(sandbox, "During the outage")) == 1
    assert OutboxEntry.objects.get(pk=entry.pk).state == "done"


def test_it_finds_a_time_entry_whose_post_landed_before_the_worker_died(sandbox, open_ticket, monkeypatch):
    member = sandbox.store.list("system/members")[0]
    start = hours_ago(3)
    monkeypatch.setattr("sync.tasks_realtime.enqueue_push", lambda entry_id: None)
    entry = log_time(open_ticket, member, start, minutes=15, notes="Crash test")
    # a worker claimed it, POSTed, and died before recording the result
    outbox.outbox_claim(entry_id=entry.pk)
    sandbox.store.create(
        "time/entries",
        {
            "chargeToId": open_ticket.psa_id,
            "chargeToType": "ServiceTicket",
            "member": {"id": member["id"]},
            "timeStart": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timeEnd": (start + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "notes": "Crash test",
        },
    )
    OutboxEntry.objects.filter(pk=entry.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=10), updated_at=timezone.now() - timedelta(minutes=10)
    )
    assert outbox.outbox_sweep() == 1
    assert len(time_entries(sandbox, "Crash test")) == 1
    assert OutboxEntry.objects.get(pk=entry.pk).state == "done"


def test_it_does_not_double_book_a_member_already_on_the_ticket(sandbox, psa_connection, push_inline):
    entry = next(
        e
        for e in sandbox.store.list("schedule/entries")
        if e["type"]["identifier"] == "S"
        and not e.get("doneFlag")
        and sandbox.store.get("service/tickets", e["objectId"])
    )
    ticket = mirrored("ticket", entry["objectId"], psa_connection)
    before = len(sandbox.store.list("schedule/entries"))
    with push_inline:
        outbox_entry = writeback.ticket_add_resource(ticket=ticket, member_psa_id=entry["member"]["id"])
    assert len(sandbox.store.list("schedule/entries")) == before
    assert OutboxEntry.objects.get(pk=outbox_entry.pk).result_psa_id == entry["id"]
    assert TicketAssignment.objects.filter(psa_id=entry["id"]).count() == 1
    assert not TicketAssignment.objects.filter(psa_id=-outbox_entry.pk).exists()


def test_it_writes_project_tickets_to_their_own_path(sandbox, psa_connection, push_inline):
    record = next(t for t in sandbox.store.list("project/tickets") if not t.get("closedFlag"))
    ticket = mirrored("ticket", record["id"], psa_connection)
    assert ticket.kind == "project"
    with push_inline:
        note = writeback.ticket_note_add(ticket=ticket, text="Phase 2 kicked off")
    assert push_inline == [(note.pk, "done")]
    assert sandbox.stats[("POST", "project/tickets/{parentId}/notes")] == 1
    note_id = OutboxEntry.objects.get(pk=note.pk).result_psa_id
    assert ServiceNote.objects.get(psa_id=note_id).text == "Phase 2 kicked off"
    priority = next(
        p
        for p in sandbox.store.list("service/priorities")
        if p["id"] != (record.get("priority") or {}).get("id")
    )
    with push_inline:
        writeback.ticket_change_priority(ticket=ticket, priority_psa_id=priority["id"])
    assert sandbox.store.get("project/tickets", record["id"])["priority"]["id"] == priority["id"]
    assert sandbox.stats[("PATCH", "project/tickets/{id}")] == 1


def test_it_schedules_the_outbox_sweeper():
    from topleft.celery import app

    entry = app.conf.beat_schedule["outbox-sweep"]
    assert (
        entry["task"] == "sync.tasks_realtime.sweep_outbox"
        and entry["schedule"].run_every.total_seconds() <= 60
    )
    assert entry["options"]["queue"] == "realtime"
