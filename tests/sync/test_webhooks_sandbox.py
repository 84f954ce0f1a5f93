"""Callbacks end to end: registration through the management command, then the sandbox POSTs
signed callbacks to a live server running the receiver; refreshes run inline (no broker)."""

import io
import time

import pytest
from django.core.management import call_command

from boards.models import CardRank, Ticket, TicketAssignment
from psa.connectwise import refresh
from psa.connectwise.callbacks import CALLBACK_TYPES
from sync import refresh_queue
from sync.models import Connection
from tests.support.waiting import wait_until

pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def sandbox_options():
    return {"callback_retry_delays": ()}  # a callback that failed is not sent again later


@pytest.fixture
def registered(live_server, sandbox, settings, monkeypatch):
    """A connection to the sandbox whose callbacks point at the live server; refreshes inline."""
    settings.PUBLIC_URL = live_server.url
    connection = Connection.objects.create(name="sandbox", credentials=dict(sandbox.credentials))
    call_command("callbacks", connection="sandbox", ensure=True, stdout=io.StringIO())

    def inline(*, connection_id, countdown=0):
        time.sleep(countdown)
        refresh_queue.refresh_drain(connection_id=connection_id, enqueue=inline)

    monkeypatch.setattr("sync.webhooks.enqueue_refresh", inline)
    return connection


def test_it_registers_only_the_missing_callbacks(transactional_db, sandbox, settings):
    settings.PUBLIC_URL = "https://topleft.example.com"
    connection = Connection.objects.create(name="sandbox", credentials=dict(sandbox.credentials))
    out = io.StringIO()
    call_command("callbacks", connection="sandbox", ensure=True, stdout=out)
    assert "Added 5, removed 0, kept 0" in out.getvalue()
    entries = sandbox.store.list("system/callbacks")
    assert sorted(e["type"] for e in entries) == sorted(CALLBACK_TYPES)
    assert all(
        e["url"] == f"https://topleft.example.com/hooks/connectwise/{connection.webhook_token}/?recordId="
        and e["level"] == "owner"
        and e["objectId"] == 1
        for e in entries
    )
    # PUBLIC_URL moved: every registration is replaced, nothing is duplicated
    settings.PUBLIC_URL = "https://new.example.com"
    call_command("callbacks", connection="sandbox", ensure=True, stdout=(out := io.StringIO()))
    assert "Added 5, removed 5, kept 0" in out.getvalue()
    call_command("callbacks", connection="sandbox", ensure=True, stdout=(out := io.StringIO()))
    assert "Added 0, removed 0, kept 5" in out.getvalue()
    call_command("callbacks", connection="sandbox", list=True, stdout=(out := io.StringIO()))
    assert out.getvalue().count("https://new.example.com/hooks/connectwise/") == 5
    call_command("callbacks", connection="sandbox", remove=True, stdout=(out := io.StringIO()))
    assert sandbox.store.list("system/callbacks") == []


def test_it_mirrors_a_change_announced_by_a_signed_callback(registered, sandbox):
    record = next(t for t in sandbox.store.list("service/tickets") if not t.get("closedFlag"))
    sandbox.store.update("service/tickets", record["id"], {"summary": "Changed in ConnectWise"})
    wait_until(lambda: Ticket.objects.filter(psa_id=record["id"], summary="Changed in ConnectWise").exists())
    assert sandbox.wait_for_callbacks()
    assert sandbox.stats["callbacks_sent"] >= 1 and sandbox.stats["callbacks_failed"] == 0


def test_it_removes_a_record_only_when_the_psa_confirms_the_delete(registered, sandbox):
    record = next(t for t in sandbox.store.list("service/tickets") if not t.get("closedFlag"))
    refresh.record_refresh(connection_id=registered.pk, kind="ticket", psa_id=record["id"])
    CardRank.objects.create(connection=registered, kind="ticket", psa_id=record["id"], key="a0")
    sandbox.store.delete("service/tickets", record["id"])
    wait_until(lambda: not Ticket.objects.filter(psa_id=record["id"]).exists())
    assert not CardRank.objects.filter(psa_id=record["id"]).exists()
    assert not TicketAssignment.objects.filter(ticket_psa_id=record["id"]).exists()


def test_it_refreshes_the_ticket_when_its_assignment_changes(registered, sandbox):
    entry = next(
        e
        for e in sandbox.store.list("schedule/entries")
        if e["type"]["identifier"] == "S"
        and not e.get("doneFlag")
        and sandbox.store.get("service/tickets", e["objectId"])
    )
    refresh.record_refresh(connection_id=registered.pk, kind="ticket", psa_id=entry["objectId"])
    assert TicketAssignment.objects.filter(psa_id=entry["id"]).exists()
    sandbox.store.delete("schedule/entries", entry["id"])
    wait_until(lambda: not TicketAssignment.objects.filter(psa_id=entry["id"]).exists())


def test_it_does_not_trust_a_deleted_action_without_a_404(live_server, registered, sandbox):
    import json

    import requests

    from psa.connectwise.callbacks import signature_compute

    record = next(t for t in sandbox.store.list("service/tickets") if not t.get("closedFlag"))
    refresh.record_refresh(connection_id=registered.pk, kind="ticket", psa_id=record["id"])
    body = json.dumps(
        {
            "MessageId": "x",
            "Action": "deleted",
            "Type": "ticket",
            "ID": record["id"],
            "Entity": None,
            "Metadata": {"key_url": sandbox.notifier.key_url},
        }
    ).encode()
    response = requests.post(
        f"{live_server.url}/hooks/connectwise/{registered.webhook_token}/?recordId={record['id']}",
        data=body,
        timeout=5,
        headers={
            "x-content-signature": signature_compute(body=body, signing_key=sandbox.notifier.signing_key)
        },
    )
    assert response.status_code == 202
    assert Ticket.objects.filter(psa_id=record["id"]).exists()  # the PSA still has it


def test_it_registers_callbacks_from_the_admin(transactional_db, sandbox, settings, admin_client):
    settings.PUBLIC_URL = "https://topleft.example.com"
    connection = Connection.objects.create(name="sandbox", credentials=dict(sandbox.credentials))
    response = admin_client.post(
        "/admin/sync/connection/",
        {"action": "ensure_callbacks", "_selected_action": [connection.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "callbacks added 5, removed 0, kept 0" in response.content.decode()
    assert len(sandbox.store.list("system/callbacks")) == 5
