"""Outbox mechanics against a mocked ConnectWise (responses): claims, ordering, retries, the
sweeper, check-before-resend after an ambiguous POST, and rejection handling."""

import json
from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from boards.models import BoardStatus, ServiceNote, Ticket
from sync import outbox, writeback
from sync.models import OutboxEntry
from tests.support.clock import FROZEN_NOW, psa_time
from tests.support.cloud_psa import BASE

pytestmark = pytest.mark.usefixtures("fresh_cache", "frozen_now")


@pytest.fixture
def pushes(monkeypatch):
    """Enqueued pushes (the broker), captured instead of sent."""
    calls = []
    monkeypatch.setattr("sync.tasks_realtime.enqueue_push", lambda entry_id: calls.append(entry_id))
    return calls


@pytest.fixture
def ticket(connection):
    BoardStatus.objects.create(connection=connection, psa_id=11, name="New", board_psa_id=1)
    BoardStatus.objects.create(
        connection=connection, psa_id=12, name="Done", board_psa_id=1, closed_status=True
    )
    return Ticket.objects.create(
        connection=connection,
        psa_id=501,
        summary="Printer",
        status_psa_id=11,
        status_name="New",
        board_psa_id=1,
        psa_updated_at=timezone.now() - timedelta(days=1),
    )


# The PSA's last change before our push: newer than the mirror's copy (a day old), older than "now".
PSA_UPDATED = psa_time(FROZEN_NOW, hours=-3)


def ticket_record(status=(11, "New"), updated=PSA_UPDATED):
    return {
        "id": 501,
        "summary": "Printer",
        "board": {"id": 1, "name": "Help Desk"},
        "status": {"id": status[0], "name": status[1]},
        "closedFlag": status[0] == 12,
        "_info": {"lastUpdated": updated},
    }


def calls(cloud_psa, method, fragment):
    return [c for c in cloud_psa.calls if c.request.method == method and fragment in c.request.url]


def test_it_changes_the_mirror_and_writes_the_outbox_row_together(
    ticket, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = writeback.ticket_change_status(ticket=ticket, status_psa_id=12)
    ticket.refresh_from_db()
    assert (ticket.status_psa_id, ticket.status_name, ticket.closed) == (12, "Done", True)
    assert entry.state == "pending" and entry.payload["status_id"] == 12
    assert pushes == [entry.pk]


def test_it_rolls_back_the_mirror_change_with_the_outbox_row(ticket, monkeypatch):
    def broken_create(**kw):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(OutboxEntry.objects, "create", broken_create)
    with pytest.raises(RuntimeError):
        writeback.ticket_change_status(ticket=ticket, status_psa_id=12)
    ticket.refresh_from_db()
    assert ticket.status_psa_id == 11


def test_it_pushes_a_status_change_and_clears_an_old_error(ticket, cloud_psa, pushes):
    Ticket.objects.filter(pk=ticket.pk).update(writeback_error="earlier rejection")
    entry = writeback.ticket_change_status(ticket=ticket, status_psa_id=12)
    cloud_psa.patch(
        f"{BASE}service/tickets/501",
        json=ticket_record(status=(12, "Done"), updated=psa_time(FROZEN_NOW, hours=-1)),
    )
    assert outbox.outbox_push(entry_id=entry.pk) == "done"
    assert json.loads(calls(cloud_psa, "PATCH", "service/tickets/501")[0].request.body) == [
        {"op": "replace", "path": "status", "value": {"id": 12}},
        {"op": "replace", "path": "skipCallback", "value": True},
    ]
    ticket.refresh_from_db()
    assert (ticket.status_name, ticket.writeback_error) == ("Done", "")
    assert ticket.psa_updated_at == FROZEN_NOW - timedelta(hours=1)
    assert OutboxEntry.objects.get(pk=entry.pk).state == "done"


def test_it_reverts_the_mirror_and_shows_the_psa_message_on_a_rejection(ticket, cloud_psa, pushes):
    entry = writeback.ticket_change_status(ticket=ticket, status_psa_id=12)
    cloud_psa.patch(
        f"{BASE}service/tickets/501",
        status=400,
        json={
            "code": "InvalidObject",
            "message": "ticket object is invalid",
            "errors": [
                {"code": "InvalidField", "message": "Status is not valid for this board", "field": "status"}
            ],
        },
    )
    cloud_psa.get(f"{BASE}service/tickets/501", json=ticket_record(status=(11, "New")))
    cloud_psa.get(f"{BASE}schedule/entries", json=[])
    assert outbox.outbox_push(entry_id=entry.pk) == "failed"
    ticket.refresh_from_db()
    assert (ticket.status_psa_id, ticket.status_name) == (11, "New")
    assert "Status is not valid for this board" in ticket.writeback_error
    entry.refresh_from_db()
    assert entry.state == "failed" and "Status is not valid for this board" in entry.error
    assert len(calls(cloud_psa, "PATCH", "service/tickets/501")) == 1  # a 4xx is never retried


def test_a_rejection_stays_recorded_when_the_re_read_fails_unexpectedly(
    ticket, cloud_psa, pushes, monkeypatch
):
    entry = writeback.ticket_change_status(ticket=ticket, status_psa_id=12)
    cloud_psa.patch(f"{BASE}service/tickets/501", status=400, json={"code": "InvalidObject", "message": "No"})

    def broken_re_read(**kw):
        Ticket.objects.filter(pk=ticket.pk).update(summary="half-written by the re-read")
        raise RuntimeError("a bug in the re-read")

    monkeypatch.setattr("psa.connectwise.refresh.record_refresh", broken_re_read)
    assert outbox.outbox_push(entry_id=entry.pk) == "failed"
    entry.refresh_from_db()
    ticket.refresh_from_db()
    assert entry.state == "failed" and "No" in ticket.writeback_error
    assert ticket.summary == "Printer"  # the re-read's own writes were undone with it


def test_it_lets_only_one_worker_claim_an_entry(ticket, pushes):
    entry = writeback.ticket_change_status(ticket=ticket, status_psa_id=12)
    assert outbox.outbox_claim(entry_id=entry.pk) is not None
    assert outbox.outbox_claim(entry_id=entry.pk) is None
    assert OutboxEntry.objects.get(pk=entry.pk).attempts == 1


def test_a_connection_has_at_most_its_cap_of_pushes_in_flight(ticket, pushes, settings):
    settings.OUTBOX_PUSHES_PER_CONNECTION = 1
    other = Ticket.objects.create(
        connection=ticket.connection,
        psa_id=502,
        summary="Phone",
        status_psa_id=11,
        status_name="New",
        board_psa_id=1,
    )
    first = writeback.ticket_change_status(ticket=ticket, status_psa_id=12)
    second = writeback.ticket_change_status(ticket=other, status_psa_id=12)
    assert outbox.outbox_claim(entry_id=first.pk) is not None  # in flight: the PSA is slow
    assert outbox.outbox_push(entry_id=second.pk) == "busy"  # another card, same connection
    assert OutboxEntry.objects.get(pk=second.pk).state == "pending"  # not lost: asked again later
    OutboxEntry.objects.filter(pk=first.pk).update(state="done")
    assert outbox.outbox_claim(entry_id=second.pk) is not None
    settings.OUTBOX_PUSHES_PER_CONNECTION = 2
    third = writeback.ticket_change_status(ticket=ticket, status_psa_id=11)
    assert outbox.outbox_claim(entry_id=third.pk) is not None  # a second slot


def test_it_pushes_edits_of_one_card_in_order(ticket, cloud_psa, pushes, django_capture_on_commit_callbacks):
    first = writeback.ticket_change_status(ticket=ticket, status_psa_id=12)
    second = writeback.ticket_change_status(ticket=ticket, status_psa_id=11)
    assert outbox.outbox_push(entry_id=second.pk) == "skipped"  # the older edit goes first
    cloud_psa.patch(f"{BASE}service/tickets/501", json=ticket_record(status=(12, "Done")))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.outbox_push(entry_id=first.pk) == "done"
    assert pushes[-1] == second.pk  # finishing the first starts the next


def test_it_retries_when_the_psa_is_down_and_the_sweeper_delivers_later(ticket, cloud_psa, pushes):
    entry = writeback.ticket_change_status(ticket=ticket, status_psa_id=12)
    cloud_psa.patch(f"{BASE}service/tickets/501", status=503, json={"code": "Down", "message": "maintenance"})
    client = _fast_client(ticket.connection)
    assert outbox.outbox_push(entry_id=entry.pk, client=client) == "retry"
    entry.refresh_from_db()
    assert entry.state == "pending" and "maintenance" in entry.error
    cloud_psa.replace(responses.PATCH, f"{BASE}service/tickets/501", json=ticket_record(status=(12, "Done")))
    OutboxEntry.objects.filter(pk=entry.pk).update(updated_at=timezone.now() - timedelta(minutes=2))
    assert outbox.outbox_sweep() == 1
    assert OutboxEntry.objects.get(pk=entry.pk).state == "done"
    assert outbox.outbox_sweep() == 0


def test_it_survives_a_broker_outage_and_the_sweeper_sends_exactly_once(
    ticket, cloud_psa, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(entry_id):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr("sync.tasks_realtime.enqueue_push", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        entry = writeback.ticket_note_add(ticket=ticket, text="Called the customer")
    assert ServiceNote.objects.filter(psa_id=-entry.pk, text="Called the customer").exists()  # shown at once
    cloud_psa.post(
        f"{BASE}service/tickets/501/notes",
        json={
            "id": 8001,
            "ticketId": 501,
            "text": "Called the customer",
            "detailDescriptionFlag": True,
            "_info": {"lastUpdated": psa_time(FROZEN_NOW, hours=-1)},
        },
    )
    assert outbox.outbox_sweep() == 0  # not stuck yet (younger than a minute)
    OutboxEntry.objects.filter(pk=entry.pk).update(updated_at=timezone.now() - timedelta(minutes=2))
    assert outbox.outbox_sweep() == 1
    OutboxEntry.objects.filter(pk=entry.pk).update(updated_at=timezone.now() - timedelta(minutes=2))
    assert outbox.outbox_sweep() == 0
    assert len(calls(cloud_psa, "POST", "notes")) == 1
    assert list(ServiceNote.objects.filter(ticket_psa_id=501).values_list("psa_id", flat=True)) == [8001]


def test_it_does_not_duplicate_a_note_whose_post_timed_out(ticket, cloud_psa, pushes):
    entry = writeback.ticket_note_add(ticket=ticket, text="Replaced toner", internal=True)
    cloud_psa.post(f"{BASE}service/tickets/501/notes", body=requests.ReadTimeout("no answer"))
    assert outbox.outbox_push(entry_id=entry.pk, client=_fast_client(ticket.connection)) == "retry"
    assert len(calls(cloud_psa, "POST", "notes")) == 1  # an ambiguous POST is not blindly repeated
    # the PSA did create it; the next attempt finds it instead of posting again
    cloud_psa.get(
        f"{BASE}service/tickets/501/notes",
        json=[
            {
                "id": 8002,
                "ticketId": 501,
                "text": "Replaced toner",
                "internalAnalysisFlag": True,
                "_info": {"lastUpdated": psa_time(FROZEN_NOW, hours=-1)},
            }
        ],
    )
    assert outbox.outbox_push(entry_id=entry.pk) == "done"
    assert len(calls(cloud_psa, "POST", "notes")) == 1
    assert OutboxEntry.objects.get(pk=entry.pk).result_psa_id == 8002
    assert ServiceNote.objects.get(ticket_psa_id=501).psa_id == 8002


def test_it_takes_back_a_dead_workers_claim(ticket, cloud_psa, pushes):
    entry = writeback.ticket_change_status(ticket=ticket, status_psa_id=12)
    outbox.outbox_claim(entry_id=entry.pk)  # the worker died right after claiming
    OutboxEntry.objects.filter(pk=entry.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=10), updated_at=timezone.now() - timedelta(minutes=10)
    )
    cloud_psa.patch(f"{BASE}service/tickets/501", json=ticket_record(status=(12, "Done")))
    assert outbox.outbox_sweep(enqueue=pushes.append) == 1
    assert pushes == [entry.pk]
    assert outbox.outbox_push(entry_id=entry.pk) == "done"
    assert OutboxEntry.objects.get(pk=entry.pk).attempts == 2


def _fast_client(connection):
    from psa.connectwise.client import ConnectWiseClient

    client = ConnectWiseClient.from_connection(connection, interactive=True)
    client.http.sleep = lambda seconds: None
    return client
