"""Counters kept in Redis cross processes: what a real Celery worker did (push an outbox entry to
the PSA sandbox) shows up in a scrape of this (web) process."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.support.processes import start_worker
from tests.support.waiting import wait_until
from tests.sync.test_metrics import TOKEN, sample, scrape

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@pytest.fixture
def sandbox_options():
    return {"activity_per_second": 0}  # no background edits: the test's own change is the only one


def test_it_reports_the_pushes_and_psa_requests_a_worker_made(client, transactional_db, sandbox, settings):
    from boards.models import Ticket
    from psa.connectwise import refresh
    from sync import writeback
    from sync.models import Connection, OutboxEntry

    settings.METRICS_TOKEN = TOKEN
    cache.clear()  # also empties this Redis db's broker queues and counters left by earlier runs
    connection = Connection.objects.create(name="sandbox", credentials=dict(sandbox.credentials))
    record = next(t for t in sandbox.store.list("service/tickets") if not t.get("closedFlag"))
    refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=record["id"])
    ticket = Ticket.objects.get(connection=connection, psa_id=record["id"])
    statuses = sandbox.store.list("service/boards/{parentId}/statuses", parent_id=record["board"]["id"])
    target = next(s for s in statuses if s["id"] != record["status"]["id"] and not s.get("closedStatus"))
    before = scrape(client)
    interactive = {"connection": connection.pk, "budget": "interactive"}
    requests_before = sample(before, "topleft_psa_requests_total", **interactive) or 0

    worker = start_worker()
    try:
        entry = writeback.ticket_change_status(ticket=ticket, status_psa_id=target["id"])
        wait_until(lambda: OutboxEntry.objects.get(pk=entry.pk).state == "done", timeout=30)
        # The worker counts the push just after it commits the entry's new state: wait for it.
        pushes = {"connection": connection.pk, "outcome": "done"}
        wait_until(lambda: sample(scrape(client), "topleft_outbox_pushes_total", **pushes), timeout=30)
    finally:
        worker.stop()

    after = scrape(client)
    assert sample(after, "topleft_outbox_pushes_total", **pushes) == 1
    assert sample(after, "topleft_psa_requests_total", **interactive) > requests_before
    assert sample(after, "topleft_outbox_entries", connection=connection.pk, state="pending") is None
