"""A user's edit waiting for delivery is not undone by a sync (sync/engine/pending_edits.py).

Against the PSA sandbox (real HTTP): the edit is queued while the broker is down (nothing is
delivered), the core tier runs, and only then is the outbox entry pushed.
"""

from __future__ import annotations

import pytest

from boards.models import Opportunity, Ticket, TicketAssignment
from psa.connectwise import refresh
from sync import outbox, writeback
from sync.engine.services import sync_tier
from sync.models import Connection, OutboxEntry

pytestmark = pytest.mark.usefixtures("fresh_cache")

TICKETS = "service/tickets"


@pytest.fixture
def psa_connection(db, sandbox):
    return Connection.objects.create(name="sandbox", credentials=dict(sandbox.credentials))


@pytest.fixture
def undelivered(monkeypatch, django_capture_on_commit_callbacks):
    """Edits commit (their on_commit callbacks run) but never reach the PSA: the broker is down."""

    def broker_down(entry_id):
        raise OSError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("sync.tasks_realtime.enqueue_push", broker_down)
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _ticket(sandbox, connection) -> Ticket:
    record = next(t for t in sandbox.store.list(TICKETS) if not t.get("closedFlag"))
    refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=record["id"])
    return Ticket.objects.get(connection=connection, psa_id=record["id"])


def _other_status(sandbox, ticket: Ticket) -> dict:
    record = sandbox.store.get(TICKETS, ticket.psa_id)
    statuses = sandbox.store.list("service/boards/{parentId}/statuses", parent_id=record["board"]["id"])
    return next(
        s
        for s in statuses
        if s["id"] != record["status"]["id"] and not s.get("closedStatus") and not s.get("inactive")
    )


def _core(connection, *entities: str) -> None:
    for entity in entities:
        runs = sync_tier(connection_id=connection.pk, tier="core", entity=entity)
        assert [run.status for run in runs] == ["succeeded"], [run.error for run in runs]


def test_it_keeps_a_pending_status_move_through_a_core_sync_then_confirms_it(
    sandbox, psa_connection, undelivered
):
    ticket = _ticket(sandbox, psa_connection)
    target = _other_status(sandbox, ticket)
    with undelivered():
        entry = writeback.ticket_change_status(ticket=ticket, status_psa_id=target["id"])
    moved = Ticket.objects.values("status_psa_id", "status_name", "closed").get(pk=ticket.pk)
    # Meanwhile someone else edits the same ticket in the PSA: the rest of the row still updates.
    sandbox.store.update(TICKETS, ticket.psa_id, {"summary": "renamed in the PSA"})

    _core(psa_connection, "service_tickets")
    assert Ticket.objects.values("status_psa_id", "status_name", "closed").get(pk=ticket.pk) == moved
    ticket.refresh_from_db()
    assert moved["status_psa_id"] == target["id"]
    assert ticket.summary == "renamed in the PSA"

    assert outbox.outbox_push(entry_id=entry.pk) == "done"
    assert sandbox.store.get(TICKETS, ticket.psa_id)["status"]["id"] == target["id"]
    _core(psa_connection, "service_tickets")
    ticket.refresh_from_db()
    assert ticket.status_psa_id == target["id"] and ticket.writeback_error == ""


def test_it_reverts_a_pending_status_move_the_psa_rejects(sandbox, psa_connection, undelivered):
    ticket = _ticket(sandbox, psa_connection)
    original, target = ticket.status_psa_id, _other_status(sandbox, ticket)
    with undelivered():
        entry = writeback.ticket_change_status(ticket=ticket, status_psa_id=target["id"])
    _core(psa_connection, "service_tickets")
    assert Ticket.objects.get(pk=ticket.pk).status_psa_id == target["id"]

    sandbox.force_error("PATCH", r"service/tickets/\d+", 400, "Status is locked by a workflow rule", times=1)
    assert outbox.outbox_push(entry_id=entry.pk) == "failed"
    ticket.refresh_from_db()
    assert ticket.status_psa_id == original and "locked by a workflow rule" in ticket.writeback_error
    _core(psa_connection, "service_tickets")
    assert Ticket.objects.get(pk=ticket.pk).status_psa_id == original


def test_it_holds_only_the_columns_of_the_pending_action(sandbox, psa_connection, undelivered):
    ticket = _ticket(sandbox, psa_connection)
    record = sandbox.store.get(TICKETS, ticket.psa_id)
    priority = next(
        p for p in sandbox.store.list("service/priorities") if p["id"] != record["priority"]["id"]
    )
    with undelivered():
        writeback.ticket_change_priority(ticket=ticket, priority_psa_id=priority["id"])
    # The PSA moves the status meanwhile: the status is not held by a pending priority change.
    psa_status = _other_status(sandbox, ticket)
    sandbox.store.update(
        TICKETS, ticket.psa_id, {"status": {"id": psa_status["id"], "name": psa_status["name"]}}
    )

    _core(psa_connection, "service_tickets")
    ticket.refresh_from_db()
    assert ticket.priority_psa_id == priority["id"]
    assert ticket.status_psa_id == psa_status["id"]


def test_it_keeps_a_pending_opportunity_stage(sandbox, psa_connection, undelivered):
    record = sandbox.store.list("sales/opportunities")[0]
    refresh.record_refresh(connection_id=psa_connection.pk, kind="opportunity", psa_id=record["id"])
    opportunity = Opportunity.objects.get(connection=psa_connection, psa_id=record["id"])
    stage = next(s for s in sandbox.store.list("sales/stages") if s["id"] != record["stage"]["id"])
    with undelivered():
        entry = writeback.opportunity_change_stage(opportunity=opportunity, stage_psa_id=stage["id"])
    _core(psa_connection, "opportunities")
    assert Opportunity.objects.get(pk=opportunity.pk).stage_psa_id == stage["id"]
    assert outbox.outbox_push(entry_id=entry.pk) == "done"
    assert sandbox.store.get("sales/opportunities", record["id"])["stage"]["id"] == stage["id"]


def _unassigned_member(sandbox, ticket: Ticket) -> dict:
    assigned = {
        e["member"]["id"] for e in sandbox.store.list("schedule/entries") if e["objectId"] == ticket.psa_id
    }
    return next(
        m
        for m in sandbox.store.list("system/members")
        if m["id"] not in assigned and not m.get("inactiveFlag")
    )


def test_it_keeps_pending_resource_changes_through_a_core_sync(sandbox, psa_connection, undelivered):
    ticket = _ticket(sandbox, psa_connection)
    _core(psa_connection, "members", "ticket_assignments")
    member = _unassigned_member(sandbox, ticket)
    with undelivered():
        added = writeback.ticket_add_resource(ticket=ticket, member_psa_id=member["id"])
    _core(psa_connection, "service_tickets", "ticket_assignments")
    # The placeholder assignment survives the deleting run, the card keeps the new resource.
    assert TicketAssignment.objects.filter(psa_id=added.placeholder_psa_id).exists()
    assert member["identifier"] in Ticket.objects.get(pk=ticket.pk).resources
    assert outbox.outbox_push(entry_id=added.pk) == "done"

    with undelivered():
        removed = writeback.ticket_remove_resource(ticket=ticket, member_psa_id=member["id"])
    _core(psa_connection, "service_tickets", "ticket_assignments")
    # Still in the PSA until delivered, but the sync does not put it back on the card.
    assert not TicketAssignment.objects.filter(
        ticket_psa_id=ticket.psa_id, member_psa_id=member["id"]
    ).exists()
    assert member["identifier"] not in Ticket.objects.get(pk=ticket.pk).resources
    assert outbox.outbox_push(entry_id=removed.pk) == "done"
    assert OutboxEntry.objects.get(pk=removed.pk).state == "done"
