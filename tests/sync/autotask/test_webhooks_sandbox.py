"""Autotask webhooks end to end: `callbacks --ensure` registers them in the Autotask sandbox, the
sandbox POSTs signed callouts to a live server running the receiver, refreshes run inline."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from boards.models import Company, Ticket
from psa.autotask.callbacks import WEBHOOK_KINDS
from psa.sandbox.autotask.data import API_USER_ID
from sync import refresh_queue
from sync.models import Connection
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


@pytest.fixture
def sandbox():
    from psa.sandbox.autotask import AutotaskSandbox
    from psa.sandbox.autotask.webhooks import DeliveryPolicy

    policy = DeliveryPolicy(timeout_s=5, retry_delay_s=0.05, attempts=2, deactivate_after=3)
    with AutotaskSandbox(scale="tiny", seed=5, webhook_policy=policy) as running:
        yield running


def _connection(sandbox) -> Connection:
    return Connection.objects.create(name="at", provider="autotask", credentials=dict(sandbox.credentials))


def _out(*args: str, **options) -> str:
    out = io.StringIO()
    call_command("callbacks", *args, stdout=out, **options)
    return out.getvalue()


def test_ensure_registers_each_webhook_once_and_follows_public_url(sandbox, settings):
    settings.PUBLIC_URL = "https://topleft.example.com"
    connection = _connection(sandbox)
    assert "Added 3, removed 0, kept 0" in _out(connection="at", ensure=True)
    connection.refresh_from_db()
    assert len(connection.callback_secret) >= 32
    url = f"https://topleft.example.com/hooks/autotask/{connection.webhook_token}/"
    for kind in WEBHOOK_KINDS:
        [webhook] = sandbox.store.list(kind.entity)
        assert webhook["webhookUrl"] == url and webhook["isActive"]
        fields = [f for f in sandbox.store.list(kind.entity.removesuffix("s") + "Fields")]
        assert fields and all(f["webhookID"] == webhook["id"] for f in fields)
        excluded = sandbox.store.list(kind.entity.removesuffix("s") + "ExcludedResources")
        assert [e["resourceID"] for e in excluded] == [API_USER_ID]
    # run again: nothing changes; PUBLIC_URL moved: the same webhooks are pointed at it
    assert "Added 0, removed 0, kept 3" in _out(connection="at", ensure=True)
    settings.PUBLIC_URL = "https://new.example.com"
    assert "Added 0, removed 0, kept 3" in _out(connection="at", ensure=True)
    assert _out(connection="at", list=True).count("https://new.example.com/hooks/autotask/") == 3
    assert "Removed 3 registration(s)" in _out(connection="at", remove=True)
    assert all(sandbox.store.list(kind.entity) == [] for kind in WEBHOOK_KINDS)


def test_rotating_the_secret_changes_what_autotask_signs_with(sandbox, settings):
    settings.PUBLIC_URL = "https://topleft.example.com"
    connection = _connection(sandbox)
    _out(connection="at", ensure=True)
    connection.refresh_from_db()
    first = connection.callback_secret
    _out(connection="at", ensure=True, rotate_secret=True)
    connection.refresh_from_db()
    assert connection.callback_secret != first
    assert {w["secretKey"] for w in sandbox.store.list("TicketWebhooks")} == {connection.callback_secret}


def test_rotate_secret_needs_ensure(sandbox):
    _connection(sandbox)
    with pytest.raises(CommandError, match="--rotate-secret goes with --ensure"):
        _out(connection="at", list=True, rotate_secret=True)


@pytest.fixture
def registered(live_server, sandbox, settings, monkeypatch):
    settings.PUBLIC_URL = live_server.url
    connection = _connection(sandbox)
    _out(connection="at", ensure=True)

    def inline(*, connection_id, countdown=0):
        time.sleep(countdown)
        refresh_queue.refresh_drain(connection_id=connection_id, enqueue=inline)

    monkeypatch.setattr("sync.webhooks.enqueue_refresh", inline)
    call_command(
        "sync", "--connection", "at", "--tier", "reference", stdout=io.StringIO(), stderr=io.StringIO()
    )
    call_command("sync", "--connection", "at", "--tier", "core", stdout=io.StringIO(), stderr=io.StringIO())
    connection.refresh_from_db()
    return connection


def _technician(sandbox) -> int:
    return next(
        r["id"] for r in sandbox.store.list("Resources") if r["id"] != API_USER_ID and r.get("isActive")
    )


def _open_ticket(sandbox) -> dict:
    return next(t for t in sandbox.store.list("Tickets") if not t.get("completedDate"))


def test_a_change_in_autotask_reaches_the_mirror_through_a_signed_callout(registered, sandbox):
    record = _open_ticket(sandbox)
    assert Ticket.objects.filter(connection=registered, psa_id=record["id"]).exists()
    sandbox.store.update(
        "Tickets", record["id"], {"title": "Changed in Autotask"}, actor=_technician(sandbox)
    )
    wait_until(lambda: Ticket.objects.filter(psa_id=record["id"], summary="Changed in Autotask").exists())
    assert sandbox.wait_for_callbacks()
    assert sandbox.stats["webhooks_sent"] >= 1 and sandbox.stats["webhook_attempts_failed"] == 0


def test_a_company_change_reaches_the_mirror(registered, sandbox):
    company = next(
        c
        for c in sandbox.store.list("Companies")
        if Company.objects.filter(connection=registered, psa_id=c["id"]).exists()
    )
    sandbox.store.update(
        "Companies", company["id"], {"companyName": "Renamed Ltd"}, actor=_technician(sandbox)
    )
    wait_until(lambda: Company.objects.filter(psa_id=company["id"], name="Renamed Ltd").exists())


def test_a_deleted_ticket_leaves_the_mirror(registered, sandbox):
    record = _open_ticket(sandbox)
    sandbox.store.delete("Tickets", record["id"], actor=_technician(sandbox))
    wait_until(lambda: not Ticket.objects.filter(connection=registered, psa_id=record["id"]).exists())


def test_our_own_changes_do_not_call_back(registered, sandbox):
    record = _open_ticket(sandbox)
    sent = sandbox.stats["webhooks_sent"]
    sandbox.store.update("Tickets", record["id"], {"title": "Written by TopLeft"}, actor=API_USER_ID)
    assert sandbox.wait_for_callbacks()
    assert sandbox.stats["webhooks_sent"] == sent
