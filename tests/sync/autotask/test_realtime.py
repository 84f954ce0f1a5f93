"""Single-record refresh and write-back over an Autotask connection (responses fake)."""

from __future__ import annotations

import pytest

from boards.models import ServiceNote, Ticket, TicketAssignment
from psa.providers import provider_for
from sync import outbox, writeback
from sync.engine.services import sync_tier
from sync.refresh_queue import NOTES_HINT, RefreshItem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def mirrored(fake_autotask, at_connection):
    for tier in ("reference", "core"):
        sync_tier(connection_id=at_connection.pk, tier=tier)
    return at_connection


def _refresh(connection, kind, psa_id, hint=""):
    return provider_for(connection).refresh.record(
        connection_id=connection.pk, kind=kind, psa_id=psa_id, hint=hint
    )


def test_a_ticket_refresh_rereads_it_and_its_secondary_resources(fake_autotask, mirrored):
    fake_autotask.records["Tickets"][0]["title"] = "Changed in Autotask"
    fake_autotask.records["TicketSecondaryResources"] = [{"id": 2, "ticketID": 7001, "resourceID": 29682900}]
    assert _refresh(mirrored, "ticket", 7001) == "updated"
    card = Ticket.objects.get(connection=mirrored, psa_id=7001)
    assert (card.summary, card.resources) == ("Changed in Autotask", "ada")  # bob left; ada is primary
    assert list(
        TicketAssignment.objects.filter(connection=mirrored, source="ticket").values_list(
            "psa_id", "member_identifier"
        )
    ) == [(2, "ada")]
    # Service call 32's resource on the same ticket (link id 2 too) is not a secondary resource.
    assert TicketAssignment.objects.filter(connection=mirrored, source="service_call").count() == 2


def test_a_note_callback_rereads_the_tickets_notes(fake_autotask, mirrored):
    fake_autotask.records["TicketNotes"].append(
        {
            "id": 502,
            "ticketID": 7001,
            "description": "New note",
            "noteType": 1,
            "publish": 1,
            "lastActivityDate": "2030-05-15T10:00:00Z",
        }
    )
    counts = provider_for(mirrored).refresh.records(
        connection_id=mirrored.pk, items=[RefreshItem("ticket", 7001, (NOTES_HINT,))], started_at=0.0
    )
    assert counts == {"updated": 1, "deleted": 0}
    assert set(
        ServiceNote.objects.filter(connection=mirrored, ticket_kind="service").values_list(
            "psa_id", flat=True
        )
    ) == {500, 502}


def test_item_null_confirms_a_delete(fake_autotask, mirrored):
    fake_autotask.records["Tickets"] = [t for t in fake_autotask.records["Tickets"] if t["id"] != 7002]
    assert _refresh(mirrored, "ticket", 7002) == "deleted"
    assert not Ticket.objects.filter(connection=mirrored, psa_id=7002).exists()
    assert _refresh(mirrored, "ticket_note", 999) == "deleted"


def test_a_status_change_is_patched_with_the_id_in_the_body(fake_autotask, mirrored):
    card = Ticket.objects.get(connection=mirrored, psa_id=7001)
    entry = writeback.ticket_change_status(ticket=card, status_psa_id=8)
    assert outbox.outbox_push(entry_id=entry.pk) == "done"
    assert fake_autotask.writes == [("Tickets", {"status": 8, "id": 7001})]
    card.refresh_from_db()
    assert (card.status_psa_id, card.status_name, card.writeback_error) == (8, "In Progress", "")


def test_a_task_status_change_goes_through_its_project(fake_autotask, mirrored):
    task = Ticket.objects.get(connection=mirrored, psa_id=90001)
    entry = writeback.ticket_change_status(ticket=task, status_psa_id=5)
    assert outbox.outbox_push(entry_id=entry.pk) == "done"
    assert fake_autotask.writes == [("Projects/400/Tasks", {"status": 5, "id": 90001})]
    task.refresh_from_db()
    assert task.closed and task.status_name == "Complete"


def test_a_refused_change_reverts_the_card_and_shows_autotasks_reason(fake_autotask, mirrored):
    fake_autotask.refusal = "Status cannot be changed while the ticket has open checklist items."
    card = Ticket.objects.get(connection=mirrored, psa_id=7001)
    entry = writeback.ticket_change_priority(ticket=card, priority_psa_id=1)
    assert outbox.outbox_push(entry_id=entry.pk) == "failed"
    card.refresh_from_db()
    assert card.priority_psa_id == 2
    assert "open checklist items" in card.writeback_error
    assert len(fake_autotask.writes) == 1  # a business rule is final: not retried
    assert fake_autotask.records["Tickets"][0]["priority"] == 2
